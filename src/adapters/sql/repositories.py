"""Repositories over one SQLAlchemy connection: portable Core statements, no ORM."""

from __future__ import annotations

import enum
import functools
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from collections.abc import Mapping as MappingOf
from datetime import UTC, datetime, timedelta
from typing import Any

from movierater_adapters.sql.errors import is_foreign_key_violation, is_unique_violation
from movierater_adapters.sql.prepared import Prepared
from movierater_adapters.sql.tables import (
    MOVIE_AVERAGE,
    TRIGRAM,
    attempt_locks,
    attempts,
    images,
    legacy_imports,
    movie_titles,
    movies,
    ratings,
    rejected_images,
    tokens,
    upload_grants,
    users,
)
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    CursorResult,
    Float,
    Integer,
    Select,
    String,
    Table,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from movierater_core.errors import AlreadyStored, DuplicateRating, ReferenceGone, UsernameTaken
from movierater_core.model import (
    NO_PRIOR,
    STAR_VALUES,
    ExportedRating,
    Movie,
    MovieFields,
    MovieOrder,
    MovieSort,
    Profile,
    Rating,
    RatingSummary,
    ScorePrior,
    Stars,
    SummaryDelta,
    User,
)
from movierater_core.ports import ImportRecord, NewUser

_USER_COLUMNS = (users.c.id, users.c.username, users.c.is_admin)
_STAR_COLUMNS = tuple(movies.c[f"star_{n}"] for n in STAR_VALUES)  # the histogram
_MOVIE_COLUMNS = (
    movies.c.id,
    movies.c.title,
    movies.c.description,
    movies.c.image_path,
    movies.c.rating_count,
    movies.c.rating_sum,
    *_STAR_COLUMNS,
)
_RATING_COLUMNS = (
    ratings.c.id,
    ratings.c.user_id,
    ratings.c.movie_id,
    ratings.c.stars,
    ratings.c.created,
    ratings.c.changed,
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(at: datetime) -> int:
    """A rating time as stored: microseconds since the epoch (UTC)."""
    return (at - _EPOCH) // _MICROSECOND


def _time(micros: int | None) -> datetime | None:
    return None if micros is None else _EPOCH + micros * _MICROSECOND


def _locked(query: Select[Any], table: Table = ratings) -> Select[Any]:
    """Lock the selected rows (of ``table``, ratings by default) until the transaction ends.

    SQL Server ignores FOR UPDATE in SQLAlchemy, so it gets the equivalent table hint;
    SQLite has no row locks, and its write transactions start with BEGIN IMMEDIATE.
    """
    return query.with_for_update().with_hint(table, "WITH (UPDLOCK, ROWLOCK)", "mssql")


# The statements of the hot paths (authenticate, read movies, rate), built once: building
# a statement per call costs more than running it on SQLite.
_USER_BY_TOKEN_QUERY = (
    select(*_USER_COLUMNS, tokens.c.last_used)
    .select_from(tokens.join(users, users.c.id == tokens.c.user_id))
    .where(tokens.c.digest == bindparam("digest"))
)
_USER_BY_TOKEN = Prepared(_USER_BY_TOKEN_QUERY)
_MOVIE_BY_ID_QUERY = select(*_MOVIE_COLUMNS).where(movies.c.id == bindparam("movie_id"))
# The token's holder and a movie in one statement: each outer-joined to a one-row table, so
# one row comes back whether either is there or not (an id of NULL: not there).
_HOLDER = _USER_BY_TOKEN_QUERY.subquery("holder")
_ONE_ROW = select(literal_column("1").label("one")).subquery("one_row")
_HOLDER_AND_MOVIE = Prepared(
    select(*_HOLDER.c, *_MOVIE_COLUMNS).select_from(
        _ONE_ROW.outerjoin(_HOLDER, true()).outerjoin(movies, movies.c.id == bindparam("movie_id"))
    )
)
_HOLDER_WIDTH = len(_HOLDER.c)
_MOVIE_BY_ID = Prepared(_MOVIE_BY_ID_QUERY)
_MOVIE_BY_ID_LOCKED = Prepared(_locked(_MOVIE_BY_ID_QUERY, movies))
_ALL_MOVIES = Prepared(select(*_MOVIE_COLUMNS).order_by(movies.c.id))
# Movies with one user's stars (?include=my_rating): an outer join on the unique
# (user, movie) key, so the page or the movie is still one statement, never one per movie.
_WITH_MY_STARS = movies.outerjoin(
    ratings, and_(ratings.c.movie_id == movies.c.id, ratings.c.user_id == bindparam("user_id"))
)
_MOVIE_RATED_BY = Prepared(
    select(*_MOVIE_COLUMNS, ratings.c.stars)
    .select_from(_WITH_MY_STARS)
    .where(movies.c.id == bindparam("movie_id"))
)


class _Score(FunctionElement[float]):
    """A movie's score as ``RatingSummary.score`` computes it, with the prior bound
    (``:prior_total`` = C*m, ``:prior_weight`` = m): the same additions and division in
    doubles. No index can serve it (the prior moves): ordering by it sorts the movie rows."""

    type = Float()
    inherit_cache = True
    name = "score"


@compiles(_Score)
def _score(element: _Score, compiler: SQLCompiler, **kw: Any) -> str:
    return _score_sql(compiler, compiler.process(bindparam("prior_total", type_=Float), **kw), **kw)


@compiles(_Score, "mysql")
@compiles(_Score, "mariadb")
def _score_mariadb(element: _Score, compiler: SQLCompiler, **kw: Any) -> str:
    # A parameter may reach MariaDB as a decimal literal: make it the double it is.
    total = compiler.process(bindparam("prior_total", type_=Float), **kw)
    return _score_sql(compiler, f"CAST({total} AS DOUBLE)", **kw)


def _score_sql(compiler: SQLCompiler, total: str, **kw: Any) -> str:
    weight = compiler.process(bindparam("prior_weight", type_=Integer), **kw)
    count_sum = compiler.process(movies.c.rating_sum, **kw)
    count = compiler.process(movies.c.rating_count, **kw)
    return f"(({total} + {count_sum}) / ({weight} + {count}))"


# ---- pages: the database orders and limits (LIMIT/OFFSET, OFFSET/FETCH on SQL Server) -------

_SORT_COLUMNS: dict[MovieSort, ColumnElement[Any]] = {
    MovieSort.ID: movies.c.id,
    MovieSort.TITLE: movies.c.title,
    MovieSort.RATINGS: movies.c.rating_count,
    MovieSort.AVERAGE: MOVIE_AVERAGE,
    MovieSort.SCORE: _Score(),
}
LIKE_ESCAPE = "/"


class _TitleHolds(FunctionElement[bool]):
    """The movie's title holds ``:pattern`` (a LIKE pattern), in any case."""

    type = Boolean()
    inherit_cache = True
    name = "title_holds"


@compiles(_TitleHolds)
def _title_holds(element: _TitleHolds, compiler: SQLCompiler, **kw: Any) -> str:
    pattern = bindparam("pattern", type_=String)
    return compiler.process(func.lower(movies.c.title).like(func.lower(pattern), escape=LIKE_ESCAPE), **kw)


@compiles(_TitleHolds, "sqlite")
def _title_holds_sqlite(element: _TitleHolds, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite's LIKE ignores case already, for ASCII letters, as its lower() folds them: the
    # same answers without calling lower() on every title (measured: 35 ms -> 14 ms over
    # 100,000 movies).
    pattern = bindparam("pattern", type_=String)
    return compiler.process(movies.c.title.like(pattern, escape=LIKE_ESCAPE), **kw)


_TITLE_HOLDS = _TitleHolds()


def like_pattern(text: str, dialect: str) -> str:
    """A LIKE pattern (escape character ``/``) matching values that hold ``text`` literally:
    ``%`` and ``_`` (and SQL Server's ``[``) are characters, not wildcards."""
    specials = ("/", "%", "_", "[") if dialect == "mssql" else ("/", "%", "_")
    for special in specials:
        text = text.replace(special, LIKE_ESCAPE + special)
    return f"%{text}%"


def fts_phrase(text: str) -> str:
    """An FTS5 query for ``text`` as one phrase: every character literal (a double quote
    doubled). With the trigram tokenizer, the rows whose text holds it, folding case."""
    return '"' + text.replace('"', '""') + '"'


class _Search(enum.Enum):
    """How a page or count finds the titles that hold the search text."""

    NONE = "all movies"
    SCAN = "LIKE on every title"
    INDEXED = "SQLite: the trigram index's candidates, each checked with the same LIKE"


# On SQLite, the movies whose title the trigram index says holds the text (case folded the
# Unicode way, so never fewer than LIKE's ASCII folding finds), each checked with the LIKE
# of a scan: the answers are the scan's, exactly.
_INDEX_CANDIDATES = select(movie_titles.c.rowid).where(movie_titles.c.title.match(bindparam("phrase")))
_TITLE_FOUND = {
    _Search.SCAN: _TITLE_HOLDS,
    _Search.INDEXED: and_(movies.c.id.in_(_INDEX_CANDIDATES), _TITLE_HOLDS),
}
# Up to this many candidates, reading them by the index and sorting them costs less than a
# scan, in the page's order or for the count (100,000 movies: about one fifth of them, where
# either way costs 5-20 ms; docs/performance.md). Past it the scan in the page's order finds
# a page of such a common text within its first rows; reading them all by the index would not.
INDEXED_SEARCH_MAX = 20_000


def _page_params(limit: int, offset: int, order: MovieOrder, prior: ScorePrior) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit, "offset": offset}
    if order.by is MovieSort.SCORE:
        params["prior_total"], params["prior_weight"] = float(prior.total), prior.weight
    return params


# Every movie's ratings summed (the prior's mean): one pass over the movie rows, never the ratings.
_CATALOGUE = select(
    func.sum(movies.c.rating_count), func.sum(movies.c.rating_sum), *(func.sum(c) for c in _STAR_COLUMNS)
)


def _paged(query: Select[Any]) -> Select[Any]:
    return query.limit(bindparam("limit")).offset(bindparam("offset"))


_CANDIDATES_UP_TO = Prepared(select(func.count()).select_from(_paged(_INDEX_CANDIDATES).subquery()))


@functools.cache
def _movie_page(order: MovieOrder, search: _Search, rated_by: bool = False) -> Prepared:
    """The page statement of one order, with or without a search (by scan or by index),
    with or without one user's stars (each built once)."""
    keys = [_SORT_COLUMNS[order.by]]
    if order.by is not MovieSort.ID:
        keys.append(movies.c.id)  # ties: by id, the same way (a backward scan of (field, id))
    ordered = [key.desc() if order.descending else key.asc() for key in keys]
    if rated_by:
        query = select(*_MOVIE_COLUMNS, ratings.c.stars).select_from(_WITH_MY_STARS).order_by(*ordered)
    else:
        query = select(*_MOVIE_COLUMNS).order_by(*ordered)
    return Prepared(_paged(query if search is _Search.NONE else query.where(_TITLE_FOUND[search])))


@functools.cache
def _movie_count(search: _Search) -> Select[Any]:
    query = select(func.count()).select_from(movies)
    return query if search is _Search.NONE else query.where(_TITLE_FOUND[search])


def _rating_filters(
    movie_id: int | None, user_id: int | None, since: datetime | None = None
) -> list[ColumnElement[bool]]:
    filters = []
    if movie_id is not None:
        filters.append(ratings.c.movie_id == movie_id)
    if user_id is not None:
        filters.append(ratings.c.user_id == user_id)
    if since is not None:  # NULL (no time) is never >= anything
        filters.append(ratings.c.changed >= _micros(since))
    return filters


def _rating_order(user_id: int | None) -> list[ColumnElement[Any]]:
    """By id; a user's by movie id (transactions then lock several movies in one order)."""
    return [ratings.c.movie_id, ratings.c.id] if user_id is not None else [ratings.c.id]


@functools.cache
def _rating_page(by_movie: bool, by_user: bool, since: bool = False, seek: bool = False) -> Prepared:
    """The page statement of one set of filters, by offset or (``seek``) past a cursor's key:
    along the primary key (by id), the unique (user, movie) key (a user's, by movie) or the
    (changed, id) index (``since``), so a page past any key costs the same."""
    filters = [ratings.c.movie_id == bindparam("movie_id")] if by_movie else []
    if by_user:
        filters.append(ratings.c.user_id == bindparam("user_id"))
    if since:  # incremental sync: by time changed, then id (index (changed, id))
        filters.append(ratings.c.changed >= bindparam("since"))
        order: list[ColumnElement[Any]] = [ratings.c.changed, ratings.c.id]
    else:
        order = _rating_order(1 if by_user else None)
    if seek:
        if since:  # (changed, id) > (:after_changed, :after_id), spelled so every backend seeks
            filters.append(ratings.c.changed >= bindparam("after_changed"))
            filters.append(
                or_(ratings.c.changed > bindparam("after_changed"), ratings.c.id > bindparam("after_id"))
            )
        else:
            filters.append(order[0] > bindparam("after"))  # a user's: movie ids are unique in it
    query = select(*_RATING_COLUMNS).where(*filters).order_by(*order)
    return Prepared(_paged(query))  # by cursor: offset 0


# A movie's ratings on PostgreSQL, by offset or past a cursor (``after``; 0 by offset: ids
# start at 1): the range of the (movie_id, id) index from (:movie_id, :after) to the movie's
# last rating. Told ``movie_id = :movie_id AND id > :after ORDER BY id``, PostgreSQL's
# planner may read the primary key past :after and filter it by movie, as if the two
# columns were independent: the last page of a movie whose ratings were followed by 400,000
# others read those 400,000 (70 ms). Ordered by (movie_id, id), only that index serves the
# order. SQLite and MariaDB already seek along it; SQL Server has no row comparison.
_MOVIE_RATINGS_RANGE = Prepared(
    _paged(
        select(*_RATING_COLUMNS)
        .where(
            tuple_(ratings.c.movie_id, ratings.c.id) > tuple_(bindparam("movie_id"), bindparam("after")),
            ratings.c.movie_id <= bindparam("movie_id"),
        )
        .order_by(ratings.c.movie_id, ratings.c.id)
    )
)


def rating_page_statement(
    dialect: str, *, by_movie: bool, by_user: bool, since: bool, seek: bool
) -> Prepared:
    """The page statement for these filters on this dialect (the movie's range on PostgreSQL,
    which reads ``after`` by offset too)."""
    if dialect == "postgresql" and by_movie and not by_user and not since:
        return _MOVIE_RATINGS_RANGE
    return _rating_page(by_movie, by_user, since, seek)


_USER_PAGE = Prepared(_paged(select(*_USER_COLUMNS).order_by(users.c.id)))
# ?search= on the users list (admins'): the username holds :pattern, in any case. Few rows
# and a rare query: lower() on both sides everywhere, unlike the titles' SQLite shortcut.
_USERNAME_HOLDS = func.lower(users.c.username).like(
    func.lower(bindparam("pattern", type_=String)), escape=LIKE_ESCAPE
)
_USER_SEARCH_PAGE = Prepared(_paged(select(*_USER_COLUMNS).where(_USERNAME_HOLDS).order_by(users.c.id)))


_RATING_OF_QUERY = select(*_RATING_COLUMNS).where(
    ratings.c.user_id == bindparam("user_id"), ratings.c.movie_id == bindparam("movie_id")
)
_RATING_OF = Prepared(_RATING_OF_QUERY)
_RATING_OF_LOCKED = Prepared(_locked(_RATING_OF_QUERY))
_INSERT_RATING = insert(ratings)
_SUMMARY_MOVED = {
    "rating_count": movies.c.rating_count + bindparam("count_delta"),
    "rating_sum": movies.c.rating_sum + bindparam("total_delta"),
    **{column.name: column + bindparam(f"{column.name}_delta") for column in _STAR_COLUMNS},
}


def _delta_params(delta: SummaryDelta) -> dict[str, int]:
    """The parameters of ``_SUMMARY_MOVED``."""
    params = {"count_delta": delta.count, "total_delta": delta.total}
    for column, n in zip(_STAR_COLUMNS, delta.stars, strict=True):
        params[f"{column.name}_delta"] = n
    return params


_ADJUST_SUMMARY = Prepared(update(movies).where(movies.c.id == bindparam("movie_id")).values(_SUMMARY_MOVED))

# Rating a movie (the hot write): a round trip per statement on a server database, so
# as few statements as each dialect allows. First the movie's row locked and the rater's
# rating read, in one statement (the join's nullable side cannot be locked on PostgreSQL:
# FOR UPDATE OF movies; MariaDB locks and reads the latest rating row too).
_MOVIE_LOCKED_WITH_RATING = Prepared(
    select(movies.c.id, ratings.c.id, ratings.c.stars, ratings.c.created, ratings.c.changed)
    .select_from(
        movies.outerjoin(
            ratings, and_(ratings.c.movie_id == movies.c.id, ratings.c.user_id == bindparam("user_id"))
        )
    )
    .where(movies.c.id == bindparam("movie_id"))
    .with_for_update(of=movies)
    .with_hint(movies, "WITH (UPDLOCK, ROWLOCK)", "mssql")
)
# Then the change, only if the stars are still those read, with the movie's summary:
_STARS_STILL = and_(ratings.c.id == bindparam("rating_id"), ratings.c.stars == bindparam("expected"))
_NEW_STARS: dict[str, Any] = {"stars": bindparam("stars"), "changed": bindparam("at")}
_CHANGE_STARS = Prepared(update(ratings).where(_STARS_STILL).values(_NEW_STARS))
# ... PostgreSQL: one statement (a data-modifying CTE; the summary moves iff the rating did).
_STARS_CHANGED = (update(ratings).where(_STARS_STILL).values(_NEW_STARS).returning(ratings.c.movie_id)).cte(
    "changed"
)


def _movie_rated_in(written_movie_id: ColumnElement[int]) -> ColumnElement[bool]:
    """The movie whose rating a CTE wrote, by its id as a parameter too: joined by the CTE's
    ``movie_id`` alone, a plan made while the table is small (PostgreSQL keeps one per
    connection) scans the whole table, dead versions and all, for every rating."""
    return and_(movies.c.id == bindparam("movie_id"), movies.c.id == written_movie_id)


_CHANGE_STARS_AND_SUMMARY = Prepared(
    update(movies).where(_movie_rated_in(_STARS_CHANGED.c.movie_id)).values(_SUMMARY_MOVED)
)
_RATING_ADDED = (
    insert(ratings)
    .values(
        user_id=bindparam("user_id"),
        movie_id=bindparam("movie_id"),
        stars=bindparam("stars"),
        created=bindparam("at"),
        changed=bindparam("at"),
    )
    .returning(ratings.c.id, ratings.c.movie_id)
).cte("added")
_ADD_RATING_AND_SUMMARY = Prepared(
    update(movies)
    .where(_movie_rated_in(_RATING_ADDED.c.movie_id))
    .values(_SUMMARY_MOVED)
    .returning(_RATING_ADDED.c.id)
)
# ... MariaDB: one multi-table UPDATE (both rows or neither).
_CHANGE_STARS_AND_SUMMARY_MARIADB = Prepared(
    update(ratings)
    .where(_STARS_STILL, movies.c.id == ratings.c.movie_id)
    .values(
        {
            **{ratings.c[k]: v for k, v in _NEW_STARS.items()},
            **{movies.c[k]: v for k, v in _SUMMARY_MOVED.items()},
        }
    )
)

# Bulk inserts of imports: one executemany each, the new ids back in the order of the
# rows (SQLAlchemy's "insertmanyvalues": multi-row INSERT ... RETURNING on PostgreSQL,
# SQLite and MariaDB, OUTPUT inserted.id on SQL Server).
_INSERT_USERS = insert(users).returning(users.c.id, sort_by_parameter_order=True)
_INSERT_MOVIES = insert(movies).returning(movies.c.id, sort_by_parameter_order=True)
_INSERT_RATINGS = insert(ratings).returning(ratings.c.id, sort_by_parameter_order=True)
# No ids wanted back here, but RETURNING is what makes SQLAlchemy send many rows a
# statement (within each dialect's parameter limit): a plain executemany through pyodbc
# is a round trip per row (MariaDB: 14 s of a 28 s import were these).
_INSERT_TOKENS = insert(tokens).returning(tokens.c.digest)
_INSERT_IMPORT_RECORDS = insert(legacy_imports).returning(legacy_imports.c.legacy_id)


@functools.lru_cache(maxsize=8)
def _rated_query(size: int) -> Select[Any]:
    """Which of ``size`` (user, movie) pairs (bound as u0, m0, u1, m1, ...) have a rating.

    An OR of (user AND movie): portable (SQL Server has no row-value IN), each arm one
    probe of the (user_id, movie_id) unique index. Built once per size (a batch's is
    mostly the same): building 500 comparisons costs more than running them.
    """
    return select(ratings.c.user_id, ratings.c.movie_id).where(
        or_(
            *(
                and_(ratings.c.user_id == bindparam(f"u{n}"), ratings.c.movie_id == bindparam(f"m{n}"))
                for n in range(size)
            )
        )
    )


def _ids(result: Iterable[tuple[int]]) -> list[int]:
    return [row[0] for row in result]


def _inserted_id(result: CursorResult[*tuple[Any, ...]]) -> int:
    """The id of the row a one-row INSERT added (SQLAlchemy types the key as optional: it
    is None only for statements that are not an INSERT)."""
    key = result.inserted_primary_key
    assert key is not None
    new_id: int = key[0]
    return new_id


# Rows are unpacked as tuples, in the order of the *_COLUMNS above: named access on a
# Row costs several times more, and listing movies builds hundreds of these.


def _holder(row: Any) -> tuple[User, datetime | None]:
    """A token's user and last use, from (id, username, is_admin, last_used)."""
    last_used = row[3]
    return _user(row), (datetime.fromtimestamp(last_used, UTC) if last_used is not None else None)


def _user(row: tuple[int, str, bool] | tuple[int, str, bool, object]) -> User:
    # The user's columns, and one more from credentials (the hash) or user_for (last use).
    user_id, username, is_admin = row[:3]
    return User(user_id, username, bool(is_admin))


def _movie(row: tuple[Any, ...]) -> Movie:
    """(id, title, description, image_path, count, sum, star_1 .. star_5[, my stars])"""
    histogram = row[6:11]  # a tuple from every driver (pyodbc's Row slices to one)
    return Movie(row[0], row[1], row[2], row[3], RatingSummary(row[4], row[5], histogram))


def _movie_and_stars(row: tuple[Any, ...]) -> tuple[Movie, Stars | None]:
    stars = row[11]
    return _movie(row), None if stars is None else Stars(stars)


# The five values, made once: a page of 1,000 ratings read them 1,000 times (Stars checks
# its value as it is made: a third of the cost of reading a rating). Anything else stored
# is made, and refused, as before.
_STARS_READ = {n: Stars(n) for n in STAR_VALUES}


def _rating(row: tuple[int, int, int, int, int | None, int | None]) -> Rating:
    rating_id, user_id, movie_id, stars, created, changed = row
    known = _STARS_READ.get(stars) if type(stars) is int else None
    return Rating(rating_id, user_id, movie_id, known or Stars(stars), _time(created), _time(changed))


class SqlUsers:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, user_id: int, *, for_update: bool = False) -> User | None:
        query = select(*_USER_COLUMNS).where(users.c.id == user_id)
        row = self._conn.execute(_locked(query, users) if for_update else query).first()
        return _user(row) if row else None

    def profile(self, user_id: int) -> Profile | None:
        row = self._conn.execute(
            select(*_USER_COLUMNS, users.c.date_joined).where(users.c.id == user_id)
        ).first()
        if row is None:
            return None
        found_id, username, is_admin, date_joined = row
        return Profile(found_id, username, bool(is_admin), date_joined)

    def existing(self, user_ids: Collection[int]) -> set[int]:
        if not user_ids:
            return set()
        return set(self._conn.scalars(select(users.c.id).where(users.c.id.in_(sorted(user_ids)))))

    def taken(self, usernames: Collection[str]) -> set[str]:
        if not usernames:
            return set()
        query = select(users.c.username).where(users.c.username.in_(sorted(usernames)))
        return set(self._conn.scalars(query)) & set(usernames)

    def credentials(self, username: str) -> tuple[User, str] | None:
        row = self._conn.execute(
            select(*_USER_COLUMNS, users.c.password_hash).where(users.c.username == username)
        ).first()
        return (_user(row), row[3]) if row else None

    def list(self) -> Sequence[User]:
        rows = self._conn.execute(select(*_USER_COLUMNS).order_by(users.c.id)).all()
        return [_user(row) for row in rows]

    def page(self, limit: int, offset: int, *, search: str = "") -> Sequence[User]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if search:
            params["pattern"] = like_pattern(search, self._conn.dialect.name)
            return [_user(row) for row in _USER_SEARCH_PAGE.rows(self._conn, params)]
        return [_user(row) for row in _USER_PAGE.rows(self._conn, params)]

    def count(self, *, search: str = "") -> int:
        query = select(func.count()).select_from(users)
        if search:
            params = {"pattern": like_pattern(search, self._conn.dialect.name)}
            counted: int = self._conn.execute(query.where(_USERNAME_HOLDS), params).scalar_one()
        else:
            counted = self._conn.execute(query).scalar_one()
        return counted

    def add(self, username: str, password_hash: str, *, is_admin: bool = False) -> User:
        try:
            result = self._conn.execute(
                insert(users).values(
                    username=username,
                    password_hash=password_hash,
                    is_admin=is_admin,
                    date_joined=datetime.now(UTC),
                )
            )
        except IntegrityError as exc:
            if is_unique_violation(exc):
                raise UsernameTaken(username) from exc
            raise
        return User(id=_inserted_id(result), username=username, is_admin=is_admin)

    def add_many(self, new: Sequence[NewUser]) -> Sequence[int]:
        if not new:
            return []
        rows = [
            {
                "username": user.username,
                "password_hash": user.password_hash,
                "is_admin": user.is_admin,
                "date_joined": user.date_joined,
            }
            for user in new
        ]
        try:
            return _ids(self._conn.execute(_INSERT_USERS, rows))
        except IntegrityError as exc:
            if is_unique_violation(exc):
                raise UsernameTaken(", ".join(user.username for user in new)) from exc
            raise

    def rename(self, user_id: int, username: str) -> None:
        try:
            self._conn.execute(update(users).where(users.c.id == user_id).values(username=username))
        except IntegrityError as exc:
            if is_unique_violation(exc):
                raise UsernameTaken(username) from exc
            raise

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        self._conn.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))

    def lock_credentials(self, user_id: int) -> str | None:
        # A locking read: it waits for a password change in progress and then sees it
        # (PostgreSQL re-reads the locked row; a locking read on MariaDB reads the latest).
        query = _locked(select(users.c.password_hash).where(users.c.id == user_id), users)
        found: str | None = self._conn.execute(query).scalar()
        return found

    def set_admin(self, user_id: int, is_admin: bool) -> None:
        self._conn.execute(update(users).where(users.c.id == user_id).values(is_admin=is_admin))

    def count_admins(self, *, for_update: bool = False) -> int:
        # The rows, not COUNT(*): PostgreSQL locks no rows of an aggregate. A transaction that
        # waited for the lock then sees the admins as committed (PostgreSQL re-checks the
        # WHERE on the new row versions; a locking read on MariaDB reads the latest ones).
        query = select(users.c.id).where(users.c.is_admin)
        return len(list(self._conn.scalars(_locked(query, users) if for_update else query)))

    def delete(self, user_id: int) -> None:
        self._conn.execute(delete(users).where(users.c.id == user_id))


