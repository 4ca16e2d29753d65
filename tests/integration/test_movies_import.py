"""``movierater movies import FILE``: CSV and JSON, bad rows reported, twice = once."""

from __future__ import annotations

import json
from pathlib import Path

from movierater_adapters.sql.tables import movies
from sqlalchemy import create_engine, select

from tests.integration.backends import fresh_database
from tests.integration.conftest import run_cli

CSV = """title,description,imagePath
Alien,In space.,https://img.example/alien.jpg
,no title,
Heat,"Two men, one city.",
Brazil,bad poster,not a url
"""
JSON_ROWS = [
    {"title": "Ran", "description": "Lear in Japan.", "imagePath": None},
    {"title": "Alien", "description": "already imported from the CSV"},
    {"title": "x" * 151},
    ["not", "an", "object"],
]


def stored(url: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(movies).order_by(movies.c.id))]
    engine.dispose()
    return rows


def test_movies_from_csv_and_json(backend: str, tmp_path: Path) -> None:
    with fresh_database(backend, tmp_path) as url:
        env = {"MOVIERATER_DATABASE_URL": url}
        run_cli("migrate", env=env)
        csv_file, json_file = tmp_path / "movies.csv", tmp_path / "more.JSON"
        csv_file.write_text(CSV, encoding="utf-8")
        json_file.write_text(json.dumps(JSON_ROWS), encoding="utf-8")

        first = run_cli("movies", "import", str(csv_file), env=env, check=False)
        assert first.returncode == 1  # some rows rejected, the rest imported
        assert "rejected row 2: title: This field may not be blank." in first.stdout
        assert "rejected row 4: imagePath: Enter a valid URL." in first.stdout
        assert "movies: 2 added, 0 already there (same title), 2 rejected" in first.stdout
        assert "importing" in first.stderr

        from_json = run_cli("movies", "import", str(json_file), env=env, check=False)
        assert from_json.returncode == 1
        assert "rejected row 3: title: Ensure this field has no more than 150 characters." in from_json.stdout
        assert "rejected row 4: non_field_errors: Invalid data. Expected a dictionary, but got list." in (
            from_json.stdout
        )
        assert "movies: 1 added, 1 already there (same title)" in from_json.stdout

        before = stored(url)
        assert [(title, description, image) for _, title, description, image, *_ in before] == [
            ("Alien", "In space.", "https://img.example/alien.jpg"),
            ("Heat", "Two men, one city.", None),  # an empty CSV cell: no image
            ("Ran", "Lear in Japan.", None),
        ]
        again = run_cli("movies", "import", str(csv_file), env=env, check=False)
        assert "movies: 0 added, 2 already there (same title), 2 rejected" in again.stdout
        assert stored(url) == before


def test_unknown_or_unreadable_files_are_refused(tmp_path: Path) -> None:
    env = {"MOVIERATER_DATABASE_URL": f"sqlite:///{tmp_path / 'ours.db'}"}
    cases = {
        "movies.xlsx": ("PK\x03\x04", "unknown format '.xlsx': use .csv (with a header row) or .json"),
        "broken.json": ('[{"title": "A"', "not JSON"),
        "object.json": ('{"title": "A"}', "must hold a JSON list of objects, not a dict"),
        "noheader.csv": ("Alien,In space.\n", "the header row must name a 'title' column"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_text(content)
        refused = run_cli("movies", "import", str(tmp_path / name), env=env, check=False)
        assert refused.returncode == 2 and message in refused.stderr, (name, refused.stderr)
        assert "Traceback" not in refused.stderr
    missing = run_cli("movies", "import", str(tmp_path / "absent.csv"), env=env, check=False)
    assert missing.returncode == 2 and "No such file" in missing.stderr
