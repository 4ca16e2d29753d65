"""Every repository method of the core's ports, run alike on the in-memory fakes and on
SqlDatabase over SQLite, PostgreSQL and MariaDB: what the core may rely on, whichever it gets.

Times are whole seconds: MariaDB's DATETIME and the tokens' ``last_used`` keep no more.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import pytest

from movierater_core.errors import AlreadyStored, DuplicateRating, ReferenceGone, UsernameTaken
from movierater_core.missing import MISSING
from movierater_core.model import (
    Movie,
    MovieFields,
    Profile,
    Rating,
    RatingSummary,
    Stars,
    SummaryDelta,
    User,
)
from movierater_core.ports import Database, ImportRecord, NewUser, Repositories

T = TypeVar("T")

T0 = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


def added(stars: int) -> SummaryDelta:
    return SummaryDelta.added(Stars(stars))


def changed(old: int, new: int) -> SummaryDelta:
    return SummaryDelta.changed(Stars(old), Stars(new))


LIMIT = 500  # what the port allows a bulk call


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def image_path_set_to(path: str | None) -> MovieFields:
    """An update that sets imagePath (to None: clears it) and leaves the rest."""
    return MovieFields(image_path=path)


def add_user(repos: Repositories, name: str = "ann", *, is_admin: bool = False) -> User:
    return repos.users.add(name, f"hash-of-{name}", is_admin=is_admin)


def add_movie(repos: Repositories, title: str = "Alien", image_path: str | None = None) -> Movie:
    return repos.movies.add(MovieFields(title=title, description="In space.", image_path=image_path))


# ---- users ------------------------------------------------------------------------------


def test_users_add_get_credentials_list(db: Database) -> None:
    with db.writing() as repos:
        ann = add_user(repos, "ann")
        bob = add_user(repos, "bob", is_admin=True)
    assert ann == User(ann.id, "ann", False) and bob == User(bob.id, "bob", True)
    assert ann.id < bob.id
    with db.reading() as repos:
        assert repos.users.get(ann.id) == ann
        assert repos.users.get(bob.id + 1000) is None
        assert repos.users.credentials("bob") == (bob, "hash-of-bob")
        assert repos.users.credentials("nobody") is None
        assert repos.users.list() == [ann, bob]


def test_usernames_are_exact_case_sensitive_and_unicode(db: Database) -> None:
    with db.writing() as repos:
        bob = add_user(repos, "bob")
        josé = add_user(repos, "José")
        big_bob = add_user(repos, "Bob")  # another user: case matters
    with db.reading() as repos:
        assert repos.users.credentials("Bob") == (big_bob, "hash-of-Bob")
        assert repos.users.credentials("bob") == (bob, "hash-of-bob")
        assert repos.users.credentials("José") == (josé, "hash-of-José")
        assert repos.users.credentials("jose") is None
        assert repos.users.taken({"bob", "BOB", "José", "nobody"}) == {"bob", "José"}
        assert repos.users.taken(set()) == set()


def test_users_add_of_a_taken_username_raises_username_taken(db: Database) -> None:
    with db.writing() as repos:
        add_user(repos, "ann")
    with pytest.raises(UsernameTaken), db.writing() as repos:
        add_user(repos, "ann")
    with db.reading() as repos:
        assert [u.username for u in repos.users.list()] == ["ann"]


def test_users_existing(db: Database) -> None:
    with db.writing() as repos:
        ann, bob = add_user(repos, "ann"), add_user(repos, "bob")
    with db.reading() as repos:
        assert repos.users.existing({ann.id, bob.id, bob.id + 1000}) == {ann.id, bob.id}
        assert repos.users.existing(set()) == set()


def test_users_rename(db: Database) -> None:
    with db.writing() as repos:
        ann, bob = add_user(repos, "ann"), add_user(repos, "bob")
        repos.users.rename(ann.id, "anna")
        repos.users.rename(bob.id, "bob")  # to its own name: not taken
    with db.reading() as repos:
        assert repos.users.get(ann.id) == User(ann.id, "anna", False)
        assert repos.users.credentials("ann") is None
    with pytest.raises(UsernameTaken), db.writing() as repos:
        repos.users.rename(bob.id, "anna")
    with db.reading() as repos:
        assert repos.users.get(bob.id) == bob


def test_users_set_password_hash_set_admin_delete(db: Database) -> None:
    with db.writing() as repos:
        ann, bob = add_user(repos, "ann"), add_user(repos, "bob")
        repos.users.set_password_hash(ann.id, "new-hash")
        repos.users.set_admin(ann.id, True)
    with db.reading() as repos:
        assert repos.users.credentials("ann") == (User(ann.id, "ann", True), "new-hash")
    with db.writing() as repos:
        repos.users.set_admin(ann.id, False)
        repos.users.delete(bob.id)
    with db.reading() as repos:
        assert repos.users.list() == [User(ann.id, "ann", False)]


def test_users_count_admins_follows_promotions_demotions_and_deletions(db: Database) -> None:
    with db.writing() as repos:
        assert repos.users.count_admins() == 0
        ann, bob = add_user(repos, "ann", is_admin=True), add_user(repos, "bob")
        add_user(repos, "cy")
        assert repos.users.count_admins() == 1
        repos.users.set_admin(bob.id, True)
        assert repos.users.count_admins(for_update=True) == 2  # the locking read counts alike
    with db.writing() as repos:
        repos.users.set_admin(ann.id, False)
        assert repos.users.count_admins(for_update=True) == 1
        repos.users.delete(bob.id)
        assert repos.users.count_admins() == 0


def test_users_add_many_returns_ids_in_order(db: Database) -> None:
    new = [NewUser(f"user{n}", f"h{n}", n % 7 == 0, at(n)) for n in range(LIMIT)]
    with db.writing() as repos:
        ids = repos.users.add_many(new)
        assert repos.users.add_many([]) == []
    assert len(ids) == LIMIT and len(set(ids)) == LIMIT
    with db.reading() as repos:
        assert repos.users.existing(ids) == set(ids)
        assert repos.users.taken({u.username for u in new}) == {u.username for u in new}
        for user_id, user in zip(ids, new, strict=True):
            assert repos.users.credentials(user.username) == (
                User(user_id, user.username, user.is_admin),
                user.password_hash,
            )


def test_users_profile_is_the_user_with_the_date_joined(db: Database) -> None:
    with db.writing() as repos:
        (old,) = repos.users.add_many([NewUser("imported", "h", True, at(7))])
        before = datetime.now(UTC).replace(microsecond=0)
        new = add_user(repos, "fresh")
    with db.reading() as repos:
        assert repos.users.profile(old) == Profile(old, "imported", True, at(7))
        profile = repos.users.profile(new.id)
        assert repos.users.profile(new.id + 1000) is None
    assert profile is not None
    assert (profile.id, profile.username, profile.is_admin) == (new.id, "fresh", False)
    assert before <= profile.date_joined <= datetime.now(UTC) + timedelta(seconds=1)
    assert profile.date_joined.utcoffset() == timedelta(0)


def test_users_add_many_with_a_taken_username_raises_and_keeps_nothing(db: Database) -> None:
    with db.writing() as repos:
        add_user(repos, "ann")
    with pytest.raises(UsernameTaken), db.writing() as repos:
        repos.users.add_many([NewUser("zed", "h", False, T0), NewUser("ann", "h", False, T0)])
    with db.reading() as repos:
        assert [u.username for u in repos.users.list()] == ["ann"]


# ---- movies -----------------------------------------------------------------------------


def test_movies_add_get_list(db: Database) -> None:
    with db.writing() as repos:
        alien = add_movie(repos, "Alien", "https://example.com/a.png")
        bare = repos.movies.add(MovieFields(title="Bare"))  # no description: empty
    assert alien == Movie(alien.id, "Alien", "In space.", "https://example.com/a.png", RatingSummary())
    assert bare == Movie(bare.id, "Bare", "", None)
    with db.reading() as repos:
        assert repos.movies.get(alien.id) == alien
        assert repos.movies.get(bare.id) == bare
        assert repos.movies.get(bare.id + 1000) is None
        assert repos.movies.list() == [alien, bare]
        assert repos.movies.existing({alien.id, bare.id + 1000}) == {alien.id}
        assert repos.movies.existing(set()) == set()


def test_movies_update_changes_only_the_given_fields(db: Database) -> None:
    with db.writing() as repos:
        movie = add_movie(repos, "Alien", "https://example.com/a.png")
        repos.movies.update(movie.id, MovieFields(title="Aliens"))
    with db.reading() as repos:
        assert repos.movies.get(movie.id) == Movie(
            movie.id, "Aliens", "In space.", "https://example.com/a.png"
        )
    with db.writing() as repos:
        repos.movies.update(movie.id, MovieFields(description=""))
        repos.movies.update(movie.id, MovieFields())  # nothing given: nothing changes
    with db.reading() as repos:
        assert repos.movies.get(movie.id) == Movie(movie.id, "Aliens", "", "https://example.com/a.png")
    with db.writing() as repos:
        repos.movies.update(movie.id, image_path_set_to(None))
    with db.reading() as repos:
        assert repos.movies.get(movie.id) == Movie(movie.id, "Aliens", "", None)
    with db.writing() as repos:
        repos.movies.update(movie.id, image_path_set_to("https://example.com/b.png"))
    with db.reading() as repos:
        assert repos.movies.get(movie.id) == Movie(movie.id, "Aliens", "", "https://example.com/b.png")


def test_movies_delete(db: Database) -> None:
    with db.writing() as repos:
        one, two = add_movie(repos, "One"), add_movie(repos, "Two")
        repos.movies.delete(one.id)
    with db.reading() as repos:
        assert repos.movies.list() == [two]


def test_movies_add_many_returns_ids_in_order_with_no_ratings(db: Database) -> None:
    fields = [
        MovieFields(title=f"Movie {n}", description=MISSING if n % 2 else f"d{n}", image_path=None)
        for n in range(LIMIT)
    ]
    with db.writing() as repos:
        ids = repos.movies.add_many(fields)
        assert repos.movies.add_many([]) == []
    with db.reading() as repos:
        assert repos.movies.existing(ids) == set(ids)
        assert repos.movies.list() == [
            Movie(movie_id, f"Movie {n}", "" if n % 2 else f"d{n}", None, RatingSummary())
            for n, movie_id in enumerate(ids)
        ]


def test_adjust_ratings_adds_deltas(db: Database) -> None:
    with db.writing() as repos:
        movie = add_movie(repos)
        repos.movies.adjust_ratings(movie.id, SummaryDelta.added(Stars(5)))
        repos.movies.adjust_ratings(movie.id, SummaryDelta.added(Stars(2)))
    with db.writing() as repos:
        repos.movies.adjust_ratings(movie.id, SummaryDelta.changed(Stars(5), Stars(4)))  # a re-rating
        repos.movies.adjust_ratings(movie.id, SummaryDelta.removed(Stars(2)))  # an un-rating of the 2
    with db.reading() as repos:
        found = repos.movies.get(movie.id)
        assert repos.movies.catalogue() == RatingSummary.of([4])
    assert found is not None and found.ratings == RatingSummary(1, 4, (0, 0, 0, 1, 0))


def test_adjust_ratings_is_applied_in_storage_not_from_a_stale_read(db: Database) -> None:
    """The delta is added to what storage holds at the time, not to what the caller read."""
    with db.writing() as repos:
        movie = add_movie(repos)
    with db.reading() as repos:
        stale = repos.movies.get(movie.id)
    with db.writing() as repos:
        repos.movies.adjust_ratings(movie.id, SummaryDelta.added(Stars(3)))
    with db.writing() as repos:
        repos.movies.adjust_ratings(movie.id, SummaryDelta.added(Stars(4)))
    with db.reading() as repos:
        found = repos.movies.get(movie.id)
    assert stale is not None and stale.ratings == RatingSummary()
    assert found is not None and found.ratings == RatingSummary.of([3, 4])


def test_adjust_ratings_many(db: Database) -> None:
    with db.writing() as repos:
        ids = repos.movies.add_many([MovieFields(title=f"M{n}") for n in range(LIMIT)])
        repos.movies.adjust_ratings(ids[0], SummaryDelta.added(Stars(1)))
        stars = {movie_id: [1 + (n + k) % 5 for k in range(n % 3)] for n, movie_id in enumerate(ids)}
        stars[ids[0]] = [4, 5]
        deltas = {
            movie_id: sum((SummaryDelta.added(Stars(v)) for v in values), SummaryDelta())
            for movie_id, values in stars.items()
        }
        repos.movies.adjust_ratings_many(deltas)
        repos.movies.adjust_ratings_many({})
    with db.reading() as repos:
        summaries = {m.id: m.ratings for m in repos.movies.list()}
        every = repos.movies.catalogue()
    expected = {movie_id: RatingSummary.of(values) for movie_id, values in stars.items()}
    expected[ids[0]] = RatingSummary.of([1, 4, 5])
    assert summaries == expected
    assert every == RatingSummary.of([v for values in stars.values() for v in values] + [1])


# ---- ratings ----------------------------------------------------------------------------


def test_ratings_add_get_find_change_stars_delete(db: Database) -> None:
    with db.writing() as repos:
        ann, movie = add_user(repos), add_movie(repos)
        rating = repos.ratings.add(ann.id, movie.id, Stars(4), at=T0)
        assert repos.ratings.get(rating.id, for_update=True) == rating
        assert repos.ratings.find(ann.id, movie.id, for_update=True) == rating
    assert rating == Rating(rating.id, ann.id, movie.id, Stars(4), T0, T0)  # created, changed
    with db.reading() as repos:
        assert repos.ratings.get(rating.id) == rating
        assert repos.ratings.get(rating.id + 1000) is None
        assert repos.ratings.find(ann.id, movie.id) == rating
        assert repos.ratings.find(ann.id, movie.id + 1000) is None
    with db.writing() as repos:
        assert repos.ratings.change_stars(rating, Stars(1), at=at(3600), summary_delta=SummaryDelta())
    with db.reading() as repos:  # to the microsecond
        changed = Rating(rating.id, ann.id, movie.id, Stars(1), T0, at(3600))
        assert repos.ratings.get(rating.id) == changed
    with db.writing() as repos:
        assert repos.ratings.find_locking_movie(ann.id, movie.id) == (True, changed)
    with db.writing() as repos:
        repos.ratings.delete(rating.id)
    with db.reading() as repos:
        assert repos.ratings.get(rating.id) is None
        assert repos.ratings.list() == []


def test_ratings_list_filters_and_orders(db: Database) -> None:
    """By id; a user's ratings by movie (so transactions lock several movies in one order)."""
    with db.writing() as repos:
        ann, bob = add_user(repos, "ann"), add_user(repos, "bob")
        first, second = add_movie(repos, "First"), add_movie(repos, "Second")
        ann_second = repos.ratings.add(ann.id, second.id, Stars(2), at=T0)  # rated before the first
        ann_first = repos.ratings.add(ann.id, first.id, Stars(5), at=T0)
        bob_first = repos.ratings.add(bob.id, first.id, Stars(3), at=T0)
    with db.reading() as repos:
        assert repos.ratings.list() == [ann_second, ann_first, bob_first]
        assert repos.ratings.list(movie_id=first.id) == [ann_first, bob_first]
        assert repos.ratings.list(user_id=ann.id) == [ann_first, ann_second]
        assert repos.ratings.list(user_id=ann.id, movie_id=second.id) == [ann_second]
        assert repos.ratings.list(user_id=bob.id, movie_id=second.id) == []
    with db.writing() as repos:
        assert repos.ratings.list(user_id=ann.id, for_update=True) == [ann_first, ann_second]


