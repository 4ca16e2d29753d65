"""A rating in one statement on PostgreSQL, the token checked inside it.

The general path (``Ratings.rate_movie``) costs five round trips on a server database:
the token, BEGIN, the movie locked with the rating, the write with the summary, COMMIT.
Here one data-modifying statement, run in autocommit (its own transaction), does what
those do, in the same order of locks (the movie's row, then the rating's):

- ``holder``: the token's user and last use;
- ``movie``: the movie's row, locked, only for a token alive at the rating's time;
- ``old``: the rater's rating, as the statement's snapshot shows it;
- ``changed``: its stars set, only if they differ and are still those read (a change
  committed while the lock was awaited leaves it unmatched: nothing is written);
- ``added``: a new rating, only if none was read (one committed meanwhile: ON CONFLICT
  DO NOTHING, nothing written);
- ``moved``: the movie's summary moved by ``SummaryDelta.added(stars)`` less what the
  old stars added (``SummaryDelta.changed``), only if a rating was written.

One row comes back whatever happened (each part outer-joined to a one-row table), and
says which of them happened; the core decides what that means (``Ratings.rate_movie_as``).
"""

from __future__ import annotations

from datetime import datetime

from movierater_adapters.sql.errors import is_foreign_key_violation
from movierater_adapters.sql.prepared import Prepared
from movierater_adapters.sql.repositories import (
    _ONE_ROW,
    _STAR_COLUMNS,
    _USER_BY_TOKEN_QUERY,
    _delta_params,
    _holder,
    _micros,
    _movie_rated_in,
    _rating,
    _time,
)
from movierater_adapters.sql.tables import movies, ratings
from sqlalchemy import (
    Connection,
    SmallInteger,
    bindparam,
    case,
    cast,
    exists,
    func,
    literal_column,
    null,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import BindParameter, ColumnClause

from movierater_core.errors import ReferenceGone
from movierater_core.model import STAR_VALUES, Rating, Stars, SummaryDelta
from movierater_core.ports import RatedWithToken

_STARS = bindparam("stars", type_=SmallInteger)
_AT: BindParameter[int] = bindparam("at")
_HOLDER = _USER_BY_TOKEN_QUERY.cte("holder")
_MOVIE = (
    select(movies.c.id)
    .select_from(movies.join(_HOLDER, true()))
    .where(
        movies.c.id == bindparam("movie_id"),
        # alive: last used at or after :alive_since (whole seconds, rounded up)
        or_(_HOLDER.c.last_used.is_(None), _HOLDER.c.last_used >= bindparam("alive_since")),
    )
    .with_for_update(of=movies)
).cte("movie")
_OLD = (
    select(ratings.c.id, ratings.c.stars, ratings.c.created, ratings.c.changed)
    .select_from(ratings.join(_MOVIE, ratings.c.movie_id == _MOVIE.c.id).join(_HOLDER, true()))
    .where(ratings.c.user_id == _HOLDER.c.id)
).cte("old")
_CHANGED = (
    update(ratings)
    .where(ratings.c.id == _OLD.c.id, ratings.c.stars == _OLD.c.stars, _OLD.c.stars != _STARS)
    .values(stars=_STARS, changed=_AT)
    .returning(ratings.c.movie_id, _OLD.c.stars.label("was"))
).cte("changed")
_ADDED = (
    insert(ratings)
    .from_select(
        ["user_id", "movie_id", "stars", "created", "changed"],
        select(_HOLDER.c.id, _MOVIE.c.id, _STARS, _AT, _AT)
        .select_from(_HOLDER.join(_MOVIE, true()))
        .where(~exists(select(_OLD.c.id))),
    )
    .on_conflict_do_nothing(index_elements=[ratings.c.user_id, ratings.c.movie_id])
    .returning(ratings.c.id, ratings.c.movie_id)
).cte("added")
# The rating written, with the stars it had (NULL: none, it was added).
_WRITTEN = union_all(
    select(_ADDED.c.movie_id, cast(null(), SmallInteger).label("was")),
    select(_CHANGED.c.movie_id, _CHANGED.c.was),
).cte("written")


_ONE: ColumnClause[int] = literal_column("1")  # constants, not parameters
_NONE: ColumnClause[int] = literal_column("0")
_WAS = _WRITTEN.c.was
_MOVED = (
    update(movies)
    .where(_movie_rated_in(_WRITTEN.c.movie_id))
    .values(
        {
            # + SummaryDelta.added(stars) (the parameters), - what the old stars had added
            "rating_count": movies.c.rating_count
            + bindparam("count_delta")
            - case((_WAS.is_not(None), _ONE), else_=_NONE),
            "rating_sum": movies.c.rating_sum + bindparam("total_delta") - func.coalesce(_WAS, _NONE),
            **{
                column.name: column
                + bindparam(f"{column.name}_delta")
                - case((_WAS == literal_column(str(n)), _ONE), else_=_NONE)
                for column, n in zip(_STAR_COLUMNS, STAR_VALUES, strict=True)
            },
        }
    )
    .returning(movies.c.id)
).cte("moved")
_RATE_WITH_TOKEN = Prepared(
    select(
        *_HOLDER.c,
        _MOVIE.c.id,
        _OLD.c.id,
        _OLD.c.stars,
        _OLD.c.created,
        _OLD.c.changed,
        _ADDED.c.id,
        _CHANGED.c.movie_id,
        _MOVED.c.id,
    ).select_from(
        _ONE_ROW.outerjoin(_HOLDER, true())
        .outerjoin(_MOVIE, true())
        .outerjoin(_OLD, true())
        .outerjoin(_ADDED, true())
        .outerjoin(_CHANGED, true())
        .outerjoin(_MOVED, true())
    )
)
_HOLDER_WIDTH = len(_HOLDER.c)


def _whole_seconds_from(at: datetime) -> int:
    """The first whole second at or after ``at`` (tokens keep their last use in seconds)."""
    return -(-_micros(at) // 1_000_000)


class SqlOneStatementWrites:
    """Implements the core's ``OneStatementWrites`` port on PostgreSQL (autocommit)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def rate_with_token(
        self, digest: str, movie_id: int, stars: Stars, *, at: datetime, alive_since: datetime
    ) -> RatedWithToken:
        micros = _micros(at)
        params = {
            "digest": digest,
            "movie_id": movie_id,
            "stars": stars.value,
            "at": micros,
            "alive_since": _whole_seconds_from(alive_since),
            **_delta_params(SummaryDelta.added(stars)),
        }
        try:
            (row,) = _RATE_WITH_TOKEN.rows(self._conn, params)
        except IntegrityError as exc:
            if is_foreign_key_violation(exc):  # the user was deleted as this ran
                raise ReferenceGone(f"the holder of a token, rating movie {movie_id}") from exc
            raise
        holder = None if row[0] is None else _holder(row[:_HOLDER_WIDTH])
        locked, old_id, old_stars, created, changed, added_id, changed_movie, moved = row[_HOLDER_WIDTH:]
        if locked is None:
            return RatedWithToken(holder, movie_found=False, rating=None)
        assert holder is not None  # the movie is locked only for a token's holder
        user_id, made = holder[0].id, _time(micros)
        if added_id is not None and moved is not None:
            return RatedWithToken(
                holder, True, Rating(added_id, user_id, movie_id, stars, made, made), created=True
            )
        if old_id is None:  # none read, and the insert found one: a first rating raced
            return RatedWithToken(holder, True, None)
        old = _rating((old_id, user_id, movie_id, old_stars, created, changed))
        if old_stars == stars.value:
            return RatedWithToken(holder, True, old)
        if changed_movie is not None and moved is not None:
            return RatedWithToken(holder, True, Rating(old_id, user_id, movie_id, stars, old.created, made))
        return RatedWithToken(holder, True, None)  # changed or removed while the lock was awaited
