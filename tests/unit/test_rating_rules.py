"""Ratings through the real use cases: a state machine of raters, admins and deletions.

After every step each movie's stored summary (count and total of stars) must equal a
recount of the stored ratings, no user may have two ratings of one movie, and the
ratings must be exactly those a simple model predicts.
"""

from __future__ import annotations

import copy
from collections import Counter

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from movierater_core.errors import NotFound, PermissionDenied, StarsMissing, ValidationError
from movierater_core.model import RatingSummary, User
from tests.unit.fakes import App, make_app

N_USERS = 3
N_MOVIES = 3

VALID_STARS = st.integers(min_value=1, max_value=5)
INVALID_STARS = st.one_of(
    st.integers().filter(lambda n: not 1 <= n <= 5),
    st.floats(),
    st.text(max_size=5),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sampled_from([0, 6, 2.5, 5.0, "5", True, False]),
)
INDEX = st.integers(min_value=0, max_value=50)


def password_for(i: int) -> str:
    return "correct horse 123" + str(i)


class RatingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.app: App = make_app()
        self.serial = 0
        self.admin = self.app.accounts.register(
            {"username": "the-admin", "password": password_for(0)}, is_admin=True
        )
        assert self.admin.is_admin
        self.users: list[User] = []  # live non-admin users
        self.movie_ids: list[int] = []  # live movies
        self.gone_movie_ids: list[int] = []
        self.model: dict[tuple[int, int], int] = {}  # (user id, movie id) -> stars
        for _ in range(N_USERS):
            self._register()
        for _ in range(N_MOVIES):
            self._create_movie()

    # ---- helpers -----------------------------------------------------------------------

    def _register(self) -> User:
        self.serial += 1
        user = self.app.accounts.register(
            {"username": f"user{self.serial}", "password": password_for(self.serial)}
        )
        assert not user.is_admin
        self.users.append(user)
        return user

    def _create_movie(self) -> int:
        self.serial += 1
        movie = self.app.movies.create_movie(self.admin, {"title": f"Movie {self.serial}"})
        assert movie.ratings == RatingSummary()
        self.movie_ids.append(movie.id)
        return movie.id

    def _actors(self) -> list[User]:
        return [self.admin, *self.users]

    def _actor(self, i: int) -> User:
        actors = self._actors()
        return actors[i % len(actors)]

    def _movie(self, i: int) -> int:
        """A live movie most of the time, sometimes one that was deleted or never existed."""
        candidates = self.movie_ids + self.gone_movie_ids + [10_000]
        if self.movie_ids and i % 7 != 0:
            return self.movie_ids[i % len(self.movie_ids)]
        return candidates[i % len(candidates)]

    def _snapshot(self) -> object:
        return copy.deepcopy(self.app.db.state)

    def _assert_unchanged(self, before: object) -> None:
        assert self.app.db.state == before

    # ---- rules -------------------------------------------------------------------------

    @rule()
    def add_user(self) -> None:
        if len(self.users) < 6:
            self._register()

    @rule()
    def add_movie(self) -> None:
        if len(self.movie_ids) < 6:
            self._create_movie()

    @rule(who=INDEX, which=INDEX, stars=VALID_STARS)
    def rate(self, who: int, which: int, stars: int) -> None:
        actor, movie_id = self._actor(who), self._movie(which)
        if movie_id not in self.movie_ids:
            before = self._snapshot()
            with pytest.raises(NotFound):
                self.app.ratings.rate_movie(actor, movie_id, {"stars": stars})
            self._assert_unchanged(before)
            return
        had = (actor.id, movie_id) in self.model
        old_ids = {r.id for r in self.app.db.state.ratings.values()}
        rating, created = self.app.ratings.rate_movie(actor, movie_id, {"stars": stars})
        assert created is (not had)
        assert (rating.user_id, rating.movie_id, rating.stars.value) == (actor.id, movie_id, stars)
        assert (rating.id in old_ids) is had
        assert self.app.db.state.ratings[rating.id] == rating
        self.model[(actor.id, movie_id)] = stars

    @rule(who=INDEX, which=INDEX, stars=VALID_STARS)
    def rate_twice(self, who: int, which: int, stars: int) -> None:
        """Rating the same movie again, with the same stars, creates nothing."""
        actor, movie_id = self._actor(who), self._movie(which)
        if movie_id not in self.movie_ids:
            return
        first, _ = self.app.ratings.rate_movie(actor, movie_id, {"stars": stars})
        before = self._snapshot()
        second, created = self.app.ratings.rate_movie(actor, movie_id, {"stars": stars})
        assert created is False
        assert second == first
        self._assert_unchanged(before)
        self.model[(actor.id, movie_id)] = stars

    @rule(who=INDEX, which=INDEX, stars=INVALID_STARS)
    def rate_with_invalid_stars(self, who: int, which: int, stars: object) -> None:
        actor, movie_id = self._actor(who), self._movie(which)
        before = self._snapshot()
        with pytest.raises(ValidationError) as caught:
            self.app.ratings.rate_movie(actor, movie_id, {"stars": stars})
        assert list(caught.value.errors) == ["stars"]
        assert len(caught.value.errors["stars"]) == 1
        self._assert_unchanged(before)

    @rule(who=INDEX, which=INDEX, body=st.sampled_from([{}, {"star": 3}, [], [3], None, "3", 3]))
    def rate_with_bad_body(self, who: int, which: int, body: object) -> None:
        actor, movie_id = self._actor(who), self._movie(which)
        before = self._snapshot()
        expected = StarsMissing if isinstance(body, dict) else ValidationError
        with pytest.raises(expected):
            self.app.ratings.rate_movie(actor, movie_id, body)
        self._assert_unchanged(before)

    @rule(who=INDEX, which=INDEX)
    def remove_own_rating(self, who: int, which: int) -> None:
        actor, movie_id = self._actor(who), self._movie(which)
        if (actor.id, movie_id) in self.model:
            self.app.ratings.remove_own_rating(actor, movie_id)
            del self.model[(actor.id, movie_id)]
        else:
            before = self._snapshot()
            with pytest.raises(NotFound):
                self.app.ratings.remove_own_rating(actor, movie_id)
            self._assert_unchanged(before)

    @rule(which=INDEX)
    def admin_deletes_a_rating(self, which: int) -> None:
        ratings = sorted(self.app.db.state.ratings.values(), key=lambda r: r.id)
        if not ratings:
            before = self._snapshot()
            with pytest.raises(NotFound):
                self.app.ratings.delete_rating(self.admin, 10_000)
            self._assert_unchanged(before)
            return
        rating = ratings[which % len(ratings)]
        self.app.ratings.delete_rating(self.admin, rating.id)
        del self.model[(rating.user_id, rating.movie_id)]
        with pytest.raises(NotFound):
            self.app.ratings.get_rating(self.admin, rating.id)

    @rule(who=INDEX, which=INDEX)
    def user_deletes_a_rating_by_id(self, who: int, which: int) -> None:
        ratings = sorted(self.app.db.state.ratings.values(), key=lambda r: r.id)
        if not ratings or not self.users:
            return
        actor = self.users[who % len(self.users)]
        rating = ratings[which % len(ratings)]
        if rating.user_id == actor.id:
            self.app.ratings.delete_rating(actor, rating.id)
            del self.model[(rating.user_id, rating.movie_id)]
        else:
            before = self._snapshot()
            with pytest.raises(PermissionDenied):
                self.app.ratings.delete_rating(actor, rating.id)
            self._assert_unchanged(before)

    @precondition(lambda self: bool(self.users))
    @rule(who=INDEX, by_admin=st.booleans())
    def delete_user(self, who: int, by_admin: bool) -> None:
        user = self.users[who % len(self.users)]
        self.app.accounts.delete_user(self.admin if by_admin else user, user.id)
        self.users.remove(user)
        self.model = {pair: s for pair, s in self.model.items() if pair[0] != user.id}
        with pytest.raises(NotFound):
            self.app.accounts.get_user(self.admin, user.id)

    @precondition(lambda self: len(self.users) >= 2)
    @rule(who=INDEX, whom=INDEX)
    def user_cannot_delete_another(self, who: int, whom: int) -> None:
        actor = self.users[who % len(self.users)]
        others = [u for u in self.users if u.id != actor.id]
        victim = others[whom % len(others)]
        before = self._snapshot()
        with pytest.raises(PermissionDenied):
            self.app.accounts.delete_user(actor, victim.id)
        self._assert_unchanged(before)

    @precondition(lambda self: bool(self.movie_ids))
    @rule(which=INDEX)
    def delete_movie(self, which: int) -> None:
        movie_id = self.movie_ids[which % len(self.movie_ids)]
        self.app.movies.delete_movie(self.admin, movie_id)
        self.movie_ids.remove(movie_id)
        self.gone_movie_ids.append(movie_id)
        self.model = {pair: s for pair, s in self.model.items() if pair[1] != movie_id}
        with pytest.raises(NotFound):
            self.app.movies.get_movie(self.admin, movie_id)

    # ---- invariants --------------------------------------------------------------------

    @invariant()
    def summaries_equal_a_recount(self) -> None:
        """Count, sum and histogram, as stored, are a recount of the ratings after any
        sequence of rate, re-rate and remove (own, by id, by deleting a user or a movie):
        the histogram adds up to the count and, weighted, to the sum."""
        state = self.app.db.state
        counts: Counter[int] = Counter()
        totals: Counter[int] = Counter()
        by_stars: Counter[tuple[int, int]] = Counter()
        for r in state.ratings.values():
            counts[r.movie_id] += 1
            totals[r.movie_id] += r.stars.value
            by_stars[(r.movie_id, r.stars.value)] += 1
        assert set(state.movies) == set(self.movie_ids)
        listed = {m.id: m.ratings for m in self.app.movies.list_movies(self.admin).items}
        assert set(listed) == set(self.movie_ids)
        for movie_id in self.movie_ids:
            histogram = tuple(by_stars[(movie_id, n)] for n in range(1, 6))
            expected = RatingSummary(counts[movie_id], totals[movie_id], histogram)
            got = self.app.movies.get_movie(self.admin, movie_id).ratings
            assert (got.count, got.total, got.histogram) == (expected.count, expected.total, histogram)
            assert sum(got.histogram) == got.count
            assert sum(n * h for n, h in zip(range(1, 6), got.histogram, strict=True)) == got.total
            assert listed[movie_id] == expected
            assert got.average == (expected.total / expected.count if expected.count else 0)
        every = RatingSummary.of(r.stars.value for r in state.ratings.values())
        assert self.app.movies.score_prior().mean == every.average  # the catalogue's, as recounted

    @invariant()
    def one_rating_per_user_and_movie(self) -> None:
        pairs = [(r.user_id, r.movie_id) for r in self.app.db.state.ratings.values()]
        assert len(pairs) == len(set(pairs))

    @invariant()
    def ratings_are_what_the_model_predicts(self) -> None:
        state = self.app.db.state
        stored = {(r.user_id, r.movie_id): r.stars.value for r in state.ratings.values()}
        assert stored == self.model
        live_users = {self.admin.id, *(u.id for u in self.users)}
        assert set(state.users) == live_users
        for r in state.ratings.values():  # no rating outlives its user or movie
            assert r.user_id in live_users and r.movie_id in state.movies
        listed = self.app.ratings.list_ratings(self.admin, {}).items
        assert sorted(listed, key=lambda r: r.id) == sorted(state.ratings.values(), key=lambda r: r.id)


RatingMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
TestRatingRules = RatingMachine.TestCase


# ---- a few fixed scenarios, readable without the machine -----------------------------------


def _world() -> tuple[App, User, User, int]:
    app = make_app()
    admin = app.accounts.register({"username": "admin", "password": password_for(0)}, is_admin=True)
    alice = app.accounts.register({"username": "alice", "password": password_for(1)})
    movie = app.movies.create_movie(admin, {"title": "Alien"})
    return app, admin, alice, movie.id


def test_first_rating_creates_then_rerating_updates_the_summary() -> None:
    app, admin, alice, movie_id = _world()
    first, created = app.ratings.rate_movie(alice, movie_id, {"stars": 2})
    assert created is True
    assert app.movies.get_movie(alice, movie_id).ratings == RatingSummary.of([2])
    second, created = app.ratings.rate_movie(alice, movie_id, {"stars": 5})
    assert created is False
    assert second.id == first.id and second.stars.value == 5
    assert app.movies.get_movie(alice, movie_id).ratings == RatingSummary.of([5])
    app.ratings.rate_movie(admin, movie_id, {"stars": 4})
    summary = app.movies.get_movie(alice, movie_id).ratings
    assert summary == RatingSummary(2, 9, (0, 0, 0, 1, 1))
    assert summary.average == 4.5


