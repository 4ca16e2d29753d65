"""Ratings: one per user and movie, 1..5 stars, with each movie's summary kept in step."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Final

import attrs

from movierater_core.errors import (
    ConcurrencyConflict,
    DuplicateRating,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ReferenceGone,
    StarsMissing,
)
from movierater_core.missing import MISSING
from movierater_core.model import Rating, Stars, SummaryDelta, User
from movierater_core.paging import (
    CURSOR_FIELD,
    DEFAULT_PAGING,
    KEY_MAX,
    PAGE_FIELDS,
    Keyset,
    KeysetPage,
    Page,
    PageSettings,
    fetch_after,
    fetch_page,
    take_window,
)
from movierater_core.ports import Clock, Database, Repositories
from movierater_core.rules import ID, ID_MAX, ME, STARS, TIMESTAMP, USER_ID_OR_ME, Body, Field, Form, Need
from movierater_core.use_cases._common import retrying
from movierater_core.use_cases.accounts import TokenCheck


class RatingInput:
    """The body of a rating."""

    stars = Field(
        "stars",
        STARS,
        need=Need.ALWAYS,
        description='A JSON integer written without a fraction: 2.5, 4.0, "5" and true are refused.',
    )


class RatingsQuery:
    """The filters of the ratings list (a query string)."""

    movie = Field("movie", ID, description="Only the ratings of this movie.")
    user = Field(
        "user",
        USER_ID_OR_ME,
        description="Only the ratings of this user; `me`: the signed-in user's.",
    )
    since = Field(
        "since",
        TIMESTAMP,
        description=(
            "Incremental sync: only the ratings created or changed at or after this time (ISO 8601; "
            "UTC without an offset), ordered by `changed`, then id, so that paging through them and "
            "asking again with the last `changed` seen misses none. Ratings imported from the Django "
            "original have no times and are never in this list."
        ),
    )


RATING_BODY: Final = Body.of(RatingInput)
RATINGS_QUERY: Final = Body(
    (*PAGE_FIELDS, CURSOR_FIELD, RatingsQuery.movie, RatingsQuery.user, RatingsQuery.since)
)

# The orders of the ratings list, as cursors name them, each with its key (unique in it):
# by rating id; a user's by movie id (one rating per user and movie); with ?since=, by
# (changed in microseconds since the epoch, id).
BY_ID: Final = Keyset("id", (ID_MAX,))
BY_MOVIE: Final = Keyset("movie", (ID_MAX,))
BY_CHANGED: Final = Keyset("changed", (KEY_MAX, ID_MAX))
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND: Final = timedelta(microseconds=1)


def ratings_order(*, user: bool, since: bool) -> Keyset:
    """The order of the ratings list with those filters (the movie filter keeps it)."""
    return BY_CHANGED if since else BY_MOVIE if user else BY_ID


def rating_key(rating: Rating, order: Keyset) -> tuple[int, ...]:
    """The rating's key in ``order`` (as :meth:`RatingReader.page` seeks past it)."""
    if order is BY_CHANGED:
        if rating.changed is None:  # ?since= never lists a rating without times
            raise ValueError(f"rating {rating.id} has no time")
        return ((rating.changed - _EPOCH) // _MICROSECOND, rating.id)
    return (rating.movie_id,) if order is BY_MOVIE else (rating.id,)


def stars_of(data: object) -> Stars:
    """The stars of a rating's body; :class:`StarsMissing` or a field error otherwise."""
    form = Form(data)
    if not form.has("stars"):
        raise StarsMissing
    stars = form.take(RatingInput.stars)
    if stars is MISSING:  # it left its error
        raise form.invalid()
    return stars


class Ratings:
    def __init__(
        self, db: Database, clock: Clock, token_check: TokenCheck, paging: PageSettings = DEFAULT_PAGING
    ) -> None:
        self._db = db
        self._clock = clock
        self._token_check = token_check
        self._paging = paging

    def rate_movie_as(
        self, key: str, movie_id: int, read_body: Callable[[], object]
    ) -> tuple[User, Rating, bool]:
        """``TokenCheck.authenticate(key)``, then ``rate_movie``: where the database can, the
        token checked and the movie rated in one statement (``Database.one_statement``), which
        writes only for a token alive at the rating's time. A bad token is 401 before a body
        that cannot be read or holds no valid stars is 4xx, as before a missing movie is 404.
        Should the statement find the rating changed under it, the locking path rates."""
        try:
            stars = stars_of(read_body())
        except Exception:  # whatever the body's reader or its check raised, after the token's
            self._token_check.authenticate(key)
            raise
        digest = self._token_check.digest(key)
        unit = self._db.one_statement()
        if unit is None:
            return self._check_then_rate(key, movie_id, stars)
        now = self._clock.now()
        try:
            with unit as writes:
                done = writes.rate_with_token(
                    digest, movie_id, stars, at=now, alive_since=self._token_check.alive_since(now)
                )
        except ReferenceGone:  # the account was deleted as it rated
            raise NotAuthenticated(NotAuthenticated.INVALID_TOKEN) from None
        except ConcurrencyConflict:  # a deadlock: the locking path runs it again
            return self._check_then_rate(key, movie_id, stars)
        actor = self._token_check.holder(digest, done.holder, now=now)
        if not done.movie_found:
            raise NotFound
        if done.rating is None:
            return actor, *self._rate(actor, movie_id, stars)
        return actor, done.rating, done.created

    def _check_then_rate(self, key: str, movie_id: int, stars: Stars) -> tuple[User, Rating, bool]:
        """The general path: the token checked, then the movie rated in a transaction."""
        actor = self._token_check.authenticate(key)
        return actor, *self._rate(actor, movie_id, stars)

    def rate_movie(self, actor: User, movie_id: int, data: object) -> tuple[Rating, bool]:
        """Create the actor's rating of a movie or change it. Returns (rating, created).

        The movie's row is locked first (with the actor's rating read in the same
        statement), as by every change to its ratings and by its deletion: raters of one
        movie take turns, and a deletion either runs before (404) or waits. Should two first
        ratings still race, the loser's insert hits the unique (user, movie) key, and should
        the rating read be older than the lock, the change finds it: either is run again.
        Each write moves the movie's summary in the same statement where the database can.
        An account deleted since its token was checked is 401, as the request just after
        the deletion gets. A new rating's ``created`` and ``changed`` are the clock's now; a
        change of stars sets ``changed``; rating again with the same stars changes nothing.
        """
        return self._rate(actor, movie_id, stars_of(data))

    def _rate(self, actor: User, movie_id: int, stars: Stars) -> tuple[Rating, bool]:
        attempts = 0

        def work() -> tuple[Rating, bool]:
            nonlocal attempts
            attempts += 1
            now = self._clock.now()
            with self._db.writing() as repos:
                # the first attempt in one step; a retry reads the rating under the lock
                exists, existing = repos.ratings.find_locking_movie(actor.id, movie_id, fresh=attempts > 1)
                if not exists:
                    raise NotFound
                if existing is not None:
                    if existing.stars != stars:
                        delta = SummaryDelta.changed(existing.stars, stars)
                        if not repos.ratings.change_stars(existing, stars, at=now, summary_delta=delta):
                            raise ConcurrencyConflict  # changed or removed just before the lock
                        return attrs.evolve(existing, stars=stars, changed=now), False
                    return existing, False
                try:
                    delta = SummaryDelta.added(stars)
                    rating = repos.ratings.add(actor.id, movie_id, stars, at=now, summary_delta=delta)
                except DuplicateRating:
                    raise ConcurrencyConflict from None
                except ReferenceGone:  # the movie is locked and there: the actor was deleted
                    raise NotAuthenticated(NotAuthenticated.INVALID_TOKEN) from None
                return rating, True

        return retrying(work)

    def remove_own_rating(self, actor: User, movie_id: int) -> None:
        def work() -> None:
            with self._db.writing() as repos:
                if repos.movies.get(movie_id, for_update=True) is None:  # lock order: movie, rating
                    raise NotFound
                rating = repos.ratings.find(actor.id, movie_id, for_update=True)
                if rating is None:
                    raise NotFound
                _delete(repos, rating)

        retrying(work)

    def list_ratings(self, actor: User, query: Mapping[str, object]) -> Page[Rating] | KeysetPage[Rating]:
        """A page of the ratings (the first, of at most the maximum page size, unless
        ``query`` pages), optionally only those of ``?movie=`` and/or ``?user=`` (``me``: the
        actor's) and/or changed at or after ``?since=``; by id (a user's: by movie; with
        ``since``: by time changed, then id). With ``?cursor=``, the page after the cursor's
        row in that order (:class:`KeysetPage`, no count)."""
        form = Form(query)
        order = ratings_order(user=form.has(RatingsQuery.user.name), since=form.has(RatingsQuery.since.name))
        window = take_window(form, self._paging, order)
        movie = form.take(RatingsQuery.movie)
        user = form.take(RatingsQuery.user)
        since = form.take(RatingsQuery.since)
        form.finish()
        changed_since = None if since is MISSING else since
        movie_id = None if movie is MISSING else movie
        user_id = None if user is MISSING else actor.id if user is ME else user
        with self._db.reading() as repos:
            if window.after is not None:
                return fetch_after(
                    window,
                    lambda limit, after: repos.ratings.page(
                        limit, 0, movie_id=movie_id, user_id=user_id, since=changed_since, after=after
                    ),
                    lambda rating: rating_key(rating, order),
                    order,
                )
            return fetch_page(
                window,
                lambda limit, offset: repos.ratings.page(
                    limit, offset, movie_id=movie_id, user_id=user_id, since=changed_since
                ),
                lambda: repos.ratings.count(movie_id=movie_id, user_id=user_id, since=changed_since),
            )

    def get_rating(self, actor: User, rating_id: int) -> Rating:
        with self._db.reading() as repos:
            rating = repos.ratings.get(rating_id)
        if rating is None:
            raise NotFound
        return rating

    def delete_rating(self, actor: User, rating_id: int) -> None:
        """Its owner or an admin may delete a rating."""

        def work() -> None:
            with self._db.writing() as repos:
                seen = repos.ratings.get(rating_id)
                if seen is None:
                    raise NotFound
                repos.movies.get(seen.movie_id, for_update=True)  # lock order: movie, rating
                rating = repos.ratings.get(rating_id, for_update=True)
                if rating is None:
                    raise NotFound
                if rating.user_id != actor.id and not actor.is_admin:
                    raise PermissionDenied
                _delete(repos, rating)

        retrying(work)


def _delete(repos: Repositories, rating: Rating) -> None:
    repos.ratings.delete(rating.id)
    repos.movies.adjust_ratings(rating.movie_id, SummaryDelta.removed(rating.stars))
