"""Lists as the core pages them (``movierater_core.paging``), in the shapes a client reads.

With ``?limit=`` or ``?offset=`` the answer is Django REST Framework's
``LimitOffsetPagination`` envelope, ``{"count", "next", "previous", "results"}``, with its
``next``/``previous`` URLs built as DRF builds them (the request's URL, its parameters
sorted, ``limit``/``offset`` replaced; ``offset`` dropped from a ``previous`` that starts
at the top). Without them it is the bare JSON array the Angular client reads, of at most
the maximum page size. Either way ``X-Total-Count`` says how long the whole list is, and
``Link`` (RFC 8288) gives the ``next`` and ``prev`` pages there are: a list cut short says
so in headers a browser client may read (CORS exposes them).

With ``?cursor=`` (the ratings list) it is DRF's ``CursorPagination`` envelope,
``{"next", "previous", "results"}``: ``next`` is the request's URL with the next page's
cursor (and the limit served), ``previous`` is null (cursor pages go forward), ``Link``
gives the ``next`` one, and there is no ``X-Total-Count`` (a cursor page counts nothing).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

import falcon
from movierater_entrypoints.http.io import send
from movierater_entrypoints.http.spec import JSON, Schema, header, schema_ref

from movierater_core.paging import CURSOR_FIELD, KeysetPage, Page, PageQuery
from movierater_core.rules import Body

T = TypeVar("T")
LIMIT, OFFSET, CURSOR = PageQuery.limit.name, PageQuery.offset.name, CURSOR_FIELD.name
TOTAL_HEADER = "X-Total-Count"
PAGE_HEADERS = ("Link", TOTAL_HEADER)  # CORS exposes these to browser clients


# A list answer of at most this many rows is small work; a list asked for without a limit,
# or with a larger one (up to the maximum page size), may serialize thousands of rows.
SMALL_PAGE = 100
_LIST_PATHS = frozenset(("/api/movies", "/api/ratings", "/api/users", "/api/users/me/export"))


def is_large_list(method: str, path: str, query_string: bytes) -> bool:
    """Whether a request may be a large list: a GET of a list without a ``limit`` of at most
    ``SMALL_PAGE`` (the worker runs such requests after the small ones waiting with them)."""
    if method != "GET" or path.rstrip("/") not in _LIST_PATHS:
        return False
    limits = [value for name, value in parse_qsl(query_string.decode("latin-1")) if name == LIMIT]
    return not (len(limits) == 1 and limits[0].isdigit() and 0 < int(limits[0]) <= SMALL_PAGE)


def query_of(req: falcon.Request, query: Body) -> dict[str, object]:
    """The query string's values of the fields ``query`` declares (others are ignored)."""
    return {field.name: req.get_param(field.name) for field in query.fields if req.has_param(field.name)}


def send_page(
    req: falcon.Request, resp: falcon.Response, page: Page[T] | KeysetPage[T], to_json: Callable[[T], Any]
) -> None:
    results = [to_json(item) for item in page.items]
    if isinstance(page, KeysetPage):
        following_cursor = None
        if page.next_cursor is not None:
            following_cursor = _url(req, {LIMIT: page.window.limit, CURSOR: page.next_cursor})
            resp.set_header("Link", f'<{following_cursor}>; rel="next"')
        send(resp, {"next": following_cursor, "previous": None, "results": results})
        return
    window = page.window
    following = (
        _url(req, {LIMIT: window.limit, OFFSET: window.offset + window.limit}) if page.has_next else None
    )
    preceding = None
    if page.has_previous:
        start = window.offset - window.limit
        preceding = _url(req, {LIMIT: window.limit, OFFSET: start if start > 0 else None})
    links = [f'<{url}>; rel="{rel}"' for url, rel in ((following, "next"), (preceding, "prev")) if url]
    if links:
        resp.set_header("Link", ", ".join(links))
    resp.set_header(TOTAL_HEADER, str(page.total))
    if window.paged:
        send(resp, {"count": page.total, "next": following, "previous": preceding, "results": results})
    else:
        send(resp, results)


def _url(req: falcon.Request, changes: Mapping[str, int | str | None]) -> str:
    """The request's URL with ``changes`` made to its query (None: the parameter removed), as
    DRF's ``replace_query_param``/``remove_query_param`` make them (parameters sorted)."""
    kept = [(name, value) for name, value in parse_qsl(req.query_string, keep_blank_values=True)]
    params = [(name, value) for name, value in kept if name not in changes]
    params += [(name, str(value)) for name, value in changes.items() if value is not None]
    path = req.path.rstrip("/") + "/"  # DRF's paths end in a slash
    return f"{req.prefix}{path}?{urlencode(sorted(params))}"


def page_answer(item: str, description: str, *, cursor: bool = False) -> Schema:
    """The 200 of a list: the bare array of ``item`` or, paged, the ``<item>Page`` envelope;
    with ``cursor``, also the ``<item>CursorPage`` one (then without ``X-Total-Count``)."""
    total = header({"type": "integer", "minimum": 0}, "How many rows the whole list has.")
    shapes: list[Schema] = [
        {
            "type": "array",
            "items": schema_ref(item),
            "description": "Without limit, offset or cursor: the list (its first page).",
        },
        schema_ref(f"{item}Page"),
    ]
    if cursor:
        total = {
            **total,
            "required": False,
            "description": "How many rows the whole list has (not by cursor).",
        }
        shapes.append(schema_ref(f"{item}CursorPage"))
    return {
        "description": description,
        "headers": {
            TOTAL_HEADER: total,
            "Link": {
                "required": False,
                "description": (
                    'The next and previous pages, where there are: <url>; rel="next", <url>; rel="prev". '
                    "A list without limit or offset that has more rows than the maximum page size "
                    "holds its first page, with the next one here."
                ),
                "schema": {"type": "string"},
            },
        },
        "content": {JSON: {"schema": {"oneOf": shapes}}},
    }


def page_schema(item: str) -> Schema:
    """DRF's LimitOffsetPagination envelope of ``item`` rows."""
    url = {"type": ["string", "null"], "format": "uri"}
    return {
        "type": "object",
        "description": "With limit or offset: DRF's LimitOffsetPagination envelope.",
        "properties": {
            "count": {"type": "integer", "minimum": 0, "description": "How many rows the whole list has."},
            "next": {**url, "description": "The next page's URL; null on the last."},
            "previous": {**url, "description": "The previous page's URL; null on the first."},
            "results": {"type": "array", "items": schema_ref(item)},
        },
        "required": ["count", "next", "previous", "results"],
        "additionalProperties": False,
    }


def cursor_page_schema(item: str) -> Schema:
    """DRF's CursorPagination envelope of ``item`` rows (forward only: ``previous`` is null)."""
    url = {"type": ["string", "null"], "format": "uri"}
    return {
        "type": "object",
        "description": "With cursor: DRF's CursorPagination envelope, without a count.",
        "properties": {
            "next": {**url, "description": "The next page's URL (its cursor); null on the last."},
            "previous": {"type": "null", "description": "Always null: cursor pages go forward."},
            "results": {"type": "array", "items": schema_ref(item)},
        },
        "required": ["next", "previous", "results"],
        "additionalProperties": False,
    }
