"""Settings from the environment: each variable, its one default, a PaaS's DATABASE_URL,
the messages that name a malformed variable, and the refusals."""

from __future__ import annotations

import inspect
import logging
import os
import re
from pathlib import Path

import pytest
from movierater_entrypoints.bootstrap import build_container
from movierater_entrypoints.settings import (
    DEFAULT_DATABASE_URL,
    Settings,
    SettingsError,
    known_variables,
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


@pytest.mark.parametrize("variable", ["DATABASE_URL", "MOVIERATER_DATABASE_URL"])
def test_an_unparseable_database_url_is_named_by_the_variable_it_is_in(variable: str) -> None:
    with pytest.raises(SettingsError, match=rf"^{variable} must be a SQLAlchemy URL"):
        Settings.from_env({variable: "not a url"})


def test_more_threads_than_pooled_connections_are_refused() -> None:
    assert Settings.from_env({"MOVIERATER_THREADS": "10", "MOVIERATER_DB_POOL_SIZE": "5"}).threads == 10
    too_many = r"^MOVIERATER_THREADS \(11\) plus MOVIERATER_WRITE_THREADS \(0\) must be at most twice"
    with pytest.raises(SettingsError, match=too_many):
        Settings.from_env({"MOVIERATER_THREADS": "11", "MOVIERATER_DB_POOL_SIZE": "5"})
    threads = {"MOVIERATER_DB_POOL_SIZE": "3", "MOVIERATER_WRITE_THREADS": "5"}
    assert Settings.from_env(threads).app_threads == 6  # one for the reads, five for the writes
    with pytest.raises(SettingsError, match=r"^MOVIERATER_THREADS \(1\) plus MOVIERATER_WRITE_THREADS \(6\)"):
        Settings.from_env({**threads, "MOVIERATER_WRITE_THREADS": "6"})


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
        ("MOVIERATER_DB_TIMEOUT", "30", "must be at most 20"),
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
    "MOVIERATER_DB_TIMEOUT": ("5", ("db_timeout", 5)),
    "MOVIERATER_STORAGE": ("S3", ("storage", "s3")),
    "MOVIERATER_MEDIA_DIR": ("/srv/media", ("media_dir", "/srv/media")),
    "MOVIERATER_PUBLIC_URL": ("https://films.example/", ("public_url", "https://films.example")),
    "MOVIERATER_UPLOAD_URL_TTL": ("60", ("upload_url_ttl", 60)),
    "MOVIERATER_TOKEN_TTL": ("86400", ("token_ttl", 86400)),
    "MOVIERATER_HTTPS_ONLY": ("1", ("https_only", True)),
    "MOVIERATER_ACCESS_LOG": ("0", ("access_log", False)),
    "MOVIERATER_LOGIN_FAILURES_PER_ADDRESS": ("7", ("login_failures_per_address", 7)),
    "MOVIERATER_REGISTRATIONS_PER_ADDRESS": ("3", ("registrations_per_address", 3)),
    "MOVIERATER_PASSWORD_HASH_MEMORY_KIB": ("19456", ("password_hash_memory_kib", 19456)),
    "MOVIERATER_PASSWORD_HASH_ITERATIONS": ("2", ("password_hash_iterations", 2)),
    "MOVIERATER_TRUSTED_PROXIES": ("10.0.0.1,10.0.0.2", ("trusted_proxies", ("10.0.0.1", "10.0.0.2"))),
    "MOVIERATER_MAX_PAGE_SIZE": ("250", ("max_page_size", 250)),
    "MOVIERATER_SCORE_PRIOR_WEIGHT": ("25", ("score_prior_weight", 25)),
    "MOVIERATER_SCORE_MEAN_MAX_AGE": ("0", ("score_mean_max_age", 0)),
    "MOVIERATER_REQUEST_TIMEOUT": ("45", ("request_timeout", 45)),
    "MOVIERATER_THREADS": ("2", ("threads", 2)),
    "MOVIERATER_WRITE_THREADS": ("2", ("write_threads", 2)),
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
    "MOVIERATER_DB_TIMEOUT",
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
        *(
            (
                # Each within its own bounds, but together below OWASP's floor (in any mode).
                {
                    "MOVIERATER_PASSWORD_HASH_MEMORY_KIB": memory,
                    "MOVIERATER_PASSWORD_HASH_ITERATIONS": passes,
                },
                f"MOVIERATER_PASSWORD_HASH_MEMORY_KIB must be at least {floor} with "
                f"MOVIERATER_PASSWORD_HASH_ITERATIONS={passes} (OWASP's floor for argon2id: 47,104 KiB x 1, "
                "19,456 x 2, 12,288 x 3, 9,216 x 4, 7,168 x 5 or more)",
            )
            for memory, passes, floor in (
                ("47103", "1", "47,104"),
                ("19455", "2", "19,456"),
                ("12287", "3", "12,288"),
                ("9215", "4", "9,216"),
            )
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


@pytest.mark.parametrize(
    ("memory", "passes"),
    [("47104", "1"), ("19456", "2"), ("12288", "3"), ("9216", "4"), ("7168", "5"), ("7168", "16")],
)
def test_owasps_argon2id_pairs_are_accepted(memory: str, passes: str) -> None:
    settings = Settings.from_env(
        {"MOVIERATER_PASSWORD_HASH_MEMORY_KIB": memory, "MOVIERATER_PASSWORD_HASH_ITERATIONS": passes}
    )
    assert (settings.password_hash_memory_kib, settings.password_hash_iterations) == (
        int(memory),
        int(passes),
    )


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


# Each setting's own value is checked where it is read: one line naming the variable and
# what it expects (issue 14: typos used to be accepted silently).
MALFORMED = [
    ("MOVIERATER_PUBLIC_URL", "127.0.0.1:18703", "must be an http:// or https:// URL with a host"),
    ("MOVIERATER_PUBLIC_URL", "ftp://films.example", "must be an http:// or https:// URL with a host"),
    ("MOVIERATER_PUBLIC_URL", "http://films.example:port", "must be an http:// or https:// URL with a host"),
    ("MOVIERATER_PUBLIC_URL", "https://", "must be an http:// or https:// URL with a host"),
    ("MOVIERATER_S3_ENDPOINT_URL", "localhost:4566", "must be an http:// or https:// URL with a host"),
    ("MOVIERATER_S3_PUBLIC_BASE_URL", "cdn.example", "must be an http:// or https:// URL with a host"),
    ("MOVIERATER_DATABASE_URL", "movierater.db", "must be a SQLAlchemy URL"),
    ("MOVIERATER_DATABASE_URL", "postgresql+psycopg://u:p@h:port/d", "must be a SQLAlchemy URL"),
    ("MOVIERATER_TRUSTED_PROXIES", "not-an-ip", "must list IP addresses or networks"),
    ("MOVIERATER_TRUSTED_PROXIES", "10.0.0.1, 10.0.0.300", "must list IP addresses or networks"),
    ("MOVIERATER_TRUSTED_PROXIES", "10.0.0.0/33", "must list IP addresses or networks"),
    ("MOVIERATER_CORS_ORIGINS", "localhost:4200", "must list origins such as https://app.example"),
    ("MOVIERATER_CORS_ORIGINS", "https://app.example/", "must list origins such as https://app.example"),
    ("MOVIERATER_CORS_ORIGINS", "https://a.example,https://b.example/app", "must list origins"),
    ("MOVIERATER_S3_BUCKET", "My_Posters", "must be a bucket name"),
    ("MOVIERATER_S3_BUCKET", "ab", "must be a bucket name"),
    ("MOVIERATER_S3_BUCKET", "two..dots", "must be a bucket name"),
    ("MOVIERATER_S3_REGION", "EU West 1", "must be a region name such as us-east-1"),
    ("MOVIERATER_S3_ACL", "public", "must be a canned ACL such as public-read"),
    ("MOVIERATER_S3_PREFIX", "posters", "must end with '/'"),
    ("MOVIERATER_DB_SCHEMA", "movie rater", "must be a schema name"),
    ("MOVIERATER_ENV", "prod", "must be development, production or test"),
    ("MOVIERATER_STORAGE", "disk", "must be local or s3"),
    ("MOVIERATER_MAX_PAGE_SIZE", "lots", "must be a whole number"),
    ("MOVIERATER_MAX_PAGE_SIZE", "0", "must be at least 1"),
    ("MOVIERATER_MAX_PAGE_SIZE", "10001", "must be at most 10000"),
    ("MOVIERATER_SCORE_PRIOR_WEIGHT", "0", "must be at least 1"),
    ("MOVIERATER_SCORE_PRIOR_WEIGHT", "1000001", "must be at most 1000000"),
    ("MOVIERATER_SCORE_PRIOR_WEIGHT", "ten", "must be a whole number"),
    ("MOVIERATER_SCORE_MEAN_MAX_AGE", "-1", "must be from 0 to 86400"),
    ("MOVIERATER_SCORE_MEAN_MAX_AGE", "86401", "must be from 0 to 86400"),
    ("MOVIERATER_SCORE_MEAN_MAX_AGE", "soon", "must be a whole number"),
    ("MOVIERATER_THREADS", "0", "must be at least 1"),
    ("MOVIERATER_THREADS", "33", "must be at most 32"),
    ("MOVIERATER_WRITE_THREADS", "-1", "must be from 0 to 32"),
    ("MOVIERATER_WRITE_THREADS", "33", "must be from 0 to 32"),
    ("MOVIERATER_WRITE_THREADS", "many", "must be a whole number"),
    ("MOVIERATER_PASSWORD_HASH_MEMORY_KIB", "7167", "must be from 7168 to 2097152 KiB"),
    ("MOVIERATER_PASSWORD_HASH_MEMORY_KIB", "2097153", "must be from 7168 to 2097152 KiB"),
    ("MOVIERATER_PASSWORD_HASH_MEMORY_KIB", "64M", "must be a whole number"),
    ("MOVIERATER_PASSWORD_HASH_ITERATIONS", "0", "must be from 1 to 16 iterations"),
    ("MOVIERATER_PASSWORD_HASH_ITERATIONS", "17", "must be from 1 to 16 iterations"),
]


@pytest.mark.parametrize(("name", "value", "complaint"), MALFORMED)
def test_every_setting_checks_its_value_in_one_line_naming_the_variable(
    name: str, value: str, complaint: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({name: value})
    message = str(caught.value)
    assert message.startswith(f"{name} must ") and complaint in message and "\n" not in message


def test_a_malformed_database_url_is_not_repeated_it_may_hold_a_password() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"MOVIERATER_DATABASE_URL": "postgresql://u:s3cret@h:port/d"})
    assert "s3cret" not in str(caught.value)


def test_a_network_with_host_bits_set_is_refused_with_the_network_meant() -> None:
    with pytest.raises(SettingsError, match=r"not '10\.0\.0\.1/8' \(the network is 10\.0\.0\.0/8\)$"):
        Settings.from_env({"MOVIERATER_TRUSTED_PROXIES": "10.0.0.1/8"})


@pytest.mark.parametrize(
    ("name", "value", "setting", "expected"),
    [
        (
            "MOVIERATER_TRUSTED_PROXIES",
            "10.0.0.0/8, 2001:db8::/32, ::1",
            "trusted_proxies",
            ("10.0.0.0/8", "2001:db8::/32", "::1"),
        ),
        ("MOVIERATER_CORS_ORIGINS", "*", "cors_origins", ("*",)),
        (
            "MOVIERATER_CORS_ORIGINS",
            "http://localhost:4200,https://[::1]:8443",
            "cors_origins",
            ("http://localhost:4200", "https://[::1]:8443"),
        ),
        ("MOVIERATER_S3_REGION", "auto", "s3_region", "auto"),  # Cloudflare R2
        ("MOVIERATER_S3_REGION", "nyc3", "s3_region", "nyc3"),  # DigitalOcean Spaces
        ("MOVIERATER_S3_BUCKET", "my.posters-2", "s3_bucket", "my.posters-2"),
        ("MOVIERATER_DATABASE_URL", "sqlite://", "database_url", "sqlite://"),
        (
            "MOVIERATER_DATABASE_URL",
            "postgresql+psycopg://u:p%40ss@h:5432/d",
            "database_url",
            "postgresql+psycopg://u:p%40ss@h:5432/d",
        ),
        ("MOVIERATER_S3_ENDPOINT_URL", "http://127.0.0.1:4566/", "s3_endpoint_url", "http://127.0.0.1:4566"),
        ("MOVIERATER_PUBLIC_URL", "http://[::1]:8000/", "public_url", "http://[::1]:8000"),
    ],
)
def test_well_formed_values_pass(name: str, value: str, setting: str, expected: object) -> None:
    assert getattr(Settings.from_env({name: value}), setting) == expected


def test_settings_given_directly_are_checked_too() -> None:
    with pytest.raises(SettingsError, match="^MOVIERATER_PUBLIC_URL must be"):
        Settings(public_url="127.0.0.1:18703")
    with pytest.raises(SettingsError, match="^MOVIERATER_TRUSTED_PROXIES must"):
        Settings(trusted_proxies=("not-an-ip",))


def test_a_misspelt_variable_is_warned_about_once_with_the_name_meant(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="movierater.settings"):
        settings = Settings.from_env(
            {
                "MOVIERATER_DATABSE_URL": "sqlite:///mine.db",
                "MOVIERATER_COLOUR": "blue",
                "MOVIERATER_ENV": "test",
            }
        )
    assert settings.database_url == DEFAULT_DATABASE_URL  # what the typo means: the default
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.WARNING, "MOVIERATER_COLOUR is not a setting, and is ignored"),
        (
            logging.WARNING,
            "MOVIERATER_DATABSE_URL is not a setting (did you mean MOVIERATER_DATABASE_URL?), and is ignored",
        ),
    ]


