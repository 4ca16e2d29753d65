"""Movies: anyone signed in reads them; only admins change them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Final

from attrs import field, frozen

from movierater_core.errors import NotFound, PreconditionFailed
from movierater_core.missing import MISSING
from movierater_core.model import Movie, MovieFields, MovieOrder, MovieSort, MovieView, ScorePrior, User
from movierater_core.paging import DEFAULT_PAGING, PAGE_FIELDS, Page, PageSettings, fetch_page, take_window
from movierater_core.ports import Clock, Database
from movierater_core.rules import (
    DESCRIPTION,
    IMAGE_PATH,
    INCLUDE,
    ORDERING,
    SEARCH,
    TITLE,
    Body,
    Field,
    Form,
    Need,
)
from movierater_core.use_cases._common import require_admin, retrying
from movierater_core.use_cases.accounts import TokenCheck
from movierater_core.use_cases.uploads import Uploads


class MovieInput:
    """A movie's body. POST and PUT need the title; a field left out is left as it is (on
    create: description empty, no image), as DRF's serializers do."""

    title = Field("title", TITLE, need=Need.TO_CREATE, description="Trimmed; may not be blank.")
    description = Field("description", DESCRIPTION, description="Trimmed; may be empty.")
    image_path = Field(
        "imagePath",
        IMAGE_PATH,
        description=(
            'An absolute http(s) URL; null or "" for no image. A URL of this service\'s own '
            "storage, in any spelling, must name an uploaded object that really is an image of its "
            "type (else 400), and is stored as the object's public_url."
        ),
    )


class MoviesQuery:
    """The search and order of the movies list (a query string), as DRF's SearchFilter and
    OrderingFilter name them; with the paging fields (``PageQuery``)."""

    search = Field(
        "search",
        SEARCH,
        description=(
            "Only movies whose title contains this text, case-insensitively (% and _ are plain "
            "characters); trimmed; empty: every movie."
        ),
    )
    ordering = Field(
        "ordering",
        ORDERING,
        description=(
            "Order by this field, descending with a leading -; movies that tie come by id, in the "
            "same direction (so -x is x reversed). `-score`: the honest ranking (a movie's `score`). "
            "Default: id. Titles in the database's collation."
        ),
    )


class MovieViewQuery:
    """What a movie answer carries beyond its fields (list and detail), opt-in."""

    include = Field(
        "include",
        INCLUDE,
        description=(
            "`my_rating`: each movie also carries `my_rating`, the signed-in user's stars (1..5), "
            "or null where they have not rated it; read in the same query as the movies."
        ),
    )


# A test of a movie as it is when a change is about to be made, with its row locked: False
# leaves the movie as it is and raises PreconditionFailed. The HTTP entry point passes one
# that compares the movie's representation with the caller's If-Match (its ETag); the
# core knows only that a caller may make a change conditional on the current movie.
Precondition = Callable[[Movie], bool]

DEFAULT_PRIOR_WEIGHT: Final = 10
MAX_PRIOR_WEIGHT: Final = 1_000_000
MAX_MEAN_AGE: Final = 86_400


def _check_weight(_instance: object, _attribute: object, value: int) -> None:
    if not 1 <= value <= MAX_PRIOR_WEIGHT:
        raise ValueError(f"prior_weight must be 1..{MAX_PRIOR_WEIGHT}, got {value!r}")


def _check_age(_instance: object, _attribute: object, value: int) -> None:
    if not 0 <= value <= MAX_MEAN_AGE:
        raise ValueError(f"mean_max_age must be 0..{MAX_MEAN_AGE}, got {value!r}")


@frozen
class ScoreSettings:
    """How movies are scored (``score``, ``?ordering=score``): ``prior_weight`` is the
    Bayesian average's ``m`` (MOVIERATER_SCORE_PRIOR_WEIGHT), and the catalogue's mean ``C``
    is read again once it is ``mean_max_age`` seconds old (MOVIERATER_SCORE_MEAN_MAX_AGE;
    0: on every request). The defaults here are the service's."""

    prior_weight: int = field(default=DEFAULT_PRIOR_WEIGHT, validator=_check_weight)
    mean_max_age: int = field(default=60, validator=_check_age)


DEFAULT_SCORES: Final = ScoreSettings()

MOVIE_BODY: Final = Body.of(MovieInput)
MOVIES_QUERY: Final = Body((*PAGE_FIELDS, MoviesQuery.search, MoviesQuery.ordering, MovieViewQuery.include))
MOVIE_QUERY: Final = Body((MovieViewQuery.include,))


def parse_movie(data: object, *, partial: bool) -> MovieFields:
    """Validate a movie body (``partial``: PATCH)."""
    form = Form(data, partial=partial)
    title = form.take(MovieInput.title)
    description = form.take(MovieInput.description)
    image_path = form.take(MovieInput.image_path)
    form.finish()
    return MovieFields(title=title, description=description, image_path=image_path)


