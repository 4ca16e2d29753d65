"""Honest rankings (issue 17 item 4) through gunicorn: each movie's histogram and score as
the API answers them, against a recount of the database, and ``?ordering=-score``."""

from __future__ import annotations

from typing import Any

from movierater_adapters.sql.tables import ratings
from sqlalchemy import func, select

from movierater_core.model import RatingSummary, ScorePrior
from movierater_core.use_cases.movies import DEFAULT_PRIOR_WEIGHT
from tests.integration.conftest import World
from tests.integration.test_concurrency import assert_summaries_match_recount


def catalogue_prior(engine: Any) -> ScorePrior:
    with engine.connect() as conn:
        stars = conn.execute(select(ratings.c.stars, func.count()).group_by(ratings.c.stars)).all()
    return ScorePrior.of(RatingSummary.of(v for v, n in stars for _ in range(n)), DEFAULT_PRIOR_WEIGHT)


def expected_fields(values: list[int], prior: ScorePrior) -> dict[str, Any]:
    summary = RatingSummary.of(values)
    return {
        "no_of_ratings": len(values),
        "ave_ratings": summary.average,
        "score": summary.score(prior),
        "histogram": [values.count(n) for n in range(1, 6)],
    }


def test_histogram_and_score_follow_rate_rerate_and_remove(world: World, engine: Any) -> None:
    user, other, admin = world.user, world.other_user, world.admin
    movie = world.new_movie()
    path = f"/api/movies/{movie['id']}/"

    def check(values: list[int]) -> None:
        assert_summaries_match_recount(engine)
        prior = catalogue_prior(engine)
        body = user.get(path).json()
        assert {
            k: body[k] for k in ("no_of_ratings", "ave_ratings", "score", "histogram")
        } == expected_fields(values, prior)
        listed = [m for m in user.get("/api/movies/").json() if m["id"] == movie["id"]]
        assert listed == [body]

    check([])
    assert user.post(path + "rate_movie/", json={"stars": 5}).status_code == 200
    check([5])
    assert other.post(path + "rate_movie/", json={"stars": 2}).status_code == 200
    check([5, 2])
    assert user.post(path + "rate_movie/", json={"stars": 3}).status_code == 200  # re-rate
    check([3, 2])
    rating = admin.post(path + "rate_movie/", json={"stars": 3}).json()["result"]
    check([3, 2, 3])
    assert admin.delete(f"/api/ratings/{rating['id']}/").status_code == 204  # remove by id
    check([3, 2])
    assert other.delete(path + "rate_movie/").status_code == 204  # remove one's own
    check([3])


def test_ordering_by_score_ranks_many_good_ratings_above_one_perfect(world: World, engine: Any) -> None:
    users = [world.user, world.other_user, world.admin]
    one_five, many_fours, unrated = world.new_movie(), world.new_movie(), world.new_movie()
    assert users[0].post(f"/api/movies/{one_five['id']}/rate_movie/", json={"stars": 5}).status_code == 200
    for client in users:
        assert (
            client.post(f"/api/movies/{many_fours['id']}/rate_movie/", json={"stars": 4}).status_code == 200
        )
    prior = catalogue_prior(engine)
    for ordering in ("-score", "score"):
        resp = world.user.get("/api/movies/", params={"ordering": ordering, "include": "my_rating"})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        keys = [(m["score"], m["id"]) for m in body]
        assert keys == sorted(keys, reverse=ordering == "-score")  # ties by id, the same way
        for m in body:
            histogram = m["histogram"]
            values = [n for n, h in zip(range(1, 6), histogram, strict=True) for _ in range(h)]
            assert m["score"] == RatingSummary.of(values).score(prior)
        ours = [m["id"] for m in body if m["id"] in (one_five["id"], many_fours["id"], unrated["id"])]
        # one 5 against three 4s: (Cm + 5) / (m + 1) < (Cm + 12) / (m + 3) exactly when
        # C < (7m - 3) / 2m (3.35 for m = 10); the unrated movie scores C itself
        m = DEFAULT_PRIOR_WEIGHT
        fours_win = prior.mean < (7 * m - 3) / (2 * m)
        fours_first = ours.index(many_fours["id"]) < ours.index(one_five["id"])
        assert fours_first == (fours_win == (ordering == "-score"))
        assert len(ours) == 3
    paged = world.user.get("/api/movies/", params={"ordering": "-score", "limit": 1, "offset": 1})
    assert paged.status_code == 200, paged.text
    assert (
        paged.json()["results"] == world.user.get("/api/movies/", params={"ordering": "-score"}).json()[1:2]
    )
