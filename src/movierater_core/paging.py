"""Lists in pages: the bound on the rows one request serializes, and opt-in paging with
Django REST Framework's ``LimitOffsetPagination`` names (``?limit=&offset=``).

Every list is answered in pages of at most :attr:`PageSettings.max_page_size` rows. A
client that gives ``limit`` or ``offset`` asked for paging (the HTTP layer answers DRF's
envelope); one that gives neither gets the first page as it always got the whole list
(the HTTP layer says, in ``Link`` and ``X-Total-Count``, when there is more).

A list with a :class:`Keyset` (the ratings) may also be paged forward by ``?cursor=``, as
DRF's ``CursorPagination``: an opaque token naming the last row a client has (the key of
its order), so that each page is an index seek past it, costing the same however deep, and
no count is made (the answer has no total). An empty ``?cursor=`` starts at the top.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from typing import Final, Generic, TypeVar

from attrs import field, frozen

from movierater_core.missing import MISSING
from movierater_core.rules import ID_MAX, NOT_NULL, Field, Form, Invalid, Rule, count_rule

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)  # a page of movies is a page of movies-or-views

DEFAULT_MAX_PAGE_SIZE: Final = 1000
# The setting's own bound: a page is built in memory and serialized by one worker.
MAX_PAGE_SIZE_LIMIT: Final = 10_000


def _check_page_size(_instance: object, _attribute: object, value: int) -> None:
    if not 1 <= value <= MAX_PAGE_SIZE_LIMIT:
        raise ValueError(f"max_page_size must be 1..{MAX_PAGE_SIZE_LIMIT}, got {value!r}")


@frozen
class PageSettings:
    """The defaults here are the service's: MOVIERATER_MAX_PAGE_SIZE takes it from here."""

    max_page_size: int = field(default=DEFAULT_MAX_PAGE_SIZE, validator=_check_page_size)


DEFAULT_PAGING: Final = PageSettings()


class PageQuery:
    """The paging parameters of every list (a query string), DRF's LimitOffsetPagination names."""

    limit = Field(
        "limit",
        count_rule(1, ID_MAX),
        description=(
            "Paging: at most this many rows (1 or more; above the maximum page size, the "
            "maximum: the `next` link shows it). With `limit` or `offset` the answer is "
            "DRF's envelope {count, next, previous, results}."
        ),
    )
    offset = Field(
        "offset",
        count_rule(0, ID_MAX),
        description="Paging: skip this many rows of the ordered list (0 or more; default 0).",
    )


PAGE_FIELDS: Final = (PageQuery.limit, PageQuery.offset)

# ---- cursors: forward keyset paging ---------------------------------------------------------

INVALID_CURSOR: Final = "Invalid cursor."  # DRF's CursorPagination.invalid_cursor_message
CURSOR_WITH_OFFSET: Final = "Not allowed with cursor: a cursor says where the page starts."
CURSOR_MAX_LENGTH: Final = 100
KEY_MAX: Final = 2**63 - 1  # keys are ids and BIGINT times: 64-bit in every database
# The token is base64url (without padding) of "<order>:<key>[.<key>...]", e.g. "id:1234"
# for rating 1234 in a list by id; the client never reads it.
_CURSOR_TOKEN = re.compile(r"[A-Za-z0-9_-]*")
_CURSOR_TEXT = re.compile(r"([a-z]+):((?:0|[1-9][0-9]{0,18})(?:[.](?:0|[1-9][0-9]{0,18}))*)")


@frozen
class Cursor:
    """Where a cursor page starts: after the row whose key (in the order named) is ``key``;
    the empty cursor (no order, no key) starts at the top of any list."""

    order: str = ""
    key: tuple[int, ...] = ()


START: Final = Cursor()


@frozen
class Keyset:
    """An order a list is paged along by cursor: its name (written in the cursor, so that one
    order's cursor is refused by a list in another) and the largest value of each integer of
    its key (a cursor beyond a column's type would be a database error, not a page)."""

    name: str
    bounds: tuple[int, ...]

    @property
    def width(self) -> int:
        return len(self.bounds)

    def cursor(self, key: tuple[int, ...]) -> str:
        """The token of the position after the row with ``key``."""
        if not self._holds(key):
            raise ValueError(f"not a key of {self.name}: {key!r}")
        text = f"{self.name}:{'.'.join(str(part) for part in key)}"
        return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii").rstrip("=")

    def accepts(self, cursor: Cursor) -> bool:
        return cursor == START or (cursor.order == self.name and self._holds(cursor.key))

    def _holds(self, key: tuple[int, ...]) -> bool:
        return len(key) == self.width and all(
            0 <= part <= bound for part, bound in zip(key, self.bounds, strict=True)
        )


