"""The probes on a real server: /readyz answers 503 (with Retry-After, naming the failing
check) while the database cannot be reached or the media directory is gone, and 200 again
once they are back, without a restart; /healthz stays 200 throughout. Successful probes stay
out of the access log; failures do not."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy.engine import make_url

from tests.integration.backends import fresh_database, selected_backends
from tests.integration.conftest import Server, free_port, run_cli

DEFAULT_PORTS = {"postgresql": 5432, "mariadb": 3306}


class Forwarder:
    """A local TCP port forwarded to the database server, that a test can cut off (every
    connection dropped, new ones refused) and restore: an outage without stopping the
    shared server."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self._links: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._listener.settimeout(0.1)
        self._acceptor = threading.Thread(target=self._accept, args=(self._listener,), daemon=True)
        self._acceptor.start()

    def cut(self) -> None:
        if self._listener is not None:
            listener, self._listener = self._listener, None
            self._acceptor.join()  # its accept() returns within 0.1 s; then the port is free
            listener.close()
        for sock in self._links:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self._links.clear()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            self._links += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass


def readyz(server: Server) -> requests.Response:
    return requests.get(server.base_url + "/readyz", timeout=30)


def wait_for(server: Server, status: int, timeout: float = 30) -> requests.Response:
    deadline = time.monotonic() + timeout
    while True:
        resp = readyz(server)
        if resp.status_code == status or time.monotonic() > deadline:
            return resp
        time.sleep(0.2)


def access_log(server: Server) -> list[dict[str, object]]:
    return [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"])
def test_readyz_is_503_while_the_database_is_unreachable(tmp_path: Path, backend: str) -> None:
    if backend not in selected_backends():
        pytest.skip(f"{backend} not among MOVIERATER_TEST_BACKENDS")
    with fresh_database(backend, tmp_path) as url:
        run_cli("migrate", env={"MOVIERATER_DATABASE_URL": url})
        real = make_url(url)
        forwarder = Forwarder(real.host or "127.0.0.1", real.port or DEFAULT_PORTS[backend])
        if backend == "mariadb":
            # MariaDB's ODBC driver ignores the port in pyodbc's "Server=host,port": say PORT=.
            via_url = real.set(host="127.0.0.1", port=None).update_query_dict({"PORT": str(forwarder.port)})
        else:
            via_url = real.set(host="127.0.0.1", port=forwarder.port)
        via = via_url.render_as_string(hide_password=False)
        server = Server(via, tmp_path, MOVIERATER_DB_CONNECT_TIMEOUT="2")
        try:
            assert readyz(server).status_code == 200
            forwarder.cut()
            started = time.monotonic()
            down = readyz(server)
            assert time.monotonic() - started < 10
            assert down.status_code == 503, down.text
            assert down.headers["Retry-After"].isdigit()
            body = down.json()
            assert body["status"] == "unavailable" and body["detail"] == "Not ready: database."
            assert body["checks"]["database"]["status"] == "unavailable"
            assert "database is unavailable" in body["checks"]["database"]["detail"]
            assert body["checks"]["storage"] == {"status": "ok"}
            assert requests.get(server.base_url + "/healthz", timeout=30).status_code == 200
            forwarder.restore()
            assert wait_for(server, 200).status_code == 200
        finally:
            server.stop()
            forwarder.cut()


def test_readyz_is_503_while_the_media_directory_is_gone(tmp_path: Path) -> None:
    media = tmp_path / "media"
    server = Server(f"sqlite:///{tmp_path / 'ready.db'}", tmp_path, MOVIERATER_MEDIA_DIR=str(media))
    try:
        assert media.is_dir()  # `movierater serve` made it
        ok = readyz(server)
        assert ok.status_code == 200, ok.text
        assert ok.json() == {
            "status": "ok",
            "checks": {"database": {"status": "ok"}, "storage": {"status": "ok"}},
        }
        assert ok.headers["Cache-Control"] == "no-store"
        shutil.rmtree(media)
        down = readyz(server)
        assert down.status_code == 503, down.text
        assert down.headers["Retry-After"].isdigit()
        assert down.json() == {
            "status": "unavailable",
            "detail": "Not ready: storage.",
            "checks": {
                "database": {"status": "ok"},
                "storage": {"status": "unavailable", "detail": "The media directory does not exist."},
            },
        }
        alive = requests.get(server.base_url + "/healthz", timeout=30)
        assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
        media.mkdir()
        assert readyz(server).status_code == 200
    finally:
        server.stop()
    logged = [(entry["route"], entry["status"]) for entry in access_log(server)]
    assert ("/readyz", 503) in logged  # a failing probe is logged
    assert ("/readyz", 200) not in logged and ("/healthz", 200) not in logged


def test_readyz_on_s3_heads_the_bucket(tmp_path: Path) -> None:
    from tests.integration.test_uploads import _s3_env, s3_client

    env = _s3_env(tmp_path)  # skips (or fails in CI) without the S3 emulator
    server = Server(f"sqlite:///{tmp_path / 'ready-s3.db'}", tmp_path, **env)
    try:
        assert readyz(server).status_code == 200
        s3_client().delete_bucket(Bucket=env["MOVIERATER_S3_BUCKET"])
        down = readyz(server)
        assert down.status_code == 503, down.text
        assert down.json()["checks"]["storage"]["status"] == "unavailable"
        assert down.json()["checks"]["database"] == {"status": "ok"}
    finally:
        server.stop()
    # The probe's answer stays generic; the log says why, in one WARNING line.
    bucket = env["MOVIERATER_S3_BUCKET"]
    assert (
        f"storage not ready: S3 bucket {bucket!r}: it does not exist" in server.log.read_text().splitlines()
    )
