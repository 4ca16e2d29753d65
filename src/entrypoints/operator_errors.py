"""What the operator did wrong, in one line that says what to do: the one place where the
command line turns exceptions (a driver that is not installed, a database that cannot be
reached, a URL that is not one, a bucket that does not exist, ...) into a message.

``explain`` returns None for anything it does not recognise: that is a bug, and its
traceback is what a bug report needs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from importlib import metadata

from movierater_entrypoints.settings import Settings

# The drivers movierater uses, by module: what each one is for and its distribution.
DRIVERS = {
    "psycopg": ("PostgreSQL", "psycopg[binary]"),
    "pyodbc": ("MariaDB/MySQL and SQL Server", "pyodbc"),
    "boto3": ("S3 storage", "boto3"),
    "botocore": ("S3 storage", "boto3"),
}
URL_FORMS = (
    "sqlite:///PATH, postgresql+psycopg://USER:PASSWORD@HOST/DB, mysql+pyodbc://...?driver=MariaDB+Unicode "
    "or mssql+pyodbc://... (the README's Production databases)"
)
ODBC_SYSTEM_PACKAGES = "apt-get install unixodbc libltdl7 odbc-mariadb"


class OperatorError(Exception):
    """A mistake the command line recognised itself; its message is the line to print."""


def explain(exc: BaseException, settings: Settings | None = None) -> str | None:
    """The one line for ``exc`` (or for what caused it), or None if it is not an operator's
    mistake that we know of."""
    for link in _chain(exc):
        for translate in _TRANSLATORS:
            message = translate(link, settings)
            if message is not None:
                return message
    return None


def unreachable_storage(exc: BaseException) -> bool:
    """True when S3 did not answer at all (down, or the network): maybe passing, unlike a
    bucket that is not there or credentials it refuses, which S3 answered."""
    if "botocore" not in sys.modules:
        return False
    from botocore.exceptions import BotoCoreError, NoCredentialsError

    return any(
        isinstance(link, BotoCoreError) and not isinstance(link, NoCredentialsError) for link in _chain(exc)
    )


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc``, then what caused it (the driver error under a domain error), outermost first."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _own(exc: BaseException, _settings: Settings | None) -> str | None:
    return str(exc) if isinstance(exc, OperatorError) else None


def _missing_module(exc: BaseException, settings: Settings | None) -> str | None:
    if not isinstance(exc, ImportError):
        return None
    if "libodbc" in str(exc) or "libltdl" in str(exc):
        return (
            "pyodbc cannot load the system's ODBC libraries (libodbc.so.2, libltdl): install them "
            f"and the database's ODBC driver ({ODBC_SYSTEM_PACKAGES}; see the README's Settings)"
        )
    name = (exc.name or "").partition(".")[0]
    if name in DRIVERS:
        what, distribution = DRIVERS[name]
        return (
            f"the {what} driver ({name}) is not installed in {sys.prefix}: "
            f"pip install '{_pinned(distribution)}' there (movierater's own install brings it)"
        )
    if isinstance(exc, ModuleNotFoundError) and _raised_in(exc, "import_dbapi"):
        return (
            f"{_url_variable()} needs the Python module {name!r}, which is not installed: "
            f"install it, or use a driver movierater comes with ({URL_FORMS})"
        )
    return None


def _bad_url(exc: BaseException, _settings: Settings | None) -> str | None:
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    if isinstance(exc, NoSuchModuleError):
        plugin = str(exc).rpartition(":")[2].strip().replace(".", "+")
        return f"{_url_variable()} names an unknown database or driver {plugin!r}: use {URL_FORMS}"
    if isinstance(exc, ArgumentError) and "URL" in str(exc):
        # The value itself is not repeated: a malformed URL may still hold a password.
        return f"{_url_variable()} is not a database URL: use {URL_FORMS}"
    if isinstance(exc, ValueError) and _raised_in(exc, "_parse_url"):  # e.g. a port not a number
        return f"{_url_variable()} is not a database URL (its port?): use {URL_FORMS}"
    return None


def _database(exc: BaseException, settings: Settings | None) -> str | None:
    from sqlalchemy.exc import DBAPIError, OperationalError

    if not isinstance(exc, DBAPIError):
        return None
    reason = next(iter(str(exc.orig).strip().splitlines()), type(exc.orig).__name__)
    text = reason.lower()
    where, user, name = _database_parts(settings)
    variable = _url_variable()
    if "unable to open database file" in text:
        fix = f"its directory must exist and be writable, or fix {variable}"
        return f"cannot open the SQLite file {name!r}: {fix}"
    if ("does not exist" in text and "database" in text) or "unknown database" in text:
        return f"the database {name!r} does not exist on {where}: create it, or fix the name in {variable}"
    if any(
        phrase in text
        for phrase in ("role", "password authentication", "access denied", "no password", "login failed")
    ):
        return (
            f"{where} refused the login of {user!r} ({_after_fatal(reason)}): fix the user or "
            f"password in {variable}, or create that user on the server"
        )
    if "can't open lib" in text or "data source name not found" in text:
        return (
            f"the ODBC driver named in {variable} (driver=...) is not installed: install it "
            f"({ODBC_SYSTEM_PACKAGES} registers 'MariaDB Unicode'), or fix driver= in the URL"
        )
    if any(
        phrase in text
        for phrase in (
            "connection refused",
            "can't connect",
            "could not translate host",
            "name or service not known",
            "timeout expired",
            "timed out",
            "no route to host",
            "could not connect",
        )
    ):
        fix = f"start it, or fix {variable}"
        return f"cannot reach the database server at {where} ({_after_fatal(reason)}): {fix}"
    if isinstance(exc, OperationalError):
        return f"the database at {where} refused: {_after_fatal(reason)}: check {variable}"
    return None


def _storage(exc: BaseException, settings: Settings | None) -> str | None:
    """S3: what botocore said, as the setting to fix."""
    if "botocore" not in sys.modules:
        return None
    from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

    bucket = settings.s3_bucket if settings else "?"
    if isinstance(exc, NoCredentialsError):
        return (
            "no AWS credentials for S3: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "use ~/.aws or an instance role"
        )
    if isinstance(exc, EndpointConnectionError):
        endpoint = exc.kwargs.get("endpoint_url")
        return f"cannot reach S3 at {endpoint}: fix MOVIERATER_S3_ENDPOINT_URL, or the network"
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code"))
        if code in ("404", "NoSuchBucket"):
            return f"the S3 bucket {bucket!r} does not exist: create it, or fix MOVIERATER_S3_BUCKET"
        if code in ("403", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            return (
                f"S3 refused access to the bucket {bucket!r} ({code}): fix the AWS credentials "
                "or their permissions (see the README's S3 bucket setup)"
            )
        return f"S3 refused the bucket {bucket!r} ({code}): check MOVIERATER_S3_* and the credentials"
    if isinstance(exc, ValueError) and "endpoint" in str(exc).lower():
        return f"MOVIERATER_S3_ENDPOINT_URL is not a URL ({exc}): e.g. https://s3.example.com"
    return None


_TRANSLATORS: tuple[Callable[[BaseException, Settings | None], str | None], ...] = (
    _own,
    _missing_module,
    _bad_url,
    _database,
    _storage,
)


def _url_variable() -> str:
    """The variable the database URL came from: ours, else the platform's DATABASE_URL."""
    if os.environ.get("MOVIERATER_DATABASE_URL", "").strip() or not os.environ.get("DATABASE_URL"):
        return "MOVIERATER_DATABASE_URL"
    return "DATABASE_URL"


