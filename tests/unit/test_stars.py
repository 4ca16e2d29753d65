"""Stars and RatingSummary: the value objects of a rating, and ``rules.parse_stars``."""

from __future__ import annotations

import math

import attrs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from movierater_core import rules
from movierater_core.model import MAX_STARS, MIN_STARS, RatingSummary, Stars

SIMPLE = settings(max_examples=200, deadline=None)

ANYTHING = st.one_of(
    st.integers(),
    st.floats(),
    st.text(),
    st.booleans(),
    st.none(),
    st.lists(st.integers()),
    st.dictionaries(st.text(), st.integers()),
)

VALID_STARS = st.integers(min_value=MIN_STARS, max_value=MAX_STARS)


def expected_stars_messages(value: object) -> list[str] | None:
    """The oracle: ``None`` when ``value`` is a valid number of stars, else DRF's messages."""
    if value is None:
        return ["This field may not be null."]
    if type(value) is not int:  # bools, floats (even 5.0), strings (even "5"), containers
        return ["A valid integer is required."]
    if value < 1:
        return ["Ensure this value is greater than or equal to 1."]
    if value > 5:
        return ["Ensure this value is less than or equal to 5."]
    return None


# ---- parse_stars -------------------------------------------------------------------------


@SIMPLE
@given(ANYTHING)
@example(0)
@example(6)
@example(-1)
@example(2.5)
@example(5.0)
@example(1.0)
@example(float("nan"))
@example(float("inf"))
@example("5")
@example("1")
@example(True)
@example(False)
@example(None)
@example([])
@example([3])
@example({})
@example({"stars": 3})
@example(10**100)
def test_parse_stars_accepts_exactly_the_ints_1_to_5(value: object) -> None:
    expected = expected_stars_messages(value)
    if expected is None:
        stars = rules.parse_stars(value)
        assert isinstance(stars, Stars)
        assert stars.value == value
        assert type(stars.value) is int
    else:
        with pytest.raises(rules.Invalid) as caught:
            rules.parse_stars(value)
        assert caught.value.messages == expected


@pytest.mark.parametrize("value", [1, 2, 3, 4, 5])
def test_parse_stars_each_valid_value(value: int) -> None:
    assert rules.parse_stars(value) == Stars(value)
    assert rules.parse_stars(value).value == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "Ensure this value is greater than or equal to 1."),
        (-5, "Ensure this value is greater than or equal to 1."),
        (6, "Ensure this value is less than or equal to 5."),
        (2**31, "Ensure this value is less than or equal to 5."),
        (2.5, "A valid integer is required."),
        (5.0, "A valid integer is required."),
        ("5", "A valid integer is required."),
        (True, "A valid integer is required."),
        (False, "A valid integer is required."),
        (None, "This field may not be null."),
        ([5], "A valid integer is required."),
        ({"value": 5}, "A valid integer is required."),
    ],
)
def test_parse_stars_rejects_with_drf_message(value: object, message: str) -> None:
    with pytest.raises(rules.Invalid) as caught:
        rules.parse_stars(value)
    assert caught.value.messages == [message]


@SIMPLE
@given(st.integers().filter(lambda n: not MIN_STARS <= n <= MAX_STARS))
def test_parse_stars_rejects_every_other_int(value: int) -> None:
    with pytest.raises(rules.Invalid):
        rules.parse_stars(value)


# ---- Stars -------------------------------------------------------------------------------


@SIMPLE
@given(VALID_STARS)
def test_stars_holds_valid_values(value: int) -> None:
    assert Stars(value).value == value
    assert Stars(value) == Stars(value)


@SIMPLE
@given(ANYTHING.filter(lambda v: expected_stars_messages(v) is not None))
@example(0)
@example(6)
@example(True)
@example(False)
@example(3.0)
@example("3")
@example(None)
def test_stars_refuses_invalid_values(value: object) -> None:
    with pytest.raises(ValueError):
        Stars(value)  # type: ignore[arg-type]


def test_stars_is_immutable() -> None:
    stars = Stars(3)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        stars.value = 9  # type: ignore[misc]
    assert stars.value == 3


# ---- RatingSummary -----------------------------------------------------------------------

STAR_LISTS = st.lists(VALID_STARS, max_size=40)


def summary_of(values: list[int]) -> RatingSummary:
    summary = RatingSummary()
    for value in values:
        summary = summary.added(Stars(value))
    return summary


def test_empty_summary_average_is_int_zero() -> None:
    empty = RatingSummary()
    assert (empty.count, empty.total) == (0, 0)
    assert empty.average == 0
    assert type(empty.average) is int


@SIMPLE
@given(STAR_LISTS)
def test_summary_average_is_total_over_count(values: list[int]) -> None:
    summary = RatingSummary(len(values), sum(values))
    if values:
        assert summary.average == sum(values) / len(values)
        assert MIN_STARS <= summary.average <= MAX_STARS
    else:
        assert summary.average == 0


@SIMPLE
@given(STAR_LISTS)
def test_summary_added_counts_and_sums(values: list[int]) -> None:
    assert summary_of(values) == RatingSummary(len(values), sum(values))


@SIMPLE
@given(st.lists(VALID_STARS, min_size=1, max_size=40), st.data())
def test_summary_changed_and_removed_match_a_recount(values: list[int], data: st.DataObject) -> None:
    summary = summary_of(values)
    index = data.draw(st.integers(0, len(values) - 1))
    new = data.draw(VALID_STARS)

    changed = summary.changed(Stars(values[index]), Stars(new))
    after_change = [*values[:index], new, *values[index + 1 :]]
    assert changed == RatingSummary(len(after_change), sum(after_change))

    removed = summary.removed(Stars(values[index]))
    after_removal = [*values[:index], *values[index + 1 :]]
    assert removed == RatingSummary(len(after_removal), sum(after_removal))
    if not after_removal:
        assert removed.average == 0


def test_removing_from_empty_summary_is_refused() -> None:
    with pytest.raises(ValueError):
        RatingSummary().removed(Stars(1))


@SIMPLE
@given(st.integers(min_value=-5, max_value=60), st.integers(min_value=-5, max_value=300))
@example(0, 1)
@example(1, 0)
@example(1, 6)
@example(2, 1)
@example(2, 11)
@example(-1, 0)
@example(0, -1)
@example(-1, -1)
def test_summary_refuses_impossible_pairs(count: int, total: int) -> None:
    possible = count >= 0 and MIN_STARS * count <= total <= MAX_STARS * count
    if possible:
        summary = RatingSummary(count, total)
        assert (summary.count, summary.total) == (count, total)
        if count:
            assert math.isclose(summary.average, total / count)
    else:
        with pytest.raises(ValueError):
            RatingSummary(count, total)
