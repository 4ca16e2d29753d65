"""The sliding-window arithmetic that both the login/registration throttle and the upload
limit use (``Limit``): what fits, and how long to wait when nothing does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from movierater_core.throttling import Limit

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@st.composite
def limits_and_events(draw: st.DrawFn) -> tuple[Limit, list[datetime]]:
    window = timedelta(seconds=draw(st.integers(1, 7200)))
    limit = Limit("test", draw(st.integers(1, 12)), window)
    ages = draw(st.lists(st.integers(0, window // timedelta(microseconds=1) - 1), max_size=20))
    # the events a repository returns: strictly after start(NOW), oldest first
    return limit, sorted(NOW - timedelta(microseconds=age) for age in ages)


@settings(max_examples=300, deadline=None)
@given(limits_and_events())
def test_an_event_fits_exactly_while_fewer_than_allowed_count(case: tuple[Limit, list[datetime]]) -> None:
    limit, recent = case
    assert all(limit.start(NOW) < at <= NOW for at in recent)
    wait = limit.retry_after(recent, NOW)
    assert (wait is None) == (len(recent) < limit.allowed)
    assert limit.remaining(recent) == max(0, limit.allowed - len(recent))


@settings(max_examples=300, deadline=None)
@given(limits_and_events())
def test_the_wait_is_the_first_whole_second_at_which_one_more_fits(
    case: tuple[Limit, list[datetime]],
) -> None:
    limit, recent = case
    wait = limit.retry_after(recent, NOW)
    if wait is None:
        return

    def counting_at(seconds: int) -> list[datetime]:
        later = NOW + timedelta(seconds=seconds)
        return [at for at in recent if at > limit.start(later)]

    assert wait >= 1
    assert limit.retry_after(counting_at(wait), NOW + timedelta(seconds=wait)) is None
    if wait > 1:  # a second earlier, still full
        assert limit.retry_after(counting_at(wait - 1), NOW + timedelta(seconds=wait - 1)) is not None
