"""Helpers shared by the use cases: retries of lost races, and who may do what."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from movierater_core.errors import ConcurrencyConflict, PermissionDenied
from movierater_core.model import User

T = TypeVar("T")

ATTEMPTS = 5


def retrying(work: Callable[[], T], attempts: int = ATTEMPTS) -> T:
    """Run one transaction, again if it lost a race (deadlock, serialization failure).

    ``work`` must open its own transaction so that every attempt starts afresh.
    """
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except ConcurrencyConflict:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


def require_admin(actor: User) -> None:
    if not actor.is_admin:
        raise PermissionDenied


def require_self_or_admin(actor: User, user_id: int) -> None:
    if actor.id != user_id and not actor.is_admin:
        raise PermissionDenied
