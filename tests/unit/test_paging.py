"""Paging, search and ordering of the lists (issue 12), as the core does them over the fakes:
hypothesis properties of the page rules, of pages against the ordered whole (for any limit
and offset, with rows added at the end between pages), and of the orders (total, stable,
ties by id in the order's direction)."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from movierater_core.errors import ValidationError
from movierater_core.model import Movie, MovieFields, MovieOrder, MovieSort, Rating, Stars, SummaryDelta, User
from movierater_core.paging import (
    CURSOR,
    CURSOR_MAX_LENGTH,
    CURSOR_WITH_OFFSET,
    INVALID_CURSOR,
    KEY_MAX,
    MAX_PAGE_SIZE_LIMIT,
    START,
    Cursor,
    Keyset,
    KeysetPage,
    Page,
    PageSettings,
    Window,
    fetch_page,
    parse_cursor,
)
from movierater_core.rules import ID_MAX, ORDERINGS, Invalid
from movierater_core.use_cases import Movies, Ratings
from movierater_core.use_cases.ratings import BY_CHANGED, BY_ID, BY_MOVIE
from tests.unit.fakes import App, FakeRatings, make_app

PASSWORD = "a long passphrase"

ADMIN = User(1, "admin", is_admin=True)
TITLES = st.text(alphabet="abcAB%_ ", min_size=1, max_size=6)
SUMMARIES = st.lists(st.integers(1, 5), max_size=4).map(tuple)  # a movie's ratings' stars
ORDERS = st.sampled_from(MovieOrder.every())


def app_with(movies: list[tuple[str, tuple[int, ...]]], max_page_size: int = 1000) -> tuple[App, Movies]:
    app = make_app()
    with app.db.writing() as repos:
        for title, stars in movies:
            movie = repos.movies.add(MovieFields(title=title, description=""))
            delta = sum((SummaryDelta.added(Stars(n)) for n in stars), SummaryDelta())
            repos.movies.adjust_ratings(movie.id, delta)
    return app, Movies(app.db, app.uploads, app.clock, app.token_check, PageSettings(max_page_size))


def every_page(movies: Movies, limit: int, offset: int, query: dict[str, Any]) -> list[Movie]:
    """Follow the pages from ``offset`` on, ``limit`` at a time, until one says it is the last."""
    seen: list[Movie] = []
    while True:
        page = movies.list_movies(ADMIN, {**query, "limit": str(limit), "offset": str(offset)})
        seen += page.items
        if not page.has_next:
            return seen
        offset += page.window.limit  # as the next link does: a limit above the maximum was cut


# ---- the rules of ?limit= and ?offset= ------------------------------------------------------


@given(limit=st.integers(1, ID_MAX), offset=st.integers(0, ID_MAX), zeros=st.integers(0, 3))
def test_any_limit_and_offset_in_range_are_read_and_a_limit_is_cut_to_the_page_size(
    limit: int, offset: int, zeros: int
) -> None:
    _app, movies = app_with([], max_page_size=50)
    page = movies.list_movies(ADMIN, {"limit": "0" * zeros + str(limit), "offset": str(offset)})
    assert page.window == Window(limit=min(limit, 50), offset=offset, paged=True)
    assert page.items == [] and page.total == 0


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({"limit": "0"}, {"limit": ["Ensure this value is greater than or equal to 1."]}),
        ({"limit": "-3"}, {"limit": ["Ensure this value is greater than or equal to 1."]}),
        ({"limit": "ten"}, {"limit": ["A valid integer is required."]}),
        ({"limit": ""}, {"limit": ["A valid integer is required."]}),
        ({"limit": "1.5"}, {"limit": ["A valid integer is required."]}),
        ({"limit": "+5"}, {"limit": ["A valid integer is required."]}),
        ({"limit": "٥"}, {"limit": ["A valid integer is required."]}),  # another script's 5
        ({"limit": "9" * 40}, {"limit": [f"Ensure this value is less than or equal to {ID_MAX}."]}),
        ({"offset": "-1"}, {"offset": ["Ensure this value is greater than or equal to 0."]}),
        ({"offset": "-" + "9" * 40}, {"offset": ["Ensure this value is greater than or equal to 0."]}),
        ({"offset": " 1"}, {"offset": ["A valid integer is required."]}),
        ({"ordering": "rating"}, {"ordering": ['"rating" is not a valid choice.']}),
        ({"ordering": "--id"}, {"ordering": ['"--id" is not a valid choice.']}),
        ({"ordering": "title,id"}, {"ordering": ['"title,id" is not a valid choice.']}),
        ({"search": "a\x00b"}, {"search": ["Null characters are not allowed."]}),
        ({"search": "x" * 151}, {"search": ["Ensure this field has no more than 150 characters."]}),
        (
            {"limit": "x", "offset": "-1", "ordering": "?"},
            {
                "limit": ["A valid integer is required."],
                "offset": ["Ensure this value is greater than or equal to 0."],
                "ordering": ['"?" is not a valid choice.'],
            },
        ),
    ],
)
def test_bad_paging_search_and_ordering_values_are_refused_in_drf_shape(
    query: dict[str, str], errors: dict[str, list[str]]
) -> None:
    _app, movies = app_with([("a", ())])
    with pytest.raises(ValidationError) as caught:
        movies.list_movies(ADMIN, query)
    assert caught.value.errors == errors


@given(text=st.text(max_size=12))
def test_a_limit_is_a_number_or_refused_never_anything_else(text: str) -> None:
    _app, movies = app_with([])
    try:
        page = movies.list_movies(ADMIN, {"limit": text})
    except ValidationError as exc:
        assert list(exc.errors) == ["limit"]
    else:
        assert text.isascii() and text.isdigit() and 1 <= int(text)
        assert page.window.limit == min(int(text), 1000)


def test_the_page_size_setting_is_bounded() -> None:
    assert PageSettings(MAX_PAGE_SIZE_LIMIT).max_page_size == MAX_PAGE_SIZE_LIMIT
    for bad in (0, MAX_PAGE_SIZE_LIMIT + 1):
        with pytest.raises(ValueError, match="max_page_size"):
            PageSettings(bad)


# ---- pages against the ordered whole -------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    movies=st.lists(st.tuples(TITLES, SUMMARIES), max_size=14),
    limit=st.integers(1, 16),
    offset=st.integers(0, 16),
    order=ORDERS,
    search=st.sampled_from(["", "a", "A%", "_", "b "]),
)
def test_pages_concatenated_are_the_ordered_whole_for_any_limit_and_offset(
    movies: list[tuple[str, tuple[int, ...]]], limit: int, offset: int, order: MovieOrder, search: str
) -> None:
    _app, use_case = app_with(movies, max_page_size=7)
    query = {"ordering": order.name, "search": search}
    whole = use_case.list_movies(ADMIN, {**query, "limit": "100"})  # cut to 7 a page
    assert len(whole.items) == min(whole.total, 7)
    everything = every_page(use_case, 7, 0, query)
    assert len(everything) == whole.total
    assert every_page(use_case, limit, offset, query) == everything[offset:]
    page = use_case.list_movies(ADMIN, {**query, "limit": str(limit), "offset": str(offset)})
    assert page.items == everything[offset : offset + min(limit, 7)]
    assert page.total == len(everything)
    assert page.has_next == (offset + min(limit, 7) < len(everything))
    assert page.has_previous == (offset > 0)
    # the unparameterized list is the first page, by id
    plain = use_case.list_movies(ADMIN, {"search": search})
    assert plain.items == sorted(everything, key=lambda m: m.id)[:7] and not plain.window.paged


@settings(max_examples=100, deadline=None)
@given(
    start=st.integers(0, 12),
    added=st.lists(st.integers(0, 3), max_size=8),
    limit=st.integers(1, 5),
    ordering=st.sampled_from([{}, {"ordering": "id"}]),
)
def test_pages_by_id_lose_nothing_while_movies_are_added_at_the_end(
    start: int, added: list[int], limit: int, ordering: dict[str, str]
) -> None:
    """Paging by id while movies are added between pages (new ids come last): the pages
    concatenated are the whole list as it is when the last page is read."""
    app, use_case = app_with([(f"m{n}", ()) for n in range(start)])
    seen: list[Movie] = []
    offset, additions = 0, iter(added)
    while True:
        page = use_case.list_movies(ADMIN, {"limit": str(limit), "offset": str(offset), **ordering})
        seen += page.items
        if not page.has_next:
            break
        with app.db.writing() as repos:
            for _ in range(next(additions, 0)):
                repos.movies.add(MovieFields(title="new", description=""))
        offset += limit
    assert seen == use_case.list_movies(ADMIN, {"limit": "1000"}).items
    assert len(seen) == page.total


@settings(max_examples=100, deadline=None)
@given(movies=st.lists(st.tuples(TITLES, SUMMARIES), max_size=12), order=ORDERS)
def test_every_order_is_total_and_stable_ties_by_id(
    movies: list[tuple[str, tuple[int, ...]]], order: MovieOrder
) -> None:
    _app, use_case = app_with(movies)
    prior = use_case.score_prior()
    listed = use_case.list_movies(ADMIN, {"ordering": order.name}).items
    assert use_case.list_movies(ADMIN, {"ordering": order.name}).items == listed  # stable

    def value(movie: Movie) -> Any:
        return {
            MovieSort.ID: movie.id,
            MovieSort.TITLE: movie.title,
            MovieSort.RATINGS: movie.ratings.count,
            MovieSort.AVERAGE: movie.ratings.average,
            MovieSort.SCORE: movie.ratings.score(prior),
        }[order.by]

    for first, second in zip(listed, listed[1:], strict=False):
        if value(first) == value(second):
            assert (first.id > second.id) == order.descending  # a tie: by id, the same way
        else:
            assert (value(first) > value(second)) == order.descending
    assert sorted(m.id for m in listed) == sorted(range(1, len(movies) + 1))


def test_ordering_names_are_the_answers_fields_each_way() -> None:
    assert set(ORDERINGS) == {
        f"{sign}{name}"
        for sign in ("", "-")
        for name in ("id", "title", "no_of_ratings", "ave_ratings", "score")
    }


# ---- counting only when the rows cannot tell -----------------------------------------------


@given(size=st.integers(0, 20), limit=st.integers(1, 25), offset=st.integers(0, 25))
def test_a_page_counts_the_list_only_when_its_rows_cannot_tell(size: int, limit: int, offset: int) -> None:
    rows = list(range(size))
    counted: list[int] = []

    def count() -> int:
        counted.append(size)
        return size

    page = fetch_page(Window(limit, offset, paged=True), lambda n, skip: rows[skip : skip + n], count)
    assert page.items == rows[offset : offset + limit] and page.total == size
    assert bool(counted) == (size > offset + limit or (offset > 0 and offset >= size))


# ---- ratings and users ---------------------------------------------------------------------


def test_ratings_pages_keep_the_movie_and_user_filters() -> None:
    app = make_app()
    admin = app.user_admin.create_user(ADMIN, "boss", "a long passphrase", is_admin=True)
    movies = [app.movies.create_movie(admin, {"title": t}) for t in "abc"]
    for movie in movies:
        app.ratings.rate_movie(admin, movie.id, {"stars": 3})
    ratings = Ratings(app.db, app.clock, app.token_check, PageSettings(2))
    plain = ratings.list_ratings(admin, {})
    assert [r.movie_id for r in plain.items] == [movies[0].id, movies[1].id] and plain.total == 3
    paged = ratings.list_ratings(admin, {"user": str(admin.id), "limit": "1", "offset": "2"})
    assert [r.movie_id for r in paged.items] == [movies[2].id] and paged.total == 3
    one = ratings.list_ratings(admin, {"movie": str(movies[1].id), "offset": "0"})
    assert [r.movie_id for r in one.items] == [movies[1].id] and one.window.paged
    with pytest.raises(ValidationError) as caught:
        ratings.list_ratings(admin, {"movie": "x", "limit": "0"})
    assert set(caught.value.errors) == {"movie", "limit"}


def test_users_pages_an_admin_gets_everyone_others_themself() -> None:
    app = make_app()
    admin = app.user_admin.create_user(ADMIN, "boss", "a long passphrase", is_admin=True)
    alice = app.accounts.register({"username": "alice", "password": "another passphrase"})
    assert [u.id for u in app.accounts.list_users(admin, {"limit": "1", "offset": "1"}).items] == [alice.id]
    assert app.accounts.list_users(admin, {"limit": "1"}).total == 2
    assert app.accounts.list_users(alice, {"limit": "5"}).items == [alice]
    assert app.accounts.list_users(alice, {"offset": "1"}).items == []
    assert app.accounts.list_users(alice, {"offset": "1"}).total == 1
    with pytest.raises(ValidationError):
        app.accounts.list_users(alice, {"limit": "-1"})


def test_users_search_by_username_in_any_case_and_include_their_role() -> None:
    app = make_app()
    admin = app.user_admin.create_user(ADMIN, "Boss", "a long passphrase", is_admin=True)
    alice = app.accounts.register({"username": "alice", "password": "another passphrase"})
    app.accounts.register({"username": "al_bert", "password": "another passphrase"})
    found = app.accounts.list_users(admin, {"search": " AL "})
    assert [u.username for u in found.items] == ["alice", "al_bert"] and found.total == 2
    assert [u.username for u in app.accounts.list_users(admin, {"search": "_"}).items] == ["al_bert"]
    assert app.accounts.list_users(admin, {"search": "%"}).items == []
    paged = app.accounts.list_users(admin, {"search": "al", "limit": "1", "offset": "1"})
    assert [u.username for u in paged.items] == ["al_bert"] and paged.total == 2
    roles = app.accounts.list_users(admin, {"include": "is_admin"}).items
    assert [(view.user.username, view.user.is_admin) for view in roles] == [  # type: ignore[union-attr]
        ("Boss", True),
        ("alice", False),
        ("al_bert", False),
    ]
    # a non-admin's list of themself is searched too
    assert app.accounts.list_users(alice, {"search": "LIC"}).items == [alice]
    assert app.accounts.list_users(alice, {"search": "boss"}).items == []
    with pytest.raises(ValidationError) as caught:
        app.accounts.list_users(admin, {"include": "my_rating", "search": "x" * 151})
    assert caught.value.errors == {
        "include": ['"my_rating" is not a valid choice.'],
        "search": ["Ensure this field has no more than 150 characters."],
    }


# ---- cursors on the ratings list: forward keyset paging -------------------------------------

KEYSETS = st.sampled_from([BY_ID, BY_MOVIE, BY_CHANGED])
# The ratings list's orders a cursor follows: the filters (movie, user, since) that make each.
ORDERINGS_OF_RATINGS = ("plain", "movie", "user", "since", "since_and_user")


@given(keyset=KEYSETS, key=st.lists(st.integers(0, ID_MAX), min_size=2, max_size=2))
def test_a_cursor_reads_back_as_the_key_it_was_made_of(keyset: Keyset, key: list[int]) -> None:
    token = keyset.cursor(tuple(key[: keyset.width]))
    assert parse_cursor(token) == Cursor(keyset.name, tuple(key[: keyset.width]))
    assert len(token) <= CURSOR_MAX_LENGTH and re.fullmatch(str(CURSOR.schema["pattern"]), token)


@given(value=st.one_of(st.text(max_size=120), st.binary(max_size=60).map(base64.urlsafe_b64encode)))
def test_any_other_text_is_an_invalid_cursor_never_an_error(value: str | bytes) -> None:
    text = value.decode("ascii").rstrip("=") if isinstance(value, bytes) else value
    try:
        cursor = parse_cursor(text)
    except Invalid as exc:
        assert exc.messages == [INVALID_CURSOR]
    else:  # what reads as a cursor is one a keyset would write
        any_key = Keyset(cursor.order, (KEY_MAX,) * len(cursor.key))
        assert cursor == START or any_key.cursor(cursor.key) == text


class RatingsWorld:
    """Users, movies and their ratings over the fakes, made by the core's own use cases."""

    def __init__(self, max_page_size: int) -> None:
        self.app = make_app()
        self.admin = self.app.accounts.register({"username": "boss", "password": PASSWORD}, is_admin=True)
        self.users = [self.admin]
        self.movies: list[int] = []
        self.ratings = Ratings(self.app.db, self.app.clock, self.app.token_check, PageSettings(max_page_size))

    def user(self) -> User:
        made = self.app.accounts.register({"username": f"u{len(self.users)}", "password": PASSWORD})
        self.users.append(made)
        return made

    def movie(self) -> int:
        self.movies.append(self.app.movies.create_movie(self.admin, {"title": f"m{len(self.movies)}"}).id)
        return self.movies[-1]

    def rate(self, user: User, movie_id: int, stars: int, later: int) -> None:
        self.app.clock.advance(later)  # 0: the same time as the last (ties in ?since=)
        self.ratings.rate_movie(user, movie_id, {"stars": stars})

    def query(self, ordering: str) -> dict[str, str]:
        return {
            "plain": {},
            "movie": {"movie": str(self.movies[0])},
            "user": {"user": str(self.users[1].id)},
            "since": {"since": "2026-01-01T00:00:10Z"},
            "since_and_user": {"since": "2026-01-01T00:00:00Z", "user": "me"},
        }[ordering]

    def add_at_the_end(self, ordering: str, later: int) -> None:
        """A rating that comes after every one there is, in that order."""
        movie_id = self.movie()  # the highest movie id: the end of a user's list by movie
        if ordering == "movie":
            self.rate(self.user(), self.movies[0], 5, later)  # the highest rating id
        elif ordering in ("user", "since_and_user"):
            self.rate(self.users[1], movie_id, 4, later)
        else:  # the highest rating id, and the latest time (or a tie with a lower id)
            self.rate(self.user(), movie_id, 3, later)

    def whole(self, ordering: str) -> list[Rating]:
        """The list in its order, read otherwise: one page as large as it is."""
        actor = self.users[1]
        everything = Ratings(
            self.app.db, self.app.clock, self.app.token_check, PageSettings(MAX_PAGE_SIZE_LIMIT)
        )
        page = everything.list_ratings(actor, self.query(ordering))
        assert isinstance(page, Page) and page.total == len(page.items)
        return list(page.items)