class SqlMovies:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get(self, movie_id: int, *, for_update: bool = False) -> Movie | None:
        query = _MOVIE_BY_ID_LOCKED if for_update else _MOVIE_BY_ID
        rows = query.rows(self._conn, {"movie_id": movie_id})
        return _movie(rows[0]) if rows else None

    def existing(self, movie_ids: Collection[int]) -> set[int]:
        if not movie_ids:
            return set()
        return set(self._conn.scalars(select(movies.c.id).where(movies.c.id.in_(sorted(movie_ids)))))

    def list(self) -> Sequence[Movie]:
        rows = _ALL_MOVIES.rows(self._conn)
        return [_movie(row) for row in rows]

    def titles(self, movie_ids: Collection[int]) -> dict[int, str]:
        if not movie_ids:
            return {}
        query = select(movies.c.id, movies.c.title).where(movies.c.id.in_(sorted(movie_ids)))
        return {movie_id: title for movie_id, title in self._conn.execute(query)}

    def titled(self, titles: Collection[str]) -> MappingOf[str, Sequence[int]]:
        if not titles:
            return {}
        query = (
            select(movies.c.id, movies.c.title)
            .where(movies.c.title.in_(sorted(titles)))
            .order_by(movies.c.id)
        )
        found: dict[str, list[int]] = {}
        for movie_id, title in self._conn.execute(query.order_by(movies.c.id)):
            if title in titles:  # exactly: a collation may have matched another case or padding
                found.setdefault(title, []).append(movie_id)
        return found

    def page(
        self,
        limit: int,
        offset: int,
        *,
        order: MovieOrder = MovieOrder(),
        search: str = "",
        prior: ScorePrior = NO_PRIOR,
    ) -> Sequence[Movie]:
        how, params = self._search(search)
        params |= _page_params(limit, offset, order, prior)
        return [_movie(row) for row in _movie_page(order, how).rows(self._conn, params)]

    def page_rated_by(
        self,
        user_id: int,
        limit: int,
        offset: int,
        *,
        order: MovieOrder = MovieOrder(),
        search: str = "",
        prior: ScorePrior = NO_PRIOR,
    ) -> Sequence[tuple[Movie, Stars | None]]:
        how, params = self._search(search)
        params |= {"user_id": user_id, **_page_params(limit, offset, order, prior)}
        rows = _movie_page(order, how, rated_by=True).rows(self._conn, params)
        return [_movie_and_stars(row) for row in rows]

    def _search(self, search: str) -> tuple[_Search, dict[str, Any]]:
        """How to find the titles that hold ``search``, and the parameters for it. On SQLite
        a term of 3 characters or more asks the trigram index how many candidates it has
        (counting no further than the most worth reading by the index): few, the index's;
        many (most titles hold "movie"), the scan in the page's order, which stops as soon
        as the page is full. Elsewhere the database chooses (PostgreSQL: pg_trgm's index)."""
        if not search:
            return _Search.NONE, {}
        dialect = self._conn.dialect.name
        params: dict[str, Any] = {"pattern": like_pattern(search, dialect)}
        if dialect == "sqlite" and len(search) >= TRIGRAM:
            phrase = fts_phrase(search)
            ((candidates,),) = _CANDIDATES_UP_TO.rows(
                self._conn, {"phrase": phrase, "limit": INDEXED_SEARCH_MAX + 1, "offset": 0}
            )
            if candidates <= INDEXED_SEARCH_MAX:
                return _Search.INDEXED, params | {"phrase": phrase}
        return _Search.SCAN, params

    def get_rated_by(self, movie_id: int, user_id: int) -> tuple[Movie, Stars | None] | None:
        rows = _MOVIE_RATED_BY.rows(self._conn, {"movie_id": movie_id, "user_id": user_id})
        return _movie_and_stars(rows[0]) if rows else None

    def count(self, *, search: str = "") -> int:
        how, params = self._search(search)
        counted: int = self._conn.execute(_movie_count(how), params).scalar_one()
        return counted

    def add(self, fields: MovieFields) -> Movie:
        title, description, image_path = fields.new_movie()
        values = {
            "title": title,
            "description": description,
            "image_path": image_path,
            "rating_count": 0,
            "rating_sum": 0,
        }
        result = self._conn.execute(insert(movies).values(**values))
        return Movie(id=_inserted_id(result), title=title, description=description, image_path=image_path)

    def add_many(self, new: Sequence[MovieFields]) -> Sequence[int]:
        if not new:
            return []
        rows = [
            dict(zip(("title", "description", "image_path"), fields.new_movie(), strict=True))
            | {"rating_count": 0, "rating_sum": 0}
            for fields in new
        ]
        return _ids(self._conn.execute(_INSERT_MOVIES, rows))

    def update(self, movie_id: int, fields: MovieFields) -> None:
        values = fields.changes()  # attribute names are the column names
        if values:
            self._conn.execute(update(movies).where(movies.c.id == movie_id).values(**values))

    def delete(self, movie_id: int) -> None:
        self._conn.execute(delete(movies).where(movies.c.id == movie_id))

    def adjust_ratings(self, movie_id: int, delta: SummaryDelta) -> None:
        _ADJUST_SUMMARY.execute(self._conn, {"movie_id": movie_id, **_delta_params(delta)})

    def adjust_ratings_many(self, deltas: MappingOf[int, SummaryDelta]) -> None:
        # One atomic ``SET n = n + :delta`` per distinct delta (count, total, histogram),
        # over all the movies that get it: a batch of ratings has far fewer distinct deltas
        # than movies. In movie id order within each, as adjust_ratings one at a time would be.
        by_delta: dict[SummaryDelta, list[int]] = defaultdict(list)
        for movie_id, delta in sorted(deltas.items()):
            by_delta[delta].append(movie_id)
        for delta, movie_ids in sorted(by_delta.items(), key=lambda item: item[1][0]):
            self._conn.execute(
                update(movies).where(movies.c.id.in_(movie_ids)).values(_SUMMARY_MOVED), _delta_params(delta)
            )

    def catalogue(self) -> RatingSummary:
        counts = [int(n or 0) for n in self._conn.execute(_CATALOGUE).one()]
        return RatingSummary(counts[0], counts[1], tuple(counts[2:]))


