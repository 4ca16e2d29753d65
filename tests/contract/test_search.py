"""``?search=`` by index is the search by scan, exactly: for any titles and any term (1 to 6
characters: under 3 the trigram index has nothing to look up; ``%``, ``_``, the escape
``/``, ``\\``, quotes, FTS5's own ``*`` and ``^``, non-ASCII letters with and without case),
a page and its count are the movies a plain case-insensitive substring match over every title
finds, after movies were added, renamed and deleted (SQLite's index is kept in step by
triggers; PostgreSQL's pg_trgm index is the database's own), on the fake, SQLite, PostgreSQL
and MariaDB.

"Case-insensitive" is each database's, and stays what it was before the index: the oracle
is the search as it was then, one LIKE over every title with the index out of the way
(raw SQL, not the repository's). Where that can be said without the database: on SQLite
only ASCII letters fold (``é`` does not find ``É``), as SQLite's LIKE folds; on every
backend, ASCII titles and terms are Python's ``term.lower() in title.lower()``."""

from __future__ import annotations

import string

import movierater_adapters.sql.repositories as sql_repositories
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from movierater_adapters.sql import SqlDatabase
from movierater_adapters.sql.repositories import like_pattern
from sqlalchemy import text

from movierater_core.model import MovieFields, MovieOrder, MovieSort
from movierater_core.ports import Database

# Letters with and without case (ASCII, Latin-1, ß/ẞ, the Kelvin sign and long s that
# Unicode folds to ASCII letters, dotted and dotless i), digits, LIKE's and FTS5's specials.
ALPHABET = "aAbBkKsSiI09 %_/\\\"'*^[]-.éÉüÜßẞKſİı🎬"
ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)

titles_strategy = st.lists(st.text(ALPHABET, min_size=1, max_size=12), min_size=1, max_size=12)


def _scan(db: Database, term: str) -> list[int] | None:
    """The ids a LIKE over every title finds (by id), as the search was before the index;
    None for the fake (whose search is Python's, checked below)."""
    if not isinstance(db, SqlDatabase):
        return None
    dialect = db.engine.dialect.name
    holds = "title LIKE :p ESCAPE '/'" if dialect == "sqlite" else "lower(title) LIKE lower(:p) ESCAPE '/'"
    with db.engine.begin() as conn:
        if dialect == "postgresql":
            conn.execute(text("SET LOCAL enable_bitmapscan = off"))
            conn.execute(text("SET LOCAL enable_indexscan = off"))
        rows = conn.execute(
            text(f"SELECT id FROM movies WHERE {holds} ORDER BY id"), {"p": like_pattern(term, dialect)}
        )
        return [row[0] for row in rows]


def _expected_without_a_database(db: Database, titles: dict[int, str], term: str) -> list[int] | None:
    """What the substring match is, said in Python, where it can be: SQLite's folds ASCII
    letters only; elsewhere, for ASCII titles and terms, Python's lower()."""
    backend = db.engine.dialect.name if isinstance(db, SqlDatabase) else "fake"
    if backend == "sqlite":
        return [
            i for i, t in sorted(titles.items()) if term.translate(ASCII_LOWER) in t.translate(ASCII_LOWER)
        ]
    if term.isascii() and all(t.isascii() for t in titles.values()):
        return [i for i, t in sorted(titles.items()) if term.lower() in t.lower()]
    return None


def _check(db: Database, titles: dict[int, str], term: str) -> None:
    by_id = MovieOrder(MovieSort.ID)
    with db.reading() as repos:
        found = [m.id for m in repos.movies.page(1000, 0, order=by_id, search=term)]
        counted = repos.movies.count(search=term)
        by_title = [m.id for m in repos.movies.page(1000, 0, order=MovieOrder(MovieSort.TITLE), search=term)]
        second = [m.id for m in repos.movies.page(1, 1, order=by_id, search=term)]
    assert counted == len(found), term
    assert sorted(by_title) == found and second == found[1:2], term
    scanned = _scan(db, term)
    if scanned is not None:
        assert found == scanned, term
    expected = _expected_without_a_database(db, titles, term)
    if expected is not None:
        assert found == expected, term