USERS, MOVIES = 5, 5
RATINGS_MADE = st.lists(  # (user, movie, stars, seconds later), indexes into the world's
    st.tuples(st.integers(0, USERS - 1), st.integers(0, MOVIES - 1), st.integers(1, 5), st.integers(0, 4)),
    min_size=12,
    max_size=50,
)


@settings(max_examples=150, deadline=None)  # a world of users and movies per example
@given(
    ordering=st.sampled_from(ORDERINGS_OF_RATINGS),
    made=RATINGS_MADE,
    limit=st.integers(1, 4),
    max_page_size=st.integers(1, 4),
    added=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5)), max_size=6),
)
def test_following_next_cursors_reads_the_ordered_whole_also_with_ratings_added_at_its_end(
    ordering: str,
    made: list[tuple[int, int, int, int]],
    limit: int,
    max_page_size: int,
    added: list[tuple[int, int]],
) -> None:
    """Pages read by following ``next`` from ``?cursor=`` are the list in its order, rows
    added meanwhile at its end included, none missed or twice; each at most the limit (cut to
    the maximum page size), with no count anywhere."""
    world = RatingsWorld(max_page_size)
    users = [world.admin, *(world.user() for _ in range(USERS - 1))]
    for _ in range(MOVIES):
        world.movie()
    for user, movie, stars, later in made:
        world.rate(users[user], world.movies[movie], stars, later)
    pending = list(added)  # (how many to add before the next page, seconds later)
    seen: list[Rating] = []
    query: dict[str, str] = {**world.query(ordering), "cursor": "", "limit": str(limit)}
    while True:
        page = world.ratings.list_ratings(world.users[1], query)
        assert isinstance(page, KeysetPage) and page.window.limit == min(limit, max_page_size)
        assert 0 < len(page.items) <= page.window.limit or page.next_cursor is None
        seen += page.items
        if page.next_cursor is None:
            break
        if pending:  # while the client pages: after the rows it has, so it meets them
            how_many, later = pending.pop(0)
            for _ in range(how_many):
                world.add_at_the_end(ordering, later)
        query = {**query, "cursor": page.next_cursor}
    assert seen == world.whole(ordering)


