"""Settings from the environment: each variable, its one default, a PaaS's DATABASE_URL,
the messages that name a malformed variable, and the refusals."""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import pytest

from entrypoints.bootstrap import build_container
from entrypoints.settings import (
    DEFAULT_DATABASE_URL,
    Settings,
    SettingsError,
    read_env_file,
    setting_variables,
)
from movierater_core.use_cases import AccountSettings, UploadSettings


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
@pytest.mark.parametrize("variable", ["DATABASE_URL", "MOVIERATER_DATABASE_URL"])
def test_a_platform_database_url_is_used_on_psycopg(variable: str, platform_url: str, expected: str) -> None:
    assert Settings.from_env({variable: platform_url}).database_url == expected


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


FIELDS = list(inspect.signature(Settings).parameters)


def _all_but(setting: str, settings: Settings) -> dict[str, object]:
    return {field: getattr(settings, field) for field in FIELDS if field != setting}


# Each variable with a value other than its default, and the setting it gives. A new
# setting is read from a new variable, and needs a line here.
READ = {
    "MOVIERATER_ENV": ("Test", ("env", "test")),
    "MOVIERATER_DATABASE_URL": ("sqlite:///other.db", ("database_url", "sqlite:///other.db")),
    "MOVIERATER_CORS_ORIGINS": (
        " https://a.example, ,https://b.example ,",
        ("cors_origins", ("https://a.example", "https://b.example")),
    ),
    "MOVIERATER_SECRET_KEY": ("s" * 40, ("secret_key", "s" * 40)),
    "MOVIERATER_DB_SCHEMA": ("movie_rater_api", ("db_schema", "movie_rater_api")),
    "MOVIERATER_DB_POOL_SIZE": ("12", ("db_pool_size", 12)),
    "MOVIERATER_DB_CONNECT_TIMEOUT": ("9", ("db_connect_timeout", 9)),
    "MOVIERATER_STORAGE": ("S3", ("storage", "s3")),
    "MOVIERATER_MEDIA_DIR": ("/srv/media", ("media_dir", "/srv/media")),
    "MOVIERATER_PUBLIC_URL": ("https://films.example/", ("public_url", "https://films.example")),
    "MOVIERATER_UPLOAD_URL_TTL": ("60", ("upload_url_ttl", 60)),
    "MOVIERATER_TOKEN_TTL": ("86400", ("token_ttl", 86400)),
    "MOVIERATER_HTTPS_ONLY": ("1", ("https_only", True)),
    "MOVIERATER_ACCESS_LOG": ("0", ("access_log", False)),
    "MOVIERATER_LOGIN_FAILURES_PER_ADDRESS": ("7", ("login_failures_per_address", 7)),
    "MOVIERATER_REGISTRATIONS_PER_ADDRESS": ("3", ("registrations_per_address", 3)),
    "MOVIERATER_TRUSTED_PROXIES": ("10.0.0.1,10.0.0.2", ("trusted_proxies", ("10.0.0.1", "10.0.0.2"))),
    "MOVIERATER_S3_BUCKET": ("posters", ("s3_bucket", "posters")),
    "MOVIERATER_S3_REGION": ("eu-west-1", ("s3_region", "eu-west-1")),
    "MOVIERATER_S3_ENDPOINT_URL": ("http://127.0.0.1:4566", ("s3_endpoint_url", "http://127.0.0.1:4566")),
    "MOVIERATER_S3_PREFIX": ("posters/", ("s3_prefix", "posters/")),
    "MOVIERATER_S3_PUBLIC_BASE_URL": ("https://cdn.example", ("s3_public_base_url", "https://cdn.example")),
    "MOVIERATER_S3_ACL": ("public-read", ("s3_acl", "public-read")),
}


def test_every_setting_is_read_from_the_variable_named_after_it() -> None:
    assert list(setting_variables()) == [f"MOVIERATER_{field.upper()}" for field in FIELDS]
    assert set(setting_variables()) == set(READ)


# What a value needs beside it to pass the checks.
BESIDE = {"MOVIERATER_STORAGE": {"MOVIERATER_S3_BUCKET": "posters"}}


@pytest.mark.parametrize("name", READ)
def test_each_variable_sets_its_setting(name: str) -> None:
    raw, (setting, expected) = READ[name]
    beside = BESIDE.get(name, {})
    baseline = Settings.from_env(beside)
    settings = Settings.from_env({**beside, name: raw})
    assert getattr(settings, setting) == expected != getattr(baseline, setting)
    assert _all_but(setting, settings) == _all_but(setting, baseline)
    assert Settings.from_env({**beside, name: f" \t{raw}  \n"}) == settings  # trimmed


@pytest.mark.parametrize("name", READ)
@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_a_variable_set_to_nothing_means_its_default(name: str, blank: str) -> None:
    assert Settings.from_env({name: blank}) == Settings()


def test_values_of_other_variables_are_not_settings() -> None:
    assert (
        Settings.from_env({"TOKEN_TTL": "5", "MOVIERATER_TOKEN_TTLS": "5", "movierater_token_ttl": "5"})
        == Settings()
    )


