"""The ``movierater`` command, with Django's verbs: serve, migrate, createsuperuser, seed; the
admin tools (``users ...``) that stand in for Django's admin site; and imports: from the
Django original's database, movies from a file; ratings out to a file and back in."""

from __future__ import annotations

import argparse
import errno
import getpass
import itertools
import logging
import os
import socket
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from movierater_entrypoints.operator_errors import OperatorError, explain, unreachable_storage
from movierater_entrypoints.settings import Settings, SettingsError, read_env_file

from movierater_core import __version__

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from movierater_core.errors import ValidationError
    from movierater_core.ports import ImageStorage
    from movierater_core.use_cases.import_report import Tally

T = TypeVar("T")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="movierater", description=__doc__)
    parser.add_argument("--version", action="version", version=f"movierater {__version__}")
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    # --verbose after the command too (`movierater migrate --verbose`); SUPPRESS keeps the
    # global one's value when it is not repeated there.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="COMMAND")

    def add_verb(name: str, text: str, **kw: Any) -> argparse.ArgumentParser:
        return verbs.add_parser(name, help=text, parents=[common], **kw)

    serve = add_verb("serve", "run the HTTP API under gunicorn", formatter_class=DEFAULTS_SHOWN)
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on")
    serve.add_argument("--port", type=_port, default=8000, help="the port to listen on")
    serve.add_argument(
        "--workers",
        type=_positive,
        default=os.environ.get("WEB_CONCURRENCY", "2"),
        help="gunicorn worker processes (the default comes from WEB_CONCURRENCY, else 2)",
    )
    serve.add_argument("--access-log", action="store_true", help="gunicorn access log on stdout")

    add_verb("migrate", "bring the database schema up to date")

    superuser = add_verb("createsuperuser", "create an admin user")
    superuser.add_argument("--username", required=True)
    superuser.add_argument(
        "--noinput",
        "--no-input",
        action="store_true",
        help="take the password from MOVIERATER_SUPERUSER_PASSWORD instead of prompting",
    )

    seed = add_verb("seed", "add deterministic demo/benchmark data", formatter_class=DEFAULTS_SHOWN)
    seed.add_argument("--movies", type=int, default=20, help="movies to have")
    seed.add_argument("--users", type=int, default=10, help="users to have")
    seed.add_argument("--ratings-per-movie", type=int, default=5, help="ratings of each movie")
    seed.add_argument("--password", required=True, help="the password of every seeded user (required)")

    gc = add_verb("gc-uploads", "delete uploaded images that no movie uses")
    gc.add_argument(
        "--older-than",
        type=_duration,
        default=_duration("24h"),
        help="only objects older than this (e.g. 30m, 24h, 7d; default 24h), so that "
        "uploads still on their way to a movie are spared",
    )

    users = add_verb("users", "manage users (the admin tools: no admin web UI)")
    user_verbs = users.add_subparsers(dest="user_verb", required=True, metavar="ACTION")
    listing = user_verbs.add_parser("list", help="list users with their ids and roles")
    listing.add_argument("--admins", action="store_true", help="only admins")
    for name, text in (("promote", "make a user an admin"), ("demote", "make an admin a plain user")):
        user_verbs.add_parser(name, help=text).add_argument("username")
    delete = user_verbs.add_parser("delete", help="delete a user with their ratings and tokens")
    delete.add_argument("username")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    set_password = user_verbs.add_parser(
        "set-password", help="set a user's password and log them out everywhere"
    )
    set_password.add_argument("username")
    set_password.add_argument(
        "--noinput",
        "--no-input",
        action="store_true",
        help="take the password from MOVIERATER_USER_PASSWORD instead of prompting",
    )

    django = add_verb(
        "import-django", "copy users, movies, ratings and tokens from the Django original's database"
    )
    django.add_argument("--from", dest="source", required=True, metavar="URL", help="its SQLAlchemy URL")
    django.add_argument("--schema", help="the schema its tables are in (the original: movie_rater_api)")
    django.add_argument("--app", default="api", help="its Django app label, prefixing the movie tables")

    movies = add_verb("movies", "manage movies")
    movie_actions = movies.add_subparsers(dest="movies_action", required=True, metavar="ACTION")
    movies_import = movie_actions.add_parser("import", help="add movies from a .csv or .json file")
    movies_import.add_argument("file", type=Path, help="title, description, imagePath per row")

    ratings = add_verb("ratings", "export and import ratings")
    rating_actions = ratings.add_subparsers(dest="ratings_action", required=True, metavar="ACTION")
    ratings_export = rating_actions.add_parser(
        "export", help="write everyone's ratings (or one user's) as JSON or CSV"
    )
    ratings_export.add_argument(
        "--user", metavar="NAME", help="only this user's (movie, title, stars: what the API's export has)"
    )
    ratings_export.add_argument(
        "--format", choices=("json", "csv"), help="default: the --output file's extension, else json"
    )
    ratings_export.add_argument("--output", type=Path, metavar="FILE", help="default: standard output")
    ratings_import = rating_actions.add_parser(
        "import", help="rate movies as a .json or .csv file of ratings says (an export's)"
    )
    ratings_import.add_argument(
        "file", type=Path, help="movie (id) or title, stars; and username unless --user"
    )
    ratings_import.add_argument("--user", metavar="NAME", help="every row is this user's rating")
    ratings_import.add_argument("--format", choices=("json", "csv"), help="default: the file's extension")

    args = parser.parse_args(argv)
    _route_logs(verbose=args.verbose)
    read_env_file()
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
        "users": _users,
        "import-django": _import_django,
        "movies": _movies,
        "ratings": _ratings,
    }
    try:
        return handler[args.verb](settings, args)
    except KeyboardInterrupt:
        print("movierater: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        message = explain(exc, settings)
        if message is None:
            raise  # not an operator's mistake that we know of: a bug, with its traceback
        if args.verbose:
            traceback.print_exception(exc, file=sys.stderr)
            print(f"movierater: {message}", file=sys.stderr)
        else:
            print(f"movierater: {message} (--verbose shows the details)", file=sys.stderr)
        return 2


VERBOSE_HELP = "on an error, show its whole detail (the traceback), not only the line that says what to do"
DEFAULTS_SHOWN = argparse.ArgumentDefaultsHelpFormatter


def _route_logs(*, verbose: bool) -> None:
    """The adapters' log lines (e.g. why S3 refused) are detail: on stderr with --verbose;
    without it, the one line of an operator error says what they would."""
    logger = logging.getLogger("movierater")
    if not logger.handlers:
        logger.addHandler(logging.StreamHandler() if verbose else logging.NullHandler())
    # A misspelt MOVIERATER_* name, a migration that went without something (an index it had
    # no privilege for): the operator's to know, warned about either way.
    for name in ("movierater.settings", "movierater.migrations"):
        operator_log = logging.getLogger(name)
        if not operator_log.handlers:
            operator_log.addHandler(logging.StreamHandler())
            operator_log.propagate = False


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1-65535)")
    return int(text)