_EXPORT_COLUMNS = (ratings.c.id, users.c.id, users.c.username, movies.c.id, movies.c.title, ratings.c.stars)
_EXPORT_FROM = ratings.join(users, users.c.id == ratings.c.user_id).join(
    movies, movies.c.id == ratings.c.movie_id
)


class SqlRatings:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def export_page(self, *, user_id: int | None, after: int, limit: int) -> Sequence[ExportedRating]:
        query = select(*_EXPORT_COLUMNS).select_from(_EXPORT_FROM)
        if user_id is None:  # everyone's: by the primary key
            query = query.where(ratings.c.id > after).order_by(ratings.c.id)
        else:  # a user's: along the unique (user, movie) key
            query = query.where(ratings.c.user_id == user_id, ratings.c.movie_id > after)
            query = query.order_by(ratings.c.movie_id)
        return [
            ExportedRating(rating_id, uid, username, movie_id, title, Stars(stars))
            for rating_id, uid, username, movie_id, title, stars in self._conn.execute(query.limit(limit))
        ]

    def get(self, rating_id: int, *, for_update: bool = False) -> Rating | None:
        query = select(*_RATING_COLUMNS).where(ratings.c.id == rating_id)
        row = self._conn.execute(_locked(query) if for_update else query).first()
        return _rating(row) if row else None

    def find(self, user_id: int, movie_id: int, *, for_update: bool = False) -> Rating | None:
        query = _RATING_OF_LOCKED if for_update else _RATING_OF
        rows = query.rows(self._conn, {"user_id": user_id, "movie_id": movie_id})
        return _rating(rows[0]) if rows else None

    def list(
        self, *, movie_id: int | None = None, user_id: int | None = None, for_update: bool = False
    ) -> Sequence[Rating]:
        query = select(*_RATING_COLUMNS).where(*_rating_filters(movie_id, user_id))
        query = query.order_by(*_rating_order(user_id))
        if for_update:
            query = _locked(query)
        return [_rating(row) for row in self._conn.execute(query).all()]

    def page(
        self,
        limit: int,
        offset: int,
        *,
        movie_id: int | None = None,
        user_id: int | None = None,
        since: datetime | None = None,
        after: tuple[int, ...] | None = None,
    ) -> Sequence[Rating]:
        params = {"limit": limit, "offset": offset}
        if movie_id is not None:
            params["movie_id"] = movie_id
        if user_id is not None:
            params["user_id"] = user_id
        if since is not None:
            params["since"] = _micros(since)
        seek = after is not None
        if after is not None:
            params["offset"] = 0
            if since is not None:  # the top: before every time (NULL is never listed)
                params["after_changed"], params["after_id"] = after or (params["since"], 0)
            else:
                (params["after"],) = after or (0,)
        else:  # by offset: from the first id (ids start at 1); only the movie's range reads it
            params["after"] = 0
        statement = rating_page_statement(
            self._conn.dialect.name,
            by_movie=movie_id is not None,
            by_user=user_id is not None,
            since=since is not None,
            seek=seek,
        )
        return [_rating(row) for row in statement.rows(self._conn, params)]

    def count(
        self, *, movie_id: int | None = None, user_id: int | None = None, since: datetime | None = None
    ) -> int:
        query = select(func.count()).select_from(ratings).where(*_rating_filters(movie_id, user_id, since))
        counted: int = self._conn.execute(query).scalar_one()
        return counted

    def find_locking_movie(
        self, user_id: int, movie_id: int, *, fresh: bool = False
    ) -> tuple[bool, Rating | None]:
        params = {"user_id": user_id, "movie_id": movie_id}
        if fresh:
            if not _MOVIE_BY_ID_LOCKED.rows(self._conn, params):
                return False, None
            return True, self.find(user_id, movie_id, for_update=True)
        rows = _MOVIE_LOCKED_WITH_RATING.rows(self._conn, params)
        if not rows:
            return False, None
        _, rating_id, stars, created, changed = rows[0]
        if rating_id is None:
            return True, None
        return True, Rating(rating_id, user_id, movie_id, Stars(stars), _time(created), _time(changed))

    def add(
        self,
        user_id: int,
        movie_id: int,
        stars: Stars,
        *,
        at: datetime,
        summary_delta: SummaryDelta | None = None,
    ) -> Rating:
        micros = _micros(at)
        params = {"user_id": user_id, "movie_id": movie_id, "stars": stars.value, "at": micros}
        new = {
            "user_id": user_id,
            "movie_id": movie_id,
            "stars": stars.value,
            "created": micros,
            "changed": micros,
        }
        made = _time(micros)
        try:
            if summary_delta is not None and self._conn.dialect.name == "postgresql":
                params.update(_delta_params(summary_delta))
                (new_id,) = _ADD_RATING_AND_SUMMARY.rows(self._conn, params)[0]
                return Rating(new_id, user_id, movie_id, stars, made, made)
            new_id = _inserted_id(self._conn.execute(_INSERT_RATING, new))
        except IntegrityError as exc:
            # A unique violation is a lost first-rating race (run again, it updates); a
            # foreign-key violation, the user or the movie deleted meanwhile.
            if is_foreign_key_violation(exc):
                raise ReferenceGone(f"user {user_id} or movie {movie_id}") from exc
            raise DuplicateRating(f"user {user_id} movie {movie_id}") from exc
        if summary_delta is not None:
            SqlMovies(self._conn).adjust_ratings(movie_id, summary_delta)
        return Rating(new_id, user_id, movie_id, stars, made, made)

    def rated(self, pairs: Collection[tuple[int, int]]) -> set[tuple[int, int]]:
        if not pairs:
            return set()
        params: dict[str, int] = {}
        for n, (user_id, movie_id) in enumerate(sorted(pairs)):
            params[f"u{n}"], params[f"m{n}"] = user_id, movie_id
        rows = self._conn.execute(_rated_query(len(pairs)), params)
        return {(user_id, movie_id) for user_id, movie_id in rows}

    def add_many(self, new: Sequence[tuple[int, int, Stars]]) -> Sequence[int]:
        if not new:
            return []
        rows = [{"user_id": u, "movie_id": m, "stars": stars.value} for u, m, stars in new]
        try:
            return _ids(self._conn.execute(_INSERT_RATINGS, rows))
        except IntegrityError as exc:  # as in add: a lost race, or a user or movie deleted meanwhile
            raise DuplicateRating(f"{len(new)} ratings") from exc

    def change_stars(
        self, rating: Rating, stars: Stars, *, at: datetime, summary_delta: SummaryDelta
    ) -> bool:
        params = {
            "rating_id": rating.id,
            "expected": rating.stars.value,
            "stars": stars.value,
            "at": _micros(at),
            "movie_id": rating.movie_id,
            **_delta_params(summary_delta),
        }
        dialect = self._conn.dialect
        if dialect.name == "postgresql":
            return _CHANGE_STARS_AND_SUMMARY.execute(self._conn, params) == 1
        if getattr(dialect, "is_mariadb", False):
            return _CHANGE_STARS_AND_SUMMARY_MARIADB.execute(self._conn, params) > 0
        if _CHANGE_STARS.execute(self._conn, params) != 1:
            return False
        _ADJUST_SUMMARY.execute(self._conn, params)
        return True

    def delete(self, rating_id: int) -> None:
        self._conn.execute(delete(ratings).where(ratings.c.id == rating_id))


