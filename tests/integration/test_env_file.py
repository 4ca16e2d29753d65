"""A ``.env`` file in the working directory is read at start, by the CLI and by gunicorn's
workers; variables set in the real environment win over it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import requests
from sqlalchemy import create_engine, inspect

from tests.integration.conftest import MOVIERATER, Server, environment_without_settings

ORIGIN = "https://films.example"


def _write_env(directory: Path) -> None:
    (directory / ".env").write_text(
        "# settings for this directory\n"
        f"MOVIERATER_DATABASE_URL=sqlite:///{directory}/from-dotenv.db\n"
        f'MOVIERATER_CORS_ORIGINS="{ORIGIN}"\n'
    )


def _migrate(directory: Path, **env: str) -> str:
    result = subprocess.run(
        [*MOVIERATER, "migrate"],
        env={**environment_without_settings(), **env},
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def _tables(path: Path) -> list[str]:
    engine = create_engine(f"sqlite:///{path}")
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_the_cli_reads_dotenv_and_the_real_environment_wins(tmp_path: Path) -> None:
    _write_env(tmp_path)
    assert "(head)" in _migrate(tmp_path)
    assert "movies" in _tables(tmp_path / "from-dotenv.db")
    assert not (tmp_path / "movierater.db").exists()

    (tmp_path / "from-dotenv.db").unlink()
    _migrate(tmp_path, MOVIERATER_DATABASE_URL=f"sqlite:///{tmp_path}/from-environment.db")
    assert "movies" in _tables(tmp_path / "from-environment.db")
    assert not (tmp_path / "from-dotenv.db").exists()


def test_without_a_dotenv_the_defaults_apply(tmp_path: Path) -> None:
    _migrate(tmp_path)
    assert "movies" in _tables(tmp_path / "movierater.db")


def test_the_server_reads_dotenv_in_its_working_directory(tmp_path: Path) -> None:
    _write_env(tmp_path)
    server = Server(None, tmp_path)  # nothing MOVIERATER_* but the suite's rate limits
    try:
        preflight = requests.options(
            server.base_url + "/api/movies/",
            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"},
            timeout=30,
        )
        assert preflight.headers.get("Access-Control-Allow-Origin") == ORIGIN
        created = requests.post(
            server.base_url + "/api/users/",
            json={"username": "env", "password": "a dotenv pass"},
            timeout=30,
        )
        assert created.status_code == 201
        assert (tmp_path / "from-dotenv.db").exists() and not (tmp_path / "movierater.db").exists()
    finally:
        server.stop()
