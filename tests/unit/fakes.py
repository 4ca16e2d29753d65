"""In-memory implementations of the core's ports, for unit tests of the core only.

Standard library and the core alone: the isolation test imports these with
sqlalchemy, falcon, boto3 and pyodbc blocked.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import attrs

from movierater_core.errors import (
    AlreadyStored,
    DuplicateRating,
    ReferenceGone,
    ServiceUnavailable,
    UsernameTaken,
)
from movierater_core.model import (
    NO_PRIOR,
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
from movierater_core.ports import ImportRecord, NewUser, ReadRepositories, StoredObject
from movierater_core.read_only import ReadOnlyRepositories
from movierater_core.uploads import ImageInfo, UploadTicket
from movierater_core.use_cases import (
    Accounts,
    AccountSettings,
    Movies,
    Ratings,
    ScoreSettings,
    TokenCheck,
    Uploads,
    UploadSettings,
    UserAdmin,
)


@dataclass
class _State:
    users: dict[int, tuple[User, str]] = field(default_factory=dict)
    joined: dict[int, datetime] = field(default_factory=dict)
    movies: dict[int, Movie] = field(default_factory=dict)
    ratings: dict[int, Rating] = field(default_factory=dict)
    tokens: dict[str, tuple[int, datetime]] = field(default_factory=dict)
    grants: list[tuple[int, str, datetime]] = field(default_factory=list)
    verified: set[str] = field(default_factory=set)
    rejected: set[str] = field(default_factory=set)
    attempts: dict[int, tuple[str, datetime]] = field(default_factory=dict)
    imports: dict[tuple[str, str], ImportRecord] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=lambda: {"user": 0, "movie": 0, "rating": 0, "attempt": 0})

    def next_id(self, kind: str) -> int:
        self.ids[kind] += 1
        return self.ids[kind]


class FakeUsers:
    def __init__(self, state: _State) -> None:
        self._s = state

    def get(self, user_id: int, *, for_update: bool = False) -> User | None:
        found = self._s.users.get(user_id)
        return found[0] if found else None

    def profile(self, user_id: int) -> Profile | None:
        user = self.get(user_id)
        if user is None:
            return None
        return Profile(user.id, user.username, user.is_admin, self._s.joined[user_id])

    def existing(self, user_ids: Collection[int]) -> set[int]:
        assert len(user_ids) <= 500, "the port allows at most 500 ids a call"
        return {i for i in user_ids if i in self._s.users}

    def taken(self, usernames: Collection[str]) -> set[str]:
        assert len(usernames) <= 500, "the port allows at most 500 usernames a call"
        return {u.username for u, _ in self._s.users.values()} & set(usernames)

    def credentials(self, username: str) -> tuple[User, str] | None:
        return self._named(username)

    def _named(self, username: str) -> tuple[User, str] | None:
        return next((entry for entry in self._s.users.values() if entry[0].username == username), None)

    def list(self) -> Sequence[User]:
        return [self._s.users[k][0] for k in sorted(self._s.users)]

    def page(self, limit: int, offset: int, *, search: str = "") -> Sequence[User]:
        return self._found(search)[offset : offset + limit]

    def count(self, *, search: str = "") -> int:
        return len(self._found(search))

    def _found(self, search: str) -> list[User]:
        return [u for u in self.list() if search.lower() in u.username.lower()]

    def add(
        self, username: str, password_hash: str, *, is_admin: bool = False, joined: datetime | None = None
    ) -> User:
        if self._named(username):
            raise UsernameTaken(username)
        user = User(self._s.next_id("user"), username, is_admin)
        self._s.users[user.id] = (user, password_hash)
        self._s.joined[user.id] = joined or datetime.now(UTC)
        return user

    def add_many(self, users: Sequence[NewUser]) -> Sequence[int]:
        return [
            self.add(u.username, u.password_hash, is_admin=u.is_admin, joined=u.date_joined).id for u in users
        ]

    def rename(self, user_id: int, username: str) -> None:
        if any(u.username == username and u.id != user_id for u, _ in self._s.users.values()):
            raise UsernameTaken(username)
        user, pw = self._s.users[user_id]
        self._s.users[user_id] = (User(user.id, username, user.is_admin), pw)

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        self._s.users[user_id] = (self._s.users[user_id][0], password_hash)

    def lock_credentials(self, user_id: int) -> str | None:
        found = self._s.users.get(user_id)  # no lock needed: one transaction at a time
        return found[1] if found else None

    def set_admin(self, user_id: int, is_admin: bool) -> None:
        user, pw = self._s.users[user_id]
        self._s.users[user_id] = (User(user.id, user.username, is_admin), pw)

    def count_admins(self, *, for_update: bool = False) -> int:
        # No lock needed: the fake database runs one transaction at a time.
        return sum(user.is_admin for user, _ in self._s.users.values())

    def delete(self, user_id: int) -> None:
        assert not any(r.user_id == user_id for r in self._s.ratings.values()), "FK: ratings"
        assert not any(uid == user_id for uid, _ in self._s.tokens.values()), "FK: tokens"
        assert not any(uid == user_id for uid, _, _ in self._s.grants), "FK: grants"
        del self._s.users[user_id]
        del self._s.joined[user_id]


class FakeMovies:
    def __init__(self, state: _State) -> None:
        self._s = state

    def get(self, movie_id: int, *, for_update: bool = False) -> Movie | None:
        return self._s.movies.get(movie_id)

    def existing(self, movie_ids: Collection[int]) -> set[int]:
        assert len(movie_ids) <= 500, "the port allows at most 500 ids a call"
        return {i for i in movie_ids if i in self._s.movies}

    def titles(self, movie_ids: Collection[int]) -> dict[int, str]:
        assert len(movie_ids) <= 500, "the port allows at most 500 ids a call"
        return {i: self._s.movies[i].title for i in movie_ids if i in self._s.movies}

    def titled(self, titles: Collection[str]) -> Mapping[str, Sequence[int]]:
        assert len(titles) <= 500, "the port allows at most 500 titles a call"
        found: dict[str, list[int]] = {}
        for movie_id in sorted(self._s.movies):
            if self._s.movies[movie_id].title in titles:
                found.setdefault(self._s.movies[movie_id].title, []).append(movie_id)
        return found

    def list(self) -> Sequence[Movie]:
        return [self._s.movies[k] for k in sorted(self._s.movies)]

    def page(
        self,
        limit: int,
        offset: int,
        *,
        order: MovieOrder = MovieOrder(),
        search: str = "",
        prior: ScorePrior = NO_PRIOR,
    ) -> Sequence[Movie]:
        return sorted_movies(self._found(search), order, prior)[offset : offset + limit]

    def catalogue(self) -> RatingSummary:
        every = RatingSummary()
        for movie in self._s.movies.values():
            summary = movie.ratings
            every = every.moved(SummaryDelta(summary.count, summary.total, summary.histogram))
        return every

    def count(self, *, search: str = "") -> int:
        return len(self._found(search))

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
        page = self.page(limit, offset, order=order, search=search, prior=prior)
        return [(m, self._stars_of(user_id, m.id)) for m in page]

    def get_rated_by(self, movie_id: int, user_id: int) -> tuple[Movie, Stars | None] | None:
        movie = self._s.movies.get(movie_id)
        return None if movie is None else (movie, self._stars_of(user_id, movie_id))

    def _stars_of(self, user_id: int, movie_id: int) -> Stars | None:
        found = [r.stars for r in self._s.ratings.values() if (r.user_id, r.movie_id) == (user_id, movie_id)]
        return found[0] if found else None

    def _found(self, search: str) -> list[Movie]:
        return [m for m in self.list() if search.lower() in m.title.lower()]

    def add(self, fields: MovieFields) -> Movie:
        movie = Movie(self._s.next_id("movie"), *fields.new_movie())
        self._s.movies[movie.id] = movie
        return movie

    def add_many(self, movies: Sequence[MovieFields]) -> Sequence[int]:
        return [self.add(fields).id for fields in movies]

    def update(self, movie_id: int, fields: MovieFields) -> None:
        self._s.movies[movie_id] = attrs.evolve(self._s.movies[movie_id], **fields.changes())

    def delete(self, movie_id: int) -> None:
        assert not any(r.movie_id == movie_id for r in self._s.ratings.values()), "FK: ratings"
        del self._s.movies[movie_id]

    def adjust_ratings(self, movie_id: int, delta: SummaryDelta) -> None:
        old = self._s.movies[movie_id]
        summary = old.ratings.moved(delta)  # refuses a histogram that disagrees, as storage must not have one
        self._s.movies[movie_id] = Movie(old.id, old.title, old.description, old.image_path, summary)

    def adjust_ratings_many(self, deltas: Mapping[int, SummaryDelta]) -> None:
        assert len(deltas) <= 500, "the port allows at most 500 movies a call"
        for movie_id, delta in deltas.items():
            self.adjust_ratings(movie_id, delta)


def sorted_movies(movies: Iterable[Movie], order: MovieOrder, prior: ScorePrior = NO_PRIOR) -> list[Movie]:
    """``movies`` in ``order``, ties by id in the same direction: what the port promises, in Python
    (titles compared by code point, as SQLite's default collation does)."""

    def key(movie: Movie) -> str | int | float:
        by = order.by
        if by is MovieSort.TITLE:
            return movie.title
        if by is MovieSort.RATINGS:
            return movie.ratings.count
        if by is MovieSort.SCORE:
            return movie.ratings.score(prior)
        return movie.ratings.average if by is MovieSort.AVERAGE else movie.id

    return sorted(movies, key=lambda movie: (key(movie), movie.id), reverse=order.descending)


class FakeRatings:
    def __init__(self, state: _State) -> None:
        self._s = state

    def get(self, rating_id: int, *, for_update: bool = False) -> Rating | None:
        return self._s.ratings.get(rating_id)

    def find(self, user_id: int, movie_id: int, *, for_update: bool = False) -> Rating | None:
        return self._of(user_id, movie_id)

    def _of(self, user_id: int, movie_id: int) -> Rating | None:
        return next(
            (r for r in self._s.ratings.values() if (r.user_id, r.movie_id) == (user_id, movie_id)),
            None,
        )

    def list(
        self, *, movie_id: int | None = None, user_id: int | None = None, for_update: bool = False
    ) -> Sequence[Rating]:
        found = [
            r
            for _, r in sorted(self._s.ratings.items())
            if (movie_id is None or r.movie_id == movie_id) and (user_id is None or r.user_id == user_id)
        ]
        if user_id is not None:  # as the port says: a user's by movie
            found.sort(key=lambda r: r.movie_id)
        return found

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
        found = self._since(movie_id, user_id, since)
        if after is not None:  # as the port says: past the key, in the list's order
            found = [r for r in found if self._key(r, user_id, since) > after]
        return found[offset : offset + limit]

    def count(
        self, *, movie_id: int | None = None, user_id: int | None = None, since: datetime | None = None
    ) -> int:
        return len(self._since(movie_id, user_id, since))

    @staticmethod
    def _key(rating: Rating, user_id: int | None, since: datetime | None) -> tuple[int, ...]:
        if since is not None:  # (changed in microseconds since the epoch, id)
            assert rating.changed is not None
            return (
                (rating.changed - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1),
                rating.id,
            )
        return (rating.movie_id,) if user_id is not None else (rating.id,)

    def _since(self, movie_id: int | None, user_id: int | None, since: datetime | None) -> list[Rating]:
        found = self.list(movie_id=movie_id, user_id=user_id)
        if since is None:
            return list(found)
        # as the port says: changed at or after, never without times; by changed, then id
        timed = [r for r in found if r.changed is not None and r.changed >= since]
        return sorted(timed, key=lambda r: (r.changed, r.id))

    def find_locking_movie(
        self, user_id: int, movie_id: int, *, fresh: bool = False
    ) -> tuple[bool, Rating | None]:
        return movie_id in self._s.movies, self._of(user_id, movie_id)

    def add(
        self,
        user_id: int,
        movie_id: int,
        stars: Stars,
        *,
        at: datetime | None = None,
        summary_delta: SummaryDelta | None = None,
    ) -> Rating:
        if user_id not in self._s.users or movie_id not in self._s.movies:
            raise ReferenceGone(f"{user_id}/{movie_id}")  # deleted meanwhile, as the port says
        if self._of(user_id, movie_id):
            raise DuplicateRating(f"{user_id}/{movie_id}")  # a lost race, as the port says
        rating = Rating(self._s.next_id("rating"), user_id, movie_id, stars, at, at)
        self._s.ratings[rating.id] = rating
        if summary_delta is not None:
            FakeMovies(self._s).adjust_ratings(movie_id, summary_delta)
        return rating

    def rated(self, pairs: Collection[tuple[int, int]]) -> set[tuple[int, int]]:
        assert len(pairs) <= 500, "the port allows at most 500 pairs a call"
        return {(r.user_id, r.movie_id) for r in self._s.ratings.values()} & set(pairs)

    def export_page(self, *, user_id: int | None, after: int, limit: int) -> Sequence[ExportedRating]:
        rows = [
            ExportedRating(
                r.id,
                r.user_id,
                self._s.users[r.user_id][0].username,
                r.movie_id,
                self._s.movies[r.movie_id].title,
                r.stars,
            )
            for r in self.list(user_id=user_id)
            if (r.movie_id if user_id is not None else r.id) > after
        ]
        return rows[:limit]

    def add_many(self, ratings: Sequence[tuple[int, int, Stars]]) -> Sequence[int]:
        try:
            return [self.add(user_id, movie_id, stars).id for user_id, movie_id, stars in ratings]
        except ReferenceGone as exc:  # the port: one error for a batch that cannot be stored
            raise DuplicateRating(str(exc)) from exc

    def change_stars(
        self, rating: Rating, stars: Stars, *, at: datetime, summary_delta: SummaryDelta
    ) -> bool:
        stored = self._s.ratings.get(rating.id)
        if stored is None or stored.stars != rating.stars:
            return False  # a lost race, as the port says
        self._s.ratings[rating.id] = attrs.evolve(stored, stars=stars, changed=at)
        FakeMovies(self._s).adjust_ratings(stored.movie_id, summary_delta)
        return True

    def delete(self, rating_id: int) -> None:
        del self._s.ratings[rating_id]


class FakeTokens:
    def __init__(self, state: _State) -> None:
        self._s = state

    def add(self, digest: str, user_id: int, created_at: datetime) -> None:
        if user_id not in self._s.users:
            raise ReferenceGone(f"user {user_id}")  # deleted meanwhile, as the port says
        self.add_many([(digest, user_id, created_at)], last_used=created_at)

    def add_many(self, tokens: Sequence[tuple[str, int, datetime]], *, last_used: datetime) -> None:
        for digest, user_id, _created_at in tokens:
            if digest in self._s.tokens:
                raise AlreadyStored(digest)
            assert user_id in self._s.users, "FK"
            self._s.tokens[digest] = (user_id, _to_the_second(last_used))

    def user_for(self, digest: str) -> tuple[User, datetime | None] | None:
        return self._holder(digest)

    def user_for_and_movie(
        self, digest: str, movie_id: int
    ) -> tuple[tuple[User, datetime | None] | None, Movie | None]:
        return self._holder(digest), self._s.movies.get(movie_id)  # one call, as storage's

    def _holder(self, digest: str) -> tuple[User, datetime | None] | None:
        found = self._s.tokens.get(digest)
        return (self._s.users[found[0]][0], found[1]) if found else None

    def touch(self, digest: str, used_at: datetime) -> None:
        if digest in self._s.tokens:
            self._s.tokens[digest] = (self._s.tokens[digest][0], _to_the_second(used_at))

    def delete(self, digest: str) -> None:
        self._s.tokens.pop(digest, None)

    def delete_for_user(self, user_id: int, *, keep: str | None = None) -> None:
        for digest in [d for d, (uid, _) in self._s.tokens.items() if uid == user_id and d != keep]:
            del self._s.tokens[digest]


def _to_the_second(moment: datetime) -> datetime:
    """Tokens' last use is kept in whole seconds, as the SQL adapter keeps it."""
    return datetime.fromtimestamp(int(moment.timestamp()), UTC)


class FakeGrants:
    def __init__(self, state: _State) -> None:
        self._s = state

    def lock_user(self, user_id: int) -> bool:
        return user_id in self._s.users  # the fake database runs one transaction at a time

    def granted_after(self, user_id: int, start: datetime) -> Sequence[datetime]:
        return sorted(at for uid, _, at in self._s.grants if uid == user_id and at > start)

    def add(self, user_id: int, object_name: str, granted_at: datetime) -> None:
        if user_id not in self._s.users:
            raise ReferenceGone(f"user {user_id}")  # deleted meanwhile, as the port says
        self._s.grants.append((user_id, object_name, granted_at))

    def forget_until(self, user_id: int, end: datetime) -> None:
        self._s.grants = [g for g in self._s.grants if not (g[0] == user_id and g[2] <= end)]

    def delete_for_user(self, user_id: int) -> None:
        self._s.grants = [g for g in self._s.grants if g[0] != user_id]


class FakeImages:
    def __init__(self, state: _State) -> None:
        self._s = state

    def is_verified(self, name: str) -> bool:
        return name in self._s.verified

    def mark_verified(self, name: str, verified_at: datetime) -> None:
        self._s.verified.add(name)

    def forget(self, name: str) -> None:
        self._s.verified.discard(name)

    def is_rejected(self, name: str) -> bool:
        return name in self._s.rejected

    def mark_rejected(self, name: str, rejected_at: datetime) -> None:
        self._s.rejected.add(name)

    def referenced_image_paths(self) -> Sequence[str]:
        return [m.image_path for m in self._s.movies.values() if m.image_path]


class FakeAttempts:
    def __init__(self, state: _State) -> None:
        self._s = state

    def lock(self, key: str) -> None:
        pass  # the fake database runs one transaction at a time

    def since(self, key: str, start: datetime) -> Sequence[datetime]:
        return sorted(at for k, at in self._s.attempts.values() if k == key and at > start)

    def add(self, key: str, at: datetime) -> int:
        attempt_id = self._s.next_id("attempt")
        self._s.attempts[attempt_id] = (key, at)
        return attempt_id

    def remove(self, attempt_ids: Collection[int]) -> None:
        for attempt_id in attempt_ids:
            self._s.attempts.pop(attempt_id, None)

    def forget_until(self, key: str, end: datetime) -> None:
        for attempt_id, (k, at) in list(self._s.attempts.items()):
            if k == key and at <= end:
                del self._s.attempts[attempt_id]


class FakeImportRecords:
    def __init__(self, state: _State) -> None:
        self._s = state

    def find(self, kind: str, legacy_ids: Sequence[str]) -> dict[str, ImportRecord]:
        assert len(legacy_ids) <= 500, "the port allows at most 500 ids a call"
        return {i: self._s.imports[kind, i] for i in legacy_ids if (kind, i) in self._s.imports}

    def add(self, kind: str, records: Sequence[tuple[str, ImportRecord]], at: datetime) -> None:
        for legacy_id, record in records:
            if (kind, legacy_id) in self._s.imports:
                raise AlreadyStored(f"{kind} {legacy_id}")
            self._s.imports[kind, legacy_id] = record


class FakeRepositories:
    def __init__(self, state: _State) -> None:
        self.users = FakeUsers(state)
        self.movies = FakeMovies(state)
        self.ratings = FakeRatings(state)
        self.tokens = FakeTokens(state)
        self.grants = FakeGrants(state)
        self.images = FakeImages(state)
        self.attempts = FakeAttempts(state)
        self.imports = FakeImportRecords(state)


class InMemoryDatabase:
    """A unit of work over dicts: a writing block that raises leaves no trace."""

    def __init__(self) -> None:
        self.state = _State()
        self.commits = 0
        self.down: str | None = None  # set: ping raises ServiceUnavailable with this detail

    def ping(self) -> None:
        if self.down:
            raise ServiceUnavailable(self.down)

    @contextmanager
    def reading(self) -> Iterator[ReadRepositories]:
        yield ReadOnlyRepositories(FakeRepositories(copy.deepcopy(self.state)))

    @contextmanager
    def writing(self) -> Iterator[FakeRepositories]:
        draft = copy.deepcopy(self.state)
        yield FakeRepositories(draft)
        self.state = draft
        self.commits += 1

    def one_statement(self) -> None:
        return None  # the general path: what the one statement does is the SQL adapter's


class FakeHasher:
    """Reversible 'hashing' that is fast; counts verifications to test timing equality.

    ``while_verifying`` and ``while_hashing``: work that other requests do while this
    one hashes (each call runs and removes the first), to interleave use cases in tests."""

    def __init__(self) -> None:
        self.verifications = 0
        self.while_verifying: list[Callable[[], object]] = []
        self.while_hashing: list[Callable[[], object]] = []

    def hash(self, password: str) -> str:
        if self.while_hashing:
            self.while_hashing.pop(0)()
        return "fake$" + password

    def verify(self, password_hash: str, password: str) -> bool:
        self.verifications += 1
        if self.while_verifying:
            self.while_verifying.pop(0)()
        return password_hash in ("fake$" + password, "old$" + password)

    def needs_rehash(self, password_hash: str) -> bool:
        return not password_hash.startswith("fake$")

    def recognises(self, password_hash: str) -> bool:
        return password_hash.startswith(("fake$", "old$", "!"))

    # "old$<password>": a legacy format that verifies but needs a rehash, as Django's do.


class CountingTokenIssuer:
    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def new_key(self) -> str:
        return f"{next(self._counter):040x}"

    def digest(self, key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()


class FixedClock:
    def __init__(self) -> None:
        self.current = datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


class FakeStorage:
    """Objects in a dict; 'uploading' is putting bytes in it directly."""

    BASE = "https://posters.example/media/movies/"

    def __init__(self, clock: FixedClock) -> None:
        self.objects: dict[str, tuple[bytes, datetime]] = {}
        self.tickets: list[tuple[str, dict[str, object]]] = []
        self.in_use: set[str] = set()
        self._clock = clock
        self.down: str | None = None  # set: check raises ServiceUnavailable with this detail

    def check(self) -> None:
        if self.down:
            raise ServiceUnavailable(self.down, retry_after=30)

    def presign_upload(
        self, name: str, *, content_type: str, size: int | None, sha256: str | None, expires_in: int
    ) -> UploadTicket:
        self.tickets.append(
            (name, {"content_type": content_type, "size": size, "sha256": sha256, "expires_in": expires_in})
        )
        return UploadTicket(
            url=f"https://upload.example/{name}",
            method="PUT",
            headers={"Content-Type": content_type},
            fields={},
        )

    def put(self, name: str, data: bytes) -> None:
        self.objects[name] = (data, self._clock.now())

    def key(self, name: str) -> str:
        return "media/movies/" + name

    def public_url(self, name: str) -> str:
        return self.BASE + name

    def object_bases(self) -> Sequence[str]:
        return [self.BASE]

    def exists(self, name: str) -> bool:
        return name in self.objects

    def read_head(self, name: str, limit: int) -> bytes | None:
        found = self.objects.get(name)
        return found[0][:limit] if found else None

    def delete(self, name: str) -> None:
        self.objects.pop(name, None)

    def mark_in_use(self, name: str) -> None:
        self.in_use.add(name)

    def list_objects(self) -> Iterable[StoredObject]:
        return [StoredObject(name, modified) for name, (_, modified) in self.objects.items()]


class FakeInspector:
    """Understands one made-up header: b"IMG:<FORMAT>:<width>x<height>"."""

    def inspect(self, head: bytes) -> ImageInfo | None:
        if not head.startswith(b"IMG:"):
            return None
        try:
            fmt, dims = head[4:].split(b":", 1)
            width, height = dims.split(b"x", 1)
            return ImageInfo(fmt.decode(), int(width), int(height.split(b"\n")[0]))
        except ValueError:
            return None


@dataclass
class App:
    """The core wired to fakes: what a unit test drives."""

    db: InMemoryDatabase
    hasher: FakeHasher
    accounts: Accounts
    user_admin: UserAdmin
    movies: Movies
    ratings: Ratings
    uploads: Uploads
    storage: FakeStorage
    clock: FixedClock
    token_check: TokenCheck


def make_app(db: InMemoryDatabase | None = None) -> App:
    db = db or InMemoryDatabase()
    hasher, clock, issuer = FakeHasher(), FixedClock(), CountingTokenIssuer()
    storage = FakeStorage(clock)
    uploads = Uploads(db, storage, FakeInspector(), clock, UploadSettings())
    check = TokenCheck(db, issuer, clock, AccountSettings())
    return App(
        db=db,
        hasher=hasher,
        accounts=Accounts(db, hasher, issuer, clock, AccountSettings()),
        user_admin=UserAdmin(db, hasher),
        # the catalogue's mean read afresh each time (a test of the cache makes its own)
        movies=Movies(db, uploads, clock, check, scores=ScoreSettings(mean_max_age=0)),
        ratings=Ratings(db, clock, check),
        uploads=uploads,
        storage=storage,
        clock=clock,
        token_check=check,
    )