class Movies:
    def __init__(
        self,
        db: Database,
        uploads: Uploads,
        clock: Clock,
        token_check: TokenCheck,
        paging: PageSettings = DEFAULT_PAGING,
        scores: ScoreSettings = DEFAULT_SCORES,
    ) -> None:
        self._db = db
        self._token_check = token_check
        self._uploads = uploads
        self._clock = clock
        self._paging = paging
        self._scores = scores
        self._prior: tuple[ScorePrior, datetime] | None = None  # and when it was read

    def score_prior(self) -> ScorePrior:
        """The prior every score is computed with: the catalogue's mean stars (``C``, over
        every rating of every movie) and the setting's weight (``m``). The mean is one pass
        over the movie rows, so it is kept for ``mean_max_age`` seconds: a list or a movie
        costs no extra query while it is fresh, and each process's scores may lag others'
        writes by that much. The HTTP layer asks once per request and gives the same prior
        to the order (``list_movies``) and to every score it writes."""
        now = self._clock.now()
        kept = self._prior
        if kept is not None and now - kept[1] < timedelta(seconds=self._scores.mean_max_age):
            return kept[0]
        with self._db.reading() as repos:
            catalogue = repos.movies.catalogue()
        prior = ScorePrior.of(catalogue, self._scores.prior_weight)
        self._prior = (prior, now)
        return prior

    def list_movies(
        self, actor: User, query: Mapping[str, object] | None = None, prior: ScorePrior | None = None
    ) -> Page[Movie] | Page[MovieView]:
        """A page of the movies (the first, of at most the maximum page size, unless
        ``query`` pages), those whose title holds ``?search=``, in ``?ordering=`` (by id);
        with ``?include=my_rating``, each with the actor's stars, in the same one query.
        ``?ordering=score`` orders by ``RatingSummary.score(prior)`` (``prior``: the caller's,
        so that the scores it shows are those ordered by; else ``score_prior()``)."""
        form = Form(query or {})
        window = take_window(form, self._paging)
        search = form.take(MoviesQuery.search)
        order = form.take(MoviesQuery.ordering)
        include = form.take(MovieViewQuery.include)
        form.finish()
        text = "" if search is MISSING else search
        by = MovieOrder() if order is MISSING else order
        if prior is None and by.by is MovieSort.SCORE:
            prior = self.score_prior()
        scored = {"prior": prior} if prior is not None and by.by is MovieSort.SCORE else {}
        with self._db.reading() as repos:
            if include is not MISSING:  # my_rating, the one choice
                return fetch_page(
                    window,
                    lambda limit, offset: [
                        MovieView(movie, stars)
                        for movie, stars in repos.movies.page_rated_by(
                            actor.id, limit, offset, order=by, search=text, **scored
                        )
                    ],
                    lambda: repos.movies.count(search=text),
                )
            return fetch_page(
                window,
                lambda limit, offset: repos.movies.page(limit, offset, order=by, search=text, **scored),
                lambda: repos.movies.count(search=text),
            )

    def get_movie(
        self, actor: User, movie_id: int, query: Mapping[str, object] | None = None
    ) -> Movie | MovieView:
        """A movie; with ``?include=my_rating``, with the actor's stars (the same one query)."""
        form = Form(query or {})
        include = form.take(MovieViewQuery.include)
        form.finish()
        with self._db.reading() as repos:
            if include is not MISSING:
                found = repos.movies.get_rated_by(movie_id, actor.id)
                if found is None:
                    raise NotFound
                return MovieView(*found)
            movie = repos.movies.get(movie_id)
        if movie is None:
            raise NotFound
        return movie

    def get_movie_as(
        self, key: str, movie_id: int, query: Mapping[str, object] | None = None
    ) -> tuple[User, Movie | MovieView]:
        """``TokenCheck.authenticate(key)``, then ``get_movie``: for a plain detail (no
        ``?include=``, no error in the query), the token and the movie are read in one step
        (one statement on a database), and a bad token is still 401 before a missing movie
        is 404 (as a bad query is 400 only after the token passed)."""
        form = Form(query or {})
        include = form.take(MovieViewQuery.include)
        if include is not MISSING or form.errors:  # who asks matters, or the query is wrong
            actor = self._token_check.authenticate(key)
            return actor, self.get_movie(actor, movie_id, query)
        form.finish()
        digest = self._token_check.digest(key)
        with self._db.reading() as repos:
            found, movie = repos.tokens.user_for_and_movie(digest, movie_id)
        actor = self._token_check.holder(digest, found)
        if movie is None:
            raise NotFound
        return actor, movie

    def create_movie(self, actor: User, data: object) -> Movie:
        require_admin(actor)
        fields = self._uploads.with_checked_poster(parse_movie(data, partial=False))
        with self._db.writing() as repos:
            return repos.movies.add(fields)

    def update_movie(
        self,
        actor: User,
        movie_id: int,
        data: object,
        *,
        partial: bool,
        precondition: Precondition | None = None,
    ) -> Movie:
        """Change a movie. ``precondition`` is tested on the movie as it is in the same
        transaction as the change, its row locked: of two callers that read the same movie
        and make a change conditional on it, one changes it and the other finds it changed."""
        require_admin(actor)
        fields = parse_movie(data, partial=partial)
        with self._db.reading() as repos:
            if repos.movies.get(movie_id) is None:
                raise NotFound
        fields = self._uploads.with_checked_poster(fields)
        with self._db.writing() as repos:
            current = repos.movies.get(movie_id, for_update=True)  # and no deletion until we are done
            if current is None:
                raise NotFound
            _check(precondition, current)
            repos.movies.update(movie_id, fields)
            movie = repos.movies.get(movie_id)
        assert movie is not None
        return movie

    def delete_movie(self, actor: User, movie_id: int, *, precondition: Precondition | None = None) -> None:
        """Delete a movie and its ratings. The movie's row is locked first, as raters lock it:
        a rating either commits before (and is deleted here) or waits and then finds no movie.
        ``precondition``: as for ``update_movie``, tested on the locked movie."""
        require_admin(actor)

        def work() -> None:
            with self._db.writing() as repos:
                current = repos.movies.get(movie_id, for_update=True)
                if current is None:
                    raise NotFound
                _check(precondition, current)
                for rating in repos.ratings.list(movie_id=movie_id, for_update=True):
                    repos.ratings.delete(rating.id)
                repos.movies.delete(movie_id)

        retrying(work)


def _check(precondition: Precondition | None, current: Movie) -> None:
    if precondition is not None and not precondition(current):
        raise PreconditionFailed
