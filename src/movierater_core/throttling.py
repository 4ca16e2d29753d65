"""Abuse limits: attempts of one kind counted per key in the database, so that they hold
across workers and app instances."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from attrs import frozen

from movierater_core.errors import RateLimited
from movierater_core.ports import Clock, Database, Repositories


@frozen
class Limit:
    """At most ``allowed`` events of ``kind`` per key in any sliding ``window``: an event
    counts for exactly ``window``, while it falls in (now - window, now]. The one place of
    this arithmetic, for attempts (:class:`Throttle`, whose keys include ``kind``) and for
    upload grants (counted per user under a row lock by the upload use case)."""

    kind: str
    allowed: int
    window: timedelta

    def start(self, now: datetime) -> datetime:
        """Events at or before this no longer count."""
        return now - self.window

    def remaining(self, recent: Sequence[datetime]) -> int:
        """How many more events fit now, given those since :meth:`start`."""
        return max(0, self.allowed - len(recent))

    def retry_after(self, recent: Sequence[datetime], now: datetime) -> int | None:
        """None while one more event fits; else whole seconds (at least 1) until it does,
        given the events since :meth:`start`, oldest first."""
        if len(recent) < self.allowed:
            return None
        wait = recent[-self.allowed] + self.window - now
        return max(1, math.ceil(wait.total_seconds()))


def throttled_message(seconds: int) -> str:
    return f"Request was throttled. Expected available in {seconds} seconds."


@frozen
class Reservation:
    """Attempts counted before the work they limit; :meth:`Throttle.release` un-counts them."""

    attempt_ids: tuple[int, ...]


NOTHING_RESERVED: Final = Reservation(())


class Throttle:
    """Refuses an attempt while ``allowed`` attempts of its kind and key fall within the
    window. Keys are stored as SHA-256 digests: attempted usernames are not kept.

    An attempt is counted *before* the work it limits (a password check, a registration),
    in one transaction that locks the key, counts and adds: N concurrent attempts on any
    number of workers and instances get exactly ``allowed`` through. An attempt that turns
    out not to count (a right password, a registration refused for its input) is released.
    """

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def reserve(self, *attempts: tuple[Limit, str]) -> Reservation:
        """Count one attempt for each (limit, value), all or none: :class:`RateLimited` (and
        nothing counted) when one of them is full. One transaction: a lost race
        (:class:`~movierater_core.errors.ConcurrencyConflict`) may be run again."""
        now = self._clock.now()
        keys = [(limit, _key(limit, value)) for limit, value in attempts]

        with self._db.writing() as repos:
            # Every key is locked before any attempt is read or written: callers pass their
            # kinds in one fixed order, so two reservations cannot wait on each other.
            for _, key in keys:
                repos.attempts.lock(key)
            ids = []
            for limit, key in keys:
                repos.attempts.forget_until(key, limit.start(now))
                seconds = limit.retry_after(repos.attempts.since(key, limit.start(now)), now)
                if seconds is not None:
                    raise RateLimited(throttled_message(seconds), retry_after=seconds)
                ids.append(repos.attempts.add(key, now))
            return Reservation(tuple(ids))

    def release(self, reservation: Reservation, repos: Repositories | None = None) -> None:
        """Un-count the reserved attempts, in the caller's transaction if given."""
        if not reservation.attempt_ids:
            return
        if repos is not None:
            repos.attempts.remove(reservation.attempt_ids)
            return
        with self._db.writing() as own:
            own.attempts.remove(reservation.attempt_ids)


def _key(limit: Limit, value: str) -> str:
    return hashlib.sha256(f"{limit.kind}\n{value}".encode()).hexdigest()
