"""Real databases for the integration tests: one fresh database per backend per run.

Backends: ``sqlite`` always; ``postgresql`` and ``mariadb`` when their servers answer.
``MOVIERATER_TEST_BACKENDS`` (comma-separated) chooses; with ``MOVIERATER_REQUIRE_BACKENDS=1``
(set by ``.ci/run``) a backend that cannot be reached fails the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

ALL_BACKENDS = ("sqlite", "postgresql", "mariadb")
PG_SERVER = os.environ.get("MOVIERATER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB_SERVER = os.environ.get(
    "MOVIERATER_TEST_MARIADB",
    "mysql+pyodbc://root@127.0.0.1:3306/test?driver=MariaDB+Unicode&OPTION=2&charset=utf8mb4",
)


def selected_backends() -> list[str]:
    raw = os.environ.get("MOVIERATER_TEST_BACKENDS", ",".join(ALL_BACKENDS))
    chosen = [name.strip() for name in raw.split(",") if name.strip()]
    unknown = set(chosen) - set(ALL_BACKENDS)
    if unknown:
        raise pytest.UsageError(f"unknown backends in MOVIERATER_TEST_BACKENDS: {sorted(unknown)}")
    return chosen


def backends_required() -> bool:
    return os.environ.get("MOVIERATER_REQUIRE_BACKENDS") == "1"


def unavailable(backend: str, reason: str) -> None:
    """Skip (a developer's run) or fail (CI) when a backend cannot be used."""
    message = f"{backend} backend unavailable: {reason}"
    if backends_required():
        pytest.fail(message + " (MOVIERATER_REQUIRE_BACKENDS=1: a missing backend is a failure)")
    pytest.skip(message + " (set MOVIERATER_TEST_BACKENDS to choose backends)")


@contextmanager
def fresh_database(backend: str, tmp_dir: Path) -> Iterator[str]:
    """Create an empty database for this run, yield its URL, drop it afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_dir / 'movierater-test.db'}"
        return
    name = f"movierater_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    server_url = PG_SERVER if backend == "postgresql" else MARIADB_SERVER
    try:
        admin = create_engine(server_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
        with admin.connect() as conn:
            _drop_leftovers(conn, backend)
            conn.execute(text(f"CREATE DATABASE {name}"))
    except Exception as exc:  # any driver or connection failure means: not available
        unavailable(backend, f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            _drop(conn, backend, name)
        admin.dispose()


def _drop(conn: Connection, backend: str, name: str) -> None:
    force = " WITH (FORCE)" if backend == "postgresql" else ""
    conn.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))


def _drop_leftovers(conn: Connection, backend: str) -> None:
    """Drop test databases of runs that were killed before they could clean up: their
    names carry the pid of a process that no longer exists."""
    if backend == "postgresql":
        names = conn.scalars(text("SELECT datname FROM pg_database WHERE datname LIKE 'movierater_test_%'"))
    else:
        names = conn.scalars(text("SHOW DATABASES LIKE 'movierater\\_test\\_%'"))
    for name in list(names):
        pid = name.split("_")[2]
        if not pid.isdigit() or not os.path.exists(f"/proc/{pid}"):
            _drop(conn, backend, name)
