"""A ratings file's CSV cells (adapters/rating_files.py): no text cell of an export starts
as a spreadsheet formula would, and an import reads every text back exactly as exported."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from movierater_adapters.rating_files import FORMULA_STARTS, as_written, inert, read_rating_rows, write

from movierater_core.model import ExportedRating, Stars

# What spreadsheets run as a formula (the apostrophe is only there to keep the escape
# reversible, and is what makes a cell text).
RUN_AS_FORMULA = tuple(start for start in FORMULA_STARTS if start != "'")

texts = st.text(
    st.characters(blacklist_categories=("Cs",)) | st.sampled_from(FORMULA_STARTS), min_size=1, max_size=40
)


@given(texts)
def test_an_inert_cell_never_starts_a_formula_and_reads_back_whole(text: str) -> None:
    cell = inert(text)
    assert not cell.startswith(RUN_AS_FORMULA)
    assert as_written(cell) == text


@given(st.text(max_size=40).filter(lambda cell: not cell.startswith("'")))
def test_a_cell_without_an_apostrophe_first_reads_as_it_is(cell: str) -> None:
    assert as_written(cell) == cell


@given(st.text(max_size=40).filter(lambda rest: not rest.startswith(FORMULA_STARTS)))
def test_an_apostrophe_before_anything_but_a_formulas_start_is_kept(rest: str) -> None:
    # A hand-written file: "'Round Midnight" is a title, not an escaped one.
    assert as_written("'" + rest) == "'" + rest


def test_the_known_cases() -> None:
    assert inert('=HYPERLINK("http://evil")') == '\'=HYPERLINK("http://evil")'
    assert inert("+1") == "'+1" and inert("-1") == "'-1" and inert("@SUM(A1)") == "'@SUM(A1)"
    assert inert("'Round Midnight") == "''Round Midnight"
    assert inert("Heat") == "Heat" and inert("") == ""
    assert as_written("'Round Midnight") == "'Round Midnight"  # typed by a person: kept
    assert as_written("''Round Midnight") == "'Round Midnight"


@given(st.lists(st.tuples(texts, texts, st.integers(1, 5)), min_size=1, max_size=5))
def test_an_exported_csv_file_imports_as_it_was(rows: list[tuple[str, str, int]]) -> None:
    ratings = [
        ExportedRating(n, 10 + n, username, 100 + n, title, Stars(stars))
        for n, (username, title, stars) in enumerate(rows, start=1)
    ]
    out = io.StringIO()
    assert write(ratings, out, "csv", with_user=True) == len(ratings)
    for cells in csv.DictReader(io.StringIO(out.getvalue())):
        assert not cells["username"].startswith(RUN_AS_FORMULA)
        assert not cells["title"].startswith(RUN_AS_FORMULA)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ratings.csv"
        path.write_text(out.getvalue(), encoding="utf-8", newline="")
        read = [row for _where, row in read_rating_rows(path, "csv")]
    assert read == [
        {
            "user": str(r.user_id),
            "username": r.username,
            "movie": str(r.movie_id),
            "title": r.title,
            "stars": r.stars.value,
        }
        for r in ratings
    ]
