"""Ratings out and back in (issue 17 item 6).

- A user's own ratings (``GET /api/users/me/export/``): by movie, at most
  :data:`EXPORT_PAGE` a request (a user has at most one rating a movie, but a request does
  bounded work): a longer export continues after the last movie (``?after=``).
- Everyone's, or one user's (``movierater ratings export``): a stream read in keyset
  batches, each its own short read, so memory stays bounded however many ratings there are.
- An import of such a file (``movierater ratings import``): each row names its movie by id
  or else by exact title and is rated through :meth:`Ratings.rate_movie`, the API's rules
  and transaction; every row ends in one bucket of the report, rejected ones with the
  reason. Running it again changes nothing and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Final

from attrs import define, frozen

from movierater_core.errors import NotAuthenticated, NotFound, ValidationError
from movierater_core.missing import MISSING
from movierater_core.model import ExportedRating, Stars, User
from movierater_core.ports import Database, ReadRepositories
from movierater_core.rules import (
    ID,
    NOT_NULL,
    STARS,
    TITLE,
    Body,
    Field,
    Form,
    Invalid,
    Need,
    Rule,
    not_a_choice,
)
from movierater_core.use_cases._common import require_admin
from movierater_core.use_cases.accounts import credentials_named
from movierater_core.use_cases.import_report import Problem, Tally, describe
from movierater_core.use_cases.imports import BATCH, batches
from movierater_core.use_cases.ratings import Ratings

JSON: Final = "json"
CSV: Final = "csv"
FORMATS: Final = (JSON, CSV)
# Ratings an export answer holds at most (a user's are at most one a movie): a request
# reads one page of an index, whatever the user has; more continue with ?after=.
EXPORT_PAGE: Final = 10_000


def parse_format(value: object) -> str:
    if value is None:
        raise Invalid(NOT_NULL)
    if not isinstance(value, str) or value not in FORMATS:
        raise Invalid(not_a_choice(value))
    return value


FORMAT: Final = Rule(parse_format, {"type": "string", "enum": list(FORMATS)})


class ExportQuery:
    """The query string of ``GET /api/users/me/export/``."""

    format = Field("format", FORMAT, description="`json` (a list of objects; the default) or `csv`.")
    after = Field(
        "after",
        ID,
        description=(
            f"Only the ratings of movies with a larger id: the next part of an export of more than "
            f"{EXPORT_PAGE:,} ratings (the answer's Link rel=next has it)."
        ),
    )


EXPORT_QUERY: Final = Body((ExportQuery.format, ExportQuery.after))


@frozen
class ExportPart:
    """One answer of a user's export: its rows by movie, and the movie id to continue
    after (None: this is the end)."""

    format: str
    rows: Sequence[ExportedRating]
    continue_after: int | None


class RatingImportRow:
    """A row of a ratings file: its movie (id, or else exact title), the stars, and (unless
    the import is for one user) whose rating it is."""

    movie = Field("movie", ID, description="The movie's id here.")
    title = Field("title", TITLE, description="The movie's exact title (trimmed).")
    stars = Field("stars", STARS, need=Need.ALWAYS)


class RatingExport:
    def __init__(self, db: Database, batch: int = 5 * BATCH) -> None:
        self._db = db
        self._batch = batch

    def my_ratings(self, actor: User, query: Mapping[str, object] | None = None) -> ExportPart:
        """The actor's ratings by movie, at most :data:`EXPORT_PAGE` of them (one indexed read)."""
        form = Form(query or {})
        chosen = form.take(ExportQuery.format)
        after = form.take(ExportQuery.after)
        form.finish()
        with self._db.reading() as repos:
            rows = repos.ratings.export_page(
                user_id=actor.id, after=0 if after is MISSING else after, limit=EXPORT_PAGE + 1
            )
        more = len(rows) > EXPORT_PAGE
        rows = rows[:EXPORT_PAGE]
        return ExportPart(JSON if chosen is MISSING else chosen, rows, rows[-1].movie_id if more else None)

    def every_rating(self, actor: User, username: str | None = None) -> Iterator[ExportedRating]:
        """Everyone's ratings by id, or ``username``'s by movie (:class:`NotFound` if there is
        no such user), read in batches: nothing holds more than one batch."""
        require_admin(actor)
        user_id = None
        if username is not None:
            with self._db.reading() as repos:
                user_id = _user_named(repos, username).id
        after = 0
        while True:
            with self._db.reading() as repos:
                rows = repos.ratings.export_page(user_id=user_id, after=after, limit=self._batch)
            yield from rows
            if len(rows) < self._batch:
                return
            after = rows[-1].id if user_id is None else rows[-1].movie_id


@define
class RatingTally(Tally):
    """An import's outcome: ``added`` ratings new here, ``updated`` ones whose stars the file
    changed, ``already`` ones that were as in the file."""

    updated: int = 0


