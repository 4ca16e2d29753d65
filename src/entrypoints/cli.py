"""The ``movierater`` command, with Django's verbs: serve, migrate, createsuperuser, seed."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from entrypoints.settings import Settings, SettingsError
from movierater_core import __version__

if TYPE_CHECKING:
    from sqlalchemy import Engine


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="movierater", description=__doc__)
    parser.add_argument("--version", action="version", version=f"movierater {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")

    serve = verbs.add_parser("serve", help="run the HTTP API under gunicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2")))
    serve.add_argument("--access-log", action="store_true", help="gunicorn access log on stdout")

    verbs.add_parser("migrate", help="bring the database schema up to date")

    superuser = verbs.add_parser("createsuperuser", help="create an admin user")
    superuser.add_argument("--username", required=True)
    superuser.add_argument(
        "--noinput",
        "--no-input",
        action="store_true",
        help="take the password from MOVIERATER_SUPERUSER_PASSWORD instead of prompting",
    )

    seed = verbs.add_parser("seed", help="add deterministic demo/benchmark data")
    seed.add_argument("--movies", type=int, default=20)
    seed.add_argument("--users", type=int, default=10)
    seed.add_argument("--ratings-per-movie", type=int, default=5)
    seed.add_argument("--password", required=True, help="the password of every seeded user")

    gc = verbs.add_parser("gc-uploads", help="delete uploaded images that no movie uses")
    gc.add_argument(
        "--older-than",
        type=_duration,
        default=_duration("24h"),
        help="only objects older than this (e.g. 30m, 24h, 7d; default 24h), so that "
        "uploads still on their way to a movie are spared",
    )

    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"movierater: {exc}", file=sys.stderr)
        return 2
    handler = {
        "serve": _serve,
        "migrate": _migrate,
        "createsuperuser": _createsuperuser,
        "seed": _seed,
        "gc-uploads": _gc_uploads,
    }
    return handler[args.verb](settings, args)


def _engine(settings: Settings) -> Engine:
    from adapters.sql import make_engine

    return make_engine(
        settings.database_url,
        pool_size=1,
        connect_timeout=settings.db_connect_timeout,
        schema=settings.db_schema,
    )


def _schema_ready_engine(settings: Settings) -> Engine | None:
    """An engine on an up-to-date schema. The embedded default (SQLite) is migrated on the
    spot so that it just works; a server database must have been migrated (once, not by
    every instance), else this says so and returns None."""
    from adapters.sql.migrate import is_up_to_date, upgrade

    engine = _engine(settings)
    if settings.embedded:
        upgrade(engine)
    elif not is_up_to_date(engine):
        print(
            "movierater: the database schema is not up to date: run `movierater migrate` once",
            file=sys.stderr,
        )
        return None
    return engine


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from adapters.sql.migrate import current_revision, upgrade

    engine = _engine(settings)
    upgrade(engine)
    print(f"Database is at revision {current_revision(engine)} (head).")
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    engine = _schema_ready_engine(settings)
    if engine is None:
        return 2
    engine.dispose()  # workers open their own after forking
    if settings.storage == "local":
        # Made here, once, as the embedded database is: /readyz then checks it is still there.
        Path(settings.media_dir).mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "entrypoints.wsgi:app",
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(args.workers),
        "--graceful-timeout",
        "20",
        "--no-control-socket",  # several instances may run on one machine
    ]
    if args.access_log:
        command += ["--access-logfile", "-"]
    # Local uploads are reached through this server unless told otherwise.
    reachable_host = "127.0.0.1" if args.host in ("0.0.0.0", "::", "") else args.host
    os.environ.setdefault("MOVIERATER_PUBLIC_URL", f"http://{reachable_host}:{args.port}")
    sys.stdout.flush()
    os.execv(sys.executable, command)
    return 0  # not reached


def _createsuperuser(settings: Settings, args: argparse.Namespace) -> int:
    from entrypoints.bootstrap import build_container
    from movierater_core.errors import ValidationError
    from movierater_core.use_cases import Accounts
    from movierater_core.use_cases.accounts import check_password

    if args.noinput:
        password = os.environ.get("MOVIERATER_SUPERUSER_PASSWORD", "")
        if not password:
            print("movierater: set MOVIERATER_SUPERUSER_PASSWORD with --noinput", file=sys.stderr)
            return 2
    else:
        while True:
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                print("Error: Your passwords didn't match.", file=sys.stderr)
                continue
            problems = check_password(password, args.username)
            if not problems:
                break
            for problem in problems:
                print(f"Error: {problem}", file=sys.stderr)
    engine = _schema_ready_engine(settings)
    if engine is None:
        return 2
    engine.dispose()
    accounts = build_container(settings).resolve(Accounts)
    try:
        user = accounts.register({"username": args.username, "password": password}, is_admin=True)
    except ValidationError as exc:
        for field, messages in exc.errors.items():
            for message in messages:
                print(f"movierater: {field}: {message}", file=sys.stderr)
        return 1
    print(f"Superuser {user.username!r} created (id {user.id}).")
    return 0


def _seed(settings: Settings, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from adapters.passwords import Argon2Hasher
    from adapters.sql.seed import seed

    if min(args.movies, args.users, args.ratings_per_movie) < 0:
        print("movierater: counts cannot be negative", file=sys.stderr)
        return 2
    if args.ratings_per_movie > args.users:
        print("movierater: --ratings-per-movie cannot exceed --users", file=sys.stderr)
        return 2
    engine = _schema_ready_engine(settings)
    if engine is None:
        return 2
    total = args.users + args.movies + args.movies * args.ratings_per_movie
    with tqdm(total=total, unit="rows", desc="seeding", file=sys.stderr) as bar:
        added = seed(
            engine,
            movie_count=args.movies,
            user_count=args.users,
            ratings_per_movie=args.ratings_per_movie,
            password_hash=Argon2Hasher().hash(args.password),
            progress=bar.update,
        )
    print(f"Added {added['users']} users, {added['movies']} movies, {added['ratings']} ratings.")
    return 0


def _duration(text: str) -> timedelta:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 30m, 24h or 7d")
    return timedelta(seconds=int(number) * units[unit])


def _gc_uploads(settings: Settings, args: argparse.Namespace) -> int:
    from entrypoints.bootstrap import build_container
    from movierater_core.use_cases import Uploads

    engine = _schema_ready_engine(settings)
    if engine is None:
        return 2
    engine.dispose()
    removed = build_container(settings).resolve(Uploads).collect_garbage(args.older_than)
    for name in removed:
        print(f"removed {name}")
    print(f"Removed {len(removed)} unused upload(s).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
