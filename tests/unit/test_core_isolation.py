"""The core and the in-memory fakes run with every infrastructure package unimportable."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

UNIT_DIR = Path(__file__).resolve().parent
SRC_DIR = UNIT_DIR.parents[1] / "src"

BLOCKED = ["sqlalchemy", "falcon", "boto3", "pyodbc", "psycopg", "alembic", "argon2", "environ"]

SCRIPT = textwrap.dedent(
    """
    import importlib.abc
    import json
    import sys

    BLOCKED = set(json.loads(sys.argv[1]))
    attempts = []

    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname, path=None, target=None):
            if fullname.split(".")[0] in BLOCKED:
                attempts.append(fullname)
                raise ImportError(f"{fullname} is blocked in the core isolation test")
            return None

    sys.meta_path.insert(0, Blocker())
    for name in list(sys.modules):  # nothing may be pre-imported (e.g. by a .pth file)
        assert name.split(".")[0] not in BLOCKED, name
    # the blocker works
    try:
        import sqlalchemy  # noqa: F401
    except ImportError:
        pass
    else:
        raise SystemExit("blocker did not block sqlalchemy")
    attempts.clear()

    sys.path[:0] = [sys.argv[2], sys.argv[3]]  # src/ and tests/unit/

    import movierater_core
    import movierater_core.errors
    import movierater_core.model
    import movierater_core.ports
    import movierater_core.rules
    import movierater_core.use_cases
    import fakes

    assert movierater_core.__file__.startswith(sys.argv[2]), movierater_core.__file__

    app = fakes.make_app()
    admin = app.accounts.register(
        {"username": "admin", "password": "correct horse 1230"}, is_admin=True
    )
    alice = app.accounts.register({"username": "alice", "password": "correct horse 1231"})
    key = app.accounts.log_in({"username": "alice", "password": "correct horse 1231"})
    assert app.accounts.authenticate(key) == alice
    movie = app.movies.create_movie(admin, {"title": "Alien"})
    rating, created = app.ratings.rate_movie(alice, movie.id, {"stars": 4})
    assert created and rating.stars.value == 4
    summary = app.movies.get_movie(alice, movie.id).ratings
    assert (summary.count, summary.total) == (1, 4), summary

    loaded = sorted(
        name for name in sys.modules if name.split(".")[0] in BLOCKED
    )
    print("LOADED=" + json.dumps(loaded))
    print("ATTEMPTS=" + json.dumps(attempts))
    print("OK")
    """
)


def test_core_runs_without_infrastructure_packages() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(BLOCKED), str(SRC_DIR), str(UNIT_DIR)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=UNIT_DIR,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "OK" in lines, result.stdout
    loaded = json.loads(next(line for line in lines if line.startswith("LOADED="))[7:])
    attempts = json.loads(next(line for line in lines if line.startswith("ATTEMPTS="))[9:])
    assert loaded == [], loaded
    assert attempts == [], f"the core or the fakes tried to import {attempts}"
