"""Abuse limits: attempts of one kind counted per key in the database, so that they hold
across workers and app instances."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from attrs import frozen

from movierater_core.errors import RateLimited
from movierater_core.ports import Clock, Database


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


class Throttle:
    """Refuses an attempt while ``allowed`` attempts of its kind and key fall within the
    window. Keys are stored as SHA-256 digests: attempted usernames are not kept."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def check(self, limit: Limit, value: str) -> None:
        now = self._clock.now()
        with self._db.reading() as repos:
            recent = repos.attempts.since(_key(limit, value), limit.start(now))
        seconds = limit.retry_after(recent, now)
        if seconds is not None:
            raise RateLimited(throttled_message(seconds), retry_after=seconds)

    def record(self, limit: Limit, value: str) -> None:
        now = self._clock.now()
        key = _key(limit, value)
        with self._db.writing() as repos:
            repos.attempts.forget_until(key, limit.start(now))
            repos.attempts.add(key, now)


def _key(limit: Limit, value: str) -> str:
    return hashlib.sha256(f"{limit.kind}\n{value}".encode()).hexdigest()
