"""Settings from ``MOVIERATER_*`` environment variables (12-factor), with safe defaults
for the embedded mode and a refusal to start in production mode with unsafe ones."""

from __future__ import annotations

import os
from collections.abc import Mapping

from attrs import frozen

DEFAULT_DATABASE_URL = "sqlite:///movierater.db"
DEFAULT_CORS_ORIGINS = ("http://localhost:4200",)
DEV_SECRET_KEY = "insecure-development-key"


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
            database_url=get("DATABASE_URL", DEFAULT_DATABASE_URL),
            cors_origins=tuple(
                origin.strip()
                for origin in get("CORS_ORIGINS", ",".join(DEFAULT_CORS_ORIGINS)).split(",")
                if origin.strip()
            ),
            secret_key=get("SECRET_KEY", DEV_SECRET_KEY),
            db_schema=get("DB_SCHEMA", "") or None,
            db_pool_size=_positive_int("MOVIERATER_DB_POOL_SIZE", get("DB_POOL_SIZE", "5")),
            db_connect_timeout=_positive_int(
                "MOVIERATER_DB_CONNECT_TIMEOUT", get("DB_CONNECT_TIMEOUT", "5")
            ),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse unusable settings, and unsafe ones in production."""
        if self.env not in ("development", "production", "test"):
            raise SettingsError(
                "MOVIERATER_ENV must be development, production or test, not " + repr(self.env)
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


def _positive_int(name: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 1:
        raise SettingsError(f"{name} must be at least 1")
    return value
