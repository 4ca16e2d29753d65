"""The score's prior (issue 17 item 4): the catalogue's mean is read once per
``mean_max_age`` seconds of the core's clock, and ``?ordering=score`` uses the prior given."""

from __future__ import annotations

import pytest

from movierater_core.model import RatingSummary, ScorePrior
from movierater_core.use_cases import Movies, ScoreSettings
from tests.unit.fakes import FakeMovies, make_app

PASSWORD = "a long passphrase"


def test_the_catalogue_mean_is_kept_for_its_max_age_then_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    movies = Movies(
        app.db, app.uploads, app.clock, app.token_check, scores=ScoreSettings(prior_weight=4, mean_max_age=60)
    )
    admin = app.accounts.register({"username": "boss", "password": PASSWORD}, is_admin=True)
    movie = app.movies.create_movie(admin, {"title": "Alien"})
    reads: list[int] = []
    original = FakeMovies.catalogue
    monkeypatch.setattr(FakeMovies, "catalogue", lambda self: reads.append(1) or original(self))

    assert movies.score_prior() == ScorePrior(0.0, 4) and len(reads) == 1  # no ratings: 0
    app.ratings.rate_movie(admin, movie.id, {"stars": 5})
    app.clock.advance(59)
    assert movies.score_prior() == ScorePrior(0.0, 4) and len(reads) == 1  # kept
    app.clock.advance(1)
    assert movies.score_prior() == ScorePrior(5.0, 4) and len(reads) == 2  # 60 s old: read again
    got = movies.get_movie(admin, movie.id)
    assert got.ratings.score(movies.score_prior()) == (5.0 * 4 + 5) / (4 + 1)


def test_ordering_by_score_uses_the_prior_it_is_given() -> None:
    app = make_app()
    admin = app.accounts.register({"username": "boss", "password": PASSWORD}, is_admin=True)
    alice = app.accounts.register({"username": "alice", "password": PASSWORD})
    one = app.movies.create_movie(admin, {"title": "one five"}).id
    many = app.movies.create_movie(admin, {"title": "two fours"}).id
    app.ratings.rate_movie(admin, one, {"stars": 5})
    app.ratings.rate_movie(admin, many, {"stars": 4})
    app.ratings.rate_movie(alice, many, {"stars": 4})
    order = {"ordering": "-score"}
    low = ScorePrior(1.0, 10)  # pulled towards 1: more ratings win
    assert [m.id for m in app.movies.list_movies(alice, order, low).items] == [many, one]
    high = ScorePrior(5.0, 10)  # pulled towards 5: fewer ratings win
    assert [m.id for m in app.movies.list_movies(alice, order, high).items] == [one, many]
    catalogue = RatingSummary.of([5, 4, 4])
    assert app.movies.score_prior() == ScorePrior.of(catalogue, 10)
