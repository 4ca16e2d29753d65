"""Readiness: can this instance serve requests now? (Liveness needs no use case: a process
that answers at all is alive.)"""

from __future__ import annotations

from collections.abc import Callable

from attrs import frozen

from movierater_core.errors import ServiceUnavailable
from movierater_core.ports import Database, ImageStorage


@frozen
class Check:
    """One dependency's state: ``detail`` says what is wrong (None when it is fine)."""

    name: str
    detail: str | None = None
    retry_after: int = 0

    @property
    def ok(self) -> bool:
        return self.detail is None


class Health:
    def __init__(self, db: Database, storage: ImageStorage) -> None:
        self._db = db
        self._storage = storage

    def readiness(self) -> list[Check]:
        """Every dependency probed once (all of them, so that the answer names each failing
        one); only ServiceUnavailable means "not ready", anything else is a bug and raises."""
        probes: list[tuple[str, Callable[[], None]]] = [
            ("database", self._db.ping),
            ("storage", self._storage.check),
        ]
        checks = []
        for name, probe in probes:
            try:
                probe()
            except ServiceUnavailable as exc:
                checks.append(Check(name, exc.detail, exc.retry_after))
            else:
                checks.append(Check(name))
        return checks