def parse_cursor(value: object) -> Cursor:
    """A token as :meth:`Keyset.cursor` writes it, or empty (the top of the list)."""
    if value is None:
        raise Invalid(NOT_NULL)
    if not isinstance(value, str) or len(value) > CURSOR_MAX_LENGTH or not _CURSOR_TOKEN.fullmatch(value):
        raise Invalid(INVALID_CURSOR)
    if not value:
        return START
    try:
        text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise Invalid(INVALID_CURSOR) from None
    found = _CURSOR_TEXT.fullmatch(text)
    if found is None:
        raise Invalid(INVALID_CURSOR)
    key = tuple(int(part) for part in found.group(2).split("."))
    if not all(part <= KEY_MAX for part in key):
        raise Invalid(INVALID_CURSOR)
    return Cursor(found.group(1), key)


CURSOR: Final = Rule(
    parse_cursor,
    {"type": "string", "maxLength": CURSOR_MAX_LENGTH, "pattern": "^[A-Za-z0-9_-]*$"},
)
CURSOR_FIELD: Final = Field(
    "cursor",
    CURSOR,
    description=(
        "Paging forward by cursor (DRF's CursorPagination): the value is opaque, taken from the "
        "previous answer's `next` link; empty (`?cursor=`) starts at the top. Each page is an index "
        "seek past the last row seen, as fast on the last page as on the first, and rows added "
        "meanwhile after it are met, none skipped or repeated. With `limit` (the page size, default "
        "and at most the maximum page size), not with `offset`. The answer is the envelope "
        "{next, previous, results} with no count and no X-Total-Count (`previous` is null: cursor "
        "pages go forward); `next` is null on the last page."
    ),
)


@frozen
class Window:
    """The rows one request asks for: ``limit`` of them after ``offset``, or, by cursor, after
    the row whose key is ``after`` (``()``: from the top). ``paged``: the client gave
    ``limit``, ``offset`` or ``cursor`` (it wants an envelope)."""

    limit: int
    offset: int = 0
    paged: bool = False
    after: tuple[int, ...] | None = None


def take_window(form: Form, settings: PageSettings, keyset: Keyset | None = None) -> Window:
    """The window a query string asks for (errors are left in ``form``); a limit above
    the maximum page size is the maximum (DRF's ``max_limit``). With ``keyset`` (the order
    the list is in), ``cursor`` is read too: one of that order, never with ``offset``."""
    limit = form.take(PageQuery.limit)
    offset = form.take(PageQuery.offset)
    paged = form.has(PageQuery.limit.name) or form.has(PageQuery.offset.name)
    after = None
    if keyset is not None and form.has(CURSOR_FIELD.name):
        paged = True
        cursor = form.take(CURSOR_FIELD)
        if form.has(PageQuery.offset.name):
            form.fail(PageQuery.offset.name, CURSOR_WITH_OFFSET)
        if cursor is not MISSING:
            if keyset.accepts(cursor):
                after = cursor.key
            else:  # a cursor of another order (another list's, or the same list with ?since=)
                form.fail(CURSOR_FIELD.name, INVALID_CURSOR)
    return Window(
        limit=settings.max_page_size if limit is MISSING else min(limit, settings.max_page_size),
        offset=0 if offset is MISSING else offset,
        paged=paged,
        after=after,
    )


@frozen
class Page(Generic[T_co]):
    """One page of an ordered list: its rows, where it starts, and how long the list is."""

    items: Sequence[T_co]
    total: int
    window: Window

    @property
    def has_next(self) -> bool:
        return self.window.offset + self.window.limit < self.total

    @property
    def has_previous(self) -> bool:
        return self.window.offset > 0

    @property
    def truncated(self) -> bool:
        """Rows of the list are not in this page (before or after it)."""
        return len(self.items) < self.total


def fetch_page(window: Window, rows: Callable[[int, int], Sequence[T]], count: Callable[[], int]) -> Page[T]:
    """A page read with ``rows(limit, offset)`` (in storage) and, only where the rows cannot
    tell it, ``count()``: one row more than the page is read, so a list that fits in the page
    (the usual unparameterized list) costs one query, as it always did."""
    found = rows(window.limit + 1, window.offset)
    items = found[: window.limit]
    if len(found) > window.limit or (not items and window.offset > 0):
        total = count()
    else:
        total = window.offset + len(items)
    return Page(items, total, window)


def page_of(items: Sequence[T], window: Window) -> Page[T]:
    """A page of a list held in memory."""
    return Page(items[window.offset : window.offset + window.limit], len(items), window)


@frozen
class KeysetPage(Generic[T_co]):
    """One page read by cursor: its rows and the cursor of the next (None: the last page).
    No count: the length of the list is what cursor paging does not ask for."""

    items: Sequence[T_co]
    window: Window
    next_cursor: str | None


def fetch_after(
    window: Window,
    rows: Callable[[int, tuple[int, ...]], Sequence[T]],
    key: Callable[[T], tuple[int, ...]],
    keyset: Keyset,
) -> KeysetPage[T]:
    """A page read with ``rows(limit, after)`` (in storage: the rows whose key is past
    ``after`` in the order, ``()`` for the top): one row more than the page is read, so that
    the page knows whether there is a next one without a count."""
    if window.after is None:
        raise ValueError("not a cursor window")
    found = rows(window.limit + 1, window.after)
    items = found[: window.limit]
    more = len(found) > window.limit
    return KeysetPage(items, window, keyset.cursor(key(items[-1])) if more else None)
