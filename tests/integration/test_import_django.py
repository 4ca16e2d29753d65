"""``movierater import-django`` from a database that Django itself made (the DRF reference
service), into every backend, checked through the real HTTP API; and the ``--schema``
path live on PostgreSQL, as the original kept its tables on Azure SQL."""

from __future__ import annotations

import re
import shlex
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import requests
from movierater_adapters.sql.tables import metadata as our_metadata
from movierater_adapters.sql.tables import movies, ratings, users
from sqlalchemy import Column, MetaData, Table, create_engine, select, text

from tests.integration.backends import fresh_database, selected_backends
from tests.integration.conftest import Client, Server, run_cli
from tests.integration.django_reference import PASSWORDS, REPO, DjangoDatabase
from tests.integration.test_concurrency import assert_summaries_match_recount


def readme_command(source_url: str) -> list[str]:
    """The import command exactly as the README documents it, for another source URL."""
    readme = (REPO / "README.md").read_text()
    line = next(
        line.strip() for line in readme.splitlines() if line.strip().startswith("movierater import-django")
    )
    argv = shlex.split(line)[1:]
    argv[argv.index("--from") + 1] = source_url
    return argv


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of ours, for before/after comparisons."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table.name: sorted(tuple(row) for row in conn.execute(select(table)))
                for table in our_metadata.sorted_tables
            }
    finally:
        engine.dispose()


def counts(stdout: str) -> dict[str, tuple[int, ...]]:
    found = re.findall(
        r"^(\w+): (\d+) added, (\d+) already imported, (\d+) changed since, (\d+) rejected$", stdout, re.M
    )
    return {kind: tuple(int(n) for n in numbers) for kind, *numbers in found}


def test_a_django_database_arrives_whole_and_its_users_carry_on(
    backend: str, django_db: DjangoDatabase, tmp_path: Path
) -> None:
    with fresh_database(backend, tmp_path) as url:
        env = {"MOVIERATER_DATABASE_URL": url}
        run_cli("migrate", env=env)
        command = [*readme_command(django_db.url), "--app", "refapi"]  # the reference's app label
        first = run_cli(*command, env=env)
        assert counts(first.stdout) == {
            "users": (4, 0, 0, 0),
            "movies": (4, 0, 0, 0),
            "ratings": (5, 0, 0, 0),
            "tokens": (3, 0, 0, 0),
        }
        assert "importing" in first.stderr  # the progress bar
        before = snapshot(url)
        imported = create_engine(url)
        try:  # issue 17 items 3 and 4: no times (Django kept none), histograms as recounted
            assert_summaries_match_recount(imported)
            with imported.connect() as conn:
                times = conn.execute(select(ratings.c.created, ratings.c.changed)).all()
                histograms = conn.execute(select(*(movies.c[f"star_{n}"] for n in range(1, 6)))).all()
            assert len(times) == 5 and set(times) == {(None, None)}
            assert sum(sum(h) for h in histograms) == 5
        finally:
            imported.dispose()

        second = run_cli(*command, env=env)
        assert counts(second.stdout) == {
            "users": (0, 4, 0, 0),
            "movies": (0, 4, 0, 0),
            "ratings": (0, 5, 0, 0),
            "tokens": (0, 3, 0, 0),
        }
        assert snapshot(url) == before

        # Refusals: exit 2, one clear line, nothing written.
        wrong_app = run_cli("import-django", "--from", django_db.url, env=env, check=False)
        assert wrong_app.returncode == 2
        assert "missing table api_movie, table api_rating" in wrong_app.stderr
        assert "--app refapi" in wrong_app.stderr
        other = tmp_path / "not-django.sqlite3"
        with sqlite3.connect(other) as conn:
            conn.execute("CREATE TABLE auth_user (id INTEGER PRIMARY KEY, username TEXT)")
        not_django = run_cli("import-django", "--from", f"sqlite:///{other}", env=env, check=False)
        assert not_django.returncode == 2
        assert (
            "column auth_user.password" in not_django.stderr and "table authtoken_token" in not_django.stderr
        )
        unreachable = run_cli(
            "import-django", "--from", "postgresql+psycopg://nobody:pw@127.0.0.1:9/none", env=env, check=False
        )
        assert unreachable.returncode == 2 and "cannot connect" in unreachable.stderr
        assert "pw@" not in unreachable.stderr  # the password is not echoed
        for refused in (wrong_app, not_django, unreachable):
            assert "Traceback" not in refused.stderr and refused.stdout == ""
        assert snapshot(url) == before

        server = Server(url, tmp_path, workers=1)
        try:
            _check_through_http(server, django_db, url)
        finally:
            server.stop()


