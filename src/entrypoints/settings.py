"""Settings from ``MOVIERATER_*`` environment variables (12-factor), with safe defaults
for the embedded mode and a refusal to start in production mode with unsafe ones."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from attrs import frozen
from dotenv import load_dotenv

DEFAULT_DATABASE_URL = "sqlite:///movierater.db"
DEFAULT_CORS_ORIGINS = ("http://localhost:4200",)
DEV_SECRET_KEY = "insecure-development-key"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


def read_env_file(path: Path | None = None) -> None:
    """Load ``.env`` from the working directory into the environment, if there is one.
    Variables already set win, so a deployment's real environment has the last word."""
    path = path or Path.cwd() / ".env"
    if path.is_file():
        load_dotenv(path, override=False)


class SettingsError(Exception):
    """A setting is missing, malformed or unsafe; the message names the variable to fix."""


@frozen
class Settings:
    env: str = "development"
    database_url: str = DEFAULT_DATABASE_URL
    cors_origins: tuple[str, ...] = DEFAULT_CORS_ORIGINS
    secret_key: str = DEV_SECRET_KEY
    db_schema: str | None = None
    db_pool_size: int = 5
    db_connect_timeout: int = 5
    storage: str = "local"
    media_dir: str = "media"
    public_url: str = DEFAULT_PUBLIC_URL
    upload_url_ttl: int = 3600
    token_ttl: int = 30 * 86400
    https_only: bool = False
    access_log: bool = True
    login_failures_per_address: int = 50
    registrations_per_address: int = 20
    trusted_proxies: tuple[str, ...] = ()
    s3_bucket: str = ""
    s3_region: str = "us-east-1"
    s3_endpoint_url: str | None = None
    s3_prefix: str = "media/movies/"
    s3_public_base_url: str | None = None
    s3_acl: str | None = None

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def embedded(self) -> bool:
        """True on the embedded default: SQLite, which we may migrate ourselves at start."""
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ

        def get(name: str, default: str) -> str:
            return env.get(f"MOVIERATER_{name}", default).strip() or default

        settings = cls(
            env=get("ENV", "development").lower(),
            database_url=get("DATABASE_URL", "") or _platform_database_url(env) or DEFAULT_DATABASE_URL,
            cors_origins=tuple(
                origin.strip()
                for origin in get("CORS_ORIGINS", ",".join(DEFAULT_CORS_ORIGINS)).split(",")
                if origin.strip()
            ),
            secret_key=get("SECRET_KEY", DEV_SECRET_KEY),
            db_schema=get("DB_SCHEMA", "") or None,
            db_pool_size=_positive_int("MOVIERATER_DB_POOL_SIZE", get("DB_POOL_SIZE", "5")),
            db_connect_timeout=_positive_int("MOVIERATER_DB_CONNECT_TIMEOUT", get("DB_CONNECT_TIMEOUT", "5")),
            storage=get("STORAGE", "local").lower(),
            media_dir=get("MEDIA_DIR", "media"),
            public_url=get("PUBLIC_URL", DEFAULT_PUBLIC_URL).rstrip("/"),
            upload_url_ttl=_positive_int("MOVIERATER_UPLOAD_URL_TTL", get("UPLOAD_URL_TTL", "3600")),
            token_ttl=_positive_int("MOVIERATER_TOKEN_TTL", get("TOKEN_TTL", str(30 * 86400))),
            https_only=_flag("MOVIERATER_HTTPS_ONLY", get("HTTPS_ONLY", "0")),
            access_log=_flag("MOVIERATER_ACCESS_LOG", get("ACCESS_LOG", "1")),
            login_failures_per_address=_positive_int(
                "MOVIERATER_LOGIN_FAILURES_PER_ADDRESS", get("LOGIN_FAILURES_PER_ADDRESS", "50")
            ),
            registrations_per_address=_positive_int(
                "MOVIERATER_REGISTRATIONS_PER_ADDRESS", get("REGISTRATIONS_PER_ADDRESS", "20")
            ),
            trusted_proxies=tuple(p.strip() for p in get("TRUSTED_PROXIES", "").split(",") if p.strip()),
            s3_bucket=get("S3_BUCKET", ""),
            s3_region=get("S3_REGION", "us-east-1"),
            s3_endpoint_url=get("S3_ENDPOINT_URL", "") or None,
            s3_prefix=get("S3_PREFIX", "media/movies/"),
            s3_public_base_url=(get("S3_PUBLIC_BASE_URL", "") or None),
            s3_acl=get("S3_ACL", "") or None,
        )
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


def _platform_database_url(env: Mapping[str, str]) -> str | None:
    """A PaaS's own ``DATABASE_URL`` (Heroku's Postgres add-on sets it and rotates its
    credentials), as a SQLAlchemy URL on psycopg 3. MOVIERATER_DATABASE_URL wins."""
    url = env.get("DATABASE_URL", "").strip()
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url.removeprefix(scheme)
    return url or None


def _flag(name: str, raw: str) -> bool:
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} must be 1 or 0, not {raw!r}")


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise SettingsError(f"{name} must be at least 1")
    return value
