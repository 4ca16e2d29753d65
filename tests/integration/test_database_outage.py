"""PostgreSQL stopped and started under a running app: 503 + Retry-After quickly while it
is down, and recovery by itself (pool pre-ping) when it is back, without a restart. The
server is the test's own (private_postgres), so other tests, in this process or beside it,
keep theirs."""

from __future__ import annotations

import time

import pytest
import requests

from tests.integration.backends import selected_backends
from tests.integration.conftest import Server, run_cli, sign_up
from tests.integration.private_postgres import private_postgres


def test_postgresql_outage_gives_503_then_recovers_by_itself(tmp_path) -> None:
    if "postgresql" not in selected_backends():
        pytest.skip("postgresql not among MOVIERATER_TEST_BACKENDS")
    with private_postgres() as pg:
        url = pg.url
        run_cli("migrate", env={"MOVIERATER_DATABASE_URL": url})
        server = Server(url, tmp_path, MOVIERATER_DB_CONNECT_TIMEOUT="2")
        try:
            client = sign_up(server.base_url)
            assert client.get("/api/movies/").status_code == 200
            pg.stop()
            try:
                started = time.monotonic()
                down = client.get("/api/movies/")
                elapsed = time.monotonic() - started
                assert down.status_code == 503, down.text
                assert down.headers["Retry-After"].isdigit()
                assert "unavailable" in down.json()["detail"]
                assert elapsed < 10
                print(f"503 answered in {elapsed:.2f} s while PostgreSQL was down")
                # writes are refused the same way, and nothing half-done is left behind
                refused = requests.post(
                    server.base_url + "/api/users/",
                    json={"username": "latecomer", "password": "an unrelated passphrase"},
                    timeout=30,
                )
                assert refused.status_code == 503
            finally:
                pg.start()
            back_at = time.monotonic()
            recovered = None
            while time.monotonic() - back_at < 30:
                response = client.get("/api/movies/")
                if response.status_code == 200:
                    recovered = time.monotonic() - back_at
                    break
                assert response.status_code == 503
                time.sleep(0.2)
            assert recovered is not None, "the app did not recover within 30 s of PostgreSQL's return"
            print(f"recovered {recovered:.2f} s after PostgreSQL started again")
            # every worker recovers (2 workers: ask several times)
            for _ in range(10):
                assert client.get("/api/movies/").status_code == 200
        finally:
            server.stop()
