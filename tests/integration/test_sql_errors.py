"""Driver errors on real databases: a genuine deadlock is recognised as a ConcurrencyConflict
and the retry turns it into success for both sides; a server that takes no more
connections is unavailable (503), not a bug (500)."""

from __future__ import annotations

import threading
import uuid

import pytest
from movierater_adapters.sql import SqlDatabase, make_engine
from movierater_adapters.sql.tables import movies
from sqlalchemy import create_engine, make_url, text, update

from movierater_core.errors import ConcurrencyConflict, ServiceUnavailable
from movierater_core.model import MovieFields
from movierater_core.use_cases._common import retrying
from tests.integration.backends import selected_backends
from tests.integration.conftest import wipe


def test_a_deadlock_is_retried_until_both_transactions_succeed(database_url, engine, backend) -> None:
    _deadlock_both_ways(SqlDatabase(make_engine(database_url, connect_timeout=5)), engine, backend)


# SQLite's writers queue (BEGIN IMMEDIATE), so a deadlock cannot be staged there.
# Exclusive: the server's deadlock check (at 1 s) must come before the lock timeout (1.5 s),
# a margin that a machine saturated by the shared phase once overran (a statement timeout,
# one transfer lost to a 503, in CI on 2026-12-04).
@pytest.mark.exclusive
@pytest.mark.parametrize("backend", [b for b in selected_backends() if b != "sqlite"], indirect=True)
def test_a_deadlock_under_the_serving_bounds_is_still_retried(database_url, engine, backend) -> None:
    """Lock waits end after the server's deadlock check (PostgreSQL: 1 s), so the deadlock is
    found and retried, not answered 503 as a lock timeout."""
    _deadlock_both_ways(
        SqlDatabase(make_engine(database_url, connect_timeout=5, timeout=2), timeout=2), engine, backend
    )


def _deadlock_both_ways(db: SqlDatabase, engine, backend: str) -> None:
    wipe(engine)
    with db.writing() as repos:
        first = repos.movies.add(MovieFields(title="A"))
        second = repos.movies.add(MovieFields(title="B"))
    both_hold_one = threading.Barrier(2, timeout=5)
    attempts = {"ab": 0, "ba": 0}
    conflicts: list[str] = []

    def transfer(order: str, one: int, other: int) -> None:
        def work() -> None:
            attempts[order] += 1
            try:
                with db.writing() as repos:
                    conn = repos.connection
                    conn.execute(
                        update(movies)
                        .where(movies.c.id == one)
                        .values(
                            rating_count=movies.c.rating_count + 1,
                            rating_sum=movies.c.rating_sum + 1,
                            star_1=movies.c.star_1 + 1,
                        )
                    )
                    if attempts[order] == 1:
                        try:
                            both_hold_one.wait()  # each holds one row and wants the other's
                        except threading.BrokenBarrierError:
                            pass  # SQLite: the other writer is still waiting for BEGIN
                    conn.execute(
                        update(movies)
                        .where(movies.c.id == other)
                        .values(
                            rating_count=movies.c.rating_count + 1,
                            rating_sum=movies.c.rating_sum + 1,
                            star_1=movies.c.star_1 + 1,
                        )
                    )
            except ConcurrencyConflict:
                conflicts.append(order)
                raise

        retrying(work)

    threads = [
        threading.Thread(target=transfer, args=("ab", first.id, second.id)),
        threading.Thread(target=transfer, args=("ba", second.id, first.id)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with db.reading() as repos:
        counts = [repos.movies.get(first.id).ratings.count, repos.movies.get(second.id).ratings.count]
    db.dispose()
    # Counts moved without ratings: a later test's recount of every movie must not see them.
    wipe(engine)
    assert counts == [2, 2]  # both transfers applied exactly once
    if backend in ("postgresql", "mariadb"):
        # the servers detect the deadlock, kill one side, and the retry completes it
        assert len(conflicts) == 1 and sum(attempts.values()) == 3
    else:
        # SQLite's BEGIN IMMEDIATE queues writers, so they never deadlock
        assert conflicts == [] and sum(attempts.values()) == 2


@pytest.mark.parametrize("backend", [b for b in selected_backends() if b != "sqlite"], indirect=True)
def test_a_server_that_takes_no_more_connections_is_unavailable(database_url, engine, backend) -> None:
    """A server at a connection limit (PostgreSQL's max_connections or a role's limit,
    MariaDB's max_user_connections) is up but refuses: 503 with Retry-After (the core's
    ServiceUnavailable), not a 500. Many workers with write threads met PostgreSQL's."""
    role = f"limited_{uuid.uuid4().hex[:8]}"
    url = make_url(database_url).set(username=role).render_as_string(hide_password=False)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as admin:
        if backend == "postgresql":
            admin.execute(text(f"CREATE ROLE {role} LOGIN CONNECTION LIMIT 0"))
        else:
            for host in ("localhost", "%"):
                admin.execute(text(f"CREATE USER '{role}'@'{host}' WITH MAX_USER_CONNECTIONS 1"))
                admin.execute(text(f"GRANT ALL ON {make_url(database_url).database}.* TO '{role}'@'{host}'"))
        try:
            holder = create_engine(url) if backend != "postgresql" else None
            held = holder.connect() if holder is not None else None  # MariaDB: the one allowed
            db = SqlDatabase(make_engine(url, connect_timeout=5, timeout=2), timeout=2)
            try:
                with pytest.raises(ServiceUnavailable), db.reading() as repos:
                    repos.users.count()
            finally:
                db.engine.dispose()
                if held is not None and holder is not None:
                    held.close()
                    holder.dispose()
        finally:
            if backend == "postgresql":
                admin.execute(text(f"DROP ROLE {role}"))
            else:
                for host in ("localhost", "%"):
                    admin.execute(text(f"DROP USER '{role}'@'{host}'"))