def test_a_second_rating_of_a_movie_by_a_user_raises_duplicate_rating(db: Database) -> None:
    with db.writing() as repos:
        ann, movie = add_user(repos), add_movie(repos)
        repos.ratings.add(ann.id, movie.id, Stars(4), at=T0)
    with pytest.raises(DuplicateRating), db.writing() as repos:
        repos.ratings.add(ann.id, movie.id, Stars(2), at=T0)
    with db.reading() as repos:
        assert [r.stars for r in repos.ratings.list()] == [Stars(4)]


@pytest.mark.parametrize("missing", ["user", "movie"])
def test_rating_what_does_not_exist_raises_reference_gone(db: Database, missing: str) -> None:
    """A user or movie deleted meanwhile: not a lost race to run again (that would fail the
    same way five times) but an error of its own, which the use case answers as "after"
    (401, 404). A batch of an import is abandoned either way (DuplicateRating)."""
    with db.writing() as repos:
        ann, movie = add_user(repos), add_movie(repos)
    user_id, movie_id = (ann.id + 1000, movie.id) if missing == "user" else (ann.id, movie.id + 1000)
    with pytest.raises(ReferenceGone), db.writing() as repos:
        repos.ratings.add(user_id, movie_id, Stars(3), at=T0)
    with pytest.raises(DuplicateRating), db.writing() as repos:
        repos.ratings.add_many([(user_id, movie_id, Stars(3))])
    with db.reading() as repos:
        assert repos.ratings.list() == []