class SqlTokens:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add(self, digest: str, user_id: int, created_at: datetime) -> None:
        try:
            self._conn.execute(
                insert(tokens).values(
                    digest=digest,
                    user_id=user_id,
                    created_at=created_at,
                    last_used=int(created_at.timestamp()),
                )
            )
        except IntegrityError as exc:
            if is_unique_violation(exc):
                raise AlreadyStored("a token") from exc
            if is_foreign_key_violation(exc):  # the user was deleted meanwhile
                raise ReferenceGone(f"user {user_id}") from exc
            raise

    def add_many(self, new: Sequence[tuple[str, int, datetime]], *, last_used: datetime) -> None:
        if not new:
            return
        used = int(last_used.timestamp())
        rows = [
            {"digest": digest, "user_id": user_id, "created_at": created, "last_used": used}
            for digest, user_id, created in new
        ]
        try:
            self._conn.execute(_INSERT_TOKENS, rows).all()
        except IntegrityError as exc:
            if is_unique_violation(exc):
                raise AlreadyStored(f"{len(new)} tokens") from exc
            raise

    def user_for(self, digest: str) -> tuple[User, datetime | None] | None:
        rows = _USER_BY_TOKEN.rows(self._conn, {"digest": digest})
        return _holder(rows[0]) if rows else None

    def user_for_and_movie(
        self, digest: str, movie_id: int
    ) -> tuple[tuple[User, datetime | None] | None, Movie | None]:
        (row,) = _HOLDER_AND_MOVIE.rows(self._conn, {"digest": digest, "movie_id": movie_id})
        holder, movie = row[:_HOLDER_WIDTH], row[_HOLDER_WIDTH:]
        return (
            None if holder[0] is None else _holder(holder),
            None if movie[0] is None else _movie(movie),
        )

    def touch(self, digest: str, used_at: datetime) -> None:
        self._conn.execute(
            update(tokens).where(tokens.c.digest == digest).values(last_used=int(used_at.timestamp()))
        )

    def delete(self, digest: str) -> None:
        self._conn.execute(delete(tokens).where(tokens.c.digest == digest))

    def delete_for_user(self, user_id: int, *, keep: str | None = None) -> None:
        query = delete(tokens).where(tokens.c.user_id == user_id)
        if keep is not None:
            query = query.where(tokens.c.digest != keep)
        self._conn.execute(query)


