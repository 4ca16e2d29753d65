#!/usr/bin/env python3
"""Time ``movierater import-django`` into a fresh database of each backend, twice.

The source is a SQLite file shaped like the Django original's tables (``auth_user``,
``api_movie``, ``api_rating``, ``authtoken_token``, the columns
``movierater_adapters.sql.django_source`` reads), filled directly with SQLAlchemy: no Django, no
pbkdf2 per user (every user gets the same made-up pbkdf2 hash, which the import only
checks the format of). It is built once and kept (``--source`` file) unless its size
arguments change.

    .venv/bin/python bench/import_django.py                     # sqlite,postgresql,mariadb
    .venv/bin/python bench/import_django.py --backends sqlite --ratings 20000

Targets: the PostgreSQL and MariaDB servers of the integration tests
(``MOVIERATER_TEST_PG``, ``MOVIERATER_TEST_MARIADB``, defaults as in
``tests/integration/backends.py``); a database is created per run and dropped after.
Prints a Markdown table and, with ``--json FILE``, writes the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    text,
)
from sqlalchemy.engine import make_url

PG_SERVER = os.environ.get("MOVIERATER_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB_SERVER = os.environ.get(
    "MOVIERATER_TEST_MARIADB",
    "mysql+pyodbc://root@127.0.0.1:3306/test?driver=MariaDB+Unicode&OPTION=2&charset=utf8mb4",
)
HASH = "pbkdf2_sha256$870000$benchsalt$" + "A" * 43 + "="  # the format only: nobody logs in


def django_tables(metadata: MetaData, app: str = "api") -> dict[str, Table]:
    """The columns Django's migrations give these tables (those the import reads, and the
    NOT NULL ones beside them that a real database has)."""
    user = Table(
        "auth_user",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("password", String(128), nullable=False),
        Column("last_login", DateTime, nullable=True),
        Column("is_superuser", Boolean, nullable=False),
        Column("username", String(150), nullable=False, unique=True),
        Column("first_name", String(150), nullable=False),
        Column("last_name", String(150), nullable=False),
        Column("email", String(254), nullable=False),
        Column("is_staff", Boolean, nullable=False),
        Column("is_active", Boolean, nullable=False),
        Column("date_joined", DateTime, nullable=False),
    )
    movie = Table(
        f"{app}_movie",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("title", String(150), nullable=False),
        Column("description", String(360), nullable=False),
        Column("imagePath", String(200), nullable=True),
    )
    rating = Table(
        f"{app}_rating",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("stars", Integer, nullable=False),
        Column("movie_id", Integer, ForeignKey(movie.c.id), nullable=False),
        Column("user_id", Integer, ForeignKey(user.c.id), nullable=False),
    )
    token = Table(
        "authtoken_token",
        metadata,
        Column("key", String(40), primary_key=True),
        Column("created", DateTime, nullable=False),
        Column("user_id", Integer, ForeignKey(user.c.id), nullable=False, unique=True),
    )
    return {"users": user, "movies": movie, "ratings": rating, "tokens": token}


def build_source(path: Path, users: int, movies: int, ratings: int, tokens: int) -> None:
    if ratings > users * movies or tokens > users:
        raise SystemExit("at most one rating per user and movie, one token per user")
    path.unlink(missing_ok=True)
    engine = create_engine(f"sqlite:///{path}")
    metadata = MetaData()
    t = django_tables(metadata)
    metadata.create_all(engine)
    joined = datetime(2021, 3, 1, tzinfo=UTC).replace(tzinfo=None)  # Django on SQLite: naive UTC
    with engine.begin() as conn:
        conn.execute(
            t["users"].insert(),
            [
                {
                    "id": n,
                    "password": HASH,
                    "is_superuser": n == 1,
                    "username": f"user{n}",
                    "first_name": "",
                    "last_name": "",
                    "email": "",
                    "is_staff": n % 100 == 0,
                    "is_active": n % 50 != 0,
                    "date_joined": joined + timedelta(minutes=n),
                }
                for n in range(1, users + 1)
            ],
        )
        conn.execute(
            t["movies"].insert(),
            [
                {
                    "id": n,
                    "title": f"Movie {n}",
                    "description": f"The description of movie {n}.",
                    "imagePath": f"https://img.example/posters/{n}.jpg" if n % 3 else None,
                }
                for n in range(1, movies + 1)
            ],
        )
        # Distinct (user, movie) pairs spread over the users: for one movie, consecutive
        # rounds k // movies give distinct users.
        rows = []
        for k in range(ratings):
            movie = k % movies
            user = (k // movies + movie * 37) % users
            rows.append({"id": k + 1, "stars": 1 + k % 5, "movie_id": movie + 1, "user_id": user + 1})
        conn.execute(t["ratings"].insert(), rows)
        conn.execute(
            t["tokens"].insert(),
            [
                {"key": f"{n:040x}", "created": joined + timedelta(days=1, minutes=n), "user_id": n}
                for n in range(1, tokens + 1)
            ],
        )
    engine.dispose()


def fresh_target(backend: str, workdir: Path) -> tuple[str, object]:
    """A URL of an empty database, and what drops it afterwards."""
    if backend == "sqlite":
        path = workdir / f"target-{uuid.uuid4().hex[:8]}.db"
        return f"sqlite:///{path}", lambda: [p.unlink(missing_ok=True) for p in workdir.glob(path.name + "*")]
    server = PG_SERVER if backend == "postgresql" else MARIADB_SERVER
    name = f"movierater_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))

    def drop() -> None:
        force = " WITH (FORCE)" if backend == "postgresql" else ""
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name}{force}"))
        admin.dispose()

    return make_url(server).set(database=name).render_as_string(hide_password=False), drop


def movierater() -> list[str]:
    found = shutil.which("movierater", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "movierater_entrypoints.cli"]


def timed_import(source: Path, url: str) -> tuple[float, str]:
    env = {**os.environ, "MOVIERATER_DATABASE_URL": url}
    start = time.perf_counter()
    done = subprocess.run(
        [*movierater(), "import-django", "--from", f"sqlite:///{source}"],
        env=env,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):  # 1: some rows rejected (none are, in this source)
        raise SystemExit(f"import failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}")
    summary = [line for line in done.stdout.splitlines() if ": " in line and " added, " in line]
    return elapsed, "; ".join(summary)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql,mariadb")
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--movies", type=int, default=1000)
    parser.add_argument("--ratings", type=int, default=100_000)
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--source", type=Path, default=Path(tempfile.gettempdir()) / "movierater-django-bench")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args()

    args.source.mkdir(parents=True, exist_ok=True)
    sizes = f"{args.users}-{args.movies}-{args.ratings}-{args.tokens}"
    source = args.source / f"django-{sizes}.sqlite3"
    if not source.exists():
        start = time.perf_counter()
        build_source(source, args.users, args.movies, args.ratings, args.tokens)
        print(f"built {source} in {time.perf_counter() - start:.1f} s", file=sys.stderr)

    results = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        url, drop = fresh_target(backend, args.source)
        try:
            env = {**os.environ, "MOVIERATER_DATABASE_URL": url}
            subprocess.run([*movierater(), "migrate"], env=env, check=True, capture_output=True)
            first, summary = timed_import(source, url)
            print(f"{backend} first: {first:.1f} s  {summary}", file=sys.stderr)
            second, summary = timed_import(source, url)
            print(f"{backend} second: {second:.1f} s  {summary}", file=sys.stderr)
        finally:
            drop()  # type: ignore[operator]
        results.append({"backend": backend, "first_s": round(first, 1), "second_s": round(second, 1)})

    print(f"| backend | first run | second run |  ({args.users} users, {args.movies} movies, "
          f"{args.ratings} ratings, {args.tokens} tokens)")
    print("| --- | ---: | ---: |")
    for r in results:
        print(f"| {r['backend']} | {r['first_s']} s | {r['second_s']} s |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
