"""MOVIERATER_DB_SCHEMA puts every table in a named schema (the original used
``movie_rater_api`` on Azure SQL); proven live on PostgreSQL."""

from __future__ import annotations

import pytest
import requests
from sqlalchemy import create_engine, inspect, text

from tests.integration.backends import fresh_database, selected_backends
from tests.integration.conftest import Server, run_cli


def test_tables_live_in_the_configured_schema(tmp_path) -> None:
    if "postgresql" not in selected_backends():
        pytest.skip("postgresql not among MOVIERATER_TEST_BACKENDS")
    with fresh_database("postgresql", tmp_path) as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE SCHEMA movie_rater_api"))
        env = {"MOVIERATER_DATABASE_URL": url, "MOVIERATER_DB_SCHEMA": "movie_rater_api"}
        run_cli("migrate", env=env)
        again = run_cli("migrate", env=env)
        assert "(head)" in again.stdout
        inspector = inspect(engine)
        assert {"users", "movies", "ratings", "tokens", "alembic_version"} <= set(
            inspector.get_table_names(schema="movie_rater_api")
        )
        assert inspector.get_table_names(schema="public") == []
        run_cli(
            "seed",
            "--movies",
            "3",
            "--users",
            "4",
            "--ratings-per-movie",
            "2",
            "--password",
            "schema-pass-1",
            env=env,
        )
        server = Server(url, tmp_path, MOVIERATER_DB_SCHEMA="movie_rater_api")
        try:
            token = requests.post(
                server.base_url + "/auth/",
                json={"username": "user1", "password": "schema-pass-1"},
                timeout=30,
            ).json()["token"]
            listed = requests.get(
                server.base_url + "/api/movies/", headers={"Authorization": f"Token {token}"}, timeout=30
            )
            assert listed.status_code == 200
            assert [m["no_of_ratings"] for m in listed.json()] == [2, 2, 2]
        finally:
            server.stop()
            engine.dispose()
