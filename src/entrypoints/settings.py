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

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar, cast, dataclass_transform

import attrs
import environ as environ_config
from dotenv import load_dotenv

from movierater_core.use_cases import AccountSettings, UploadSettings

PREFIX = "MOVIERATER"
DEFAULT_DATABASE_URL = "sqlite:///movierater.db"
DEV_SECRET_KEY = "insecure-development-key"

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


def _to_positive_int(value: str | int, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {value!r}") from None
    if number < 1:
        raise SettingsError(f"{name} must be at least 1")
    return number


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


def _list(*, default: tuple[str, ...]) -> Any:
    return environ_config.var(default=default, converter=_to_list)


# environ.config makes an attrs class; this tells type checkers so (with its constructor's
# keywords and their defaults), which environ-config's own annotations do not.
@dataclass_transform(frozen_default=True, field_specifiers=(environ_config.var, _positive_int, _flag, _list))
def _settings_class(cls: type[T]) -> type[T]:
    return environ_config.config(prefix=PREFIX, frozen=True)(cls)


@_settings_class
class Settings:
    env: str = environ_config.var(default="development", converter=str.lower)
    database_url: str = environ_config.var(default=DEFAULT_DATABASE_URL, converter=_on_psycopg)
    cors_origins: tuple[str, ...] = _list(default=("http://localhost:4200",))
    secret_key: str = environ_config.var(default=DEV_SECRET_KEY)
    db_schema: str | None = environ_config.var(default=None)
    db_pool_size: int = _positive_int(default=5)
    db_connect_timeout: int = _positive_int(default=5)
    storage: str = environ_config.var(default="local", converter=str.lower)
    media_dir: str = environ_config.var(default="media")
    public_url: str = environ_config.var(
        default="http://127.0.0.1:8000", converter=lambda url: url.rstrip("/")
    )
    upload_url_ttl: int = _positive_int(default=UploadSettings().url_ttl)
    token_ttl: int = _positive_int(default=AccountSettings().token_ttl)
    https_only: bool = _flag(default=False)
    access_log: bool = _flag(default=True)
    login_failures_per_address: int = _positive_int(default=AccountSettings().login_failures_per_address)
    registrations_per_address: int = _positive_int(default=AccountSettings().registrations_per_address)
    trusted_proxies: tuple[str, ...] = _list(default=())
    s3_bucket: str = environ_config.var(default="")
    s3_region: str = environ_config.var(default="us-east-1")
    s3_endpoint_url: str | None = environ_config.var(default=None)
    s3_prefix: str = environ_config.var(default="media/movies/")
    s3_public_base_url: str | None = environ_config.var(default=None)
    s3_acl: str | None = environ_config.var(default=None)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def embedded(self) -> bool:
        """True on the embedded default: SQLite, which we may migrate ourselves at start."""
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings in ``environ`` (the process's environment by default), checked.
        Values are trimmed, and a variable set to nothing is as good as unset."""
        env = os.environ if environ is None else environ
        given = {name: value for name in setting_variables() if (value := env.get(name, "").strip())}
        platform_url = _platform_database_url(env)
        if platform_url:
            given.setdefault(variable("database_url"), platform_url)
        settings = environ_config.to_config(cls, given)
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse unusable settings, and unsafe ones in production."""
        if self.env not in ("development", "production", "test"):
            raise SettingsError(
                "MOVIERATER_ENV must be development, production or test, not " + repr(self.env)
            )
        if self.storage not in ("local", "s3"):
            raise SettingsError(f"MOVIERATER_STORAGE must be local or s3, not {self.storage!r}")
        if self.storage == "s3" and not self.s3_bucket:
            raise SettingsError("MOVIERATER_S3_BUCKET must be set when MOVIERATER_STORAGE=s3")
        if self.s3_prefix and not self.s3_prefix.endswith("/"):
            raise SettingsError("MOVIERATER_S3_PREFIX must end with '/'")
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
