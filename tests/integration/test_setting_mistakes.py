"""An operator's mistakes in settings, as the commands and the served app meet them: each
malformed value is one line and exit 2; a misspelt name is one warning line (a refusal in
production); trusted proxies may be networks (issue 14, item 4)."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.integration.conftest import Server, run_cli


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MOVIERATER_PUBLIC_URL", "127.0.0.1:18703"),
        ("MOVIERATER_TRUSTED_PROXIES", "not-an-ip"),
        ("MOVIERATER_DATABASE_URL", "movierater.db"),
        ("MOVIERATER_CORS_ORIGINS", "localhost:4200"),
        ("MOVIERATER_S3_ENDPOINT_URL", "localhost:4566"),
    ],
)
def test_a_malformed_value_is_one_line_naming_the_variable_and_exit_2(
    name: str, value: str, tmp_path: Path
) -> None:
    env = {"MOVIERATER_DATABASE_URL": f"sqlite:///{tmp_path}/m.db", name: value}
    result = run_cli("migrate", env=env, check=False, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [result.stderr.strip()] and result.stderr.startswith(
        f"movierater: {name} must "
    )
    assert not list(tmp_path.glob("*.db"))  # nothing was done


def test_a_misspelt_name_is_warned_about_with_the_name_meant(tmp_path: Path) -> None:
    env = {"MOVIERATER_DATABSE_URL": f"sqlite:///{tmp_path}/meant.db"}
    result = run_cli("migrate", env=env, cwd=tmp_path)
    assert (
        "MOVIERATER_DATABSE_URL is not a setting (did you mean MOVIERATER_DATABASE_URL?), and is ignored"
        in result.stderr.splitlines()
    )
    assert (tmp_path / "movierater.db").exists()  # what the misspelling gives: the default


def test_production_refuses_a_misspelt_name_in_one_line(tmp_path: Path) -> None:
    env = {
        "MOVIERATER_ENV": "production",
        "MOVIERATER_SECRET_KEY": "k" * 40,
        "MOVIERATER_DATABASE_URL": f"sqlite:///{tmp_path}/p.db",
        "MOVIERATER_HTTPS_ONY": "1",  # HSTS and the redirect would be silently off
    }
    result = run_cli("migrate", env=env, check=False, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "movierater: MOVIERATER_HTTPS_ONY is not a setting (did you mean MOVIERATER_HTTPS_ONLY?): "
        "fix or remove it (refused in production)"
    ]


def test_serve_warns_once_not_once_per_worker(tmp_path: Path) -> None:
    server = Server(None, tmp_path, workers=2, MOVIERATER_TOKEN_TL="60")
    try:
        assert requests.get(server.base_url + "/healthz", timeout=30).status_code == 200
    finally:
        server.stop()
    warnings = [line for line in server.log.read_text().splitlines() if "MOVIERATER_TOKEN_TL" in line]
    assert warnings == [
        "MOVIERATER_TOKEN_TL is not a setting (did you mean MOVIERATER_TOKEN_TTL?), and is ignored"
    ]


def test_proxies_may_be_trusted_as_a_network(tmp_path: Path) -> None:
    """Behind a front end that connects from anywhere in a range (Azure's, Heroku's), the
    per-address limits count the client each proxy in the range names, and a client still
    cannot choose its own address by sending X-Forwarded-For."""
    url = f"sqlite:///{tmp_path / 'proxies.db'}"
    run_cli("migrate", env={"MOVIERATER_DATABASE_URL": url})
    server = Server(
        url,
        tmp_path,
        MOVIERATER_REGISTRATIONS_PER_ADDRESS="2",
        MOVIERATER_TRUSTED_PROXIES="127.0.0.0/8, ::1",
    )

    def register(name: str, forwarded: str) -> int:
        answer = requests.post(
            server.base_url + "/api/users/",
            json={"username": name, "password": "a long passphrase"},
            headers={"X-Forwarded-For": forwarded},
            timeout=30,
        )
        return answer.status_code

    try:
        assert [register(f"a{i}", "203.0.113.7") for i in range(3)] == [201, 201, 429]
        assert register("b0", "198.51.100.9") == 201  # another client behind the same proxy
        # a spoofed first hop does not help: the hop the proxy added counts
        assert register("a3", "198.51.100.9, 203.0.113.7") == 429
    finally:
        server.stop()
