"""``movierater ratings export`` / ``import`` and ``GET /api/users/me/export/`` on every
database (issue 17 item 6): JSON and CSV, everyone's and one user's, a round trip that
restores what was exported, a second import that changes nothing, rejected rows with their
lines, and the API's export through gunicorn equal to the CLI's for that user. A title
that a spreadsheet would run as a formula is written inert and read back whole.

The CLI runs in this process (``main([...])``): what is tested is the command, not that a
process starts (tests/integration/test_cli.py covers the executable)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from movierater_adapters.sql.tables import ratings
from movierater_entrypoints.bootstrap import Services, services
from movierater_entrypoints.cli import main
from sqlalchemy import delete, select

from tests.integration.conftest import USER_PASSWORD, Server, wipe

# A comma, quotes, non-ASCII, and the start of a spreadsheet formula: a CSV file writes it
# after an apostrophe (a spreadsheet shows it as text instead of running it), and an import
# reads it back without.
TRICKY = '=SUM(1, 2) "quoted" — ünïcode'


@pytest.fixture
def cast(
    database_url: str, engine: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Services, dict[str, Any]]]:
    """An emptied database with alice's and bob's ratings of three movies, and the CLI's
    environment pointing at it."""
    wipe(engine)
    monkeypatch.setenv("MOVIERATER_DATABASE_URL", database_url)
    svc = services(database_url=database_url)
    admin = svc.accounts.register({"username": "files-admin", "password": USER_PASSWORD}, is_admin=True)
    alice = svc.accounts.register({"username": "alice", "password": USER_PASSWORD})
    bob = svc.accounts.register({"username": "bob", "password": USER_PASSWORD})
    movies = {t: svc.movies.create_movie(admin, {"title": t}).id for t in ("Heat", "Alien", TRICKY)}
    for user, title, stars in ((alice, "Heat", 4), (alice, TRICKY, 2), (bob, "Alien", 5)):
        svc.ratings.rate_movie(user, movies[title], {"stars": stars})
    try:
        yield svc, {"alice": alice, "bob": bob, "movies": movies}
    finally:
        svc.close()
        wipe(engine)


def stars_now(engine: Any) -> set[tuple[int, int, int]]:
    with engine.connect() as conn:
        return {
            tuple(r) for r in conn.execute(select(ratings.c.user_id, ratings.c.movie_id, ratings.c.stars))
        }


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_export_everyone_and_import_it_back(
    cast: tuple[Services, dict[str, Any]], engine: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _svc, who = cast
    before = stars_now(engine)
    alice, bob, movies = who["alice"], who["bob"], who["movies"]
    for file_format in ("csv", "json"):
        path = tmp_path / f"all.{file_format}"
        code, _out, err = run(capsys, "ratings", "export", "--output", str(path))
        assert code == 0 and "Exported 3 rating(s), everyone's, as " + file_format in err
        text = path.read_text(encoding="utf-8")
        rows = list(csv.DictReader(io.StringIO(text))) if file_format == "csv" else json.loads(text)
        as_text = [{k: str(v) for k, v in row.items()} for row in rows]
        assert sorted(as_text, key=lambda r: (r["username"], r["movie"])) == sorted(
            (
                {
                    "user": str(u.id),
                    "username": u.username,
                    "movie": str(movies[t]),
                    "title": "'" + t if file_format == "csv" and t == TRICKY else t,
                    "stars": str(s),
                }
                for u, t, s in ((alice, "Heat", 4), (alice, TRICKY, 2), (bob, "Alien", 5))
            ),
            key=lambda r: (r["username"], r["movie"]),
        )
        with engine.begin() as conn:
            conn.execute(delete(ratings))
        code, out, _err = run(capsys, "ratings", "import", str(path))
        assert code == 0, out
        assert "ratings: 3 added, 0 changed to the file's stars, 0 already as in the file, 0 rejected" in out
        assert stars_now(engine) == before
        code, out, _err = run(capsys, "ratings", "import", str(path))  # twice = once
        assert "ratings: 0 added, 0 changed to the file's stars, 3 already as in the file, 0 rejected" in out
        assert stars_now(engine) == before


def test_one_users_export_moves_to_another_user_and_equals_the_apis(
    cast: tuple[Services, dict[str, Any]],
    engine: Any,
    server: Server,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    svc, who = cast
    alice, bob, movies = who["alice"], who["bob"], who["movies"]
    code, out, _err = run(capsys, "ratings", "export", "--user", "alice")  # JSON on stdout
    assert code == 0
    mine = json.loads(out)
    assert mine == [
        {"movie": movies["Heat"], "title": "Heat", "stars": 4},
        {"movie": movies[TRICKY], "title": TRICKY, "stars": 2},
    ]
    token = requests.post(
        server.base_url + "/auth/", json={"username": "alice", "password": USER_PASSWORD}, timeout=30
    ).json()["token"]
    for file_format in ("json", "csv"):
        api = requests.get(
            f"{server.base_url}/api/users/me/export/?format={file_format}",
            headers={"Authorization": f"Token {token}"},
            timeout=30,
        )
        assert api.status_code == 200, api.text
        assert api.headers["Content-Disposition"] == f'attachment; filename="ratings.{file_format}"'
        code, out, _err = run(capsys, "ratings", "export", "--user", "alice", "--format", file_format)
        assert api.content == out.encode(), file_format  # the API's file is the CLI's
    saved = tmp_path / "alices.CSV"
    saved.write_bytes(api.content)
    svc.ratings.rate_movie(bob, movies["Heat"], {"stars": 1})
    code, out, _err = run(capsys, "ratings", "import", str(saved), "--user", "bob")
    assert code == 0, out
    assert "ratings: 1 added, 1 changed to the file's stars, 0 already as in the file, 0 rejected" in out
    assert {(m, s) for u, m, s in stars_now(engine) if u == bob.id} == {
        (movies["Heat"], 4),
        (movies[TRICKY], 2),
        (movies["Alien"], 5),
    }
    assert svc.movies.get_movie(alice, movies["Heat"]).ratings.count == 2  # the summaries moved with it


def test_rejected_rows_are_reported_with_their_lines(
    cast: tuple[Services, dict[str, Any]], engine: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _svc, who = cast
    before = stars_now(engine)
    path = tmp_path / "bad.csv"
    path.write_text(
        "username,movie,title,stars\n"
        f"alice,{who['movies']['Alien']},Alien,3\n"  # line 2: fine (added)
        "alice,,Heat,five\n"  # line 3
        "nobody,,Heat,3\n"  # line 4
        "alice,999999,,3\n"  # line 5
        "alice,,No such film,3\n"  # line 6
        ",,Heat,3\n",  # line 7
        encoding="utf-8",
    )
    code, out, _err = run(capsys, "ratings", "import", str(path))
    assert code == 1
    assert out.splitlines() == [
        "rejected line 3: stars: A valid integer is required.",
        "rejected line 4: username: no user named 'nobody'.",
        "rejected line 5: movie: no movie has id 999999.",
        "rejected line 6: title: no movie is titled 'No such film'.",
        "rejected line 7: username: This field is required (or import for one user: --user).",
        "ratings: 1 added, 0 changed to the file's stars, 0 already as in the file, 5 rejected",
    ]
    assert stars_now(engine) == before | {(who["alice"].id, who["movies"]["Alien"], 3)}


def test_operator_mistakes_are_one_line(
    cast: tuple[Services, dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(
        capsys, "ratings", "export", "--user", "nobody", "--output", str(tmp_path / "x.json")
    )
    assert (code, err.strip()) == (1, "movierater: No user named 'nobody'.")
    assert not (tmp_path / "x.json").exists()
    code, _out, err = run(capsys, "ratings", "import", str(tmp_path / "ratings.txt"))
    assert code == 2 and "unknown format '.txt'" in err
    (tmp_path / "r.json").write_text('{"not": "a list"}', encoding="utf-8")
    code, _out, err = run(capsys, "ratings", "import", str(tmp_path / "r.json"))
    assert code == 2 and "must hold a JSON list of objects" in err
    (tmp_path / "r.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    code, _out, err = run(capsys, "ratings", "import", str(tmp_path / "r.csv"), "--user", "alice")
    assert code == 2 and "must name 'stars'" in err
