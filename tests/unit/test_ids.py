"""One rule for ids written as text, in paths and in ``?movie=``/``?user=`` (#13 item 7):
paths took ``+6`` and ``٦`` (Falcon's int()) while the query took ASCII digits only."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from movierater_entrypoints.http.ids import IdConverter

from movierater_core.rules import ID_MAX, Invalid, id_in_text, parse_id


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=14), st.from_regex(r"[+-]?[0-9٠-٩０-９ ]{1,12}", fullmatch=True)))
@example("6")
@example("0006")
@example("+6")
@example("-6")
@example(" 6")
@example("6 ")
@example("٦")
@example("６")
@example("0")
@example("2147483647")
@example("2147483648")
@example("00000000000000000006")
def test_a_path_and_a_query_read_an_id_alike(text: str) -> None:
    in_path = IdConverter().convert(text)
    try:
        in_query: int | None = parse_id(text)
    except Invalid:
        in_query = None
    assert in_path == in_query == id_in_text(text)
    if in_path is not None:
        assert text.isascii() and text.isdigit() and int(text) == in_path and 1 <= in_path <= ID_MAX


@pytest.mark.parametrize("text, value", [("6", 6), ("0006", 6), ("2147483647", ID_MAX)])
def test_ids_read(text: str, value: int) -> None:
    assert id_in_text(text) == parse_id(text) == value


@pytest.mark.parametrize("text", ["+6", "-6", " 6", "٦", "６", "6.0", "0", "2147483648", "", "1e3"])
def test_not_ids(text: str) -> None:
    assert id_in_text(text) is None
    with pytest.raises(Invalid):
        parse_id(text)
