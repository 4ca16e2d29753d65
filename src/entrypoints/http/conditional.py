"""Conditional requests (RFC 9110, section 13) on movies: ETags, 304 and 412.

The movie list and a movie answer with an ``ETag``: a strong validator computed from the
bytes of the answer (and of the list's page headers, ``X-Total-Count`` and ``Link``), so
it costs no query, only a checksum of bytes already in memory: CRC-32 and the length
(two representations of one length that differ only where CRC-32 cannot tell, about 1
in 4 billion by chance, would share a tag; any change of 32 bits or fewer in a row is
always told apart). The representation depends on the caller (``?include=my_rating``) and
on the query string, so the answer says ``Vary: Authorization`` and the tag covers the
query's effect through the bytes.

- ``If-None-Match`` on a read (``*`` or a list of tags, weak comparison): 304 with the
  ETag and no body when one matches.
- ``If-Match`` on ``PUT``/``PATCH``/``DELETE`` of a movie (``*`` or a list, strong
  comparison): the change is made only if the movie's current representation, the one
  ``GET /api/movies/{id}/`` gives, has one of those tags; else 412. The comparison is
  made in the change's own transaction, on the locked movie (the core's ``precondition``),
  so two admins holding one tag cannot both change it. ``If-None-Match`` on those
  methods: 412 when it matches (``*``: the movie exists). Neither header: as before.

A malformed header is one that matches nothing: ``If-Match`` then fails (412, as a tag
that is no longer current would), ``If-None-Match`` then lets the read through (200).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from typing import Final, Literal, TypeVar

import falcon
from attrs import frozen
from movierater_entrypoints.http.spec import Schema, error, header

T = TypeVar("T")
ETAG: Final = "ETag"
IF_MATCH: Final = "If-Match"
IF_NONE_MATCH: Final = "If-None-Match"
ANY: Final = "*"  # any current representation

# One element of a list: optional whitespace, an entity tag or nothing (RFC 9110 allows
# empty elements), optional whitespace, then a comma or the end. etagc: %x21 / %x23-7E /
# obs-text (header values arrive as latin-1 text, so obs-text is \x80-\xff).
_ELEMENT = re.compile(r'[ \t]*(?:(W/)?"([\x21\x23-\x7e\x80-\xff]*)")?[ \t]*(?:,|\Z)')


@frozen
class EntityTag:
    opaque: str  # between the quotes
    weak: bool = False

    def __str__(self) -> str:
        return f'{"W/" if self.weak else ""}"{self.opaque}"'


def etag_of(body: bytes, *more: str) -> str:
    """The strong ETag (quoted) of an answer's body and of ``more`` (header values that are
    part of the representation)."""
    crc = zlib.crc32(body)
    size = len(body)
    for value in more:
        data = value.encode("latin-1", "replace")
        crc = zlib.crc32(b"\n" + data, crc)
        size += 1 + len(data)
    return f'"{size:x}-{crc:08x}"'


def parse(value: str) -> tuple[EntityTag, ...] | Literal["*"] | None:
    """``If-Match``/``If-None-Match``'s value: ``*``, or its tags; None when malformed
    (or holding no tag at all)."""
    if value.strip(" \t") == ANY:
        return ANY
    tags: list[EntityTag] = []
    position = 0
    while True:
        found = _ELEMENT.match(value, position)  # takes a comma, or reaches the end
        if found is None:
            return None
        weak, opaque = found.group(1), found.group(2)
        if opaque is not None:
            tags.append(EntityTag(opaque, weak=weak is not None))
        if found.end() == len(value):
            break
        position = found.end()
    return tuple(tags) or None


def weak_match(value: str, current: str) -> bool:
    """Whether ``If-None-Match: value`` matches the current representation's tag (a
    representation exists): ``*``, or a tag of the same opaque value, weak or not."""
    tags = parse(value)
    if tags is None:
        return False
    if tags == ANY:
        return True
    mine = _current(current)
    return any(tag.opaque == mine.opaque for tag in tags)


def strong_match(value: str, current: str) -> bool:
    """Whether ``If-Match: value`` holds for the current representation's tag: ``*``, or
    a strong tag equal to it (a weak tag never matches here)."""
    tags = parse(value)
    if tags is None:
        return False
    if tags == ANY:
        return True
    mine = _current(current)
    return not mine.weak and any(not tag.weak and tag.opaque == mine.opaque for tag in tags)


def _current(etag: str) -> EntityTag:
    tags = parse(etag)
    assert isinstance(tags, tuple) and len(tags) == 1, etag
    return tags[0]


def write_allowed(if_match: str | None, if_none_match: str | None, current: str) -> bool:
    """RFC 9110 section 13.2.2 for a change of something that exists, whose current
    representation has the tag ``current``: If-Match first, then If-None-Match."""
    if if_match is not None and not strong_match(if_match, current):
        return False
    return not (if_none_match is not None and weak_match(if_none_match, current))


def preconditions(req: falcon.Request) -> tuple[str | None, str | None]:
    """The request's If-Match and If-None-Match values (None where absent)."""
    return req.get_header(IF_MATCH), req.get_header(IF_NONE_MATCH)


