"""Ports: what the core needs from the outside world, as Protocols.

Adapters (``adapters``) implement them for real infrastructure; the unit tests
implement them in memory. The core never imports an adapter.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol

from attrs import frozen

from movierater_core.model import (
    NO_PRIOR,
    ExportedRating,
    Movie,
    MovieFields,
    MovieOrder,
    Profile,
    Rating,
    RatingSummary,
    ScorePrior,
    Stars,
    SummaryDelta,
    User,
)
from movierater_core.uploads import ImageInfo, UploadTicket

# Bulk methods (``existing``, ``taken``, ``rated``, ``add_many``, ...) serve imports: one
# round trip per batch instead of one per row. They take at most 500 keys a call (under
# SQL Server's 2,100 parameters), and their inserts raise a domain error on a unique key
# that is taken, after which the transaction must be abandoned (nothing of it is kept).


@frozen
class NewUser:
    """A user to add in bulk (an import's: the hash as the other system stored it)."""

    username: str
    password_hash: str
    is_admin: bool
    date_joined: datetime  # timezone-aware


class UserReader(Protocol):
    def get(self, user_id: int) -> User | None: ...

    def profile(self, user_id: int) -> Profile | None:
        """The user with their date joined (one query), or None."""
        ...

    def existing(self, user_ids: Collection[int]) -> set[int]:
        """Those of ``user_ids`` that exist (at most 500 ids)."""
        ...

    def taken(self, usernames: Collection[str]) -> set[str]:
        """Those of ``usernames`` that someone here has, compared exactly as ``credentials``
        compares them (at most 500)."""
        ...

    def credentials(self, username: str) -> tuple[User, str] | None:
        """The user with this exact username and their stored password hash."""
        ...

    def list(self) -> Sequence[User]: ...

    def page(self, limit: int, offset: int, *, search: str = "") -> Sequence[User]:
        """At most ``limit`` users after the first ``offset``, by id (storage does the limiting),
        those whose username holds ``search`` (case-insensitively; ``%`` and ``_`` are plain
        characters; ``""``: every user)."""
        ...

    def count(self, *, search: str = "") -> int:
        """How many users ``page`` pages through for ``search``."""
        ...


class UserRepository(UserReader, Protocol):
    def get(self, user_id: int, *, for_update: bool = False) -> User | None:
        """``for_update`` locks the user's row until the transaction ends: a deletion takes
        this lock first, so that an insert referring to the user (a token, a rating, an
        upload grant) either commits before it (and is deleted with the user) or waits and
        then raises :class:`~movierater_core.errors.ReferenceGone`."""
        ...

    def add(self, username: str, password_hash: str, *, is_admin: bool = False) -> User:
        """Raises :class:`~movierater_core.errors.UsernameTaken`."""
        ...

    def add_many(self, users: Sequence[NewUser]) -> Sequence[int]:
        """Add them all in one go; their new ids, in the order given.

        Raises :class:`~movierater_core.errors.UsernameTaken` if a username is in use.
        """
        ...

    def rename(self, user_id: int, username: str) -> None:
        """Raises :class:`~movierater_core.errors.UsernameTaken`."""
        ...

    def set_password_hash(self, user_id: int, password_hash: str) -> None: ...

    def lock_credentials(self, user_id: int) -> str | None:
        """The user's stored password hash as committed now, their row locked until the
        transaction ends (a password change waits for it, and it for a change); None if
        there is no such user. What a login re-checks before it issues a token."""
        ...

    def set_admin(self, user_id: int, is_admin: bool) -> None: ...

    def count_admins(self, *, for_update: bool = False) -> int:
        """How many admins there are. ``for_update`` (in a writing transaction) locks their
        rows until the transaction ends, so that two transactions that each demote or delete
        a different admin cannot both count the other one."""
        ...

    def delete(self, user_id: int) -> None: ...


class MovieReader(Protocol):
    def get(self, movie_id: int) -> Movie | None: ...

    def existing(self, movie_ids: Collection[int]) -> set[int]:
        """Those of ``movie_ids`` that exist (at most 500 ids)."""
        ...

    def list(self) -> Sequence[Movie]: ...

    def page(
        self,
        limit: int,
        offset: int,
        *,
        order: MovieOrder = MovieOrder(),
        search: str = "",
        prior: ScorePrior = NO_PRIOR,
    ) -> Sequence[Movie]:
        """At most ``limit`` movies after the first ``offset`` in ``order`` (ties by id,
        in the same direction), those whose title holds ``search`` (case-insensitively; ``%`` and ``_``
        are plain characters; ``""``: every movie). Storage does the limiting and ordering:
        titles in the database's collation, averages exactly as ``RatingSummary.average``,
        scores exactly as ``RatingSummary.score(prior)``."""
        ...

    def catalogue(self) -> RatingSummary:
        """Every movie's ratings summed: count, total and histogram (the score's prior)."""
        ...

    def count(self, *, search: str = "") -> int:
        """How many movies ``page`` pages through for ``search``."""
        ...

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
        """``page``, each movie with ``user_id``'s stars (None: not rated by them), read in
        the same one statement (an outer join on the unique (user, movie) key), never a
        query per movie."""
        ...

    def get_rated_by(self, movie_id: int, user_id: int) -> tuple[Movie, Stars | None] | None:
        """``get`` with ``user_id``'s stars of the movie, in one statement."""
        ...

    def titles(self, movie_ids: Collection[int]) -> dict[int, str]:
        """The titles of those of ``movie_ids`` that exist (at most 500 ids)."""
        ...

    def titled(self, titles: Collection[str]) -> Mapping[str, Sequence[int]]:
        """The ids of the movies titled exactly (case and spaces too) each of ``titles`` that
        some movie has, in order (at most 500 titles)."""
        ...


class MovieRepository(MovieReader, Protocol):
    def get(self, movie_id: int, *, for_update: bool = False) -> Movie | None:
        """``for_update`` locks the movie's row until the transaction ends. Every transaction
        that changes a movie's ratings takes it first (then the ratings' rows), and so does
        deleting the movie: they run one after the other, in one lock order."""
        ...

    def add(self, fields: MovieFields) -> Movie: ...

    def add_many(self, movies: Sequence[MovieFields]) -> Sequence[int]:
        """Add them all in one go, with no ratings yet; their new ids, in the order given."""
        ...

    def update(self, movie_id: int, fields: MovieFields) -> None:
        """Change the given fields (``None`` leaves one as it is)."""
        ...

    def delete(self, movie_id: int) -> None: ...

    def adjust_ratings(self, movie_id: int, delta: SummaryDelta) -> None:
        """Add the delta to the movie's rating count, sum and histogram *in storage*.

        Must be one atomic statement (``SET n = n + :delta``), never read-modify-write,
        so that concurrent raters of one movie cannot lose each other's updates.
        """
        ...

    def adjust_ratings_many(self, deltas: Mapping[int, SummaryDelta]) -> None:
        """``adjust_ratings`` for many movies: movie id -> its delta, each
        movie's change atomic in storage as there (at most 500 movies)."""
        ...


class RatingReader(Protocol):
    def get(self, rating_id: int) -> Rating | None: ...

    def find(self, user_id: int, movie_id: int) -> Rating | None:
        """The user's rating of the movie."""
        ...

    def list(self, *, movie_id: int | None = None, user_id: int | None = None) -> Sequence[Rating]:
        """By id; a user's by movie id (transactions then lock several movies in one order)."""
        ...

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
        """At most ``limit`` of what ``list`` lists, after its first ``offset``, in its order
        (storage does the limiting). ``since``: only those whose ``changed`` is at or after
        it (never those without times), by ``changed`` then id.

        ``after`` (a cursor's key; ``offset`` is then 0): only those past it in the order, an
        index seek: a rating id (by id); with ``user_id``, a movie id (by movie); with
        ``since``, (``changed`` in microseconds since the epoch, id). ``()``: from the top."""
        ...

    def count(
        self, *, movie_id: int | None = None, user_id: int | None = None, since: datetime | None = None
    ) -> int: ...

    def rated(self, pairs: Collection[tuple[int, int]]) -> set[tuple[int, int]]:
        """Those ``(user_id, movie_id)`` pairs that have a rating here (at most 500 pairs)."""
        ...

    def export_page(self, *, user_id: int | None, after: int, limit: int) -> Sequence[ExportedRating]:
        """At most ``limit`` ratings with their titles and usernames, keyset-paged so that
        each page costs the same however deep: a user's (``user_id``) by movie id, those
        after movie ``after``; everyone's by rating id, those after rating ``after``."""
        ...


class RatingRepository(RatingReader, Protocol):
    """In a write transaction, reads may lock what they read (``for_update``)."""

    def get(self, rating_id: int, *, for_update: bool = False) -> Rating | None: ...

    def find(self, user_id: int, movie_id: int, *, for_update: bool = False) -> Rating | None:
        """The user's rating of the movie; ``for_update`` locks it until the transaction ends."""
        ...

    def find_locking_movie(
        self, user_id: int, movie_id: int, *, fresh: bool = False
    ) -> tuple[bool, Rating | None]:
        """Lock the movie's row (as ``movies.get(for_update=True)``) and find the user's
        rating of it: (whether the movie exists, the rating or None).

        In one step, the rating may be as it stood just before the lock was granted
        (PostgreSQL reads it in the statement's snapshot, Azure SQL in its row versions):
        a change of it must say what it expects (``change_stars``), and an ``add`` may
        meet a duplicate. ``fresh`` reads it once the lock is held (a second statement),
        so that a retry after such a lost race cannot lose to the same cause again.
        """
        ...

    def list(
        self, *, movie_id: int | None = None, user_id: int | None = None, for_update: bool = False
    ) -> Sequence[Rating]: ...

    def add(
        self,
        user_id: int,
        movie_id: int,
        stars: Stars,
        *,
        at: datetime,
        summary_delta: SummaryDelta | None = None,
    ) -> Rating:
        """Raises :class:`~movierater_core.errors.DuplicateRating` if one exists already (a lost
        race: the caller's next attempt updates it), and
        :class:`~movierater_core.errors.ReferenceGone` if the user or the movie does not exist
        (deleted by a concurrent transaction). ``summary_delta``: added to the movie's summary
        as ``movies.adjust_ratings`` does, in the same atomic step (one statement where the
        database can). ``at``: its ``created`` and ``changed``."""
        ...

    def add_many(self, ratings: Sequence[tuple[int, int, Stars]]) -> Sequence[int]:
        """Add ``(user_id, movie_id, stars)`` ratings in one go (the movies' aggregates are
        the caller's: see ``adjust_ratings_many``), without times (imports: the original kept
        none); their new ids, in the order given.

        Raises :class:`~movierater_core.errors.DuplicateRating` if a pair is rated already, or
        a user or a movie does not exist (an import's batch is abandoned either way).
        """
        ...

    def change_stars(
        self, rating: Rating, stars: Stars, *, at: datetime, summary_delta: SummaryDelta
    ) -> bool:
        """Set the rating's stars to ``stars`` and its ``changed`` to ``at`` if the stars are
        still ``rating.stars``, adding
        ``summary_delta`` to its movie's summary as ``movies.adjust_ratings``
        does, in one atomic step (one statement where the database can). False, and nothing
        changed, if the stars were no longer ``rating.stars`` or the rating is gone (a lost
        race: the caller's next attempt sees the change)."""
        ...

    def delete(self, rating_id: int) -> None: ...


class TokenReader(Protocol):
    """Login tokens, stored and looked up only by a digest of the key."""

    def user_for(self, digest: str) -> tuple[User, datetime | None] | None:
        """The token's user and when the token was last used, to the second (None: not recorded)."""
        ...

    def user_for_and_movie(
        self, digest: str, movie_id: int
    ) -> tuple[tuple[User, datetime | None] | None, Movie | None]:
        """``user_for(digest)`` and ``movies.get(movie_id)`` at once: one statement where the
        database can, so that the token check shares its round trip with the movie it guards."""
        ...


class TokenRepository(TokenReader, Protocol):
    def add(self, digest: str, user_id: int, created_at: datetime) -> None:
        """Last used: ``created_at``. Raises :class:`~movierater_core.errors.AlreadyStored`
        if the digest is stored already, :class:`~movierater_core.errors.ReferenceGone` if
        the user does not exist (deleted meanwhile)."""
        ...

    def add_many(self, tokens: Sequence[tuple[str, int, datetime]], *, last_used: datetime) -> None:
        """Add ``(digest, user_id, created_at)`` tokens in one go, each last used at ``last_used``.

        Raises :class:`~movierater_core.errors.AlreadyStored` if a digest is stored already.
        """
        ...

    def touch(self, digest: str, used_at: datetime) -> None:
        """Record a use of the token (expiry slides from the last use)."""
        ...

    def delete(self, digest: str) -> None: ...

    def delete_for_user(self, user_id: int, *, keep: str | None = None) -> None:
        """Revoke all the user's tokens but the one whose digest is ``keep``."""
        ...


class UploadGrantReader(Protocol):
    """Upload URLs granted per user, for the hourly limit (stored, so it holds across processes)."""

    def granted_after(self, user_id: int, start: datetime) -> Sequence[datetime]:
        """When the user was granted upload URLs strictly after ``start``, oldest first."""
        ...


class UploadGrantRepository(UploadGrantReader, Protocol):
    def lock_user(self, user_id: int) -> bool:
        """Serialize grant decisions for one user until the transaction ends; False if the
        user does not exist (deleted meanwhile)."""
        ...

    def add(self, user_id: int, object_name: str, granted_at: datetime) -> None:
        """Raises :class:`~movierater_core.errors.ReferenceGone` if the user does not exist."""
        ...

    def forget_until(self, user_id: int, end: datetime) -> None:
        """Drop grants at or before ``end``: too old to count any more."""
        ...

    def delete_for_user(self, user_id: int) -> None: ...


class ImageReader(Protocol):
    """Uploaded objects that passed the content check, and names whose object failed it."""

    def is_verified(self, name: str) -> bool: ...

    def is_rejected(self, name: str) -> bool:
        """The content check refused an object of this name once: the name is spent."""
        ...

    def referenced_image_paths(self) -> Sequence[str]:
        """Every movie's imagePath that is set."""
        ...


class ImageRepository(ImageReader, Protocol):
    def mark_verified(self, name: str, verified_at: datetime) -> None:
        """Idempotent."""
        ...

    def forget(self, name: str) -> None:
        """No longer verified (a rejection, once recorded, is never forgotten)."""
        ...

    def mark_rejected(self, name: str, rejected_at: datetime) -> None:
        """Idempotent."""
        ...


class AttemptReader(Protocol):
    """Timestamps of throttled attempts (logins, registrations) by key."""

    def since(self, key: str, start: datetime) -> Sequence[datetime]:
        """Attempts strictly after ``start``, oldest first."""
        ...


class AttemptRepository(AttemptReader, Protocol):
    """Counting and adding under :meth:`lock`: concurrent decisions for a key take turns."""

    def lock(self, key: str) -> None:
        """Serialize decisions for this key until the transaction ends (the key need not
        have any attempt yet). Call it before reading the key's attempts: reads after it
        see every attempt committed before it returned."""
        ...

    def since(self, key: str, start: datetime) -> Sequence[datetime]:
        """Attempts strictly after ``start``, oldest first, as committed now."""
        ...

    def add(self, key: str, at: datetime) -> int:
        """Record an attempt; its id, to :meth:`remove` it."""
        ...

    def remove(self, attempt_ids: Collection[int]) -> None:
        """Forget these attempts (those gone already are ignored)."""
        ...

    def forget_until(self, key: str, end: datetime) -> None: ...


@frozen
class ImportRecord:
    """A row of another system that was imported: what it became and a fingerprint of the
    values it had then (to tell, on a later run, whether it changed in the source)."""

    our_id: int
    fingerprint: str


class ImportRecordReader(Protocol):
    """Provenance of imported rows, by kind (``user``, ``movie``, ...) and legacy id."""

    def find(self, kind: str, legacy_ids: Sequence[str]) -> dict[str, ImportRecord]:
        """The records of those of ``legacy_ids`` that were imported (at most 500 ids)."""
        ...


class ImportRecordRepository(ImportRecordReader, Protocol):
    def add(self, kind: str, records: Sequence[tuple[str, ImportRecord]], at: datetime) -> None:
        """Record them all in one go. Raises :class:`~movierater_core.errors.AlreadyStored`
        if one of them is recorded already (another import got there first)."""
        ...


class ReadRepositories(Protocol):
    """The repositories of a read: their read methods only, so a read cannot write."""

    @property
    def users(self) -> UserReader: ...

    @property
    def movies(self) -> MovieReader: ...

    @property
    def ratings(self) -> RatingReader: ...

    @property
    def tokens(self) -> TokenReader: ...

    @property
    def grants(self) -> UploadGrantReader: ...

    @property
    def images(self) -> ImageReader: ...

    @property
    def attempts(self) -> AttemptReader: ...

    @property
    def imports(self) -> ImportRecordReader: ...


class Repositories(ReadRepositories, Protocol):
    """The repositories of one write transaction: every method."""

    @property
    def users(self) -> UserRepository: ...

    @property
    def movies(self) -> MovieRepository: ...

    @property
    def ratings(self) -> RatingRepository: ...

    @property
    def tokens(self) -> TokenRepository: ...

    @property
    def grants(self) -> UploadGrantRepository: ...

    @property
    def images(self) -> ImageRepository: ...

    @property
    def attempts(self) -> AttemptRepository: ...

    @property
    def imports(self) -> ImportRecordRepository: ...


@frozen
class RatedWithToken:
    """What :meth:`OneStatementWrites.rate_with_token` found and did."""

    holder: tuple[User, datetime | None] | None  # as ``tokens.user_for(digest)``
    movie_found: bool  # False also when the token was unknown or not alive (nothing locked)
    rating: Rating | None  # the rating as it is now; None: nothing written (see the method)
    created: bool = False


class OneStatementWrites(Protocol):
    """Writes that are one statement each, every one its own transaction (no BEGIN and
    COMMIT round trips): offered only by a database that can run them (``Database.one_statement``)."""

    def rate_with_token(
        self, digest: str, movie_id: int, stars: Stars, *, at: datetime, alive_since: datetime
    ) -> RatedWithToken:
        """``tokens.user_for(digest)``, and, only if that token was last used at or after
        ``alive_since`` (or never recorded), its user's rating of the movie set to ``stars``
        as ``Ratings.rate_movie`` does: the movie's row locked, a new rating added or the
        stars changed (``changed``: ``at``; the same stars again: nothing written), and the
        movie's summary moved by the ``SummaryDelta`` of that, all in one statement.
        ``rating`` is None when the movie is not there (or the token did not allow the
        write), and when the rating read was older than the lock (a rater of the same movie
        by the same user got in between): nothing was written, the caller takes the locking
        path. Raises :class:`~movierater_core.errors.ReferenceGone` if the user was deleted
        while the statement ran."""
        ...


class Database(Protocol):
    """Unit of work: each block is one transaction.

    ``reading()`` hands out the read methods only (:class:`ReadRepositories`; adapters
    use :class:`movierater_core.read_only.ReadOnlyRepositories`), ``writing()`` every one.
    ``writing()`` commits when the block ends normally and rolls back when it raises.
    Both raise :class:`~movierater_core.errors.ConcurrencyConflict` for a lost race that
    is safe to retry, and :class:`~movierater_core.errors.ServiceUnavailable` when the
    database cannot be reached.
    """

    def reading(self) -> AbstractContextManager[ReadRepositories]: ...

    def writing(self) -> AbstractContextManager[Repositories]: ...

    def one_statement(self) -> AbstractContextManager[OneStatementWrites] | None:
        """A unit for one write statement, its own transaction, where this database can run
        the statements of :class:`OneStatementWrites` (a server database saves its BEGIN and
        COMMIT round trips); None where it cannot: the caller takes its general path."""
        ...

    def ping(self) -> None:
        """One trivial round trip (``SELECT 1``), for readiness probes: raises
        :class:`~movierater_core.errors.ServiceUnavailable` when the database cannot be reached."""
        ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool:
        """True iff the password matches; never raises for a wrong one."""
        ...

    def needs_rehash(self, password_hash: str) -> bool: ...

    def recognises(self, password_hash: str) -> bool:
        """Whether ``verify`` understands this hash's format (imported hashes may not be)."""
        ...


class TokenIssuer(Protocol):
    def new_key(self) -> str:
        """A fresh random key, 40 hex characters like DRF's."""
        ...

    def digest(self, key: str) -> str:
        """What storage keeps instead of the key (a one-way digest)."""
        ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


@frozen
class StoredObject:
    name: str
    modified: datetime


class ImageStorage(Protocol):
    """Where poster bytes live (S3, a local directory). Objects are named by the core;
    adapters put them under their own prefix and say how clients reach them.

    Every method may raise :class:`~movierater_core.errors.ServiceUnavailable`.
    """

    def presign_upload(
        self, name: str, *, content_type: str, size: int | None, sha256: str | None, expires_in: int
    ) -> UploadTicket:
        """A URL the client sends the bytes to directly. Storage itself must refuse another
        content type, another size than ``size`` (or over the maximum when ``size`` is None),
        bytes whose SHA-256 is not ``sha256``, use after ``expires_in`` seconds, and
        overwriting an existing object. Raises ServiceUnavailable when storage is known not
        to be able to take the upload (S3: the bucket is missing), rather than grant it."""
        ...

    def key(self, name: str) -> str:
        """Where storage keeps the object (e.g. the S3 key, with the configured prefix)."""
        ...

    def public_url(self, name: str) -> str:
        """The canonical URL of an object: ``object_bases()[0] + name``."""
        ...

    def object_bases(self) -> Sequence[str]:
        """Every URL under which storage serves objects by name (``base + name``), in each
        style it answers to (S3: virtual-hosted, path-style, the endpoint, a CDN); the first
        is the one ``public_url`` uses. The core decides from these what URL is ours."""
        ...

    def exists(self, name: str) -> bool: ...

    def read_head(self, name: str, limit: int) -> bytes | None:
        """At most the first ``limit`` bytes (a ranged read); None if there is no such object."""
        ...

    def delete(self, name: str) -> None: ...

    def mark_in_use(self, name: str) -> None:
        """The object passed the content check: lift what marks it as a stray upload
        (on S3, the ``pending`` tag that a lifecycle rule expires)."""
        ...

    def list_objects(self) -> Iterable[StoredObject]: ...

    def check(self) -> None:
        """A cheap probe for readiness: raises ServiceUnavailable unless storage can be reached
        and written to (a local directory that exists and is writable; S3: HEAD bucket)."""
        ...


class ImageInspector(Protocol):
    def inspect(self, head: bytes) -> ImageInfo | None:
        """Format and dimensions read from the first bytes of a file; None if it is not an image."""
        ...
