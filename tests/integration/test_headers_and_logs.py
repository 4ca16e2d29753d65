"""Security headers on every response, request ids, the JSON access log (which must never
contain a token, a password or a signature), and HTTPS-only mode behind a proxy."""

from __future__ import annotations

import json
from typing import Any

import requests

from tests.integration.conftest import Server, sign_up

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def _log_lines(server: Server) -> list[dict[str, Any]]:
    lines = []
    for line in server.log.read_text().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_every_response_carries_the_security_headers_and_a_request_id(server: Server) -> None:
    client = sign_up(server.base_url)
    responses = [
        client.get("/api/movies/"),
        client.get("/api/movies/999999/"),
        requests.get(server.base_url + "/api/movies/", timeout=30),  # 401
        requests.get(server.base_url + "/nowhere", timeout=30),  # 404, no route
        client.post("/api/ratings/"),  # 405
        requests.post(
            server.base_url + "/auth/", data=b"{", headers={"Content-Type": "application/json"}, timeout=30
        ),
    ]
    for response in responses:
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (response.request.url, name)
        assert len(response.headers["X-Request-ID"]) == 32
        assert "Strict-Transport-Security" not in response.headers  # only in HTTPS-only mode
        assert "falcon" not in response.headers.get("Server", "").lower()
    assert len({r.headers["X-Request-ID"] for r in responses}) == len(responses)
    echoed = client.get("/api/movies/", headers={"X-Request-ID": "trace-abc.123"})
    assert echoed.headers["X-Request-ID"] == "trace-abc.123"
    forged = client.get("/api/movies/", headers={"X-Request-ID": "bad id\twith spaces"})
    assert forged.headers["X-Request-ID"] != "bad id\twith spaces"


def test_the_access_log_has_one_json_line_per_request_and_no_secrets(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'log.db'}"
    server = Server(url, tmp_path, MOVIERATER_MEDIA_DIR=str(tmp_path / "media"))
    try:
        password = "a secret passphrase 77"
        client = sign_up(server.base_url, "logged", password)
        token = client.token or ""
        ids = [
            client.get("/api/movies/").headers["X-Request-ID"],
            client.get("/api/users/", headers={"Authorization": f"Bearer {token}"}).headers["X-Request-ID"],
            requests.post(
                server.base_url + "/auth/",
                json={"username": "logged", "password": "wrong " + password},
                timeout=30,
            ).headers["X-Request-ID"],
        ]
        offer = client.post(
            "/api/movies/get_upload_url/",
            json={"filename": "a.png", "contentType": "image/png", "fileSize": 10},
        ).json()
        signature = offer["upload_url"].split("signature=")[1]
    finally:
        server.stop()
    text = server.log.read_text()
    for secret in (token, password, signature, "Authorization", "Token "):
        assert secret not in text, secret
    entries = _log_lines(server)
    by_id = {entry["request_id"]: entry for entry in entries}
    assert set(ids) <= set(by_id)
    first = by_id[ids[0]]
    assert first["method"] == "GET" and first["status"] == 200 and first["route"].startswith("/api/movies")
    assert by_id[ids[2]]["status"] == 400
    for entry in entries:
        assert set(entry) == {"request_id", "method", "route", "status", "duration_ms", "remote_addr"}
        assert entry["duration_ms"] >= 0


def test_https_only_redirects_plain_http_and_sends_hsts(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'tls.db'}"
    server = Server(url, tmp_path, MOVIERATER_HTTPS_ONLY="1")
    try:
        plain = requests.get(
            server.base_url + "/api/movies/?x=1",
            headers={"X-Forwarded-Proto": "http", "Host": "movies.example"},
            allow_redirects=False,
            timeout=30,
        )
        assert plain.status_code == 308
        assert plain.headers["Location"] == "https://movies.example/api/movies/?x=1"
        secure = requests.get(
            server.base_url + "/api/movies/", headers={"X-Forwarded-Proto": "https"}, timeout=30
        )
        assert secure.status_code == 401  # served, not redirected
        assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    finally:
        server.stop()