def _positive(text: str) -> int:
    if not text.strip().isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _engine(settings: Settings) -> Engine:
    from movierater_adapters.sql import make_engine

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
    from movierater_adapters.sql.migrate import is_up_to_date, upgrade

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


def _use_case(settings: Settings, kind: type[T]) -> T | None:
    """A use case wired to the configured adapters, on an up-to-date schema (None, said on
    stderr, when the schema is not: see _schema_ready_engine)."""
    from movierater_entrypoints.bootstrap import build_container

    engine = _schema_ready_engine(settings)
    if engine is None:
        return None
    engine.dispose()  # the container opens its own
    return build_container(settings).resolve(kind)


def _migrate(settings: Settings, args: argparse.Namespace) -> int:
    from movierater_adapters.sql.migrate import current_revision, upgrade

    engine = _engine(settings)
    upgrade(engine)
    print(f"Database is at revision {current_revision(engine)} (head).")
    return 0


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    """Check here what gunicorn's workers will need (the port, the database and its driver,
    the storage and its), so that a mistake is one line, not every worker failing to boot."""
    _check_can_listen(args.host, args.port)
    if not _prepare_to_serve(settings):
        return 2
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "movierater_entrypoints.wsgi:app",
        # gunicorn's asyncio worker with a deadline per request (worker.py): a slow
        # client holds a connection, never the worker.
        "--worker-class",
        "movierater_entrypoints.worker.Worker",
        # uvloop: with asyncio's own loop the worker served half as many requests as sync
        # workers (docs/performance.md).
        "--asgi-loop",
        "uvloop",
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


def _prepare_to_serve(settings: Settings) -> bool:
    """The database (its driver, the server, the schema: False, said, when not up to date)
    and the storage (its driver; made, for local storage; usable)."""
    from movierater_entrypoints.bootstrap import make_storage, prepare_storage

    engine = _schema_ready_engine(settings)
    if engine is None:
        return False
    engine.dispose()  # workers open their own after forking
    try:
        prepare_storage(settings)
    except OSError as exc:
        raise OperatorError(
            f"cannot create MOVIERATER_MEDIA_DIR {settings.media_dir!r} ({exc.strerror}): "
            "fix its permissions or the setting"
        ) from exc
    _check_storage(make_storage(settings), settings)  # on S3, make_storage imports boto3
    return True


