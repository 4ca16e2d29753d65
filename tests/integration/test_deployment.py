"""The deployment files run as a platform runs them: the Procfile's release process, then
its web process (gunicorn with gunicorn.conf.py), from the project's root directory."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import requests
from dotenv import dotenv_values
from movierater_entrypoints.settings import Settings, setting_variables

from tests.integration.conftest import environment_without_settings, free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[2]


def _procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def _platform_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **environment_without_settings(),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "MOVIERATER_DATABASE_URL": f"sqlite:///{tmp_path}/app.db",
        "MOVIERATER_MEDIA_DIR": str(tmp_path / "media"),
        **extra,
    }


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


def test_procfile_release_migrates_then_web_serves_with_web_concurrency_workers(tmp_path: Path) -> None:
    processes = _procfile()
    assert set(processes) == {"web", "release"}
    port = free_port()
    env = _platform_env(tmp_path, PORT=str(port), WEB_CONCURRENCY="3")

    release = subprocess.run(
        processes["release"], shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert release.returncode == 0, release.stderr
    assert "(head)" in release.stdout

    log = (tmp_path / "web.log").open("w")
    web = subprocess.Popen(
        processes["web"], shell=True, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(base + "/api/movies/", web, tmp_path / "web.log")
        created = requests.post(
            base + "/api/users/", json={"username": "dyno", "password": "a release pass"}, timeout=30
        )
        assert created.status_code == 201, created.text
        ready = requests.get(base + "/readyz", timeout=30)
        assert ready.status_code == 200, ready.text  # the media directory was made at start
        assert len(_children(_gunicorn(web.pid))) == 3, "WEB_CONCURRENCY sets the number of workers"
    finally:
        os.kill(_gunicorn(web.pid), signal.SIGTERM)  # what a platform sends to stop a dyno
        web.wait(timeout=25)
        log.close()
    assert web.returncode == 0
    assert "Shutting down: Master" in (tmp_path / "web.log").read_text()


def _gunicorn(shell_pid: int) -> int:
    """gunicorn's master: the shell running the Procfile line, or its child."""
    if Path(f"/proc/{shell_pid}/comm").read_text().strip() not in ("sh", "dash", "bash"):
        return shell_pid
    return _children(shell_pid)[0]


def test_env_example_names_every_setting_with_its_default() -> None:
    example = dotenv_values(ROOT / ".env.example")
    text = (ROOT / ".env.example").read_text()
    cli_source = (ROOT / "src/entrypoints/cli.py").read_text()

    read = {n.removeprefix("MOVIERATER_") for n in setting_variables()}
    read |= {n.removeprefix("MOVIERATER_") for n in re.findall(r'"(MOVIERATER_[A-Z0-9_]+)"', cli_source)}
    listed = {n.removeprefix("MOVIERATER_") for n in re.findall(r"^#? ?(MOVIERATER_[A-Z0-9_]+)=", text, re.M)}
    assert read and listed == read
    # the values written down are the defaults: loading the file changes nothing
    assert Settings.from_env({k: v or "" for k, v in example.items()}) == Settings.from_env({})


def test_procfile_web_with_a_missing_driver_is_one_line_not_workers_failing_to_boot(tmp_path: Path) -> None:
    """gunicorn.conf.py checks in the master what the workers will need (here: boto3, for
    S3 storage), as `movierater serve` does."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import sys\nsys.modules['boto3'] = None\n")
    env = _platform_env(
        tmp_path,
        PORT=str(free_port()),
        PYTHONPATH=str(site),
        MOVIERATER_STORAGE="s3",
        MOVIERATER_S3_BUCKET="posters",
    )
    web = subprocess.run(
        _procfile()["web"], shell=True, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    output = web.stdout + web.stderr
    assert web.returncode == 2, output
    assert "Traceback" not in output and "Worker failed to boot" not in output, output
    [line] = [line for line in output.splitlines() if line.startswith("movierater: ")]
    assert "S3 storage driver" in line and "pip install 'boto3==" in line
