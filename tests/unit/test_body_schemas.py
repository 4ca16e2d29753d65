"""The core's declared bodies and the JSON Schema their rules publish (the OpenAPI document's
request schemas are generated from these): every value a schema admits, its rule accepts.

Fuzzers (schemathesis, hypothesis-jsonschema) generate from these patterns with Python's
regexes; a pattern that admitted what the rule refuses would make valid-looking requests
fail for a reason the document could have stated. The password policy is a rule beyond
JSON Schema (common passwords, similarity), so its schema is looser by design; so is the
ratings' cursor, a token the server writes (its pattern: the characters one may have).
"""

from __future__ import annotations

import re
import sys
import unicodedata
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movierater_core import rules
from movierater_core.errors import ValidationError
from movierater_core.missing import MISSING
from movierater_core.model import MovieFields
from movierater_core.paging import CURSOR
from movierater_core.rules import Field, Form, Need, Rule
from movierater_core.uploads import OBJECT_NAME_PATTERN, UPLOAD_BODY, is_object_name
from movierater_core.use_cases.accounts import CREDENTIALS_BODY, USER_BODY
from movierater_core.use_cases.movies import MOVIE_BODY, parse_movie
from movierater_core.use_cases.ratings import RATING_BODY, RATINGS_QUERY

BODIES = {
    "movie": MOVIE_BODY,
    "user": USER_BODY,
    "credentials": CREDENTIALS_BODY,
    "rating": RATING_BODY,
    "ratings query": RATINGS_QUERY,
    "upload": UPLOAD_BODY,
}
BEYOND_JSON_SCHEMA = (rules.NEW_PASSWORD, CURSOR)


def patterned_fields() -> list[Any]:
    return [
        pytest.param(field, id=f"{where}.{field.name}")
        for where, body in BODIES.items()
        for field in body.fields
        if "pattern" in field.rule.schema and not any(field.rule is rule for rule in BEYOND_JSON_SCHEMA)
    ]


def admitted(rule: Rule[Any]) -> st.SearchStrategy[str]:
    """Strings as a generator makes them from the rule's schema (pattern, then lengths)."""
    schema = rule.schema
    low, high = schema.get("minLength", 0), schema.get("maxLength", 10**6)
    assert isinstance(low, int) and isinstance(high, int)
    return st.from_regex(str(schema["pattern"])).filter(lambda text: low <= len(text) <= high)


@pytest.mark.parametrize("field", patterned_fields())
@settings(max_examples=100, deadline=None)
@given(data=st.data())
def test_every_value_a_pattern_admits_its_rule_accepts(field: Field[Any], data: st.DataObject) -> None:
    value = data.draw(admitted(field.rule))
    field.rule.parse(value)  # raises Invalid if the schema promised too much


@settings(max_examples=200, deadline=None)
@given(st.from_regex(rules.USERNAME_PATTERN, fullmatch=True).filter(lambda name: len(name) <= 150))
def test_the_username_pattern_is_the_rule_unicode_letters_included(name: str) -> None:
    assert rules.parse_username(name) == unicodedata.normalize("NFKC", name.strip())


def test_the_username_pattern_leaves_out_exactly_what_normalizes_to_no_single_character() -> None:
    """NOT_ONE_CHARACTER_ONCE_NORMALIZED, generated again from this Python's Unicode tables."""
    one = re.compile(r"[\w.@+-]")
    left_out = re.compile(f"[{rules.NOT_ONE_CHARACTER_ONCE_NORMALIZED}]")
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        if one.fullmatch(char):
            normal = unicodedata.normalize("NFKC", char)
            expected = not (len(normal) == 1 and one.fullmatch(normal))
            assert bool(left_out.fullmatch(char)) == expected, hex(code)
    for name in ("carol", "ｃａｒｏｌ", "𝐜𝐚𝐫𝐨𝐥", "zoë.漢字", "한국"):
        assert re.fullmatch(rules.USERNAME_PATTERN, name), name
    for name in ("½", "ﬁona", "ﷺ", "⑩", "㈠"):
        assert not re.fullmatch(rules.USERNAME_PATTERN, name), name


def test_a_non_ascii_username_matches_the_documented_pattern() -> None:
    assert re.fullmatch(rules.USERNAME_PATTERN, "zoë.漢字") and rules.parse_username("zoë.漢字")


@given(st.from_regex(OBJECT_NAME_PATTERN, fullmatch=True))
def test_object_names_match_their_documented_pattern(name: str) -> None:
    assert is_object_name(name.rstrip("\n"))


def test_which_fields_are_required_follows_the_operation() -> None:
    assert MOVIE_BODY.required(partial=False) == ["title"]
    assert MOVIE_BODY.required(partial=True) == []
    assert USER_BODY.required(partial=False) == ["username", "password"]
    assert USER_BODY.required(partial=True) == []
    assert CREDENTIALS_BODY.required(partial=True) == ["username", "password"]
    assert RATING_BODY.required(partial=False) == ["stars"]
    assert RATINGS_QUERY.required(partial=False) == []
    assert UPLOAD_BODY.required(partial=False) == ["filename", "contentType"]
    # The declaration is what the use case parses with.
    with pytest.raises(ValidationError) as caught:
        parse_movie({}, partial=False)
    assert list(caught.value.errors) == MOVIE_BODY.required(partial=False)


def test_a_form_leaves_missing_what_was_not_given() -> None:
    form = Form({"title": "Alien"}, partial=True)
    optional = Field("description", rules.DESCRIPTION, need=Need.TO_CREATE)
    assert form.take(optional) is MISSING and form.errors == {}
    assert Form({}).take(optional) is MISSING
    assert parse_movie({"title": "Alien"}, partial=True) == MovieFields(title="Alien")
    assert repr(MISSING) == "MISSING"