def test_ratings_rated_and_add_many(db: Database) -> None:
    with db.writing() as repos:
        users = repos.users.add_many([NewUser(f"u{n}", "h", False, T0) for n in range(25)])
        movies = repos.movies.add_many([MovieFields(title=f"M{n}") for n in range(20)])
        new = [(u, m, Stars(1 + (u + m) % 5)) for u in users for m in movies][:LIMIT]
        ids = repos.ratings.add_many(new)
        assert repos.ratings.add_many([]) == []
    assert len(ids) == LIMIT
    pairs = {(u, m) for u, m, _ in new}
    with db.reading() as repos:
        assert repos.ratings.rated(pairs) == pairs
        others = {(u, m + 1000) for u, m in list(pairs)[: LIMIT // 2]}
        half = set(list(pairs)[: LIMIT // 2])
        assert repos.ratings.rated(half | others) == half
        assert repos.ratings.rated(set()) == set()
        assert repos.ratings.list() == [
            Rating(rating_id, u, m, stars) for rating_id, (u, m, stars) in zip(ids, new, strict=True)
        ]


def test_ratings_add_many_of_a_rated_pair_raises_duplicate_rating(db: Database) -> None:
    with db.writing() as repos:
        ann, one, two = add_user(repos), add_movie(repos, "One"), add_movie(repos, "Two")
        repos.ratings.add(ann.id, two.id, Stars(5), at=T0)
    with pytest.raises(DuplicateRating), db.writing() as repos:
        repos.ratings.add_many([(ann.id, one.id, Stars(1)), (ann.id, two.id, Stars(1))])
    with db.reading() as repos:
        assert [(r.movie_id, r.stars) for r in repos.ratings.list()] == [(two.id, Stars(5))]


def test_ratings_export_page_is_keyset_paged(db: Database) -> None:
    with db.writing() as repos:
        ann, bob = add_user(repos, "ann"), add_user(repos, "bob")
        movies = [add_movie(repos, f"M{n}") for n in range(5)]
        for movie in reversed(movies):  # rating ids against the movies' order
            repos.ratings.add(ann.id, movie.id, Stars(2), at=T0)
        repos.ratings.add(bob.id, movies[0].id, Stars(5), at=T0)
    with db.reading() as repos:
        mine = repos.ratings.export_page(user_id=ann.id, after=0, limit=3)
        assert [(r.movie_id, r.title, r.username, r.stars) for r in mine] == [
            (m.id, m.title, "ann", Stars(2)) for m in movies[:3]
        ]
        rest = repos.ratings.export_page(user_id=ann.id, after=mine[-1].movie_id, limit=3)
        assert [r.movie_id for r in rest] == [m.id for m in movies[3:]]
        everyone = repos.ratings.export_page(user_id=None, after=0, limit=100)
        assert [r.id for r in everyone] == sorted(r.id for r in repos.ratings.list())
        assert everyone[-1].username == "bob" and everyone[-1].user_id == bob.id
        after = repos.ratings.export_page(user_id=None, after=everyone[1].id, limit=2)
        assert after == everyone[2:4]
        assert repos.ratings.export_page(user_id=bob.id + 1000, after=0, limit=5) == []


def test_movies_titles_and_titled(db: Database) -> None:
    with db.writing() as repos:
        heat, twin, twin2 = add_movie(repos, "Heat"), add_movie(repos, "Twin"), add_movie(repos, "Twin")
        upper = add_movie(repos, "HEAT")
    with db.reading() as repos:
        assert repos.movies.titles({heat.id, twin.id, 99999}) == {heat.id: "Heat", twin.id: "Twin"}
        assert repos.movies.titles(set()) == {}
        found = repos.movies.titled({"Heat", "Twin", "Nope", "heat"})
        assert {k: list(v) for k, v in found.items()} == {"Heat": [heat.id], "Twin": [twin.id, twin2.id]}
        assert {k: list(v) for k, v in repos.movies.titled({"HEAT"}).items()} == {"HEAT": [upper.id]}
        assert repos.movies.titled(set()) == {}


# ---- tokens -----------------------------------------------------------------------------


def test_tokens_add_user_for_touch_delete(db: Database) -> None:
    with db.writing() as repos:
        ann = add_user(repos)
        repos.tokens.add("a" * 64, ann.id, at(0))
    with db.reading() as repos:
        assert repos.tokens.user_for("a" * 64) == (ann, at(0))  # last used: when made
        assert repos.tokens.user_for("b" * 64) is None
    with db.writing() as repos:
        repos.tokens.touch("a" * 64, at(90))
        repos.tokens.touch("b" * 64, at(90))  # no such token: nothing happens
    with db.reading() as repos:
        assert repos.tokens.user_for("a" * 64) == (ann, at(90))
        assert repos.tokens.user_for("b" * 64) is None
    with db.writing() as repos:
        repos.tokens.delete("a" * 64)
        repos.tokens.delete("c" * 64)  # no such token: nothing happens
    with db.reading() as repos:
        assert repos.tokens.user_for("a" * 64) is None


def test_tokens_user_for_sees_the_user_as_it_is_now(db: Database) -> None:
    with db.writing() as repos:
        ann = add_user(repos)
        repos.tokens.add("a" * 64, ann.id, at(0))
        repos.users.set_admin(ann.id, True)
    with db.reading() as repos:
        assert repos.tokens.user_for("a" * 64) == (User(ann.id, "ann", True), at(0))


def test_tokens_add_of_a_stored_digest_raises_already_stored(db: Database) -> None:
    with db.writing() as repos:
        ann = add_user(repos)
        repos.tokens.add("a" * 64, ann.id, at(0))
    with pytest.raises(AlreadyStored), db.writing() as repos:
        repos.tokens.add("a" * 64, ann.id, at(5))
    with db.reading() as repos:
        assert repos.tokens.user_for("a" * 64) == (ann, at(0))


def test_tokens_delete_for_user_keeps_only_the_one_asked_for(db: Database) -> None:
    with db.writing() as repos:
        ann, bob = add_user(repos, "ann"), add_user(repos, "bob")
        for digest, owner in (("1" * 64, ann), ("2" * 64, ann), ("3" * 64, ann), ("4" * 64, bob)):
            repos.tokens.add(digest, owner.id, at(0))
        repos.tokens.delete_for_user(ann.id, keep="2" * 64)
    with db.reading() as repos:
        assert [repos.tokens.user_for(d * 64) is not None for d in "1234"] == [False, True, False, True]
    with db.writing() as repos:
        repos.tokens.delete_for_user(ann.id)
    with db.reading() as repos:
        assert [repos.tokens.user_for(d * 64) is not None for d in "1234"] == [False, False, False, True]


def test_tokens_add_many(db: Database) -> None:
    with db.writing() as repos:
        ann, bob = add_user(repos, "ann"), add_user(repos, "bob")
        repos.tokens.add_many(
            [(f"{n:064x}", ann.id if n % 2 else bob.id, at(-n)) for n in range(LIMIT)], last_used=at(30)
        )
        repos.tokens.add_many([], last_used=at(30))
    with db.reading() as repos:
        assert repos.tokens.user_for(f"{1:064x}") == (ann, at(30))
        assert repos.tokens.user_for(f"{LIMIT - 2:064x}") == (bob, at(30))
    with pytest.raises(AlreadyStored), db.writing() as repos:
        repos.tokens.add_many([("f" * 64, ann.id, at(0)), (f"{7:064x}", ann.id, at(0))], last_used=at(40))
    with db.reading() as repos:
        assert repos.tokens.user_for("f" * 64) is None
        assert repos.tokens.user_for(f"{7:064x}") == (ann, at(30))


# ---- upload grants, verified images, throttled attempts ----------------------------------


def test_grants(db: Database) -> None:
    with db.writing() as repos:
        ann, bob = add_user(repos, "ann"), add_user(repos, "bob")
        repos.grants.lock_user(ann.id)
        for seconds in (30, 10, 20):
            repos.grants.add(ann.id, f"obj{seconds}", at(seconds))
        repos.grants.add(bob.id, "bob", at(15))
    with db.reading() as repos:
        assert repos.grants.granted_after(ann.id, at(10)) == [at(20), at(30)]  # strictly after, oldest first
        assert repos.grants.granted_after(ann.id, at(0)) == [at(10), at(20), at(30)]
        assert repos.grants.granted_after(bob.id, at(0)) == [at(15)]
    with db.writing() as repos:
        repos.grants.lock_user(ann.id)
        repos.grants.forget_until(ann.id, at(20))  # at or before
    with db.reading() as repos:
        assert repos.grants.granted_after(ann.id, at(0)) == [at(30)]
        assert repos.grants.granted_after(bob.id, at(0)) == [at(15)]
    with db.writing() as repos:
        repos.grants.delete_for_user(ann.id)
    with db.reading() as repos:
        assert repos.grants.granted_after(ann.id, at(0)) == []
        assert repos.grants.granted_after(bob.id, at(0)) == [at(15)]


def test_images(db: Database) -> None:
    with db.writing() as repos:
        repos.images.mark_verified("a.png", at(0))
        repos.images.mark_verified("a.png", at(5))  # idempotent
    with db.writing() as repos:
        repos.images.mark_verified("a.png", at(9))  # in another transaction too
    with db.reading() as repos:
        assert repos.images.is_verified("a.png")
        assert not repos.images.is_verified("b.png")
    with db.writing() as repos:
        repos.images.forget("a.png")
        repos.images.forget("never.png")
    with db.reading() as repos:
        assert not repos.images.is_verified("a.png")


def test_rejected_images_are_remembered(db: Database) -> None:
    with db.writing() as repos:
        repos.images.mark_rejected("r.png", at(0))
        repos.images.mark_rejected("r.png", at(5))  # idempotent
    with db.writing() as repos:
        repos.images.mark_rejected("r.png", at(9))  # in another transaction too
        repos.images.forget("r.png")  # forgetting the verification keeps the rejection
    with db.reading() as repos:
        assert repos.images.is_rejected("r.png")
        assert not repos.images.is_rejected("s.png")
        assert not repos.images.is_verified("r.png")


def test_referenced_image_paths_are_the_movies_set_image_paths(db: Database) -> None:
    with db.writing() as repos:
        add_movie(repos, "One", "https://example.com/one.png")
        add_movie(repos, "None", None)
        add_movie(repos, "Empty", "")
        add_movie(repos, "Two", "https://cdn.example/two.webp")
    with db.reading() as repos:
        assert sorted(repos.images.referenced_image_paths()) == [
            "https://cdn.example/two.webp",
            "https://example.com/one.png",
        ]


def test_attempts(db: Database) -> None:
    with db.writing() as repos:
        for seconds in (20, 0, 10, 10):
            repos.attempts.add("k1", at(seconds))
        repos.attempts.add("k2", at(5))
    with db.reading() as repos:
        assert repos.attempts.since("k1", at(0)) == [at(10), at(10), at(20)]  # strictly after, oldest first
        assert repos.attempts.since("k1", at(-1)) == [at(0), at(10), at(10), at(20)]
        assert repos.attempts.since("k2", at(0)) == [at(5)]
        assert repos.attempts.since("k3", at(0)) == []
    with db.writing() as repos:
        repos.attempts.forget_until("k1", at(10))  # at or before
    with db.reading() as repos:
        assert repos.attempts.since("k1", at(-1)) == [at(20)]
        assert repos.attempts.since("k2", at(-1)) == [at(5)]


def test_attempts_add_returns_ids_that_remove_forgets(db: Database) -> None:
    with db.writing() as repos:
        repos.attempts.lock("k1")  # a key with no attempts yet can be locked, twice too
        repos.attempts.lock("k1")
        assert repos.attempts.since("k1", at(-1)) == []
        first, second, third = (repos.attempts.add("k1", at(n)) for n in (0, 10, 20))
        other = repos.attempts.add("k2", at(5))
        assert len({first, second, third, other}) == 4
    with db.writing() as repos:
        repos.attempts.remove([first, third])
        repos.attempts.remove([])
    with db.writing() as repos:
        repos.attempts.lock("k1")
        assert repos.attempts.since("k1", at(-1)) == [at(10)]
        repos.attempts.remove([first, second])  # one gone already: ignored
    with db.reading() as repos:
        assert repos.attempts.since("k1", at(-1)) == []
        assert repos.attempts.since("k2", at(-1)) == [at(5)]


def _in_turn(db: Database, first: Callable[[Repositories], None], second: Callable[[Repositories], T]) -> T:
    """``second``'s transaction starts while ``first``'s holds its locks (for 0.3 s after
    ``first`` ran): what ``second`` gets is what it saw once ``first`` had committed."""
    holding = threading.Event()

    def hold() -> None:
        with db.writing() as repos:
            first(repos)
            holding.set()
            time.sleep(0.3)

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(10)
    try:
        with db.writing() as repos:
            return second(repos)
    finally:
        thread.join()


@pytest.mark.two_transactions
def test_attempts_lock_makes_concurrent_count_and_add_take_turns(db: Database) -> None:
    def count_and_add(repos: Repositories) -> int:
        repos.attempts.lock("k")
        counted = len(repos.attempts.since("k", at(-1)))
        repos.attempts.add("k", at(counted))
        return counted

    assert _in_turn(db, count_and_add, count_and_add) == 1  # waited, then counted the first one
    with db.writing() as repos:  # and once the key's row exists already
        repos.attempts.forget_until("k", at(100))
    assert _in_turn(db, count_and_add, count_and_add) == 1


def test_users_lock_credentials(db: Database) -> None:
    with db.writing() as repos:
        ann = add_user(repos)
        assert repos.users.lock_credentials(ann.id) == "hash-of-ann"
        assert repos.users.lock_credentials(ann.id + 1) is None
        repos.users.set_password_hash(ann.id, "new")
        assert repos.users.lock_credentials(ann.id) == "new"


@pytest.mark.two_transactions
def test_users_lock_credentials_sees_a_password_change_it_waited_for(db: Database) -> None:
    with db.writing() as repos:
        ann = add_user(repos)
    seen = _in_turn(
        db,
        lambda repos: repos.users.set_password_hash(ann.id, "changed"),
        lambda repos: repos.users.lock_credentials(ann.id),
    )
    assert seen == "changed"

    def lock_then_add_token(repos: Repositories) -> None:
        assert repos.users.lock_credentials(ann.id) == "changed"
        repos.tokens.add("d" * 64, ann.id, at(0))

    def change_and_revoke(repos: Repositories) -> int:
        repos.users.set_password_hash(ann.id, "changed again")
        repos.tokens.delete_for_user(ann.id)
        return 0

    _in_turn(db, lock_then_add_token, change_and_revoke)  # a change that waited sees the token
    with db.reading() as repos:
        assert repos.tokens.user_for("d" * 64) is None


# ---- import provenance ------------------------------------------------------------------


def test_import_records(db: Database) -> None:
    records = [(str(n), ImportRecord(n * 10, f"{n:064x}")) for n in range(LIMIT)]
    with db.writing() as repos:
        repos.imports.add("user", records, at(0))
        repos.imports.add("movie", [("1", ImportRecord(7, "f" * 64))], at(0))  # kinds apart
        repos.imports.add("user", [], at(0))
    with db.reading() as repos:
        assert repos.imports.find("user", [legacy_id for legacy_id, _ in records]) == dict(records)
        assert repos.imports.find("user", ["1", "x"]) == {"1": ImportRecord(10, f"{1:064x}")}
        assert repos.imports.find("movie", ["1", "2"]) == {"1": ImportRecord(7, "f" * 64)}
        assert repos.imports.find("rating", ["1"]) == {}
        assert repos.imports.find("user", []) == {}


def test_import_records_add_of_a_recorded_row_raises_already_stored(db: Database) -> None:
    with db.writing() as repos:
        repos.imports.add("user", [("1", ImportRecord(1, "a"))], at(0))
    with pytest.raises(AlreadyStored), db.writing() as repos:
        repos.imports.add("user", [("2", ImportRecord(2, "b")), ("1", ImportRecord(9, "c"))], at(0))
    with db.reading() as repos:
        assert repos.imports.find("user", ["1", "2"]) == {"1": ImportRecord(1, "a")}


# ---- what a deletion racing an insert leaves: locks, and ReferenceGone -------------------


def test_locking_reads_of_a_user_and_a_movie_find_what_plain_reads_find(db: Database) -> None:
    with db.writing() as repos:
        ann, movie = add_user(repos), add_movie(repos)
    with db.writing() as repos:
        assert repos.users.get(ann.id, for_update=True) == ann
        assert repos.users.get(ann.id + 1000, for_update=True) is None
        assert repos.movies.get(movie.id, for_update=True) == movie
        assert repos.movies.get(movie.id + 1000, for_update=True) is None
        assert repos.grants.lock_user(ann.id) is True
        assert repos.grants.lock_user(ann.id + 1000) is False


def test_a_token_or_an_upload_grant_of_a_user_that_is_gone_raises_reference_gone(db: Database) -> None:
    with db.writing() as repos:
        ghost = add_user(repos).id + 1000
    with pytest.raises(ReferenceGone), db.writing() as repos:
        repos.tokens.add("e" * 64, ghost, T0)
    with pytest.raises(ReferenceGone), db.writing() as repos:
        repos.grants.add(ghost, "obj", T0)
    with db.reading() as repos:
        assert repos.tokens.user_for("e" * 64) is None
        assert repos.grants.granted_after(ghost, T0 - timedelta(days=1)) == []


def test_rating_writes_move_the_summary_in_the_same_step(db: Database) -> None:
    """The hot write's three steps (one statement each on PostgreSQL and MariaDB where it
    can): the movie locked with the rater's rating, then an add or a change that moves the
    movie's summary with it; a change that expected other stars changes nothing."""
    with db.writing() as repos:
        ann, bob, movie = add_user(repos, "ann"), add_user(repos, "bob"), add_movie(repos)
        assert repos.ratings.find_locking_movie(ann.id, movie.id) == (True, None)
        assert repos.ratings.find_locking_movie(ann.id, movie.id + 1000) == (False, None)
        rating = repos.ratings.add(ann.id, movie.id, Stars(2), at=T0, summary_delta=added(2))
        repos.ratings.add(bob.id, movie.id, Stars(5), at=T0, summary_delta=added(5))
    assert rating == Rating(rating.id, ann.id, movie.id, Stars(2), T0, T0)
    with db.writing() as repos:
        assert repos.ratings.find_locking_movie(ann.id, movie.id) == (True, rating)
        assert repos.ratings.find_locking_movie(ann.id, movie.id, fresh=True) == (True, rating)
        assert repos.ratings.find_locking_movie(bob.id, movie.id + 1000, fresh=True) == (False, None)
        assert repos.ratings.change_stars(rating, Stars(4), at=at(1), summary_delta=changed(2, 4))
    with db.writing() as repos:  # stale: the stars are 4 now, not 2
        assert not repos.ratings.change_stars(rating, Stars(1), at=T0, summary_delta=changed(2, 1))
    with db.writing() as repos:  # gone
        gone = Rating(rating.id + 1000, ann.id, movie.id, Stars(4))
        assert not repos.ratings.change_stars(gone, Stars(1), at=T0, summary_delta=SummaryDelta())
    with db.reading() as repos:
        assert repos.ratings.find(ann.id, movie.id) == Rating(
            rating.id, ann.id, movie.id, Stars(4), T0, at(1)
        )
        found = repos.movies.get(movie.id)
        assert found is not None and found.ratings == RatingSummary.of([4, 5])
    with pytest.raises(DuplicateRating), db.writing() as repos:
        repos.ratings.add(ann.id, movie.id, Stars(3), at=T0, summary_delta=added(3))
    with db.reading() as repos:  # the failed add moved nothing
        found = repos.movies.get(movie.id)
        assert found is not None and found.ratings == RatingSummary.of([4, 5])
