"""The README's library example, run as written, and the one way to the wired use cases it
shows (``movierater_entrypoints.bootstrap.services``): issue 14, item 7."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import attrs
import pytest
from movierater_entrypoints.bootstrap import Services, services
from movierater_entrypoints.settings import Settings

from movierater_core.use_cases import SYSTEM, Accounts, Health, Movies, Ratings, Uploads, UserAdmin

REPO = Path(__file__).resolve().parents[2]


def library_example() -> str:
    readme = (REPO / "README.md").read_text()
    section = readme.split("### Using the core from another Python service", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, re.S)
    assert block, "the section has a python block"
    return block.group(1)


def test_the_readme_example_runs_as_written(tmp_path: Path) -> None:
    """In a process of its own, from an empty directory, with none of this run's settings."""
    script = tmp_path / "example.py"
    script.write_text(library_example())
    env = {"PATH": "/usr/bin:/bin"}
    ran = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert ran.returncode == 0, ran.stderr
    assert list(tmp_path.iterdir()) == [script]  # in memory: no file left behind


def test_services_are_the_use_cases_typed_and_frozen() -> None:
    types = {field.name: field.type for field in attrs.fields(Services)}
    assert {name: types[name] for name in types if name != "database"} == {
        "accounts": "Accounts",
        "movies": "Movies",
        "ratings": "Ratings",
        "uploads": "Uploads",
        "user_admin": "UserAdmin",
        "health": "Health",
    }
    app = services(database_url="sqlite://")
    try:
        for name, kind in [
            ("accounts", Accounts),
            ("movies", Movies),
            ("ratings", Ratings),
            ("uploads", Uploads),
            ("user_admin", UserAdmin),
            ("health", Health),
        ]:
            assert isinstance(getattr(app, name), kind)
        with pytest.raises(attrs.exceptions.FrozenInstanceError):
            app.movies = app.movies  # type: ignore[misc]
    finally:
        app.close()


def test_each_in_memory_database_is_private() -> None:
    first, second = services(database_url="sqlite://"), services(database_url="sqlite://")
    try:
        first.user_admin.create_user(SYSTEM, "only-here", "a long passphrase", is_admin=False)
        assert [u.username for u in first.user_admin.all_users(SYSTEM)] == ["only-here"]
        assert second.user_admin.all_users(SYSTEM) == []
    finally:
        first.close()
        second.close()


def test_a_sqlite_file_from_settings_is_migrated_and_kept(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'lib.db'}", token_ttl=60)
    app = services(settings)
    app.user_admin.create_user(SYSTEM, "kept", "a long passphrase", is_admin=True)
    app.close()
    again = services(settings)
    try:
        assert [u.username for u in again.user_admin.all_users(SYSTEM)] == ["kept"]
    finally:
        again.close()


def test_without_arguments_the_environment_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIERATER_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    app = services()
    try:
        assert app.health.readiness()[0].ok  # the database check
        assert (tmp_path / "env.db").exists()
    finally:
        app.close()
