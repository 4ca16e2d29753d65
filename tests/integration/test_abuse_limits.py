"""Login and registration limits, stored in the database (the servers here run with the
default limits; the suite's shared servers raise the per-address ones)."""

from __future__ import annotations

from typing import Any

import requests

from tests.integration.conftest import Server, run_cli

PASSWORD = "the right passphrase"


def _server(tmp_path: Any, **env: str) -> Server:
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    run_cli("migrate", env={"MOVIERATER_DATABASE_URL": url})
    defaults = {"MOVIERATER_LOGIN_FAILURES_PER_ADDRESS": "50", "MOVIERATER_REGISTRATIONS_PER_ADDRESS": "20"}
    return Server(url, tmp_path, **{**defaults, **env})


def _login(server: Server, username: str, password: str, **headers: str) -> requests.Response:
    return requests.post(
        server.base_url + "/auth/",
        json={"username": username, "password": password},
        headers=headers,
        timeout=30,
    )


def _register(server: Server, username: str, **headers: str) -> requests.Response:
    return requests.post(
        server.base_url + "/api/users/",
        json={"username": username, "password": PASSWORD},
        headers=headers,
        timeout=30,
    )


def test_five_failures_lock_a_username_for_the_window_even_with_the_right_password(tmp_path: Any) -> None:
    server = _server(tmp_path)
    try:
        assert _register(server, "victim").status_code == 201
        for _ in range(5):
            failed = _login(server, "victim", "wrong guess")
            assert failed.status_code == 400
            assert failed.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}
        locked = _login(server, "victim", PASSWORD)
        assert locked.status_code == 429
        assert 890 <= int(locked.headers["Retry-After"]) <= 900
        assert locked.json()["detail"].startswith("Request was throttled. Expected available in ")
        # the same answer for a username that does not exist: nothing is revealed
        for _ in range(5):
            assert _login(server, "nobody-here", "wrong guess").status_code == 400
        ghost = _login(server, "nobody-here", PASSWORD)
        assert ghost.status_code == 429 and ghost.json().keys() == locked.json().keys()
        # other usernames are not affected
        assert _register(server, "bystander").status_code == 201
        assert _login(server, "bystander", PASSWORD).status_code == 200
    finally:
        server.stop()


def test_failures_per_address_and_registrations_per_address_are_limited(tmp_path: Any) -> None:
    server = _server(
        tmp_path,
        MOVIERATER_LOGIN_FAILURES_PER_ADDRESS="8",
        MOVIERATER_REGISTRATIONS_PER_ADDRESS="3",
        MOVIERATER_TRUSTED_PROXIES="127.0.0.1",
    )
    try:
        client_a = {"X-Forwarded-For": "203.0.113.7"}
        client_b = {"X-Forwarded-For": "198.51.100.9"}
        for i in range(3):
            assert _register(server, f"member{i}", **client_a).status_code == 201
        too_many = _register(server, "member3", **client_a)
        assert too_many.status_code == 429 and int(too_many.headers["Retry-After"]) > 3500
        assert _register(server, "member3", **client_b).status_code == 201  # another address
        for i in range(8):  # spread over usernames: each stays under its own limit
            assert _login(server, f"guess{i}", "wrong", **client_a).status_code == 400
        assert _login(server, "member0", PASSWORD, **client_a).status_code == 429
        assert _login(server, "member0", PASSWORD, **client_b).status_code == 200
        # a caller cannot pick its address: the hop before the trusted proxy counts
        spoofed = {"X-Forwarded-For": "198.51.100.9, 203.0.113.7"}
        assert _login(server, "member0", PASSWORD, **spoofed).status_code == 429
    finally:
        server.stop()