def test_the_use_cases_defaults_are_the_settings_defaults_and_bootstrap_passes_the_settings_on() -> None:
    assert build_container(Settings()).resolve(AccountSettings) == AccountSettings()
    assert build_container(Settings()).resolve(UploadSettings) == UploadSettings()
    settings = Settings(
        token_ttl=60, login_failures_per_address=7, registrations_per_address=3, upload_url_ttl=30
    )
    container = build_container(settings)
    assert container.resolve(AccountSettings) == AccountSettings(
        token_ttl=60, login_failures_per_address=7, registrations_per_address=3
    )
    assert container.resolve(UploadSettings) == UploadSettings(url_ttl=30)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(spelling, True) for spelling in ("1", "true", "yes", "on", "TRUE", "Yes", "On")]
    + [(spelling, False) for spelling in ("0", "false", "no", "off", "FALSE", "No", "OFF")],
)
def test_flags_take_the_usual_spellings_in_any_case(raw: str, expected: bool) -> None:
    assert Settings.from_env({"MOVIERATER_HTTPS_ONLY": raw}).https_only is expected
    assert Settings.from_env({"MOVIERATER_ACCESS_LOG": raw}).access_log is expected


POSITIVE_INTS = [
    "MOVIERATER_DB_POOL_SIZE",
    "MOVIERATER_DB_CONNECT_TIMEOUT",
    "MOVIERATER_UPLOAD_URL_TTL",
    "MOVIERATER_TOKEN_TTL",
    "MOVIERATER_LOGIN_FAILURES_PER_ADDRESS",
    "MOVIERATER_REGISTRATIONS_PER_ADDRESS",
]


@pytest.mark.parametrize("name", POSITIVE_INTS)
@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("soon", "{name} must be a whole number, not 'soon'"),
        ("1.5", "{name} must be a whole number, not '1.5'"),
        (" 2 days ", "{name} must be a whole number, not '2 days'"),
        ("0", "{name} must be at least 1"),
        ("-3", "{name} must be at least 1"),
    ],
)
def test_counts_must_be_positive_whole_numbers(name: str, raw: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: raw})
    assert str(caught.value) == message.format(name=name)


@pytest.mark.parametrize("name", ["MOVIERATER_HTTPS_ONLY", "MOVIERATER_ACCESS_LOG"])
def test_a_flag_must_be_one_of_its_spellings(name: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: "Maybe"})
    assert str(caught.value) == f"{name} must be 1 or 0, not 'Maybe'"


def test_settings_given_directly_are_checked_as_the_variables_are() -> None:
    with pytest.raises(SettingsError, match="^MOVIERATER_TOKEN_TTL must be at least 1$"):
        Settings(token_ttl=0)


PRODUCTION = {
    "MOVIERATER_ENV": "production",
    "MOVIERATER_SECRET_KEY": "k" * 40,
    "DATABASE_URL": "postgres://h/d",
}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"MOVIERATER_ENV": "staging"},
            "MOVIERATER_ENV must be development, production or test, not 'staging'",
        ),
        ({"MOVIERATER_STORAGE": "ftp"}, "MOVIERATER_STORAGE must be local or s3, not 'ftp'"),
        ({"MOVIERATER_STORAGE": "s3"}, "MOVIERATER_S3_BUCKET must be set when MOVIERATER_STORAGE=s3"),
        ({"MOVIERATER_S3_PREFIX": "posters"}, "MOVIERATER_S3_PREFIX must end with '/'"),
        (
            {**PRODUCTION, "MOVIERATER_SECRET_KEY": ""},
            "MOVIERATER_SECRET_KEY must be set to a random value of 32+ characters in production",
        ),
        (
            {**PRODUCTION, "MOVIERATER_SECRET_KEY": "k" * 31},
            "MOVIERATER_SECRET_KEY must be set to a random value of 32+ characters in production",
        ),
        (
            {**PRODUCTION, "DATABASE_URL": ""},
            "MOVIERATER_DATABASE_URL must name the production database, not the default SQLite file",
        ),
        (
            {**PRODUCTION, "MOVIERATER_CORS_ORIGINS": "https://a.example,*"},
            "MOVIERATER_CORS_ORIGINS must list origins, not '*', in production",
        ),
    ],
)
def test_unusable_and_unsafe_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert str(caught.value) == message


def test_production_mode_is_told_by_its_name_in_any_case() -> None:
    assert Settings.from_env({**PRODUCTION, "MOVIERATER_ENV": " Production "}).production
    assert not Settings.from_env({}).production


def test_read_env_file_loads_a_dotenv_without_overriding_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".env").write_text("MOVIERATER_TOKEN_TTL=60\nMOVIERATER_DB_POOL_SIZE=9\n")
    monkeypatch.setattr(os, "environ", {"MOVIERATER_DB_POOL_SIZE": "3"})
    read_env_file(tmp_path / ".env")
    settings = Settings.from_env()
    assert (settings.token_ttl, settings.db_pool_size) == (60, 3)