def prepare_to_serve_or_exit() -> None:
    """For gunicorn.conf.py's on_starting (the Procfile's web process): what `serve` checks,
    in gunicorn's master before any worker, with the same one line and exit status 2."""
    _route_logs(verbose=False)
    settings: Settings | None = None
    try:
        settings = Settings.from_env()
        ready = _prepare_to_serve(settings)
    except SettingsError as exc:
        print(f"movierater: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    except Exception as exc:
        message = explain(exc, settings)
        if message is None:
            raise
        print(f"movierater: {message}", file=sys.stderr)
        raise SystemExit(2) from None
    if not ready:
        raise SystemExit(2)


def _check_storage(storage: ImageStorage, settings: Settings) -> None:
    """Refuse to start on storage that cannot work (no such bucket, refused credentials, an
    unusable media directory); S3 that does not answer now may be passing: start, and let
    /readyz say when it answers."""
    from movierater_core.errors import ServiceUnavailable

    try:
        storage.check()
    except ServiceUnavailable as exc:
        if unreachable_storage(exc):
            why = explain(exc, settings) or exc.detail
            print(
                f"movierater: warning: {why}; starting anyway (/readyz answers 503 meanwhile)",
                file=sys.stderr,
            )
            return
        if settings.storage == "local":
            fix = "fix its permissions, or MOVIERATER_MEDIA_DIR"
            raise OperatorError(f"{exc.detail} ({settings.media_dir!r}): {fix}") from exc
        raise


def _check_can_listen(host: str, port: int) -> None:
    """Bind the address gunicorn will (as it does, with SO_REUSEADDR) and let it go: in use,
    privileged or not this machine's is said here in one line."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as exc:
        fix = "fix --host"
        raise OperatorError(f"cannot listen on {host!r}: not an address or a known host name: {fix}") from exc
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                fix = "stop what listens there, or pass another --port"
                raise OperatorError(f"port {port} on {host} is already in use: {fix}") from exc
            if exc.errno == errno.EACCES:
                fix = "pass --port 1024 or above (or run behind a proxy)"
                raise OperatorError(f"port {port} needs privileges to listen on: {fix}") from exc
            if exc.errno == errno.EADDRNOTAVAIL:
                raise OperatorError(f"{host} is not an address of this machine: fix --host") from exc
            raise


def _createsuperuser(settings: Settings, args: argparse.Namespace) -> int:
    from movierater_core.errors import ValidationError
    from movierater_core.use_cases import SYSTEM, UserAdmin

    password = _new_password(args, "MOVIERATER_SUPERUSER_PASSWORD")
    if password is None:
        return 2
    admin = _use_case(settings, UserAdmin)
    if admin is None:
        return 2
    try:
        user = admin.create_user(SYSTEM, args.username, password, is_admin=True)
    except ValidationError as exc:
        _print_validation_error(exc)
        return 1
    print(f"Superuser {user.username!r} created (id {user.id}).")
    return 0


def _new_password(args: argparse.Namespace, variable: str) -> str | None:
    """The password from ``variable`` with --noinput, else asked twice at the prompt until
    it passes the policy (as Django's createsuperuser does); None if there is none."""
    from movierater_core.use_cases.accounts import check_password

    if args.noinput:
        password = os.environ.get(variable, "")
        if not password:
            print(f"movierater: set {variable} with --noinput", file=sys.stderr)
        return password or None
    while True:
        password = _ask_secret("Password: ", variable)
        if password != _ask_secret("Password (again): ", variable):
            print("Error: Your passwords didn't match.", file=sys.stderr)
            continue
        problems = check_password(password, args.username)
        if not problems:
            return password
        for problem in problems:
            print(f"Error: {problem}", file=sys.stderr)


def _ask_secret(prompt: str, variable: str) -> str:
    """A password from the terminal, unechoed; without one, a line of standard input (a
    script's pipe: nothing to echo to). Nothing left to read is the operator's mistake."""
    try:
        if sys.stdin.isatty():
            return getpass.getpass(prompt)
        line = sys.stdin.readline()
        if not line:
            raise EOFError
        return line.removesuffix("\n")
    except EOFError:
        raise OperatorError(
            f"no password to read (no terminal, or the input ended): run this on a terminal, "
            f"or pass --noinput with {variable} set"
        ) from None


def _users(settings: Settings, args: argparse.Namespace) -> int:
    """The admin tools, acting as SYSTEM: whoever runs the server's CLI is trusted as an admin."""
    from movierater_core.errors import NotFound, ValidationError
    from movierater_core.use_cases import SYSTEM, UserAdmin

    password = None
    if args.user_verb == "set-password":
        password = _new_password(args, "MOVIERATER_USER_PASSWORD")
        if password is None:
            return 2
    admin = _use_case(settings, UserAdmin)
    if admin is None:
        return 2
    try:
        if args.user_verb == "list":
            found = [u for u in admin.all_users(SYSTEM) if u.is_admin or not args.admins]
            width = max([len(u.username) for u in found] + [len("username")])
            print(f"{'id':>6}  {'username':<{width}}  role")
            for user in found:
                print(f"{user.id:>6}  {user.username:<{width}}  {'admin' if user.is_admin else 'user'}")
            print(f"{len(found)} user(s).")
        elif args.user_verb in ("promote", "demote"):
            user = admin.set_admin(SYSTEM, args.username, args.user_verb == "promote")
            print(f"{user.username!r} is now {'an admin' if user.is_admin else 'a plain user'}.")
        elif args.user_verb == "set-password":
            assert password is not None
            user = admin.set_password(SYSTEM, args.username, password)
            print(f"Password of {user.username!r} changed; their tokens are revoked.")
        elif args.user_verb == "delete":
            user = admin.find_user(SYSTEM, args.username)
            if not args.yes and not _confirm(f"Delete {user.username!r} with their ratings and tokens?"):
                print("Nothing deleted.")
                return 1
            admin.remove_user(SYSTEM, user.username)
            print(f"Deleted {user.username!r} (id {user.id}).")
    except NotFound as exc:
        print(f"movierater: {exc.detail}", file=sys.stderr)
        return 1
    except ValidationError as exc:
        _print_validation_error(exc)
        return 1
    return 0


def _print_validation_error(error: ValidationError) -> None:
    """A line a message, after its field's name (none for a field-less rule, such as the
    last admin's)."""
    for field, messages in error.errors.items():
        for message in messages:
            where = "" if field == "non_field_errors" else f"{field}: "
            print(f"movierater: {where}{message}", file=sys.stderr)


def _confirm(question: str) -> bool:
    if not sys.stdin.isatty():
        print(f"{question} Refused: not asked on a terminal; pass --yes.", file=sys.stderr)
        return False
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def _seed(settings: Settings, args: argparse.Namespace) -> int:
    from movierater_adapters.sql.seed import seed
    from movierater_entrypoints.bootstrap import password_hasher
    from tqdm import tqdm

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
            password_hash=password_hasher(settings).hash(args.password),
            progress=_progress(bar.update),
        )
    print(f"Added {added['users']} users, {added['movies']} movies, {added['ratings']} ratings.")
    return 0


def _progress(update: Callable[[int], object]) -> Callable[[int], None]:
    """A progress bar's ``update`` as the callback the seed and the imports take (tqdm's
    returns whether it redrew the bar, which they have no use for)."""

    def advance(rows: int) -> None:
        update(rows)

    return advance


def _duration(text: str) -> timedelta:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    number, unit = text[:-1], text[-1:]
    if unit not in units or not number.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration like 30m, 24h or 7d")
    return timedelta(seconds=int(number) * units[unit])


def _gc_uploads(settings: Settings, args: argparse.Namespace) -> int:
    from movierater_core.use_cases import Uploads

    uploads = _use_case(settings, Uploads)
    if uploads is None:
        return 2
    removed = uploads.collect_garbage(args.older_than)
    for name in removed:
        print(f"removed {name}")
    print(f"Removed {len(removed)} unused upload(s).")
    return 0


def _import_django(settings: Settings, args: argparse.Namespace) -> int:
    from movierater_adapters.sql.django_source import DjangoSource, SourceError
    from tqdm import tqdm

    from movierater_core.errors import ImportCollision
    from movierater_core.use_cases.django_import import KINDS, DjangoImport

    try:
        source = DjangoSource(args.source, schema=args.schema, app=args.app)
    except SourceError as exc:
        print(f"movierater: {exc}", file=sys.stderr)
        return 2
    try:
        importer = _use_case(settings, DjangoImport)
        if importer is None:
            return 2
        total = sum(source.count(kind) for kind in KINDS)
        with tqdm(total=total, unit="rows", desc="importing", file=sys.stderr) as bar:
            report = importer.run(source, progress=_progress(bar.update))
    except SourceError as exc:
        print(f"movierater: {exc} (what was imported stays: run again to go on)", file=sys.stderr)
        return 2
    except ImportCollision as exc:  # e.g. two imports at once: this one's batch was rolled back
        print(f"movierater: {exc} (what was imported stays: run again to go on)", file=sys.stderr)
        return 2
    finally:
        source.close()
    for kind, tally in report.tallies.items():
        _print_tally(kind, tally)
    return 0 if report.complete else 1


def _movies(settings: Settings, args: argparse.Namespace) -> int:
    from movierater_adapters.movie_files import UnreadableFile, read_movie_rows
    from tqdm import tqdm

    from movierater_core.use_cases.imports import MovieImport

    assert args.movies_action == "import"
    try:
        rows = read_movie_rows(args.file)
    except UnreadableFile as exc:
        print(f"movierater: {exc}", file=sys.stderr)
        return 2
    importer = _use_case(settings, MovieImport)
    if importer is None:
        return 2
    with tqdm(total=len(rows), unit="rows", desc="importing", file=sys.stderr) as bar:
        tally = importer.run(rows, progress=_progress(bar.update))
    _print_tally("movies", tally, already="already there (same title)", file=True)
    return 0 if tally.complete else 1


def _ratings(settings: Settings, args: argparse.Namespace) -> int:
    from movierater_adapters.movie_files import UnreadableFile

    from movierater_core.errors import NotFound

    try:
        if args.ratings_action == "export":
            return _export_ratings(settings, args)
        return _import_ratings(settings, args)
    except UnreadableFile as exc:
        print(f"movierater: {exc}", file=sys.stderr)
        return 2
    except NotFound as exc:  # --user names no one
        print(f"movierater: {exc.detail}", file=sys.stderr)
        return 1


def _export_ratings(settings: Settings, args: argparse.Namespace) -> int:
    from movierater_adapters import rating_files

    from movierater_core.use_cases import SYSTEM
    from movierater_core.use_cases.exports import RatingExport

    exporter = _use_case(settings, RatingExport)
    if exporter is None:
        return 2
    output: Path | None = args.output
    chosen = args.format or ("json" if output is None else rating_files.format_of(output, None))
    rows = exporter.every_rating(SYSTEM, args.user)
    first = next(rows, None)  # a --user that names no one: said before a file is made
    everything = rows if first is None else itertools.chain([first], rows)
    if output is None:
        written = rating_files.write(everything, sys.stdout, chosen, with_user=args.user is None)
    else:
        with output.open("w", encoding="utf-8", newline="") as out:
            written = rating_files.write(everything, out, chosen, with_user=args.user is None)
    whose = "everyone's" if args.user is None else f"{args.user!r}'s"
    print(f"Exported {written} rating(s), {whose}, as {chosen}.", file=sys.stderr)
    return 0


def _import_ratings(settings: Settings, args: argparse.Namespace) -> int:
    from movierater_adapters import rating_files

    from movierater_core.use_cases import SYSTEM
    from movierater_core.use_cases.exports import RatingImport

    chosen = rating_files.format_of(args.file, args.format)
    if not args.file.is_file():
        print(f"movierater: {args.file}: no such file", file=sys.stderr)
        return 2
    importer = _use_case(settings, RatingImport)
    if importer is None:
        return 2
    rows = rating_files.read_rating_rows(args.file, chosen)
    tally = importer.run(SYSTEM, rows, username=args.user)
    for problem in tally.rejected:
        print(f"rejected {problem.where}: {problem.reason}")
    print(
        f"ratings: {tally.added} added, {tally.updated} changed to the file's stars, "
        f"{tally.already} already as in the file, {len(tally.rejected)} rejected"
    )
    return 0 if not tally.rejected else 1


def _print_tally(kind: str, tally: Tally, already: str = "already imported", *, file: bool = False) -> None:
    """Every row that did not arrive as it is in the source, then the counts (a file has no
    rows "changed since" the last run: only a database source keeps ids to compare)."""
    for problem in tally.rejected:
        print(f"rejected {problem.where}: {problem.reason}")
    for problem in tally.changed:
        print(f"not updated {problem.where}: {problem.reason}")
    changed = "" if file else f", {len(tally.changed)} changed since"
    print(f"{kind}: {tally.added} added, {tally.already} {already}{changed}, {len(tally.rejected)} rejected")


if __name__ == "__main__":
    raise SystemExit(main())
