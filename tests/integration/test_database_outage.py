"""PostgreSQL stopped and started under a running app: 503 + Retry-After quickly while it
is down, and recovery by itself (pool pre-ping) when it is back, without a restart."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time

import pytest
import requests

from tests.integration.backends import fresh_database, selected_backends, unavailable
from tests.integration.conftest import Server, run_cli, sign_up


def _pg_cluster(action: str) -> None:
    version = os.path.basename(sorted(glob.glob("/etc/postgresql/*"))[-1])
    subprocess.run(
        [
            "pg_ctlcluster",
            "--skip-systemctl-redirect",
            version,
            "main",
            action,
            *(["-m", "fast"] if action == "stop" else []),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )


@pytest.mark.exclusive  # stops the PostgreSQL server every other test process uses
def test_postgresql_outage_gives_503_then_recovers_by_itself(tmp_path) -> None:
    if "postgresql" not in selected_backends():
        pytest.skip("postgresql not among MOVIERATER_TEST_BACKENDS")
    if shutil.which("pg_ctlcluster") is None or not glob.glob("/etc/postgresql/*"):
        unavailable("postgresql", "this test stops and starts the local cluster with pg_ctlcluster")
    with fresh_database("postgresql", tmp_path) as url:
        run_cli("migrate", env={"MOVIERATER_DATABASE_URL": url})
        server = Server(url, tmp_path, MOVIERATER_DB_CONNECT_TIMEOUT="2")
        try:
            client = sign_up(server.base_url)
            assert client.get("/api/movies/").status_code == 200
            _pg_cluster("stop")
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
                _pg_cluster("start")
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