def test_a_setting_in_the_wrong_case_is_a_misspelling_too(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="movierater.settings"):
        Settings.from_env({"movierater_token_ttl": "5"})
    assert caplog.messages == [
        "movierater_token_ttl is not a setting (did you mean MOVIERATER_TOKEN_TTL?), and is ignored"
    ]


def test_known_names_and_other_prefixes_are_not_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    env = {name: "" for name in known_variables()} | {"DATABASE_URL": "", "MOVIERATERS": "", "TOKEN_TTL": "5"}
    with caplog.at_level(logging.WARNING, logger="movierater.settings"):
        Settings.from_env(env)
    assert caplog.messages == []


def test_gunicorn_workers_leave_the_warning_to_the_master(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="movierater.settings"):
        Settings.from_env({"MOVIERATER_FOO": "1"}, warn_unknown=False)
    assert caplog.messages == []


def test_production_refuses_a_misspelt_variable_before_what_follows_from_it() -> None:
    env = {**PRODUCTION, "MOVIERATER_SECRET_KY": "k" * 40, "MOVIERATER_SECRET_KEY": ""}
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    assert str(caught.value) == (
        "MOVIERATER_SECRET_KY is not a setting (did you mean MOVIERATER_SECRET_KEY?): "
        "fix or remove it (refused in production)"
    )


REPO = Path(__file__).resolve().parents[2]


def test_every_movierater_name_the_project_reads_is_known() -> None:
    """The CLI's passwords and the names tests and scripts read are not misspellings: a run
    of the suite or of scripts/ warns about none of them."""
    name = r"(MOVIERATER_[A-Z0-9_]*[A-Z0-9])\b"
    read = set(re.findall(name, (REPO / "src/entrypoints/cli.py").read_text()))
    for script in [*REPO.glob("scripts/*"), *REPO.glob(".ci/*"), *REPO.glob("docs/*.sh")]:
        read |= set(re.findall(r"\$\{?" + name, script.read_text()))  # a shell reading it
    for module in REPO.glob("tests/**/*.py"):
        # os.environ.get("MOVIERATER_..." (the name may be on the next line)
        read |= set(re.findall(r"(?:environ\.get|getenv|environ\[)\(?\s*\"" + name, module.read_text()))
    assert {"MOVIERATER_TEST_PG", "MOVIERATER_TEST_MARIADB", "MOVIERATER_S3_EMULATOR_PORT"} <= read
    assert read - known_variables() == set()
