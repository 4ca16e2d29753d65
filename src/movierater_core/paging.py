"""Lists in pages: the bound on the rows one request serializes, and opt-in paging with
Django REST Framework's ``LimitOffsetPagination`` names (``?limit=&offset=``).

Every list is answered in pages of at most :attr:`PageSettings.max_page_size` rows. A
client that gives ``limit`` or ``offset`` asked for paging (the HTTP layer answers DRF's
envelope); one that gives neither gets the first page as it always got the whole list
(the HTTP layer says, in ``Link`` and ``X-Total-Count``, when there is more).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, Generic, TypeVar

from attrs import field, frozen

from movierater_core.missing import MISSING
from movierater_core.rules import ID_MAX, Field, Form, count_rule

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


@frozen
class Window:
    """The rows one request asks for: ``limit`` of them after ``offset``. ``paged``: the
    client gave ``limit`` or ``offset`` (it wants the envelope)."""

    limit: int
    offset: int = 0
    paged: bool = False


def take_window(form: Form, settings: PageSettings) -> Window:
    """The window a query string asks for (errors are left in ``form``); a limit above
    the maximum page size is the maximum (DRF's ``max_limit``)."""
    limit = form.take(PageQuery.limit)
    offset = form.take(PageQuery.offset)
    paged = form.has(PageQuery.limit.name) or form.has(PageQuery.offset.name)
    return Window(
        limit=settings.max_page_size if limit is MISSING else min(limit, settings.max_page_size),
        offset=0 if offset is MISSING else offset,
        paged=paged,
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