def write_precondition(req: falcon.Request, tag: Callable[[T], str]) -> Callable[[T], bool] | None:
    """A test of the current thing for a conditional write, or None (no condition sent)."""
    if_match, if_none_match = preconditions(req)
    if if_match is None and if_none_match is None:
        return None
    return lambda current: write_allowed(if_match, if_none_match, tag(current))


def tag_answer(resp: falcon.Response, *more_headers: str) -> str:
    """Give an answer its ETag, of ``resp.data`` and the values of ``more_headers`` set on
    it (a representation may depend on the caller: ``Vary: Authorization``)."""
    assert isinstance(resp.data, bytes)
    etag = etag_of(resp.data, *(resp.get_header(name) or "" for name in more_headers))
    resp.set_header(ETAG, etag)
    resp.append_header("Vary", "Authorization")
    return etag


def answer_read(req: falcon.Request, resp: falcon.Response, *more_headers: str) -> None:
    """``tag_answer`` for a 200 read and, when the request's If-None-Match matches the tag,
    a 304 with the same headers and no body instead."""
    etag = tag_answer(resp, *more_headers)
    if_none_match = req.get_header(IF_NONE_MATCH)
    if if_none_match is not None and weak_match(if_none_match, etag):
        resp.status = falcon.HTTP_304
        resp.data = None
        resp.delete_header("Content-Type")  # a 304 has no content to have a type


# ---- what the OpenAPI document says of them -------------------------------------------------

ETAG_HEADER: Final[Schema] = header(
    {"type": "string", "pattern": '^"[0-9a-f]+-[0-9a-f]{8}"$'},
    "A strong validator of this representation (for If-None-Match on a read, If-Match on a change).",
)


def _condition(name: str, description: str) -> Schema:
    schema = {"type": "string"}
    return {"name": name, "in": "header", "required": False, "description": description, "schema": schema}


IF_NONE_MATCH_ON_READ: Final = _condition(
    IF_NONE_MATCH,
    "ETags (or *) of representations the client has: 304 without a body when one is this one's "
    "(weak comparison; a malformed value is ignored).",
)
IF_MATCH_ON_CHANGE: Final = _condition(
    IF_MATCH,
    "Change the movie only if its current representation (GET /api/movies/{id}/ without "
    "?include=) has one of these ETags (strong comparison; * : any), else 412. Tested on the "
    "locked movie in the change's own transaction: of two admins holding one ETag, one "
    "changes the movie and the other gets 412. A malformed value matches nothing.",
)
IF_NONE_MATCH_ON_CHANGE: Final = _condition(
    IF_NONE_MATCH, "412 when the movie's current ETag is one of these (weak comparison), or for *."
)
NOT_MODIFIED: Final[Schema] = {
    "description": "If-None-Match matched: the client's copy is current (no body).",
    "headers": {ETAG: ETAG_HEADER},
}
CHANGED_SINCE: Final[Schema] = error(
    "If-Match did not match the movie's current ETag (or If-None-Match did): changed since it "
    "was read; nothing was changed."
)


def with_etag(response: Schema) -> Schema:
    """A documented answer that carries an ETag."""
    return {**response, "headers": {**response.get("headers", {}), ETAG: ETAG_HEADER}}
