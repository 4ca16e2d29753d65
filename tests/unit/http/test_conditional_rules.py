"""The comparison rules of conditional requests (RFC 9110, sections 8.8.3 and 13.1):
parsing If-Match/If-None-Match, weak and strong comparison, and the order in which a
write's preconditions are evaluated. Pure functions: no app, no database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from movierater_entrypoints.http.conditional import (
    ANY,
    EntityTag,
    etag_of,
    parse,
    strong_match,
    weak_match,
    write_allowed,
)

# etagc: %x21 / %x23-7E / obs-text, as a latin-1 header value carries it
etagc = st.characters(codec="latin-1").filter(lambda c: c == "\x21" or "\x23" <= c <= "\x7e" or c >= "\x80")
opaque = st.text(etagc, max_size=20)
tags = st.builds(EntityTag, opaque, st.booleans())
whitespace = st.sampled_from(["", " ", "\t", "  "])


@st.composite
def tag_lists(draw: st.DrawFn) -> tuple[list[EntityTag], str]:
    """Tags and a header value listing them, with optional whitespace and empty elements."""
    listed = draw(st.lists(tags, min_size=1, max_size=5))
    parts = []
    for tag in listed:
        parts.extend([""] * draw(st.integers(0, 1)))  # empty list elements are allowed
        parts.append(draw(whitespace) + str(tag) + draw(whitespace))
    return listed, ",".join(parts)


@given(tag_lists())
def test_a_list_parses_to_its_tags(case: tuple[list[EntityTag], str]) -> None:
    listed, value = case
    assert parse(value) == tuple(listed)


@given(tags)
def test_weak_comparison_ignores_weakness_and_strong_needs_two_strong_tags(tag: EntityTag) -> None:
    current = str(EntityTag(tag.opaque))  # ours are strong
    assert weak_match(str(tag), current)
    assert strong_match(str(tag), current) is (not tag.weak)


@given(tag_lists(), opaque)
def test_a_list_matches_when_one_of_its_tags_does(case: tuple[list[EntityTag], str], mine: str) -> None:
    listed, value = case
    current = str(EntityTag(mine))
    assert weak_match(value, current) is any(t.opaque == mine for t in listed)
    assert strong_match(value, current) is any(t.opaque == mine and not t.weak for t in listed)


@pytest.mark.parametrize("value", ["*", " * ", "\t*"])
def test_a_star_matches_any_current_representation(value: str) -> None:
    assert parse(value) == ANY
    assert weak_match(value, '"x"') and strong_match(value, '"x"')


@pytest.mark.parametrize(
    "value",
    ["", " ", ",", "abc", '"a" "b"', '"a', 'a"', 'W/"a', 'w/"a"', '"a"b', '*, "a"', '"a\\"b"', '"a b"'],
)
def test_a_malformed_value_matches_nothing(value: str) -> None:
    assert parse(value) is None
    assert not weak_match(value, '"a"') and not strong_match(value, '"a"')


def test_examples_of_rfc_9110() -> None:
    # section 8.8.3.2: W/"1" and W/"1" match weakly only; W/"1" and "1" weakly only;
    # "1" and "1" both ways; W/"1" and W/"2" neither.
    assert weak_match('W/"1"', '"1"') and not strong_match('W/"1"', '"1"')
    assert weak_match('"1"', '"1"') and strong_match('"1"', '"1"')
    assert not weak_match('W/"2"', '"1"') and not strong_match('"2"', '"1"')
    assert parse('"xyzzy", "r2d2xxxx", "c3piozzzz"') == tuple(
        EntityTag(t) for t in ("xyzzy", "r2d2xxxx", "c3piozzzz")
    )
    assert parse('"a,b", W/"c"') == (EntityTag("a,b"), EntityTag("c", weak=True))  # a comma is etagc


@given(st.one_of(st.none(), st.text(max_size=12)), st.one_of(st.none(), st.text(max_size=12)), opaque)
def test_a_write_is_allowed_when_if_match_holds_and_if_none_match_does_not(
    if_match: str | None, if_none_match: str | None, mine: str
) -> None:
    current = str(EntityTag(mine))
    expected = (if_match is None or strong_match(if_match, current)) and not (
        if_none_match is not None and weak_match(if_none_match, current)
    )
    assert write_allowed(if_match, if_none_match, current) is expected


def test_a_write_without_preconditions_is_allowed() -> None:
    assert write_allowed(None, None, '"x"')
    assert not write_allowed('"y"', None, '"x"')
    assert not write_allowed(None, "*", '"x"')  # "only if it does not exist": it does
    assert not write_allowed('"x"', '"x"', '"x"')


@given(st.binary(max_size=200), st.binary(max_size=200))
def test_the_etag_is_a_strong_tag_that_tells_bodies_apart(one: bytes, two: bytes) -> None:
    tag = etag_of(one)
    assert parse(tag) == (EntityTag(tag[1:-1]),)
    assert (etag_of(one) == etag_of(two)) is (one == two)  # by length, else by CRC-32


def test_the_etag_covers_the_headers_of_the_representation() -> None:
    body = b"[]"
    assert etag_of(body, "3") != etag_of(body, "4")
    assert etag_of(body, "3", "") != etag_of(body, "", "3")
    assert etag_of(body) == etag_of(body)
