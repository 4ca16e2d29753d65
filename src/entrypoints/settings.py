"""Settings from ``MOVIERATER_*`` environment variables (12-factor), with safe defaults
for the embedded mode and a refusal to start in production mode with unsafe ones.

Each setting is one field of :class:`Settings`, read by environ-config from the variable
named after it (``token_ttl`` from ``MOVIERATER_TOKEN_TTL``), with its one default on the
field. A setting the core's use cases take has its default on the core's settings class
(``AccountSettings``, ``UploadSettings``), and the field reads it from there. A new
setting is a field here, a line in ``.env.example``, and, if the core needs it, a field
of a core settings class that ``bootstrap`` fills from this one.
"""

from __future__ import annotations

import difflib
import ipaddress
import logging
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar, cast, dataclass_transform
from urllib.parse import urlsplit

import attrs
import environ as environ_config
from dotenv import load_dotenv
from movierater_adapters.passwords import DEFAULT_ITERATIONS as ARGON2_DEFAULT_ITERATIONS
from movierater_adapters.passwords import DEFAULT_MEMORY_KIB as ARGON2_DEFAULT_MEMORY_KIB
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from movierater_core.paging import MAX_PAGE_SIZE_LIMIT, PageSettings
from movierater_core.use_cases import AccountSettings, ScoreSettings, UploadSettings
from movierater_core.use_cases.movies import MAX_MEAN_AGE, MAX_PRIOR_WEIGHT

PREFIX = "MOVIERATER"
DEFAULT_DATABASE_URL = "sqlite:///movierater.db"
DEV_SECRET_KEY = "insecure-development-key"

# Variables with our prefix that are not settings but are read all the same: the CLI's
# passwords for --noinput (cli.py), and what the test suite and scripts/ read. Any other
# MOVIERATER_* name is a misspelling: warned about, and refused in production.
COMMAND_VARIABLES = ("MOVIERATER_SUPERUSER_PASSWORD", "MOVIERATER_USER_PASSWORD")
TOOL_VARIABLES = (
    "MOVIERATER_TEST_BACKENDS",
    "MOVIERATER_REQUIRE_BACKENDS",
    "MOVIERATER_TEST_PROCESSES",
    "MOVIERATER_TEST_PG",
    "MOVIERATER_TEST_MARIADB",
    "MOVIERATER_TEST_S3_ENDPOINT",
    "MOVIERATER_DRF_REFERENCE",
    "MOVIERATER_S3_EMULATOR_PORT",
    "MOVIERATER_S3_EMULATOR_VENV",
    "MOVIERATER_S3_EMULATOR_TIMEOUT",
    "MOVIERATER_S3_EMULATOR_PYTHON",
    "MOVIERATER_PORTAL_SCREENSHOTS",  # the admin portal's browser test writes the README's
)

log = logging.getLogger("movierater.settings")

T = TypeVar("T")


def read_env_file(path: Path | None = None) -> None:
    """Load ``.env`` from the working directory into the environment, if there is one.
    Variables already set win, so a deployment's real environment has the last word."""
    path = path or Path.cwd() / ".env"
    if path.is_file():
        load_dotenv(path, override=False)


class SettingsError(Exception):
    """A setting is missing, malformed or unsafe; the message names the variable to fix."""


def variable(setting: str) -> str:
    """The environment variable a setting is read from, as environ-config names it."""
    return f"{PREFIX}_{setting.upper()}"


# Field kinds. Each is an environ-config variable whose converter also runs on the
# default and on values given to ``Settings(...)`` directly, so a default is written in
# its final form and a test's ``Settings(token_ttl=0)`` is refused as the variable is.


def _naming_the_variable(convert: Callable[[Any, str], T]) -> Callable[..., T]:
    """An attrs converter that is told its field, so its errors name the variable."""

    def converter(value: Any, field: attrs.Attribute[Any]) -> T:
        return convert(value, variable(field.name))

    # environ.var's annotation (a plain callable) predates attrs.Converter, which it passes on.
    return cast(Callable[..., T], attrs.Converter(converter, takes_field=True))


