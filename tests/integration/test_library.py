"""``movierater_entrypoints.bootstrap.services`` on every backend: the use cases a Python service gets
work on a migrated database, and a server database that was never migrated is refused in
a sentence (SQLite is migrated on the spot, as `movierater serve` does)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from movierater_entrypoints.bootstrap import SchemaNotReady, services

from movierater_core.use_cases import SYSTEM
from tests.integration.backends import fresh_database
from tests.integration.conftest import wipe


def test_the_use_cases_work_on_a_migrated_database(database_url: str, engine: Any) -> None:
    wipe(engine)  # the backend's database is shared with the other tests
    app = services(database_url=database_url)
    try:
        admin = app.user_admin.create_user(SYSTEM, "library-admin", "a long passphrase", is_admin=True)
        movie = app.movies.create_movie(admin, {"title": "Library", "description": "From Python."})
        _, created = app.ratings.rate_movie(admin, movie_id=movie.id, data={"stars": 4})
        assert created and app.movies.get_movie(admin, movie.id).ratings.total == 4
    finally:
        app.close()
        wipe(engine)


def test_an_unmigrated_server_database_is_refused_sqlite_is_migrated(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        if backend == "sqlite":
            app = services(database_url=url)
            assert app.user_admin.all_users(SYSTEM) == []
            app.close()
        else:
            with pytest.raises(SchemaNotReady, match=r"run `movierater migrate` once$"):
                services(database_url=url)