class SqlUploadGrants:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def lock_user(self, user_id: int) -> bool:
        # Row lock on the user: concurrent grant decisions for one user run one at a time
        # (SQLite: the write transaction's BEGIN IMMEDIATE already serializes them).
        query = _locked(select(users.c.id).where(users.c.id == user_id), users)
        return self._conn.execute(query).first() is not None

    def granted_after(self, user_id: int, start: datetime) -> Sequence[datetime]:
        return list(
            self._conn.scalars(
                select(upload_grants.c.granted_at)
                .where(upload_grants.c.user_id == user_id, upload_grants.c.granted_at > start)
                .order_by(upload_grants.c.granted_at)
            )
        )

    def add(self, user_id: int, object_name: str, granted_at: datetime) -> None:
        try:
            self._conn.execute(
                insert(upload_grants).values(user_id=user_id, object_name=object_name, granted_at=granted_at)
            )
        except IntegrityError as exc:
            if is_foreign_key_violation(exc):  # the user was deleted meanwhile
                raise ReferenceGone(f"user {user_id}") from exc
            raise

    def forget_until(self, user_id: int, end: datetime) -> None:
        self._conn.execute(
            delete(upload_grants).where(upload_grants.c.user_id == user_id, upload_grants.c.granted_at <= end)
        )

    def delete_for_user(self, user_id: int) -> None:
        self._conn.execute(delete(upload_grants).where(upload_grants.c.user_id == user_id))