def _whole_number(value: str | int, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {value!r}") from None


def _to_positive_int(value: str | int, name: str) -> int:
    number = _whole_number(value, name)
    if number < 1:
        raise SettingsError(f"{name} must be at least 1")
    return number


def _from_up_to(low: int, high: int, unit: str = "") -> Callable[[str | int, str], int]:
    """A converter to a whole number from ``low`` to ``high`` (``unit``: what it counts)."""

    def convert(value: str | int, name: str) -> int:
        number = _whole_number(value, name)
        if not low <= number <= high:
            raise SettingsError(f"{name} must be from {low} to {high}" + (f" {unit}" if unit else ""))
        return number

    return convert


def _zero_up_to(limit: int) -> Callable[[str | int, str], int]:
    """A converter to a whole number from 0 to ``limit``."""
    return _from_up_to(0, limit)


def _up_to(limit: int, why: str = "") -> Callable[[str | int, str], int]:
    """A converter to a whole number from 1 to ``limit`` (``why``: the limit's reason)."""

    def convert(value: str | int, name: str) -> int:
        number = _to_positive_int(value, name)
        if number > limit:
            raise SettingsError(f"{name} must be at most {limit}" + (f" ({why})" if why else ""))
        return number

    return convert


# gunicorn kills a sync worker silent for its timeout (30 s, gunicorn.conf.py): a request's
# database waits must end well before, and a stalled database should cost a client seconds.
MAX_DB_TIMEOUT = 20
# Threads per worker process that run the app (worker.py); each holds at most one pooled
# database connection at a time.
MAX_APP_THREADS = 32
# argon2id's cost (MOVIERATER_PASSWORD_HASH_MEMORY_KIB, _ITERATIONS); by default RFC 9106's
# low-memory profile, 64 MiB and 3 iterations (passwords.py). The floor is OWASP's Password
# Storage Cheat Sheet: the least memory for each number of iterations, pairs it rates as
# equally strong (46 MiB for one, ..., 7 MiB for five or more). The ceilings bound what
# one login may cost a worker (RFC 9106's first profile is 2 GiB x 1).
PASSWORD_HASH_FLOOR_KIB = {1: 47_104, 2: 19_456, 3: 12_288, 4: 9_216, 5: 7_168}
PASSWORD_HASH_MIN_MEMORY_KIB = min(PASSWORD_HASH_FLOOR_KIB.values())
PASSWORD_HASH_MAX_MEMORY_KIB = 2 * 1024 * 1024
PASSWORD_HASH_MAX_ITERATIONS = 16
# The floor as the refusal states it: "47,104 KiB x 1, 19,456 x 2, ..., 7,168 x 5 or more".
_FLOOR_TEXT = ", ".join(
    f"{kib:,}{' KiB' if passes == 1 else ''} x {passes}"
    + (" or more" if passes == max(PASSWORD_HASH_FLOOR_KIB) else "")
    for passes, kib in sorted(PASSWORD_HASH_FLOOR_KIB.items())
)


def _to_flag(value: str | bool, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be 1 or 0, not {value!r}")


def _to_list(value: str | Iterable[str]) -> tuple[str, ...]:
    """Comma-separated, blanks around and between the commas ignored."""
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return tuple(value)


def _one_of(*choices: str) -> Callable[[str, str], str]:
    def convert(value: str, name: str) -> str:
        value = value.lower()
        if value not in choices:
            expected = ", ".join(choices[:-1]) + " or " + choices[-1]
            raise SettingsError(f"{name} must be {expected}, not {value!r}")
        return value

    return convert


def _to_web_url(value: str | None, name: str) -> str | None:
    """An http(s) URL with a host (without it, upload and poster URLs come out relative)."""
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises on a port that is not a number
    except ValueError:
        parts = None
    if (
        not parts
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
    ):
        raise SettingsError(f"{name} must be an http:// or https:// URL with a host, not {value!r}")
    return value.rstrip("/")


def _to_database_url(value: str, name: str) -> str:
    """Parsed as SQLAlchemy will (its driver is not imported here). The value is never
    repeated in the message: it may hold a password."""
    value = _on_psycopg(value)
    try:
        make_url(value)
    except (ArgumentError, ValueError):
        raise SettingsError(
            f"{name} must be a SQLAlchemy URL such as sqlite:///movierater.db or "
            "postgresql+psycopg://user:password@host/database"
        ) from None
    return value


def _to_proxies(value: str | Iterable[str], name: str) -> tuple[str, ...]:
    """Addresses or networks (CIDR ranges: a PaaS's front ends change addresses within one)."""
    proxies = []
    for item in _to_list(value):
        try:
            proxy = ipaddress.ip_network(item) if "/" in item else ipaddress.ip_address(item)
        except ValueError:
            try:  # host bits set: say which network that is
                hint = f" (the network is {ipaddress.ip_network(item, strict=False)})"
            except ValueError:
                hint = ""
            raise SettingsError(
                f"{name} must list IP addresses or networks (10.0.0.1, 10.0.0.0/8), not {item!r}{hint}"
            ) from None
        proxies.append(str(proxy))
    return tuple(proxies)


def _to_origins(value: str | Iterable[str], name: str) -> tuple[str, ...]:
    """Origins as browsers send them, scheme://host[:port] (a path or a trailing slash would
    never match one), or '*'."""
    origins = _to_list(value)
    for origin in origins:
        if origin != "*" and not _is_origin(origin):
            raise SettingsError(
                f"{name} must list origins such as https://app.example or http://localhost:4200 "
                f"(scheme://host[:port], no path), or '*', not {origin!r}"
            )
    return origins


def _is_origin(text: str) -> bool:
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 -- raises on a port that is not a number
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and "@" not in parts.netloc
        and f"{parts.scheme}://{parts.netloc}" == text
    )


def _matching(pattern: str, expected: str) -> Callable[[str | None, str], str | None]:
    """A value that must match ``pattern`` whole; unset (None or empty) passes."""
    compiled = re.compile(pattern)

    def convert(value: str | None, name: str) -> str | None:
        if value and not compiled.fullmatch(value):
            raise SettingsError(f"{name} must be {expected}, not {value!r}")
        return value

    return convert


def _to_prefix(value: str, name: str) -> str:
    if value and not value.endswith("/"):
        raise SettingsError(f"{name} must end with '/'")
    return value


def _on_psycopg(url: str) -> str:
    """A platform's ``postgres://`` or ``postgresql://`` URL (no driver: SQLAlchemy would
    pick psycopg2, not installed) as a SQLAlchemy URL on psycopg 3, in either variable."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url


def _positive_int(*, default: int) -> Any:
    return environ_config.var(default=default, converter=_naming_the_variable(_to_positive_int))


def _flag(*, default: bool) -> Any:
    """1/0, true/false, yes/no or on/off, in any case."""
    return environ_config.var(default=default, converter=_naming_the_variable(_to_flag))


def _checked(convert: Callable[[Any, str], Any], *, default: Any) -> Any:
    """A setting whose value ``convert`` checks (and may normalize), naming the variable."""
    return environ_config.var(default=default, converter=_naming_the_variable(convert))


# environ.config makes an attrs class; this tells type checkers so (with its constructor's
# keywords and their defaults), which environ-config's own annotations do not.
@dataclass_transform(
    frozen_default=True, field_specifiers=(environ_config.var, _positive_int, _flag, _checked)
)
def _settings_class(cls: type[T]) -> type[T]:
    return environ_config.config(prefix=PREFIX, frozen=True)(cls)


@_settings_class
class Settings:
    env: str = _checked(_one_of("development", "production", "test"), default="development")
    database_url: str = _checked(_to_database_url, default=DEFAULT_DATABASE_URL)
    cors_origins: tuple[str, ...] = _checked(_to_origins, default=("http://localhost:4200",))
    secret_key: str = environ_config.var(default=DEV_SECRET_KEY)
    db_schema: str | None = _checked(
        _matching(r"[A-Za-z_][A-Za-z0-9_]{0,127}", "a schema name (letters, digits, _)"), default=None
    )
    db_pool_size: int = _positive_int(default=5)
    db_connect_timeout: int = _positive_int(default=3)
    db_timeout: int = _checked(
        _up_to(
            MAX_DB_TIMEOUT,
            "seconds a request may wait for the database; gunicorn stops a worker silent for 30",
        ),
        default=2,
    )
    storage: str = _checked(_one_of("local", "s3"), default="local")
    media_dir: str = environ_config.var(default="media")
    public_url: str = _checked(_to_web_url, default="http://127.0.0.1:8000")
    upload_url_ttl: int = _positive_int(default=UploadSettings().url_ttl)
    token_ttl: int = _positive_int(default=AccountSettings().token_ttl)
    https_only: bool = _flag(default=False)
    access_log: bool = _flag(default=True)
    login_failures_per_address: int = _positive_int(default=AccountSettings().login_failures_per_address)
    registrations_per_address: int = _positive_int(default=AccountSettings().registrations_per_address)
    # argon2id's memory (KiB) and passes per password hash or check; a stored hash made
    # with others is re-hashed with these at its user's next login.
    password_hash_memory_kib: int = _checked(
        _from_up_to(PASSWORD_HASH_MIN_MEMORY_KIB, PASSWORD_HASH_MAX_MEMORY_KIB, "KiB"),
        default=ARGON2_DEFAULT_MEMORY_KIB,
    )
    password_hash_iterations: int = _checked(
        _from_up_to(1, PASSWORD_HASH_MAX_ITERATIONS, "iterations"), default=ARGON2_DEFAULT_ITERATIONS
    )
    trusted_proxies: tuple[str, ...] = _checked(_to_proxies, default=())
    max_page_size: int = _checked(_up_to(MAX_PAGE_SIZE_LIMIT), default=PageSettings().max_page_size)
    # The score's m: how many ratings of the catalogue's mean each movie is taken to have
    # besides its own (Bayesian average); and how many seconds a process keeps that mean.
    score_prior_weight: int = _checked(_up_to(MAX_PRIOR_WEIGHT), default=ScoreSettings().prior_weight)
    score_mean_max_age: int = _checked(_zero_up_to(MAX_MEAN_AGE), default=ScoreSettings().mean_max_age)
    # Seconds a request's headers and body have to arrive in (worker.py), else 408.
    request_timeout: int = _positive_int(default=30)
    # Requests a worker process runs at once (worker.py), only its reads when it has write
    # threads. 1 (the default) runs them one at a time, as sync workers do; more lets a
    # slow one (a large page) delay no other request of that worker, but lets requests
    # contend for database locks, whose waits are bounded (MOVIERATER_DB_TIMEOUT): a burst
    # on one row can then get 503s (docs/deploy.md).
    threads: int = _checked(_up_to(MAX_APP_THREADS), default=1)
    # Threads of each worker that run its writes (POST, PUT, PATCH, DELETE) apart from the
    # reads, which stay on MOVIERATER_THREADS; 0 (the default) runs the writes with the
    # reads. On a server database they overlap the writes' commits (docs/deploy.md).
    write_threads: int = _checked(_zero_up_to(MAX_APP_THREADS), default=0)
    s3_bucket: str = _checked(
        # S3's naming rules (3-63 of a-z, 0-9, '.', '-'; a letter or digit at each end)
        _matching(r"(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", "a bucket name (3-63 of a-z 0-9 . -)"),
        default="",
    )
    s3_region: str = _checked(
        # us-east-1, eu-west-3; S3-compatible services: auto, nyc3
        _matching(r"[a-z0-9]+(-[a-z0-9]+)*", "a region name such as us-east-1"),
        default="us-east-1",
    )
    s3_endpoint_url: str | None = _checked(_to_web_url, default=None)
    s3_prefix: str = _checked(_to_prefix, default="media/movies/")
    s3_public_base_url: str | None = _checked(_to_web_url, default=None)
    s3_acl: str | None = _checked(
        _matching(
            "private|public-read|public-read-write|authenticated-read|aws-exec-read"
            "|bucket-owner-read|bucket-owner-full-control",
            "a canned ACL such as public-read",
        ),
        default=None,
    )

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def embedded(self) -> bool:
        """True on the embedded default: SQLite, which we may migrate ourselves at start."""
        return self.database_url.startswith("sqlite")

    @property
    def app_threads(self) -> int:
        """Threads of each worker that run the app: the reads' and the writes'."""
        return self.threads + self.write_threads

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, warn_unknown: bool = True) -> Settings:
        """The settings in ``environ`` (the process's environment by default), checked.
        Values are trimmed, and a variable set to nothing is as good as unset. A
        ``MOVIERATER_*`` name that is no setting is a misspelling: one warning line each
        (unless ``warn_unknown`` is false: gunicorn's workers leave it to the master), and
        in production a refusal, since the setting meant keeps its default unseen."""
        env = os.environ if environ is None else environ
        given = {name: value for name in setting_variables() if (value := env.get(name, "").strip())}
        platform_url = _platform_database_url(env)
        if platform_url and variable("database_url") not in given:
            # Checked here, so that a mistake in it names the variable it is in.
            given[variable("database_url")] = _to_database_url(platform_url, "DATABASE_URL")
        settings = environ_config.to_config(cls, given)
        # Before the other checks: a misspelt name explains the refusals that follow from it.
        unknown = unknown_variables(env)
        if unknown and settings.production:
            raise SettingsError(
                "; ".join(map(_not_a_setting, unknown)) + ": fix or remove it (refused in production)"
            )
        if warn_unknown:
            for name in unknown:
                log.warning("%s, and is ignored", _not_a_setting(name))
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse unusable combinations of settings, and unsafe ones in production (each
        setting's own value is checked by its field)."""
        if self.storage == "s3" and not self.s3_bucket:
            raise SettingsError("MOVIERATER_S3_BUCKET must be set when MOVIERATER_STORAGE=s3")
        if self.app_threads > 2 * self.db_pool_size:  # the pool's size plus as many on overflow
            raise SettingsError(
                f"MOVIERATER_THREADS ({self.threads}) plus MOVIERATER_WRITE_THREADS "
                f"({self.write_threads}) must be at most twice MOVIERATER_DB_POOL_SIZE "
                f"({self.db_pool_size}): each thread may hold a database connection"
            )
        floor = PASSWORD_HASH_FLOOR_KIB[min(self.password_hash_iterations, max(PASSWORD_HASH_FLOOR_KIB))]
        if self.password_hash_memory_kib < floor:
            raise SettingsError(
                f"MOVIERATER_PASSWORD_HASH_MEMORY_KIB must be at least {floor:,} with "
                f"MOVIERATER_PASSWORD_HASH_ITERATIONS={self.password_hash_iterations} (OWASP's floor "
                f"for argon2id: {_FLOOR_TEXT})"
            )
        if not self.production:
            return
        if self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32:
            raise SettingsError(
                "MOVIERATER_SECRET_KEY must be set to a random value of 32+ characters in production"
            )
        if self.database_url == DEFAULT_DATABASE_URL:
            raise SettingsError(
                "MOVIERATER_DATABASE_URL must name the production database, not the default SQLite file"
            )
        if "*" in self.cors_origins:
            raise SettingsError("MOVIERATER_CORS_ORIGINS must list origins, not '*', in production")


def known_variables() -> frozenset[str]:
    """Every MOVIERATER_* name something reads: the settings, the CLI's, the tools'."""
    return frozenset([*setting_variables(), *COMMAND_VARIABLES, *TOOL_VARIABLES])


def unknown_variables(env: Mapping[str, str]) -> list[str]:
    """Names in ``env`` with our prefix, in any case, that nothing reads."""
    known = known_variables()
    return sorted(name for name in env if name.upper().startswith(PREFIX + "_") and name not in known)


def _not_a_setting(name: str) -> str:
    """'<name> is not a setting', with the setting it most likely meant."""
    meant = difflib.get_close_matches(name.upper(), sorted(known_variables()), n=1, cutoff=0.8)
    return f"{name} is not a setting" + (f" (did you mean {meant[0]}?)" if meant else "")


def setting_variables() -> Iterator[str]:
    """Every variable a setting is read from, in the order of the fields: what
    ``.env.example`` documents, and the names a check for misspelt ones starts from."""
    assert attrs.has(Settings)  # narrows the type for attrs.fields
    for field in attrs.fields(Settings):
        yield variable(field.name)


def _platform_database_url(env: Mapping[str, str]) -> str | None:
    """A PaaS's own ``DATABASE_URL`` (Heroku's Postgres add-on sets it and rotates its
    credentials); the field's converter reads it as psycopg 3. MOVIERATER_DATABASE_URL wins."""
    return env.get("DATABASE_URL", "").strip() or None
