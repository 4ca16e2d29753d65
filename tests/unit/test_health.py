"""Readiness: every dependency probed, each failing one named, bugs not hidden; and the
probes through the HTTP layer (in-process, on fakes)."""

from __future__ import annotations

import pytest

from movierater_core.use_cases import Check, Health
from tests.unit.fakes import FakeStorage, FixedClock, InMemoryDatabase
from tests.unit.test_wiring import make_client


def test_ready_when_every_dependency_answers() -> None:
    health = Health(InMemoryDatabase(), FakeStorage(FixedClock()))
    assert health.readiness() == [Check("database"), Check("storage")]
    assert all(check.ok for check in health.readiness())


def test_each_failing_dependency_is_named_with_its_detail_and_retry_after() -> None:
    db, storage = InMemoryDatabase(), FakeStorage(FixedClock())
    db.down, storage.down = "db gone", "disk gone"
    assert Health(db, storage).readiness() == [
        Check("database", "db gone", 5),
        Check("storage", "disk gone", 30),
    ]
    db.down = None
    assert Health(db, storage).readiness() == [Check("database"), Check("storage", "disk gone", 30)]


def test_a_bug_in_a_probe_is_not_reported_as_unavailable() -> None:
    storage = FakeStorage(FixedClock())
    storage.check = lambda: 1 / 0  # type: ignore[method-assign]
    with pytest.raises(ZeroDivisionError):
        Health(InMemoryDatabase(), storage).readiness()


def test_the_probes_over_http() -> None:
    client, db = make_client()
    alive = client.simulate_get("/healthz")
    assert (alive.status_code, alive.json) == (200, {"status": "ok"})
    assert alive.headers["Cache-Control"] == "no-store"
    ready = client.simulate_get("/readyz/")
    assert ready.status_code == 200
    assert ready.json == {
        "status": "ok",
        "checks": {"database": {"status": "ok"}, "storage": {"status": "ok"}},
    }
    db.down = "The database is unavailable right now. Try again shortly."
    assert client.simulate_get("/healthz").status_code == 200  # liveness never asks the database
    not_ready = client.simulate_get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.headers["Retry-After"] == "5"
    assert not_ready.json == {
        "status": "unavailable",
        "detail": "Not ready: database.",
        "checks": {
            "database": {"status": "unavailable", "detail": db.down},
            "storage": {"status": "ok"},
        },
    }
