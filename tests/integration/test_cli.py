"""The ``movierater`` command: migrate, seed, createsuperuser, serve, settings refusal."""

from __future__ import annotations

import os
import subprocess

import requests
from movierater_adapters.sql.tables import movies, ratings, users
from sqlalchemy import create_engine, func, inspect, select

from tests.integration.conftest import MOVIERATER, Server, run_cli, wipe


def test_migrate_is_a_no_op_the_second_time(database_url: str, engine) -> None:
    first = run_cli("migrate", env={"MOVIERATER_DATABASE_URL": database_url})
    tables = sorted(inspect(engine).get_table_names())
    second = run_cli("migrate", env={"MOVIERATER_DATABASE_URL": database_url})
    assert "(head)" in first.stdout
    assert first.stdout == second.stdout
    assert sorted(inspect(engine).get_table_names()) == tables
    assert {"users", "movies", "ratings", "tokens", "upload_grants", "images", "alembic_version"} <= set(
        tables
    )


def test_seed_is_deterministic_idempotent_and_consistent(database_url: str, engine, server) -> None:
    wipe(engine)
    env = {"MOVIERATER_DATABASE_URL": database_url}
    args = (
        "seed",
        "--movies",
        "20",
        "--users",
        "50",
        "--ratings-per-movie",
        "10",
        "--password",
        "bench-password-1",
    )
    out = run_cli(*args, env=env)
    assert "Added 50 users, 20 movies, 200 ratings." in out.stdout
    again = run_cli(*args, env=env)
    assert "Added 0 users, 0 movies, 0 ratings." in again.stdout
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(users)) == 50
        assert conn.scalar(select(func.count()).select_from(ratings)) == 200
        recount = {
            movie_id: (count, total)
            for movie_id, count, total in conn.execute(
                select(ratings.c.movie_id, func.count(), func.sum(ratings.c.stars)).group_by(
                    ratings.c.movie_id
                )
            )
        }
        stored = {row.id: (row.rating_count, row.rating_sum) for row in conn.execute(select(movies))}
    assert stored == recount
    # seeded users can log in with the seed password
    login = requests.post(
        server.base_url + "/auth/", json={"username": "user7", "password": "bench-password-1"}, timeout=30
    )
    assert login.status_code == 200 and len(login.json()["token"]) == 40


def test_seed_on_a_fresh_database_numbers_movies_from_one(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    env = {"MOVIERATER_DATABASE_URL": url}
    run_cli("migrate", env=env)
    run_cli(
        "seed",
        "--movies",
        "200",
        "--users",
        "2000",
        "--ratings-per-movie",
        "100",
        "--password",
        "pw-for-seed-1",
        env=env,
    )
    engine = create_engine(url)
    with engine.connect() as conn:
        assert list(conn.scalars(select(movies.c.id).order_by(movies.c.id))) == list(range(1, 201))
        assert conn.scalar(select(func.count()).select_from(ratings)) == 20_000
        assert conn.scalar(select(func.count()).select_from(users)) == 2000
        names = set(conn.scalars(select(users.c.username)))
    assert names == {f"user{i}" for i in range(2000)}
    engine.dispose()


def test_createsuperuser_refuses_without_password_weak_password_and_duplicates(
    database_url: str, engine
) -> None:
    wipe(engine)
    env = {"MOVIERATER_DATABASE_URL": database_url, "MOVIERATER_SUPERUSER_PASSWORD": ""}
    missing = run_cli("createsuperuser", "--username", "root", "--noinput", env=env, check=False)
    assert missing.returncode == 2 and "MOVIERATER_SUPERUSER_PASSWORD" in missing.stderr
    weak = run_cli(
        "createsuperuser",
        "--username",
        "root",
        "--noinput",
        env={**env, "MOVIERATER_SUPERUSER_PASSWORD": "password"},
        check=False,
    )
    assert weak.returncode == 1 and "too common" in weak.stderr
    good_env = {**env, "MOVIERATER_SUPERUSER_PASSWORD": "a-good-admin-pass"}
    assert run_cli("createsuperuser", "--username", "root", "--noinput", env=good_env).returncode == 0
    dup = run_cli("createsuperuser", "--username", "root", "--noinput", env=good_env, check=False)
    assert dup.returncode == 1 and "already exists" in dup.stderr
    with engine.connect() as conn:
        assert conn.execute(select(users.c.is_admin).where(users.c.username == "root")).scalar_one()


def test_createsuperuser_prompts_for_the_password(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'prompt.db'}"
    run_cli("migrate", env={"MOVIERATER_DATABASE_URL": url})
    # getpass falls back to stdin when there is no terminal
    result = subprocess.run(
        [*MOVIERATER, "createsuperuser", "--username", "boss"],
        input="short\nshort\nsecret-pass-9\nsecret-pass-9\n",
        env={**os.environ, "MOVIERATER_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert result.returncode == 0, result.stderr
    assert "too short" in result.stderr
    assert "Superuser 'boss' created" in result.stdout


def test_serve_on_a_fresh_directory_uses_and_migrates_the_embedded_default(tmp_path) -> None:
    server = Server(None, tmp_path)  # no MOVIERATER_DATABASE_URL at all
    try:
        created = requests.post(
            server.base_url + "/api/users/",
            json={"username": "first", "password": "first-pass-123"},
            timeout=30,
        )
        assert created.status_code == 201, created.text
        assert (tmp_path / "movierater.db").exists()
    finally:
        server.stop()


def test_production_mode_refuses_unsafe_settings(tmp_path) -> None:
    base = {"MOVIERATER_ENV": "production"}
    no_key = run_cli("migrate", env=base, check=False, cwd=tmp_path)
    assert no_key.returncode == 2 and "MOVIERATER_SECRET_KEY" in no_key.stderr
    default_db = run_cli(
        "migrate", env={**base, "MOVIERATER_SECRET_KEY": "k" * 40}, check=False, cwd=tmp_path
    )
    assert default_db.returncode == 2 and "MOVIERATER_DATABASE_URL" in default_db.stderr
    wildcard = run_cli(
        "migrate",
        env={
            **base,
            "MOVIERATER_SECRET_KEY": "k" * 40,
            "MOVIERATER_DATABASE_URL": f"sqlite:///{tmp_path}/p.db",
            "MOVIERATER_CORS_ORIGINS": "*",
        },
        check=False,
    )
    assert wildcard.returncode == 2 and "MOVIERATER_CORS_ORIGINS" in wildcard.stderr
    assert not (tmp_path / "movierater.db").exists()


def test_version() -> None:
    out = subprocess.run([*MOVIERATER, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("movierater 0.")
