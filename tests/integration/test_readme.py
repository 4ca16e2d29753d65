"""The README's "Getting started", run as a new user would run it: in a fresh copy of the
repository, step by step, exactly as written (only the port is chosen here, and the
Django database is the one the DRF reference made). Step 5, ``./scripts/test``, is what
CI runs."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.integration.conftest import environment_without_settings, free_port, wait_for_http
from tests.integration.django_reference import PASSWORDS, REPO, DjangoDatabase

ADMIN_PASSWORD = "readme-admin-pass-1"


def getting_started() -> list[list[str]]:
    """The commands of the README's "Getting started" block, comments dropped."""
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Getting started", 1)[1]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "Getting started has a sh block"
    return [shlex.split(line, comments=True) for line in block.group(1).splitlines() if line.strip()]


def test_the_steps_are_the_ones_this_test_runs() -> None:
    steps = getting_started()
    assert [step[:2] for step in steps] == [
        ["./scripts/serve"],
        ["xdg-open", "http://127.0.0.1:8000/"],
        [".venv/bin/movierater", "createsuperuser"],
        [".venv/bin/movierater", "import-django"],
        ["./scripts/test"],
    ]


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The repository's files (committed or not, minus what git ignores), as a clone has them."""
    target = tmp_path_factory.mktemp("readme") / "movierater"
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def _user_env() -> dict[str, str]:
    """A user's shell: none of this test run's settings or virtualenv."""
    return environment_without_settings("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")


@pytest.fixture(scope="module")
def served(checkout: Path) -> Iterator[str]:
    """Step 1, on a free port (scripts/serve passes its arguments to movierater serve)."""
    port = free_port()
    log_path = checkout.parent / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [*getting_started()[0], "--port", str(port)],
            cwd=checkout,
            env=_user_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            # the first run makes .venv and installs into it
            wait_for_http(base + "/healthz", server, log_path, timeout=600)
            yield base
        finally:
            os.killpg(server.pid, 15)
            server.wait(timeout=30)


def test_step_2_the_root_opens_the_api_docs(served: str) -> None:
    url = getting_started()[1][1].replace("http://127.0.0.1:8000", served)
    page = requests.get(url, timeout=30)
    assert page.status_code == 200 and page.url == served + "/api/docs/"
    assert page.headers["Content-Type"].startswith("text/html") and "swagger-ui" in page.text


def test_step_3_then_4_an_admin_then_the_django_data(
    served: str, checkout: Path, django_db: DjangoDatabase
) -> None:
    createsuperuser = getting_started()[2]
    # getpass reads stdin when there is no terminal: the password, twice
    made = subprocess.run(
        createsuperuser,
        cwd=checkout,
        env=_user_env(),
        input=f"{ADMIN_PASSWORD}\n{ADMIN_PASSWORD}\n",
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,
    )
    assert made.returncode == 0, made.stderr
    admin = _log_in(served, "admin", ADMIN_PASSWORD)
    created = requests.post(
        served + "/api/movies/", json={"title": "Mine", "description": "."}, headers=admin
    )
    assert created.status_code == 201, created.text

    step_4 = getting_started()[3]
    step_4[step_4.index("--from") + 1] = django_db.url
    imported = subprocess.run(
        [*step_4, "--app", "refapi"],  # the reference names its Django app refapi, not api
        cwd=checkout,
        env=_user_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert imported.returncode == 0, imported.stdout + imported.stderr
    assert imported.stdout.splitlines() == [
        "users: 4 added, 0 already imported, 0 changed since, 0 rejected",
        "movies: 4 added, 0 already imported, 0 changed since, 0 rejected",
        "ratings: 5 added, 0 already imported, 0 changed since, 0 rejected",
        "tokens: 3 added, 0 already imported, 0 changed since, 0 rejected",
    ]
    alice = _log_in(served, "alice", PASSWORDS["alice"])  # her Django password, on this service
    titles = [m["title"] for m in requests.get(served + "/api/movies/", headers=alice, timeout=30).json()]
    assert "Mine" in titles and "Titanic" in titles


def _log_in(base: str, username: str, password: str) -> dict[str, str]:
    login = requests.post(base + "/auth/", json={"username": username, "password": password}, timeout=30)
    assert login.status_code == 200, login.text
    return {"Authorization": f"Token {login.json()['token']}"}