class RatingImport:
    def __init__(self, db: Database, ratings: Ratings) -> None:
        self._db = db
        self._ratings = ratings

    def run(
        self,
        actor: User,
        rows: Iterable[tuple[str, object]],
        *,
        username: str | None = None,
        progress: Callable[[int], None] = lambda _n: None,
    ) -> RatingTally:
        """Rate as the file says: ``rows`` are (where, data) pairs ("line 3", a mapping).
        With ``username`` every row is that user's (:class:`NotFound` if there is none),
        else each row names its user (``username``)."""
        require_admin(actor)
        tally = RatingTally()
        users: dict[str, User | None] = {}
        if username is not None:
            with self._db.reading() as repos:
                users[username] = _user_named(repos, username)
        for batch in batches(rows):
            first_rejected = len(tally.rejected)
            parsed: list[tuple[str, _Row]] = []
            for where, data in batch:
                try:
                    parsed.append((where, _parse(data, need_username=username is None)))
                except ValidationError as exc:
                    tally.rejected.append(Problem(where, describe(exc)))
            resolved = self._resolve(parsed, username, users, tally)
            for where, user, movie_id, stars, current in resolved:
                if current == stars:
                    tally.already += 1
                    continue
                try:
                    _rating, created = self._ratings.rate_movie(user, movie_id, {"stars": stars.value})
                except NotFound:
                    tally.rejected.append(Problem(where, f"movie: movie {movie_id} was deleted meanwhile."))
                    continue
                except NotAuthenticated:
                    tally.rejected.append(
                        Problem(where, f"username: {user.username!r} was deleted meanwhile.")
                    )
                    continue
                if created:
                    tally.added += 1
                else:
                    tally.updated += 1
            # Rejected as the file has them (parsing, then matching, found them apart):
            position = {where: n for n, (where, _data) in enumerate(batch)}
            tally.rejected[first_rejected:] = sorted(
                tally.rejected[first_rejected:], key=lambda problem: position[problem.where]
            )
            progress(len(batch))
        return tally

    def _resolve(
        self,
        parsed: Sequence[tuple[str, _Row]],
        username: str | None,
        users: dict[str, User | None],
        tally: RatingTally,
    ) -> list[tuple[str, User, int, Stars, Stars | None]]:
        """Each row's user and movie (one read for the batch's movies), with the stars the
        user gives the movie now (None: not rated); rows naming neither are rejected."""
        ids = {row.movie for _w, row in parsed if row.movie is not None}
        titles = {row.title for _w, row in parsed if row.title is not None}
        resolved: list[tuple[str, User, int, Stars, Stars | None]] = []
        with self._db.reading() as repos:
            titled_by_id = repos.movies.titles(ids)
            ids_by_title = repos.movies.titled(titles)
            now: dict[tuple[int, int], Stars | None] = {}
            for where, row in parsed:
                name = username if username is not None else row.username
                assert name is not None  # parsed with need_username otherwise
                if name not in users:
                    found = credentials_named(repos, name)
                    users[name] = None if found is None else found[0]
                user = users[name]
                if user is None:
                    tally.rejected.append(Problem(where, f"username: no user named {name!r}."))
                    continue
                movie_id, why = _movie_of(row, titled_by_id, ids_by_title)
                if movie_id is None:
                    tally.rejected.append(Problem(where, why))
                    continue
                key = (user.id, movie_id)
                if key not in now:
                    rating = repos.ratings.find(user.id, movie_id)
                    now[key] = None if rating is None else rating.stars
                resolved.append((where, user, movie_id, row.stars, now[key]))
                now[key] = row.stars  # a later row for the same pair finds this one's stars
        return resolved


@frozen
class _Row:
    movie: int | None
    title: str | None
    stars: Stars
    username: str | None


def _parse(data: object, *, need_username: bool) -> _Row:
    form = Form(data)
    movie = form.take(RatingImportRow.movie)
    title = form.take(RatingImportRow.title)
    stars = form.take(RatingImportRow.stars)
    username: object = None
    if need_username:
        username = form.data.get("username")
        if not isinstance(username, str) or not username:
            form.errors.setdefault("username", []).append(
                "This field is required (or import for one user: --user)."
            )
    if movie is MISSING and title is MISSING and "movie" not in form.errors and "title" not in form.errors:
        form.errors.setdefault("movie", []).append("Give the movie's id or its title.")
    form.finish()
    assert stars is not MISSING  # needed always: finish() raised its error
    return _Row(
        None if movie is MISSING else movie,
        None if title is MISSING else title,
        stars,
        username if isinstance(username, str) else None,
    )


def _movie_of(
    row: _Row, titled_by_id: Mapping[int, str], ids_by_title: Mapping[str, Sequence[int]]
) -> tuple[int | None, str]:
    """The movie a row means: its id when a movie has it (and, if the row gives a title
    too, that title), else the one movie with exactly its title; or None and why not."""
    if row.movie is not None and row.movie in titled_by_id:
        if row.title is None or titled_by_id[row.movie] == row.title:
            return row.movie, ""
    if row.title is not None:
        ids = ids_by_title.get(row.title, ())
        if len(ids) == 1:
            return ids[0], ""
        if len(ids) > 1:
            return None, f"title: {len(ids)} movies are titled {row.title!r}: give the movie's id."
    if row.movie is None:
        return None, f"title: no movie is titled {row.title!r}."
    if row.movie not in titled_by_id:
        also = "" if row.title is None else f", nor one titled {row.title!r}"
        return None, f"movie: no movie has id {row.movie}{also}."
    return None, (
        f"movie: movie {row.movie} is titled {titled_by_id[row.movie]!r}, not {row.title!r}, "
        f"and no movie is titled {row.title!r}."
    )


def _user_named(repos: ReadRepositories, username: str) -> User:
    found = credentials_named(repos, username)
    if found is None:
        raise NotFound(f"No user named {username!r}.")
    return found[0]