def _database_parts(settings: Settings | None) -> tuple[str, str, str]:
    """The server (host:port), user and database name of the configured URL (no password)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(settings.database_url if settings else "")
    except ArgumentError:
        return "the database server", "?", "?"
    where = f"{url.host or 'localhost'}:{url.port}" if url.port else (url.host or "localhost")
    return where, url.username or "", url.database or ""


def _after_fatal(reason: str) -> str:
    """A driver's message without its preamble (psycopg: "connection failed: connection to
    server at ... failed: FATAL:  ..."; pyodbc: "('28000', '[28000] [ma-3.1.15]...")."""
    for marker in ("FATAL:", "failed:", "]"):
        if marker in reason:
            reason = reason.rpartition(marker)[2]
    reason = reason.replace("(SQLDriverConnect)", "").strip()
    if reason.endswith(('")', "')")):  # the end of pyodbc's argument tuple
        reason = reason[:-2]
    return " ".join(reason.split())


def _pinned(distribution: str) -> str:
    """The requirement movierater pins for ``distribution`` (e.g. psycopg[binary]==3.3.9)."""
    name = distribution.partition("[")[0].lower()
    try:
        requirements = metadata.requires("movierater") or []
    except metadata.PackageNotFoundError:
        return distribution
    for requirement in requirements:
        if requirement.lower().startswith(name) and "extra ==" not in requirement:
            return requirement.split(";")[0].strip()
    return distribution


def _raised_in(exc: BaseException, function: str) -> bool:
    traceback = exc.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_name == function:
            return True
        traceback = traceback.tb_next
    return False
