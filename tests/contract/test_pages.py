"""The list ports' pages (``page``, ``count``), alike on the fakes and on SQLite, PostgreSQL
and MariaDB: every window of every order is the ordered whole's slice, ties come by id (in the
order's direction),
and a search is a case-insensitive substring of the title with ``%``, ``_`` and ``/`` taken
literally. Titles here are ones every collation orders alike (lower-case ASCII letters)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from movierater_core.model import (
    Movie,
    MovieFields,
    MovieOrder,
    MovieSort,
    RatingSummary,
    ScorePrior,
    Stars,
    SummaryDelta,
)
from movierater_core.ports import Database
from tests.unit.fakes import sorted_movies

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def added(stars: int) -> SummaryDelta:
    return SummaryDelta.added(Stars(stars))


def changed(old: int, new: int) -> SummaryDelta:
    return SummaryDelta.changed(Stars(old), Stars(new))


# (title, ratings count, stars total): ties on each field, and equal averages reached
# from different counts (3/1 = 6/2, 7/3 = 14/6), and none.
MOVIES = [  # title, its ratings' stars: ties on count, on average and on score
    ("delta", [3]),
    ("alpha", [3, 3]),
    ("beta", [2, 2, 3]),
    ("beta", []),
    ("gamma", [2, 2, 2, 2, 3, 3]),
    ("alpha", [1]),
    ("epsilon", [5, 5]),
    ("zeta", []),
    ("eta", [3, 3, 4]),
]
LIMITS = (1, 2, 3, 4, len(MOVIES) - 1, len(MOVIES), len(MOVIES) + 5)


@pytest.fixture
def movies(db: Database) -> list[Movie]:
    with db.writing() as repos:
        for title, stars in MOVIES:
            movie = repos.movies.add(MovieFields(title=title, description=""))
            repos.movies.adjust_ratings(movie.id, sum((added(n) for n in stars), SummaryDelta()))
    with db.reading() as repos:
        return list(repos.movies.list())


@pytest.mark.parametrize("order", MovieOrder.every(), ids=lambda order: order.name)
def test_every_window_of_every_order_is_a_slice_of_the_ordered_whole(
    db: Database, movies: list[Movie], order: MovieOrder
) -> None:
    whole = sorted_movies(movies, order)
    with db.reading() as repos:
        assert list(repos.movies.page(len(movies), 0, order=order)) == whole
        for limit in LIMITS:
            for offset in range(len(movies) + 2):
                page = repos.movies.page(limit, offset, order=order)
                assert list(page) == whole[offset : offset + limit], (limit, offset)
        assert repos.movies.count() == len(movies)


def test_ties_come_by_id_and_equal_averages_tie(db: Database, movies: list[Movie]) -> None:
    with db.reading() as repos:
        by_average = repos.movies.page(100, 0, order=MovieOrder(MovieSort.AVERAGE, descending=True))
        by_title = repos.movies.page(100, 0, order=MovieOrder(MovieSort.TITLE))
    averages = [(m.title, m.ratings.average) for m in by_average]
    # 10/2 = 5; 10/3; 3/1 = 6/2 (alpha before delta: by id, descending too); 14/6 = 7/3 ...
    assert averages[:6] == [
        ("epsilon", 5),
        ("eta", 10 / 3),
        ("alpha", 3),
        ("delta", 3),
        ("gamma", 14 / 6),
        ("beta", 7 / 3),
    ]
    assert [m.title for m in by_title][:4] == ["alpha", "alpha", "beta", "beta"]
    alphas = [m.id for m in by_title if m.title == "alpha"]
    assert alphas == sorted(alphas)


@pytest.mark.parametrize("weight", [1, 3, 10, 1000])
@pytest.mark.parametrize("descending", [True, False])
def test_pages_by_score_are_the_cores_scores_in_order_ties_by_id(
    db: Database, movies: list[Movie], weight: int, descending: bool
) -> None:
    """``?ordering=score``: the database's arithmetic is the core's (``RatingSummary.score``),
    with the prior bound as given; equal scores (here the two movies without ratings, both
    exactly C) tie and come by id."""
    with db.reading() as repos:
        catalogue = repos.movies.catalogue()
        prior = ScorePrior.of(catalogue, weight)
        order = MovieOrder(MovieSort.SCORE, descending=descending)
        whole = list(repos.movies.page(100, 0, order=order, prior=prior))
        for offset in range(len(movies) + 1):
            assert list(repos.movies.page(3, offset, order=order, prior=prior)) == whole[offset : offset + 3]
        rated = repos.movies.page_rated_by(1, 100, 0, order=order, prior=prior)
        assert [m for m, _ in rated] == whole
    assert catalogue == RatingSummary.of([n for _, stars in MOVIES for n in stars])
    assert prior.mean == 51 / 18
    assert whole == sorted_movies(movies, order, prior)
    keys = [(m.ratings.score(prior), m.id) for m in whole]
    assert keys == sorted(keys, reverse=descending)


def test_the_default_order_is_by_id(db: Database, movies: list[Movie]) -> None:
    with db.reading() as repos:
        assert list(repos.movies.page(100, 0)) == sorted(movies, key=lambda m: m.id)


SEARCHED = ["100%", "100 percent", "1000", "a_b", "axb", "Slash/Dot", "slashdot", "UPPER case", "Ünïcode"]


@pytest.mark.parametrize(
    ("search", "found"),
    [
        ("100%", ["100%"]),  # % is a character, not "anything"
        ("100", ["100%", "100 percent", "1000"]),
        ("a_b", ["a_b"]),  # _ is a character, not "any one"
        ("/", ["Slash/Dot"]),  # the escape character itself
        ("h/d", ["Slash/Dot"]),
        ("upper CASE", ["UPPER case"]),  # case-insensitive, either side
        ("SLASH", ["Slash/Dot", "slashdot"]),
        ("ïcode", ["Ünïcode"]),
        ("[a]", []),  # SQL Server's [ ] class is a character too
        ("nothing like it", []),
    ],
)
def test_search_is_a_case_insensitive_literal_substring_of_the_title(
    db: Database, search: str, found: list[str]
) -> None:
    with db.writing() as repos:
        for title in SEARCHED:
            repos.movies.add(MovieFields(title=title, description=""))
    with db.reading() as repos:
        assert [m.title for m in repos.movies.page(100, 0, search=search)] == found
        assert repos.movies.count(search=search) == len(found)
        assert [m.title for m in repos.movies.page(1, 1, search=search)] == found[1:2]
        ordered = repos.movies.page(100, 0, order=MovieOrder(MovieSort.ID, descending=True), search=search)
        assert [m.title for m in ordered] == found[::-1]


def test_ratings_pages_follow_the_lists_order_with_each_filter(db: Database) -> None:
    with db.writing() as repos:
        ann, bob = repos.users.add("ann", "h"), repos.users.add("bob", "h")
        one, two, three = (repos.movies.add(MovieFields(title=t, description="")) for t in "abc")
        # ann rates three before one: her list is by movie, not by rating id
        rated = [(ann, three, 1), (bob, one, 2), (ann, one, 3), (bob, two, 4), (ann, two, 5)]
        for user, movie, stars in rated:
            repos.ratings.add(user.id, movie.id, Stars(stars), at=T0)
    with db.reading() as repos:
        for movie_id in (None, one.id, three.id):
            for user_id in (None, ann.id, bob.id):
                whole = list(repos.ratings.list(movie_id=movie_id, user_id=user_id))
                assert repos.ratings.count(movie_id=movie_id, user_id=user_id) == len(whole)
                for limit in (1, 2, 5, 6):
                    for offset in range(7):
                        page = repos.ratings.page(limit, offset, movie_id=movie_id, user_id=user_id)
                        assert list(page) == whole[offset : offset + limit]
        assert [r.movie_id for r in repos.ratings.page(10, 0, user_id=ann.id)] == [one.id, two.id, three.id]


def test_ratings_since_a_time_are_those_changed_at_or_after_it_by_changed_then_id(db: Database) -> None:
    """``?since=``: times to the microsecond on every backend, the rows without times
    (imported) never, the order (changed, id) whatever the filters, paged by storage."""
    us = timedelta(microseconds=1)
    with db.writing() as repos:
        ann, bob = repos.users.add("ann", "h"), repos.users.add("bob", "h")
        one, two, three = (repos.movies.add(MovieFields(title=t, description="")) for t in "abc")
        late = repos.ratings.add(ann.id, one.id, Stars(1), at=T0 + 2 * us)
        early = repos.ratings.add(bob.id, one.id, Stars(2), at=T0)
        tie = repos.ratings.add(ann.id, two.id, Stars(3), at=T0 + 2 * us)
        moved = repos.ratings.add(bob.id, two.id, Stars(4), at=T0 - 5 * us, summary_delta=added(4))
        assert repos.ratings.change_stars(moved, Stars(5), at=T0 + us, summary_delta=changed(4, 5))
        repos.ratings.add_many([(ann.id, three.id, Stars(5))])  # imported: no times
    with db.reading() as repos:
        [imported] = repos.ratings.list(movie_id=three.id)
        assert (imported.created, imported.changed) == (None, None)
        for since, expected in [
            (T0 - 10 * us, [early.id, moved.id, late.id, tie.id]),
            (T0, [early.id, moved.id, late.id, tie.id]),
            (T0 + us, [moved.id, late.id, tie.id]),
            (T0 + 2 * us, [late.id, tie.id]),
            (T0 + 3 * us, []),
        ]:
            assert [r.id for r in repos.ratings.page(10, 0, since=since)] == expected, since
            assert repos.ratings.count(since=since) == len(expected)
            for offset in range(len(expected) + 1):
                assert [r.id for r in repos.ratings.page(1, offset, since=since)] == expected[
                    offset : offset + 1
                ]
        assert [r.id for r in repos.ratings.page(10, 0, user_id=ann.id, since=T0)] == [late.id, tie.id]
        assert [r.id for r in repos.ratings.page(10, 0, movie_id=two.id, since=T0)] == [moved.id, tie.id]
        assert repos.ratings.count(movie_id=one.id, user_id=bob.id, since=T0) == 1
        got = repos.ratings.get(moved.id)
        assert got is not None and (got.created, got.changed) == (T0 - 5 * us, T0 + us)


def test_users_pages_are_by_id(db: Database) -> None:
    with db.writing() as repos:
        users = [repos.users.add(name, "h") for name in ("cy", "ann", "bob")]
    with db.reading() as repos:
        assert repos.users.count() == 3
        assert list(repos.users.page(2, 0)) == users[:2]
        assert list(repos.users.page(2, 2)) == users[2:]
        assert list(repos.users.page(2, 3)) == []


@pytest.mark.parametrize("order", MovieOrder.every(), ids=lambda order: order.name)
def test_pages_rated_by_a_user_are_the_pages_with_exactly_their_stars(
    db: Database, movies: list[Movie], order: MovieOrder
) -> None:
    """``?include=my_rating``: the same rows as ``page`` in the same order (the outer join
    adds no row and drops none), each with this user's stars; another user's never show."""
    with db.writing() as repos:
        ann = repos.users.add("ann-rated-by", "h")
        bob = repos.users.add("bob-rated-by", "h")
        mine = {m.id: Stars(1 + i % 5) for i, m in enumerate(movies) if i % 3 != 1}
        for movie_id, stars in mine.items():
            repos.ratings.add(ann.id, movie_id, stars, at=T0)
        for m in movies:  # bob rates everything: a join on the movie alone would repeat rows
            repos.ratings.add(bob.id, m.id, Stars(5), at=T0)
    with db.reading() as repos:
        for limit in (1, 3, len(movies) + 1):
            for offset in (0, 2, len(movies) - 1):
                plain = repos.movies.page(limit, offset, order=order)
                rated = repos.movies.page_rated_by(ann.id, limit, offset, order=order)
                assert list(rated) == [(m, mine.get(m.id)) for m in plain], (limit, offset)
        searched = repos.movies.page_rated_by(ann.id, 100, 0, order=order, search="ALP")
        assert list(searched) == [
            (m, mine.get(m.id)) for m in repos.movies.page(100, 0, order=order, search="alp")
        ]
        for m in movies:
            assert repos.movies.get_rated_by(m.id, ann.id) == (repos.movies.get(m.id), mine.get(m.id))
        assert repos.movies.get_rated_by(max(m.id for m in movies) + 1000, ann.id) is None
