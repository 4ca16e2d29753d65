"""Stars and RatingSummary: the value objects of a rating, and ``rules.parse_stars``."""

from __future__ import annotations

import math
from typing import Any

import attrs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from movierater_core import rules
from movierater_core.model import MAX_STARS, MIN_STARS, RatingSummary, ScorePrior, Stars

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
    summary = RatingSummary.of(values)
    if values:
        assert summary.average == sum(values) / len(values)
        assert MIN_STARS <= summary.average <= MAX_STARS
    else:
        assert summary.average == 0


@SIMPLE
@given(STAR_LISTS)
def test_summary_added_counts_and_sums(values: list[int]) -> None:
    recount = RatingSummary(len(values), sum(values), tuple(values.count(n) for n in range(1, 6)))
    assert summary_of(values) == recount == RatingSummary.of(values)


@SIMPLE
@given(st.lists(VALID_STARS, min_size=1, max_size=40), st.data())
def test_summary_changed_and_removed_match_a_recount(values: list[int], data: st.DataObject) -> None:
    summary = summary_of(values)
    index = data.draw(st.integers(0, len(values) - 1))
    new = data.draw(VALID_STARS)

    changed = summary.changed(Stars(values[index]), Stars(new))
    after_change = [*values[:index], new, *values[index + 1 :]]
    assert changed == RatingSummary.of(after_change)

    removed = summary.removed(Stars(values[index]))
    after_removal = [*values[:index], *values[index + 1 :]]
    assert removed == RatingSummary.of(after_removal)
    if not after_removal:
        assert removed.average == 0


def test_removing_from_empty_summary_is_refused() -> None:
    with pytest.raises(ValueError):
        RatingSummary().removed(Stars(1))


@SIMPLE
@given(st.integers(min_value=-5, max_value=60), st.integers(min_value=-5, max_value=300), st.data())
@example(0, 1, None)
@example(1, 0, None)
@example(1, 6, None)
@example(2, 1, None)
@example(2, 11, None)
@example(-1, 0, None)
@example(0, -1, None)
@example(-1, -1, None)
def test_summary_refuses_what_no_ratings_could_add_up_to(count: int, total: int, data: Any) -> None:
    """A summary is possible only if some ratings have that count and total, and its
    histogram is then theirs: any other histogram, of any length, is refused."""
    histograms = st.lists(st.integers(-2, 12), min_size=4, max_size=6).map(tuple)
    histogram = data.draw(histograms) if data is not None else (0, 0, 0, 0, 0)
    agrees = (
        len(histogram) == 5
        and min(histogram) >= 0
        and sum(histogram) == count
        and sum(n * h for n, h in zip(range(1, 6), histogram, strict=False)) == total
    )
    if agrees:
        summary = RatingSummary(count, total, histogram)
        assert summary == RatingSummary.of(
            n for n, h in zip(range(1, 6), histogram, strict=True) for _ in range(h)
        )
        if count:
            assert math.isclose(summary.average, total / count)
    else:
        with pytest.raises(ValueError):
            RatingSummary(count, total, histogram)


@SIMPLE
@given(STAR_LISTS, st.lists(VALID_STARS, max_size=40), st.integers(1, 1000))
def test_the_score_is_the_bayesian_average_between_the_prior_and_the_average(
    values: list[int], catalogue: list[int], weight: int
) -> None:
    summary = RatingSummary.of(values)
    prior = ScorePrior.of(RatingSummary.of([*values, *catalogue]), weight)
    score = summary.score(prior)
    assert math.isclose(score, (prior.mean * weight + sum(values)) / (weight + len(values)))
    low, high = sorted((prior.mean, summary.average if values else prior.mean))
    assert low - 1e-9 <= score <= high + 1e-9  # between the catalogue's mean and its own
    assert 0 <= score <= MAX_STARS
    if not values:
        assert math.isclose(score, prior.mean)


def test_a_score_ranks_many_fours_above_one_five() -> None:
    prior = ScorePrior.of(RatingSummary.of([1, 2, 3, 4, 5] * 20), 10)  # C = 3
    one_five = RatingSummary.of([5])
    many_fours = RatingSummary.of([4] * 100)
    assert one_five.average > many_fours.average
    assert many_fours.score(prior) > one_five.score(prior)
    assert one_five.score(prior) == (30 + 5) / 11


def test_a_prior_needs_a_weight_of_at_least_one() -> None:
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError):
            ScorePrior(3.0, bad)  # type: ignore[arg-type]
    assert ScorePrior.of(RatingSummary(), 5) == ScorePrior(0.0, 5)  # no ratings: mean 0
