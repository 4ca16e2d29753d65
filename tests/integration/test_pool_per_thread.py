"""Each app thread keeps its read connection and may take one more for a write: the pool
must hold two per thread, or at MOVIERATER_THREADS above MOVIERATER_DB_POOL_SIZE the kept
readers take every connection and writes wait out the pool timeout (503)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from movierater_adapters.sql.database import SqlDatabase, make_engine

from tests.integration.backends import fresh_database, selected_backends
from tests.integration.conftest import run_cli

THREADS, POOL_SIZE = 10, 5  # the most MOVIERATER_THREADS allows for that pool size


# Server databases: SQLite's writers queue on BEGIN IMMEDIATE, so ten cannot hold one each.
SERVERS = [backend for backend in ("postgresql", "mariadb") if backend in selected_backends()]


@pytest.mark.parametrize("backend", SERVERS)
def test_every_thread_can_hold_its_read_connection_and_a_write_at_once(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        run_cli("migrate", env={"MOVIERATER_DATABASE_URL": url})
        db = SqlDatabase(make_engine(url, pool_size=POOL_SIZE, threads=THREADS, timeout=2), timeout=2)
        all_reading, all_writing = threading.Barrier(THREADS), threading.Barrier(THREADS)
        failures: list[BaseException] = []

        def request() -> None:
            try:
                with db.reading() as repos:  # the thread's kept read connection
                    repos.users.count()
                all_reading.wait(timeout=30)
                with db.writing() as repos:  # one more, while every reader is kept
                    repos.users.count()
                    all_writing.wait(timeout=30)
            except BaseException as exc:  # noqa: BLE001 - reported below, with the others
                failures.append(exc)
                all_reading.abort()
                all_writing.abort()

        threads = [threading.Thread(target=request) for _ in range(THREADS)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
        finally:
            db.dispose()
        assert failures == [], failures
