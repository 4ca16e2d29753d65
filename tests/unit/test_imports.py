"""The import use cases on fakes: Django's database (as LegacySource records) and movie files."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movierater_core.errors import AlreadyStored, ImportCollision
from movierater_core.ports_legacy import LegacyMovie, LegacyRating, LegacyToken, LegacyUser
from movierater_core.use_cases.django_import import DjangoImport, DjangoImportReport
from movierater_core.use_cases.imports import MovieImport
from movierater_core.use_cases.user_admin import SYSTEM
from tests.unit.fakes import (
    App,
    CountingTokenIssuer,
    FakeImportRecords,
    FakeMovies,
    FakeRatings,
    FakeTokens,
    FakeUsers,
    make_app,
)

JOINED = datetime(2020, 5, 17, 8, 30, tzinfo=UTC)
KEY = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"  # DRF's documentation example


@dataclass
class Source:
    """A Django database in memory."""

    users: list[LegacyUser] = field(default_factory=list)
    movies: list[LegacyMovie] = field(default_factory=list)
    ratings: list[LegacyRating] = field(default_factory=list)
    tokens: list[LegacyToken] = field(default_factory=list)

    def count(self, kind: str) -> int:
        return len(getattr(self, kind))

    def user(self, legacy_id: int, username: object, password: str = "pw", **kw: bool) -> Source:
        flags = {"is_admin": False, "is_active": True, **kw}
        self.users.append(LegacyUser(str(legacy_id), username, f"old${password}", JOINED, **flags))
        return self

    def movie(self, legacy_id: int, title: object, description: object = "", image: object = None) -> Source:
        self.movies.append(LegacyMovie(str(legacy_id), title, description, image))
        return self

    def rating(self, legacy_id: int, user: int, movie: int, stars: object) -> Source:
        self.ratings.append(LegacyRating(str(legacy_id), str(user), str(movie), stars))
        return self

    def token(self, key: str, user: int) -> Source:
        self.tokens.append(LegacyToken(key, str(user), JOINED))
        return self


class _Reader:
    """LegacySource's methods over a Source's lists (the attributes share their names)."""

    def __init__(self, source: Source) -> None:
        self._s = source

    def count(self, kind: str) -> int:
        return self._s.count(kind)

    def users(self) -> Iterable[LegacyUser]:
        return iter(self._s.users)

    def movies(self) -> Iterable[LegacyMovie]:
        return iter(self._s.movies)

    def ratings(self) -> Iterable[LegacyRating]:
        return iter(self._s.ratings)

    def tokens(self) -> Iterable[LegacyToken]:
        return iter(self._s.tokens)


def run(app: App, source: Source) -> DjangoImportReport:
    importer = DjangoImport(app.db, app.hasher, CountingTokenIssuer(), app.clock)
    return importer.run(_Reader(source))


def counts(report: DjangoImportReport) -> dict[str, tuple[int, int, int, int]]:
    return {kind: (t.added, t.already, len(t.changed), len(t.rejected)) for kind, t in report.tallies.items()}


def reasons(report: DjangoImportReport, kind: str) -> dict[str, str]:
    return {p.where: p.reason for p in report.tallies[kind].rejected}


def a_small_site() -> Source:
    return (
        Source()
        .user(1, "alice", "alice-pass")
        .user(2, "boss", "boss-pass", is_admin=True)
        .movie(10, "Alien", "In space.", "https://img.example/alien.jpg")
        .movie(11, "Alien", "A remake with the same title.")  # Django titles are not unique
        .rating(100, 1, 10, 5)
        .rating(101, 2, 10, 2)
        .rating(102, 1, 11, 4)
        .token(KEY, 1)
    )


def test_everything_arrives_and_old_users_keep_password_token_and_role() -> None:
    app = make_app()
    report = run(app, a_small_site())
    assert report.complete
    assert counts(report) == {
        "users": (2, 0, 0, 0),
        "movies": (2, 0, 0, 0),
        "ratings": (3, 0, 0, 0),
        "tokens": (1, 0, 0, 0),
    }
    movies = {m.id: m for m in app.movies.list_movies(app.accounts.authenticate(KEY)).items}
    assert [(m.title, m.image_path, m.ratings.count, m.ratings.total) for m in movies.values()] == [
        ("Alien", "https://img.example/alien.jpg", 2, 7),
        ("Alien", None, 1, 4),
    ]
    assert app.accounts.authenticate(KEY).username == "alice"  # Django's token still works
    assert KEY not in repr(app.db.state)  # only its digest is stored
    assert [u.is_admin for u in app.user_admin.all_users(SYSTEM)] == [False, True]
    key = app.accounts.log_in({"username": "boss", "password": "boss-pass"})
    assert app.accounts.authenticate(key).is_admin
    boss_hash = next(h for u, h in app.db.state.users.values() if u.username == "boss")
    assert boss_hash == "fake$boss-pass"  # re-hashed to ours at the first login


def test_a_second_run_changes_nothing() -> None:
    app = make_app()
    run(app, a_small_site())
    before = copy.deepcopy(app.db.state)
    again = run(app, a_small_site())
    assert counts(again) == {
        "users": (0, 2, 0, 0),
        "movies": (0, 2, 0, 0),
        "ratings": (0, 3, 0, 0),
        "tokens": (0, 1, 0, 0),
    }
    assert app.db.state == before


def test_bad_rows_are_reported_with_their_reason_and_the_rest_imported() -> None:
    app = make_app()
    app.accounts.register({"username": "carol", "password": "a local passphrase"})
    source = (
        Source()
        .user(1, "alice")
        .user(2, "bad name!")
        .user(3, "carol")  # someone else has that name here
        .user(4, "dave")
        .user(5, "eve", is_active=False)
        .movie(10, "Alien")
        .movie(11, "T" * 151)
        .movie(12, "Fine", "D" * 361, "ftp://old.example/poster.jpg")
        .rating(100, 1, 10, 5)
        .rating(101, 1, 11, 3)  # its movie was rejected
        .rating(102, 4, 10, 6)  # Django never enforced the validators in the database
        .rating(103, 2, 10, 4)  # its user was rejected
        .rating(104, 5, 10, 1)
        .token(KEY, 5)
        .token("not a key!", 1)
    )
    source.users[3] = LegacyUser("4", "dave", "bcrypt$$2b$12$xyz", JOINED, is_admin=False, is_active=True)
    report = run(app, source)
    assert not report.complete
    assert reasons(report, "users") == {
        "user 2": "username: Enter a valid username. This value may contain only letters, numbers, "
        "and @/./+/-/_ characters.",
        "user 3": "username: A user with that username already exists.",
        "user 4": "password: hash format 'bcrypt' is not supported",
    }
    assert reasons(report, "movies") == {
        "movie 11": "title: Ensure this field has no more than 150 characters.",
        "movie 12": "description: Ensure this field has no more than 360 characters.; "
        "imagePath: Enter a valid URL.",
    }
    assert reasons(report, "ratings") == {
        "rating 101": "its movie 11 is not here (rejected or deleted)",
        "rating 102": "stars: Ensure this value is less than or equal to 5.",
        "rating 103": "its user 2 is not here (rejected or deleted)",
    }
    assert reasons(report, "tokens") == {
        "token of user 5": "its user is inactive in Django",
        "token of user 1": "the key is not one this service accepts",
    }
    assert counts(report)["users"] == (2, 0, 0, 3) and counts(report)["ratings"] == (2, 0, 0, 3)
    (alien,) = [m for m in app.db.state.movies.values()]
    assert (alien.ratings.count, alien.ratings.total) == (2, 6)  # eve's rating counts, as in Django
    eve_hash = next(h for u, h in app.db.state.users.values() if u.username == "eve")
    assert eve_hash == "!old$pw" and not app.hasher.verify(eve_hash, "pw")


def test_rows_changed_in_the_source_are_reported_and_left_as_they_are_here() -> None:
    app = make_app()
    run(app, a_small_site())
    changed = a_small_site()
    changed.movies[0] = LegacyMovie("10", "Aliens", "Renamed in Django.", None)
    changed.ratings[0] = LegacyRating("100", "1", "10", 1)
    report = run(app, changed)
    assert {p.where for t in report.tallies.values() for p in t.changed} == {"movie 10", "rating 100"}
    assert counts(report)["movies"] == (0, 1, 1, 0)
    assert not report.complete
    alien = app.db.state.movies[1]
    assert (alien.title, alien.ratings.total) == ("Alien", 7)  # ours kept, not overwritten


def test_what_was_deleted_here_after_the_import_stays_deleted() -> None:
    app = make_app()
    run(app, a_small_site())
    alice = app.accounts.authenticate(KEY)
    app.ratings.remove_own_rating(alice, 1)  # alice takes back her rating of Alien here
    app.accounts.log_out(KEY)
    before = copy.deepcopy(app.db.state)
    report = run(app, a_small_site())
    assert counts(report)["tokens"] == (0, 1, 0, 0)
    assert counts(report)["ratings"] == (0, 3, 0, 0)
    assert app.db.state == before
    assert app.db.state.movies[1].ratings.count == 1


def test_large_imports_are_written_in_batches() -> None:
    app = make_app()
    source = Source().user(1, "alice")
    for m in range(1, 1201):
        source.movie(m, f"Movie {m}").rating(m, 1, m, 1 + m % 5)
    commits = app.db.commits
    report = run(app, source)
    assert counts(report)["ratings"] == (1200, 0, 0, 0)
    assert app.db.commits - commits == 1 + 3 + 3  # users, movies, ratings (no tokens: no batch)


pairs = st.dictionaries(
    st.tuples(st.integers(1, 4), st.integers(1, 3)),  # (user, movie): one rating each, as in Django
    st.one_of(st.integers(-1, 7), st.sampled_from(["5", None, 2.0, True])),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(pairs)
def test_aggregates_are_the_count_and_sum_of_imported_stars_and_twice_is_once(ratings: dict) -> None:
    source = Source()
    for u in range(1, 5):
        source.user(u, f"user{u}")
    for m in range(1, 4):
        source.movie(m, f"Movie {m}")
    for n, ((u, m), stars) in enumerate(sorted(ratings.items()), start=1):
        source.rating(n, u, m, stars)
    app = make_app()
    report = run(app, source)
    valid = {k: v for k, v in ratings.items() if type(v) is int and 1 <= v <= 5}
    assert counts(report)["ratings"] == (len(valid), 0, 0, len(ratings) - len(valid))
    for movie in app.db.state.movies.values():
        stars = [v for (_, m), v in valid.items() if m == movie.id]
        assert (movie.ratings.count, movie.ratings.total) == (len(stars), sum(stars))
    once = copy.deepcopy(app.db.state)
    run(app, source)
    assert app.db.state == once


# ---- movies from a file ------------------------------------------------------------------


def test_movie_rows_are_validated_deduplicated_by_title_and_idempotent() -> None:
    app = make_app()
    rows: list[object] = [
        {"title": "Alien", "description": "In space.", "imagePath": "https://img.example/a.jpg"},
        {"title": "", "description": "no title"},
        {"description": "missing title"},
        {"title": "Heat", "imagePath": "not a url"},
        "not an object",
        {"title": "  Alien  "},  # the same title once trimmed, as the API trims it
        {"title": "Brazil", "description": "x" * 361},
        {"title": "Ran"},
    ]
    importer = MovieImport(app.db, app.uploads)
    tally = importer.run(rows)
    assert (tally.added, tally.already) == (2, 1)
    assert {p.where: p.reason for p in tally.rejected} == {
        "row 2": "title: This field may not be blank.",
        "row 3": "title: This field is required.",
        "row 4": "imagePath: Enter a valid URL.",
        "row 5": "non_field_errors: Invalid data. Expected a dictionary, but got str.",
        "row 7": "description: Ensure this field has no more than 360 characters.",
    }
    before = copy.deepcopy(app.db.state)
    again = importer.run(rows)
    assert (again.added, again.already, len(again.rejected)) == (0, 3, 5)
    assert app.db.state == before
    assert sorted(m.title for m in app.db.state.movies.values()) == ["Alien", "Ran"]


# ---- set-based batches -------------------------------------------------------------------


def test_batches_make_no_round_trip_per_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each batch asks its questions for all its rows at once and writes them in one go."""
    for cls, name in [
        (FakeUsers, "get"),
        (FakeUsers, "credentials"),
        (FakeMovies, "get"),
        (FakeRatings, "find"),
        (FakeTokens, "add"),
        (FakeTokens, "touch"),
    ]:
        monkeypatch.setattr(cls, name, _forbidden(f"{cls.__name__}.{name}"))
    bulk = {"users": 0, "movies": 0, "ratings": 0, "adjust": 0}
    for cls, name, key in [
        (FakeUsers, "add_many", "users"),
        (FakeMovies, "add_many", "movies"),
        (FakeRatings, "add_many", "ratings"),
        (FakeMovies, "adjust_ratings_many", "adjust"),
    ]:
        monkeypatch.setattr(cls, name, _counted(getattr(cls, name), bulk, key))
    source = Source()
    for u in range(1, 601):
        source.user(u, f"user{u}")
    for m in range(1, 11):
        source.movie(m, f"Movie {m}")
    for n in range(1, 1001):
        source.rating(n, 1 + n % 600, 1 + (n // 100) % 10, 1 + n % 5)  # distinct pairs
    app = make_app()
    report = run(app, source)
    assert counts(report)["ratings"] == (1000, 0, 0, 0)
    assert bulk == {"users": 2, "movies": 1, "ratings": 2, "adjust": 2}  # once a batch
    assert sum(m.ratings.count for m in app.db.state.movies.values()) == 1000


def _forbidden(name: str) -> Any:
    def refuse(*_args: object, **_kw: object) -> None:
        raise AssertionError(f"{name} called: a round trip per row")

    return refuse


def _counted(method: Any, calls: dict[str, int], key: str) -> Any:
    def counting(self: object, *args: object, **kw: object) -> Any:
        calls[key] += 1
        return method(self, *args, **kw)

    return counting


def test_rows_that_clash_within_one_batch_are_rejected_as_across_batches() -> None:
    app = make_app()
    source = (
        Source()
        .user(1, " alice")  # the same username once trimmed, as the API trims it
        .user(2, "alice")
        .movie(10, "Alien")
        .rating(100, 1, 10, 5)
        .rating(101, 1, 10, 3)  # Django's unique_together was not always there
    )
    report = run(app, source)
    assert reasons(report, "users") == {"user 2": "username: A user with that username already exists."}
    assert reasons(report, "ratings") == {
        "rating 101": "the user has rated this movie here already; kept that"
    }
    (alien,) = app.db.state.movies.values()
    assert (alien.ratings.count, alien.ratings.total) == (1, 5)


def test_django_users_that_are_one_name_once_normalized_import_once() -> None:
    """Django normalizes names as it stores them, but rows written around it need not be:
    the first spelling imports (as its NFKC form), the others are rejected rows."""
    app = make_app()
    source = Source().user(1, "ｃａｒｏｌ").user(2, "carol").user(3, "𝐜𝐚𝐫𝐨𝐥").user(4, "ﬁona")
    report = run(app, source)
    taken = "username: A user with that username already exists."
    assert reasons(report, "users") == {"user 2": taken, "user 3": taken}
    assert counts(report)["users"] == (2, 0, 0, 2)
    assert sorted(user.username for user, _hash in app.db.state.users.values()) == ["carol", "fiona"]


def test_a_batch_that_collides_with_another_import_is_rolled_back_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = make_app()
    run(app, Source().user(1, "alice"))
    before = copy.deepcopy(app.db.state)

    def stored_meanwhile(self: object, kind: str, records: object, at: object) -> None:
        raise AlreadyStored(f"{kind}: recorded by another import meanwhile")

    monkeypatch.setattr(FakeImportRecords, "add", stored_meanwhile)
    with pytest.raises(ImportCollision, match="another import is running"):
        run(app, Source().user(1, "alice").movie(10, "Alien"))
    assert app.db.state == before  # the movie written before the collision was rolled back
