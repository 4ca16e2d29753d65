"""``?include=my_rating`` (issue 17 item 2) in the core over the fakes: the movie list and
detail carry the actor's stars or None, read by one repository call for the page (the
adapter's is one statement: tests/contract), and nothing extra without it."""

from __future__ import annotations

from typing import Any

import pytest

from movierater_core.errors import NotFound, ValidationError
from movierater_core.model import Movie, MovieView, Stars
from movierater_core.paging import PageSettings
from movierater_core.use_cases import Movies
from tests.unit.fakes import App, make_app

PASSWORD = "a long passphrase"


def _world() -> tuple[App, Any, Any, list[int]]:
    app = make_app()
    admin = app.accounts.register({"username": "boss", "password": PASSWORD}, is_admin=True)
    alice = app.accounts.register({"username": "alice", "password": PASSWORD})
    movies = [app.movies.create_movie(admin, {"title": t}).id for t in ("c", "a", "b")]
    app.ratings.rate_movie(alice, movies[0], {"stars": 4})
    app.ratings.rate_movie(alice, movies[2], {"stars": 2})
    app.ratings.rate_movie(admin, movies[1], {"stars": 5})
    return app, admin, alice, movies


class Calls:
    """The calls the use case makes on the repositories' movies and ratings (not those the
    fakes make on themselves)."""

    def __init__(self, app: App, monkeypatch: pytest.MonkeyPatch) -> None:
        from tests.unit import fakes

        self.names: list[str] = []
        self.depth = 0
        for cls in (fakes.FakeMovies, fakes.FakeRatings):
            for name in ("get", "page", "count", "page_rated_by", "get_rated_by", "find", "list"):
                original = getattr(cls, name, None)
                if original is None:
                    continue
                monkeypatch.setattr(cls, name, self._counting(f"{cls.__name__}.{name}", original))

    def _counting(self, label: str, original: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            if self.depth == 0:
                self.names.append(label)
            self.depth += 1
            try:
                return original(*args, **kwargs)
            finally:
                self.depth -= 1

        return counted


def test_the_list_with_my_rating_carries_each_movies_stars_of_the_actor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, admin, alice, movies = _world()
    calls = Calls(app, monkeypatch)
    page = app.movies.list_movies(alice, {"include": "my_rating", "ordering": "title"})
    assert [(v.movie.title, v.my_stars) for v in page.items if isinstance(v, MovieView)] == [
        ("a", None),
        ("b", Stars(2)),
        ("c", Stars(4)),
    ]
    assert calls.names == ["FakeMovies.page_rated_by"]  # one call for the page, none per movie
    theirs = app.movies.list_movies(admin, {"include": "my_rating"})
    assert [v.my_stars for v in theirs.items if isinstance(v, MovieView)] == [None, Stars(5), None]


def test_without_include_the_list_and_detail_are_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    app, _admin, alice, movies = _world()
    calls = Calls(app, monkeypatch)
    page = app.movies.list_movies(alice, {})
    assert all(type(m) is Movie for m in page.items)
    movie = app.movies.get_movie(alice, movies[0])
    assert type(movie) is Movie
    assert calls.names == ["FakeMovies.page", "FakeMovies.get"]


def test_my_rating_keeps_paging_search_and_counts_only_as_before(monkeypatch: pytest.MonkeyPatch) -> None:
    app, _admin, alice, movies = _world()
    paged = Movies(app.db, app.uploads, app.clock, app.token_check, PageSettings(2))
    calls = Calls(app, monkeypatch)
    first = paged.list_movies(alice, {"include": "my_rating"})  # 3 movies, pages of 2
    assert [(v.movie.id, v.my_stars) for v in first.items if isinstance(v, MovieView)] == [
        (movies[0], Stars(4)),
        (movies[1], None),
    ]
    assert first.total == 3 and first.has_next
    assert calls.names == ["FakeMovies.page_rated_by", "FakeMovies.count"]
    found = paged.list_movies(alice, {"include": "my_rating", "search": "B", "limit": "1"})
    assert [(v.movie.id, v.my_stars) for v in found.items if isinstance(v, MovieView)] == [
        (movies[2], Stars(2))
    ]


def test_the_detail_with_my_rating(monkeypatch: pytest.MonkeyPatch) -> None:
    app, admin, alice, movies = _world()
    calls = Calls(app, monkeypatch)
    view = app.movies.get_movie(alice, movies[0], {"include": "my_rating"})
    assert isinstance(view, MovieView) and view.my_stars == Stars(4) and view.movie.id == movies[0]
    assert calls.names == ["FakeMovies.get_rated_by"]
    unrated = app.movies.get_movie(admin, movies[0], {"include": "my_rating"})
    assert isinstance(unrated, MovieView) and unrated.my_stars is None
    with pytest.raises(NotFound):
        app.movies.get_movie(alice, 999, {"include": "my_rating"})


@pytest.mark.parametrize("value", ["", "My_rating", "my_rating,other", "stars", "my_ratings"])
def test_other_includes_are_refused_in_drf_shape(value: str) -> None:
    app, _admin, alice, movies = _world()
    for call in (
        lambda: app.movies.list_movies(alice, {"include": value}),
        lambda: app.movies.get_movie(alice, movies[0], {"include": value}),
    ):
        with pytest.raises(ValidationError) as caught:
            call()
        assert caught.value.errors == {"include": [f'"{value}" is not a valid choice.']}