def test_a_cursor_page_counts_nothing_and_a_count_on_the_offset_page_shows_the_difference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = RatingsWorld(3)
    for n in range(5):
        world.rate(world.user(), world.movie(), 1 + n, 1)
    counted: list[object] = []
    monkeypatch.setattr(FakeRatings, "count", lambda self, **kw: counted.append(kw) or 5)
    page = world.ratings.list_ratings(world.admin, {"cursor": "", "limit": "2"})
    assert isinstance(page, KeysetPage) and [r.stars.value for r in page.items] == [1, 2] and page.next_cursor
    following = world.ratings.list_ratings(world.admin, {"cursor": page.next_cursor, "limit": "9"})
    assert [r.stars.value for r in following.items] == [3, 4, 5] and not counted
    assert following.window == Window(limit=3, offset=0, paged=True, after=(page.items[-1].id,))
    assert isinstance(following, KeysetPage) and following.next_cursor is None
    world.ratings.list_ratings(world.admin, {"limit": "2"})  # the offset page: more rows, so a count
    assert counted == [{"movie_id": None, "user_id": None, "since": None}]


@pytest.mark.parametrize(
    ("query", "errors"),
    [
        ({"cursor": "x"}, {"cursor": [INVALID_CURSOR]}),
        ({"cursor": "aWQ6MQ=="}, {"cursor": [INVALID_CURSOR]}),  # padded: not as written
        ({"cursor": None}, {"cursor": ["This field may not be null."]}),
        ({"cursor": "", "offset": "0"}, {"offset": [CURSOR_WITH_OFFSET]}),
        (
            {"cursor": BY_ID.cursor((3,)), "offset": "x"},
            {"offset": ["A valid integer is required.", CURSOR_WITH_OFFSET]},
        ),
        # a cursor of another order: by id, on a list by time changed or by movie
        ({"cursor": BY_ID.cursor((3,)), "since": "2026-01-01T00:00:00Z"}, {"cursor": [INVALID_CURSOR]}),
        ({"cursor": BY_CHANGED.cursor((3, 4)), "user": "me"}, {"cursor": [INVALID_CURSOR]}),
        ({"cursor": BY_MOVIE.cursor((3,))}, {"cursor": [INVALID_CURSOR]}),
        ({"cursor": Keyset("id", (9, 9)).cursor((3, 4))}, {"cursor": [INVALID_CURSOR]}),
        # beyond the column's type: 400, never a database error
        ({"cursor": Keyset("id", (KEY_MAX,)).cursor((ID_MAX + 1,))}, {"cursor": [INVALID_CURSOR]}),
        (
            {"cursor": Keyset("changed", (KEY_MAX,) * 2).cursor((KEY_MAX, ID_MAX + 1))},
            {"cursor": [INVALID_CURSOR]},
        ),
        (
            {"cursor": "", "limit": "0", "movie": "x"},
            {
                "limit": ["Ensure this value is greater than or equal to 1."],
                "movie": ["A valid integer is required."],
            },
        ),
    ],
)
def test_a_bad_cursor_or_one_with_offset_is_refused_in_drfs_shape(
    query: dict[str, object], errors: dict[str, list[str]]
) -> None:
    world = RatingsWorld(5)
    world.user()
    with pytest.raises(ValidationError) as caught:
        world.ratings.list_ratings(world.users[1], query)
    assert caught.value.errors == errors


def test_a_cursor_of_each_order_names_the_last_rows_key() -> None:
    world = RatingsWorld(1)
    alice = world.user()
    first, second = world.movie(), world.movie()
    world.rate(alice, second, 2, 0)
    world.rate(alice, first, 3, 7)
    by_id = world.ratings.list_ratings(alice, {"cursor": ""})
    by_movie = world.ratings.list_ratings(alice, {"cursor": "", "user": "me"})
    by_time = world.ratings.list_ratings(alice, {"cursor": "", "since": "2026-01-01T00:00:00Z"})
    assert [p.next_cursor for p in (by_id, by_movie, by_time)] == [  # type: ignore[union-attr]
        BY_ID.cursor((1,)),
        BY_MOVIE.cursor((first,)),
        BY_CHANGED.cursor((1_767_225_600_000_000, 1)),  # 2026-01-01T00:00:00Z, rating 1
    ]
