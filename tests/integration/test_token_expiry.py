"""Tokens expire after MOVIERATER_TOKEN_TTL seconds without use, over real HTTP."""

from __future__ import annotations

import time
from typing import Any

import requests

from tests.integration.conftest import Server, sign_up


def test_an_idle_token_expires_and_a_fresh_login_works(tmp_path: Any) -> None:
    server = Server(f"sqlite:///{tmp_path / 'ttl.db'}", tmp_path, MOVIERATER_TOKEN_TTL="2")
    try:
        client = sign_up(server.base_url, "brief", "a brief passphrase")
        assert client.get("/api/movies/").status_code == 200
        time.sleep(3.2)
        expired = client.get("/api/movies/")
        assert expired.status_code == 401
        assert expired.json() == {"detail": "Invalid token."}
        again = requests.post(
            server.base_url + "/auth/",
            json={"username": "brief", "password": "a brief passphrase"},
            timeout=30,
        )
        assert again.status_code == 200
    finally:
        server.stop()