class SqlImages:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def is_verified(self, name: str) -> bool:
        return self._has(images, name)

    def mark_verified(self, name: str, verified_at: datetime) -> None:
        self._add_once(images, name, verified_at=verified_at)

    def forget(self, name: str) -> None:
        self._conn.execute(delete(images).where(images.c.name == name))

    def is_rejected(self, name: str) -> bool:
        return self._has(rejected_images, name)

    def mark_rejected(self, name: str, rejected_at: datetime) -> None:
        self._add_once(rejected_images, name, rejected_at=rejected_at)

    def _has(self, table: Table, name: str) -> bool:
        return self._conn.execute(select(table.c.name).where(table.c.name == name)).first() is not None

    def _add_once(self, table: Table, name: str, **values: datetime) -> None:
        """Record ``name`` unless it is: a concurrent content check may record it first."""
        if not self._has(table, name):
            try:
                with self._conn.begin_nested():
                    self._conn.execute(insert(table).values(name=name, **values))
            except IntegrityError:
                pass

    def referenced_image_paths(self) -> Sequence[str]:
        return list(
            self._conn.scalars(
                select(movies.c.image_path).where(movies.c.image_path.is_not(None), movies.c.image_path != "")
            )
        )


class SqlAttempts:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def lock(self, key: str) -> None:
        dialect = self._conn.dialect.name
        if dialect == "sqlite":
            return  # the write transaction's BEGIN IMMEDIATE already serializes decisions
        # Create-or-lock the key's row in one statement: an upsert that updates the row it
        # finds takes that row's lock (waiting for a concurrent creator to commit), and
        # never the shared lock a failed plain INSERT leaves on MariaDB, where two such
        # lock holders that both go on to lock the row deadlock.
        if dialect == "postgresql":
            from sqlalchemy.dialects import postgresql  # here: workers of other backends skip it

            pg = postgresql.insert(attempt_locks).values(key=key)
            upsert = pg.on_conflict_do_update(index_elements=["key"], set_={"key": pg.excluded.key})
            self._conn.execute(upsert)
        elif dialect in ("mysql", "mariadb"):
            from sqlalchemy.dialects import mysql

            my = mysql.insert(attempt_locks).values(key=key)
            self._conn.execute(my.on_duplicate_key_update({"key": my.inserted.key}))
        else:  # SQL Server: no upsert statement in SQLAlchemy; create, then lock
            if self._locked_row(key) is None:
                try:
                    with self._conn.begin_nested():
                        self._conn.execute(insert(attempt_locks).values(key=key))
                except IntegrityError:
                    pass  # a concurrent reservation created it
                self._locked_row(key)

    def _locked_row(self, key: str) -> str | None:
        query = _locked(select(attempt_locks.c.key).where(attempt_locks.c.key == key), attempt_locks)
        found: str | None = self._conn.execute(query).scalar()
        return found

    def since(self, key: str, start: datetime) -> Sequence[datetime]:
        # A locking read: on MariaDB (REPEATABLE READ) a plain one could answer from a
        # snapshot older than the key's lock; a locking read sees what is committed now.
        query = (
            select(attempts.c.at).where(attempts.c.key == key, attempts.c.at > start).order_by(attempts.c.at)
        )
        return list(self._conn.scalars(_locked(query, attempts)))

    def add(self, key: str, at: datetime) -> int:
        return _inserted_id(self._conn.execute(insert(attempts).values(key=key, at=at)))

    def remove(self, attempt_ids: Collection[int]) -> None:
        if attempt_ids:
            self._conn.execute(delete(attempts).where(attempts.c.id.in_(sorted(attempt_ids))))

    def forget_until(self, key: str, end: datetime) -> None:
        self._conn.execute(delete(attempts).where(attempts.c.key == key, attempts.c.at <= end))


