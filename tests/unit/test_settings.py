"""Settings from the environment: defaults, a PaaS's DATABASE_URL, refusals."""

from __future__ import annotations

import pytest

from entrypoints.settings import DEFAULT_DATABASE_URL, Settings, SettingsError


def test_no_environment_gives_the_embedded_default() -> None:
    settings = Settings.from_env({})
    assert settings == Settings() and settings.database_url == DEFAULT_DATABASE_URL and settings.embedded


@pytest.mark.parametrize(
    ("platform_url", "expected"),
    [
        ("postgres://u:p@db.example:5432/d1", "postgresql+psycopg://u:p@db.example:5432/d1"),
        ("postgresql://u:p@db.example/d1", "postgresql+psycopg://u:p@db.example/d1"),
        ("postgresql+psycopg://u:p@db.example/d1", "postgresql+psycopg://u:p@db.example/d1"),
        ("mysql+pyodbc://u:p@db.example/d1", "mysql+pyodbc://u:p@db.example/d1"),
    ],
)
def test_a_platform_database_url_is_used_on_psycopg(platform_url: str, expected: str) -> None:
    assert Settings.from_env({"DATABASE_URL": platform_url}).database_url == expected


def test_movierater_database_url_wins_over_the_platform_one() -> None:
    env = {"DATABASE_URL": "postgres://u:p@heroku/d1", "MOVIERATER_DATABASE_URL": "sqlite:///mine.db"}
    assert Settings.from_env(env).database_url == "sqlite:///mine.db"


def test_production_accepts_a_platform_database_url() -> None:
    env = {
        "MOVIERATER_ENV": "production",
        "MOVIERATER_SECRET_KEY": "k" * 40,
        "DATABASE_URL": "postgres://h/d",
    }
    assert Settings.from_env(env).production


@pytest.mark.parametrize(
    ("name", "value", "complaint"),
    [
        ("MOVIERATER_TOKEN_TTL", "soon", "must be a whole number"),
        ("MOVIERATER_DB_POOL_SIZE", "0", "must be at least 1"),
        ("MOVIERATER_HTTPS_ONLY", "maybe", "must be 1 or 0"),
        ("MOVIERATER_STORAGE", "ftp", "must be local or s3"),
        ("MOVIERATER_ENV", "staging", "must be development, production or test"),
    ],
)
def test_malformed_values_are_refused_naming_the_variable(name: str, value: str, complaint: str) -> None:
    with pytest.raises(SettingsError, match=complaint) as caught:
        Settings.from_env({name: value})
    assert name in str(caught.value)
