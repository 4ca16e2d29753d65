"""``python -m build`` makes a wheel that installs into a clean virtualenv and runs there,
away from the source tree: the migrations, the password list and the docs' static files
travel inside it. It takes no generic top-level name: PyPI's ``adapters`` and
``entrypoints``, installed after it in the same virtualenv, leave it working (issue 14, item 6)."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from movierater_core import __version__
from tests.integration.conftest import ADMIN_PASSWORD, environment_without_settings, free_port, wait_for_http

ROOT = Path(__file__).resolve().parents[2]
# The source folders and the names they are installed under (pyproject's [tool.setuptools]).
INSTALLED_AS = {
    "movierater_core": "movierater_core",
    "adapters": "movierater_adapters",
    "entrypoints": "movierater_entrypoints",
}
# PyPI packages with the generic names the wheel once took (AdapterHub's adapters, and the
# entrypoints older Jupyter tools depend on); installed without their dependencies (torch...),
# which only importing them would need.
NEIGHBOURS = ["adapters==1.3.0", "entrypoints==0.4.2"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (built,) = dist.glob("movierater-*.whl")
    assert built.name == f"movierater-{__version__}-py3-none-any.whl"
    return built


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin directory of a fresh venv with the built wheel (and its dependencies), and then
    PyPI's packages of the generic names beside it."""
    base = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "venv", str(base / "venv")], check=True, timeout=120)
    bin_dir = base / "venv" / "bin"
    for packages in ([str(wheel)], ["--no-deps", *NEIGHBOURS]):
        subprocess.run(
            [str(bin_dir / "pip"), "install", "-q", *packages], check=True, capture_output=True, timeout=600
        )
    return bin_dir


def test_the_wheel_holds_every_module_under_its_own_names(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {*INSTALLED_AS.values(), f"movierater-{__version__}.dist-info"}
    sources = {
        f"{INSTALLED_AS[path.relative_to(ROOT / 'src').parts[0]]}/"
        + "/".join(path.relative_to(ROOT / "src").parts[1:])
        for path in (ROOT / "src").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert sources - set(names) == set(), "a module missing from pyproject's package list"


def test_the_generic_names_belong_to_their_pypi_packages(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [str(installed / "python"), "-c", "import entrypoints; print(entrypoints.__file__)"],
        cwd=tmp_path,
        env=_clean_environment(),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "site-packages/entrypoints.py" in where, "PyPI's module, not ours"


def _clean_environment() -> dict[str, str]:
    """No settings, and no PYTHONPATH: the source tree must not leak into the installed package."""
    return environment_without_settings("PYTHONPATH")


def _run(bin_dir: Path, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bin_dir / "movierater"), *args],
        cwd=cwd,
        env={**_clean_environment(), **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_the_installed_command_reports_the_version(installed: Path, tmp_path: Path) -> None:
    assert _run(installed, "--version", cwd=tmp_path).stdout.strip() == f"movierater {__version__}"


@pytest.fixture
def served(installed: Path, tmp_path: Path) -> Iterator[str]:
    _run(installed, "migrate", cwd=tmp_path)
    _run(
        installed,
        "createsuperuser",
        "--username",
        "boss",
        "--noinput",
        cwd=tmp_path,
        MOVIERATER_SUPERUSER_PASSWORD=ADMIN_PASSWORD,
    )
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [str(installed / "movierater"), "serve", "--port", str(port)],
        cwd=tmp_path,
        env=_clean_environment(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + "/api/movies/", server, tmp_path / "serve.log")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def test_the_installed_service_migrates_serves_and_logs_in(served: str) -> None:
    login = requests.post(
        served + "/auth/", json={"username": "boss", "password": ADMIN_PASSWORD}, timeout=30
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Token {login.json()['token']}"}
    created = requests.post(
        served + "/api/movies/", json={"title": "Wheel", "description": "built"}, headers=headers, timeout=30
    )
    assert created.status_code == 201
    weak = requests.post(served + "/api/users/", json={"username": "x", "password": "password"}, timeout=30)
    assert weak.json() == {"password": ["This password is too common."]}, "the packaged password list"


def test_the_installed_service_serves_its_docs_and_probes(served: str) -> None:
    page = requests.get(served + "/", timeout=30)
    assert page.status_code == 200 and page.url == served + "/api/docs/"
    scripts = re.findall(r'<script src="([^"]+)"', page.text)
    assert scripts, "the page loads its scripts from this server"
    for path in scripts:  # Swagger UI's bundle and the page's own init script, from the wheel
        assert requests.get(served + path, timeout=30).status_code == 200, path
    assert requests.get(served + "/readyz", timeout=30).status_code == 200


def test_the_installed_service_serves_the_admin_portal_from_the_wheel(wheel: Path, served: str) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    source = ROOT / "src" / "entrypoints" / "http" / "portal_static"
    files = sorted(path.name for path in source.iterdir())
    assert {f"movierater_entrypoints/http/portal_static/{name}" for name in files} <= set(names)
    page = requests.get(served + "/admin/", timeout=30)
    assert page.status_code == 200 and 'src="/admin/static/portal.js"' in page.text
    for name in files:  # the page's modules (and those they import) and its stylesheet
        resp = requests.get(f"{served}/admin/static/{name}", timeout=30)
        assert resp.status_code == 200, name
        assert resp.content == (source / name).read_bytes(), name


def test_the_changelog_describes_this_version() -> None:
    releases = re.findall(
        r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", (ROOT / "CHANGELOG.md").read_text(), re.M
    )
    assert releases[0] == __version__, "CHANGELOG.md's newest entry is the packaged version"
