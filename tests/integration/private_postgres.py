"""A PostgreSQL server of the test's own, on a free port, that a test may freeze (SIGSTOP)
and thaw (SIGCONT) without touching the shared one on 5432.

PostgreSQL refuses to run as root ("initdb: cannot be run as root"), and CI runs as root:
then the server runs as the ``postgres`` system user (``nobody`` without one), started
directly under that user (``subprocess`` ``user=``/``group=``), not through ``runuser`` or
``su``: those stop themselves when their child is stopped, which would freeze the caller's
job control too.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from tests.integration.backends import backends_required
from tests.integration.conftest import free_port


class PrivatePostgres:
    def __init__(self, root: Path, process: subprocess.Popen[bytes], port: int) -> None:
        self.root = root
        self.process = process
        self.port = port
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/movierater"
        self._frozen: list[int] = []

    @property
    def postmaster(self) -> int:
        return self.process.pid

    def freeze(self) -> None:
        """SIGSTOP the postmaster, then every process it forked (until no new one shows up)."""
        os.kill(self.postmaster, signal.SIGSTOP)
        self._frozen = [self.postmaster]
        while new := [pid for pid in _children(self.postmaster) if pid not in self._frozen]:
            for pid in new:
                os.kill(pid, signal.SIGSTOP)
            self._frozen += new

    def thaw(self) -> None:
        for pid in reversed(self._frozen):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self._frozen = []

    def stop(self) -> None:
        self.thaw()
        self.process.send_signal(signal.SIGINT)  # fast shutdown
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _children(parent: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent:  # field 4, after "(comm)"
            pids.append(int(entry))
    return pids


def _server_user() -> pwd.struct_passwd | None:
    """None when not root (run as ourselves); else the user PostgreSQL runs as."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    pytest.fail("running as root, with neither a postgres nor a nobody user to run PostgreSQL as")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    initdb, postgres = shutil.which("initdb"), shutil.which("postgres")
    if not (initdb and postgres):
        message = "initdb/postgres not on PATH: this test starts (and freezes) a PostgreSQL of its own"
        if backends_required():
            pytest.fail(message + " (MOVIERATER_REQUIRE_BACKENDS=1)")
        pytest.skip(message)
    user = _server_user()
    as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []} if user else {}
    # Not pytest's tmp_path: its parents are private to root, and the server runs as another user.
    root = Path(tempfile.mkdtemp(prefix="movierater-pg-"))
    if user:
        os.chown(root, user.pw_uid, user.pw_gid)
    env = {**os.environ, "LC_ALL": "C"}
    subprocess.run(
        [initdb, "-D", str(root / "data"), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
        env=env,
        cwd=root,
        timeout=120,
        **as_user,
    )
    port = free_port()
    log = (root / "server.log").open("wb")
    process = subprocess.Popen(
        [postgres, "-D", str(root / "data"), "-p", str(port), "-k", str(root)]
        + ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=root,
        **as_user,
    )
    server = PrivatePostgres(root, process, port)
    try:
        _create_database(server, root)
        yield server
    finally:
        server.stop()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def _create_database(server: PrivatePostgres, root: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        if server.process.poll() is not None:
            raise AssertionError("PostgreSQL exited:\n" + (root / "server.log").read_text())
        try:
            with psycopg.connect(
                host="127.0.0.1", port=server.port, user="postgres", dbname="postgres", autocommit=True
            ) as conn:
                conn.execute("CREATE DATABASE movierater")
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