def _terms(data: st.DataObject, titles: list[str]) -> list[str]:
    """Terms that occur (a piece of a title, its case swapped or not) and terms at random."""
    terms = []
    for _ in range(6):
        title = data.draw(st.sampled_from(titles))
        start = data.draw(st.integers(0, len(title) - 1))
        piece = title[start : start + data.draw(st.integers(1, 6))]
        terms.append(piece.swapcase() if data.draw(st.booleans()) else piece)
    terms += data.draw(st.lists(st.text(ALPHABET, min_size=1, max_size=6), min_size=1, max_size=4))
    # the use case trims the term (DRF's SearchFilter strips it); nothing left is no search
    return [term.strip() for term in terms if term.strip()]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(titles=titles_strategy, renamed=titles_strategy, data=st.data())
def test_the_search_finds_exactly_the_titles_that_hold_the_term(
    db: Database, titles: list[str], renamed: list[str], data: st.DataObject
) -> None:
    with db.writing() as repos:
        ids = list(repos.movies.add_many([MovieFields(title=t, description="") for t in titles]))
        stored = dict(zip(ids, titles, strict=True))
        # PUT/PATCH: a new title; then a delete: each kept in step by the index's triggers
        for movie_id, title in zip(ids[::2], renamed, strict=False):
            repos.movies.update(movie_id, MovieFields(title=title))
            stored[movie_id] = title
        repos.movies.update(ids[-1], MovieFields(description="only the description"))
        gone = data.draw(st.sampled_from(ids))
        repos.movies.delete(gone)
        del stored[gone]
    try:
        for term in _terms(data, list(stored.values()) or titles) + [t.strip() for t in titles[:2]]:
            _check(db, stored, term or "x")
    finally:
        with db.writing() as repos:
            for movie_id in stored:
                repos.movies.delete(movie_id)


@pytest.mark.parametrize("most", [0, 1, 2])
def test_past_the_most_candidates_worth_the_index_the_scan_finds_the_same(
    db: Database, monkeypatch: pytest.MonkeyPatch, most: int
) -> None:
    """On SQLite a term with more candidates than INDEXED_SEARCH_MAX is searched by scan:
    the same answers (here with 0, 1 or 2 candidates allowed the index)."""
    monkeypatch.setattr(sql_repositories, "INDEXED_SEARCH_MAX", most)
    titles = ["Alien", "ALIENS", "alien³", "Aliéné", "the alien 100%", "xeno"]
    with db.writing() as repos:
        ids = repos.movies.add_many([MovieFields(title=t, description="") for t in titles])
    stored = dict(zip(ids, titles, strict=True))
    for term in ("alien", "ALI", "lien", "100%", "xeno", "nope", "é", "al"):
        _check(db, stored, term)


def test_titles_that_fold_only_in_unicode_are_candidates_never_answers_on_sqlite(db: Database) -> None:
    """SQLite's trigram index folds É to é (Unicode), LIKE does not: the index's candidates
    are checked, so ``élan`` finds ``élan`` but not ``ÉLAN``, as before the index."""
    titles = ["ÉLAN", "élan", "Élan vital", "ELAN"]
    with db.writing() as repos:
        ids = repos.movies.add_many([MovieFields(title=t, description="") for t in titles])
    with db.reading() as repos:
        found = [m.title for m in repos.movies.page(10, 0, search="élan")]
    backend = db.engine.dialect.name if isinstance(db, SqlDatabase) else "fake"
    expected = {
        "sqlite": ["élan"],
        # Python's lower() and PostgreSQL's (a UTF-8 ctype): É is é
        "fake": ["ÉLAN", "élan", "Élan vital"],
        "postgresql": ["ÉLAN", "élan", "Élan vital"],
        # MariaDB's utf8mb4_general_ci ignores accents too: é is e
        "mysql": titles,
    }
    assert found == expected[backend]
    _check(db, dict(zip(ids, titles, strict=True)), "élan")