def test_rating_a_missing_movie_is_not_found() -> None:
    app, _, alice, movie_id = _world()
    with pytest.raises(NotFound):
        app.ratings.rate_movie(alice, movie_id + 1, {"stars": 3})
    assert app.db.state.ratings == {}


def test_removing_own_rating_restores_an_empty_summary() -> None:
    app, _, alice, movie_id = _world()
    app.ratings.rate_movie(alice, movie_id, {"stars": 3})
    app.ratings.remove_own_rating(alice, movie_id)
    movie = app.movies.get_movie(alice, movie_id)
    assert movie.ratings == RatingSummary()
    assert movie.ratings.average == 0
    with pytest.raises(NotFound):
        app.ratings.remove_own_rating(alice, movie_id)


def test_missing_stars_is_its_own_error() -> None:
    app, _, alice, movie_id = _world()
    with pytest.raises(StarsMissing):
        app.ratings.rate_movie(alice, movie_id, {"rating": 3})
    assert StarsMissing.message == "You need to provide stars"


@pytest.mark.parametrize(
    ("stars", "message"),
    [
        (0, "Ensure this value is greater than or equal to 1."),
        (6, "Ensure this value is less than or equal to 5."),
        (2.5, "A valid integer is required."),
        ("5", "A valid integer is required."),
        (True, "A valid integer is required."),
        (None, "This field may not be null."),
    ],
)
def test_invalid_stars_give_drf_errors_and_change_nothing(stars: object, message: str) -> None:
    app, _, alice, movie_id = _world()
    app.ratings.rate_movie(alice, movie_id, {"stars": 4})
    before = copy.deepcopy(app.db.state)
    with pytest.raises(ValidationError) as caught:
        app.ratings.rate_movie(alice, movie_id, {"stars": stars})
    assert caught.value.errors == {"stars": [message]}
    assert app.db.state == before


def test_list_ratings_filters_by_movie_and_user() -> None:
    app, admin, alice, movie_id = _world()
    other = app.movies.create_movie(admin, {"title": "Aliens"}).id
    a1, _ = app.ratings.rate_movie(alice, movie_id, {"stars": 1})
    a2, _ = app.ratings.rate_movie(alice, other, {"stars": 2})
    b1, _ = app.ratings.rate_movie(admin, movie_id, {"stars": 3})
    assert list(app.ratings.list_ratings(alice, {"movie": movie_id}).items) == [a1, b1]
    assert list(app.ratings.list_ratings(alice, {"user": str(alice.id)}).items) == [a1, a2]
    assert list(app.ratings.list_ratings(alice, {"movie": other, "user": admin.id}).items) == []
    with pytest.raises(ValidationError) as caught:
        app.ratings.list_ratings(alice, {"movie": "x"})
    assert caught.value.errors == {"movie": ["A valid integer is required."]}