def _check_through_http(server: Server, django_db: DjangoDatabase, url: str) -> None:
    alice = Client(server.base_url, django_db.tokens["alice"])  # the token her browser holds
    listed = alice.get("/api/movies/")
    assert listed.status_code == 200, listed.text
    django_keys = [k for k in django_db.movies[0] if k != "id"]
    assert [{k: m[k] for k in django_keys} for m in listed.json()] == [
        {k: v for k, v in m.items() if k != "id"} for m in django_db.movies
    ]  # Django's own answer: imagePath verbatim (null stays null), no_of_ratings, ave_ratings
    assert all(set(m) == {"id", *django_keys, "score", "histogram"} for m in listed.json())  # added only

    for name in ("staffer", "root"):  # is_staff and is_superuser both make admins
        admin = Client(server.base_url, django_db.tokens[name])
        assert admin.post("/api/movies/", json={"title": f"By {name}"}).status_code == 201
    assert alice.post("/api/movies/", json={"title": "By alice"}).status_code == 403

    login = requests.post(
        server.base_url + "/auth/", json={"username": "alice", "password": PASSWORDS["alice"]}, timeout=30
    )
    assert login.status_code == 200, login.text
    assert Client(server.base_url, login.json()["token"]).get("/api/movies/").status_code == 200
    wrong = requests.post(
        server.base_url + "/auth/", json={"username": "root", "password": "guess"}, timeout=30
    )
    assert wrong.status_code == 400
    unusable = requests.post(
        server.base_url + "/auth/", json={"username": "bob", "password": "x"}, timeout=30
    )
    assert unusable.status_code == 400  # Django gave bob no usable password

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            hashes = {name: h for name, h in conn.execute(select(users.c.username, users.c.password_hash))}
    finally:
        engine.dispose()
    assert hashes["alice"].startswith("$argon2id$")  # re-hashed at her first login
    assert hashes["root"].startswith("pbkdf2_sha256$870000$")  # not logged in yet: still Django's


def test_rows_django_let_through_but_our_rules_refuse_are_reported(
    django_db: DjangoDatabase, tmp_path: Path
) -> None:
    dirty = tmp_path / "dirty.sqlite3"
    shutil.copy(django_db.path, dirty)
    with sqlite3.connect(dirty) as conn:  # Django's validators never reached the database
        conn.execute(
            "INSERT INTO refapi_movie (title, description, imagePath) VALUES (?, '', NULL)", ("T" * 151,)
        )
        conn.execute("INSERT INTO refapi_rating (stars, movie_id, user_id) VALUES (9, 2, 1)")
    url = f"sqlite:///{tmp_path / 'ours.db'}"
    env = {"MOVIERATER_DATABASE_URL": url}
    result = run_cli("import-django", "--from", f"sqlite:///{dirty}", "--app", "refapi", env=env, check=False)
    assert result.returncode == 1
    assert "rejected movie 5: title: Ensure this field has no more than 150 characters." in result.stdout
    assert "rejected rating 6: stars: Ensure this value is less than or equal to 5." in result.stdout
    assert counts(result.stdout)["movies"] == (4, 0, 0, 1)
    assert counts(result.stdout)["ratings"] == (5, 0, 0, 1)
    engine = create_engine(url)
    with engine.connect() as conn:
        no_poster = conn.execute(select(movies).where(movies.c.title == "No poster")).one()
    engine.dispose()
    assert (no_poster.rating_count, no_poster.rating_sum) == (0, 0)  # the 9 did not count


def _copy_into_schema(django_db: DjangoDatabase, engine: Any, schema: str) -> None:
    """Django's tables in a schema under the default app label, as on the original's Azure SQL."""
    source = create_engine(django_db.url)
    reflected = MetaData()
    names = ["auth_user", "refapi_movie", "refapi_rating", "authtoken_token"]
    reflected.reflect(source, only=names)
    target = MetaData(schema=schema)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
        for name in names:
            original = reflected.tables[name]
            copy = Table(
                name.replace("refapi_", "api_"),
                target,
                *(Column(c.name, c.type.as_generic(), primary_key=c.primary_key) for c in original.columns),
            )
            copy.create(conn)
            with source.connect() as reader:
                rows = [dict(row._mapping) for row in reader.execute(select(original))]
            if rows:
                conn.execute(copy.insert(), rows)
    source.dispose()


def test_tables_in_a_schema_are_found_with_the_schema_option(
    django_db: DjangoDatabase, tmp_path: Path
) -> None:
    if "postgresql" not in selected_backends():
        pytest.skip("postgresql not among MOVIERATER_TEST_BACKENDS")
    with fresh_database("postgresql", tmp_path) as url:  # source schema and target, in one database
        engine = create_engine(url)
        try:
            _copy_into_schema(django_db, engine, "movie_rater_api")
            env = {"MOVIERATER_DATABASE_URL": url}
            run_cli("migrate", env=env)
            without = run_cli("import-django", "--from", url, env=env, check=False)
            assert without.returncode == 2 and "--schema movie_rater_api" in without.stderr
            result = run_cli("import-django", "--from", url, "--schema", "movie_rater_api", env=env)
            assert counts(result.stdout) == {
                "users": (4, 0, 0, 0),
                "movies": (4, 0, 0, 0),
                "ratings": (5, 0, 0, 0),
                "tokens": (3, 0, 0, 0),
            }
            with engine.connect() as conn:
                summaries = conn.execute(
                    select(movies.c.title, movies.c.image_path, movies.c.rating_count).order_by(movies.c.id)
                ).all()
            assert [tuple(s) for s in summaries] == [
                (m["title"], m["imagePath"], m["no_of_ratings"]) for m in django_db.movies
            ]
        finally:
            engine.dispose()
