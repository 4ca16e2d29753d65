"""Abuse limits: attempts of one kind counted per key in the database, so that they hold
across workers and app instances."""

from __future__ import annotations

import hashlib
import math
from datetime import timedelta

from attrs import frozen

from movierater_core.errors import RateLimited
from movierater_core.ports import Clock, Database


@frozen
class Limit:
    kind: str
    allowed: int
    window: timedelta


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
            recent = repos.attempts.since(_key(limit, value), now - limit.window)
        if len(recent) >= limit.allowed:
            wait = recent[-limit.allowed] + limit.window - now
            seconds = max(1, math.ceil(wait.total_seconds()))
            raise RateLimited(throttled_message(seconds), retry_after=seconds)

    def record(self, limit: Limit, value: str) -> None:
        now = self._clock.now()
        key = _key(limit, value)
        with self._db.writing() as repos:
            repos.attempts.forget_until(key, now - limit.window)
            repos.attempts.add(key, now)


def _key(limit: Limit, value: str) -> str:
    return hashlib.sha256(f"{limit.kind}\n{value}".encode()).hexdigest()