class SqlImportRecords:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._planned = False

    def find(self, kind: str, legacy_ids: Sequence[str]) -> dict[str, ImportRecord]:
        if not legacy_ids:
            return {}
        self._plan_afresh()
        rows = self._conn.execute(
            select(legacy_imports.c.legacy_id, legacy_imports.c.our_id, legacy_imports.c.fingerprint).where(
                legacy_imports.c.kind == kind, legacy_imports.c.legacy_id.in_(legacy_ids)
            )
        )
        return {legacy_id: ImportRecord(our_id, fp) for legacy_id, our_id, fp in rows}

    def _plan_afresh(self) -> None:
        """On PostgreSQL, plan this transaction's statements for their parameters each time.

        psycopg prepares a statement run five times on a connection, and PostgreSQL may then
        keep one generic plan for it: an import's, made while its tables were nearly empty,
        was a sequential scan with a 500-value IN list, which took 0.3 s a batch once the
        tables had grown (first import of 100,000 ratings: 186 s instead of 24 s). Only
        imports ask for records, so only their transactions are affected (SET LOCAL).
        """
        dialect = self._conn.dialect
        if self._planned or dialect.name != "postgresql":
            return
        self._planned = True
        if (dialect.server_version_info or (0,)) >= (12,):
            self._conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")

    def add(self, kind: str, records: Sequence[tuple[str, ImportRecord]], at: datetime) -> None:
        if not records:
            return
        rows = [
            {
                "kind": kind,
                "legacy_id": legacy_id,
                "our_id": record.our_id,
                "fingerprint": record.fingerprint,
                "imported_at": at,
            }
            for legacy_id, record in records
        ]
        try:
            self._conn.execute(_INSERT_IMPORT_RECORDS, rows).all()
        except IntegrityError as exc:
            if is_unique_violation(exc):  # the primary key: another import recorded it first
                raise AlreadyStored(f"{kind} {records[0][0]}..{records[-1][0]}") from exc
            raise


class SqlRepositories:
    """The repositories of one transaction (the core's ``Repositories`` port)."""

    def __init__(self, conn: Connection) -> None:
        self.connection = conn
        self.users = SqlUsers(conn)
        self.movies = SqlMovies(conn)
        self.ratings = SqlRatings(conn)
        self.tokens = SqlTokens(conn)
        self.grants = SqlUploadGrants(conn)
        self.images = SqlImages(conn)
        self.attempts = SqlAttempts(conn)
        self.imports = SqlImportRecords(conn)
