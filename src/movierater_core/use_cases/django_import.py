"""Import from the Django original's database: users, movies, ratings, login tokens.

Each row is validated with the rules the API applies (:mod:`movierater_core.rules`) and
written through the repositories, in batches of one transaction each: a few set-based
queries and one bulk insert a batch, not round trips per row. Provenance (kind,
legacy id -> our id, fingerprint of the source row) is recorded with every imported row,
which makes a run repeatable:

- a row imported before is never written again. If its values in the source changed
  since, it is reported as *changed* and left as it is here (it may have changed here
  too: a password re-hashed at login, a movie edited by an admin);
- a row deleted here after its import (a rating taken back, a token logged out) stays
  deleted;
- a rejected row is not recorded, so every run reports it again until it is fixed.

Passwords stay Django's hashes until the user's first login re-hashes them. Tokens are
stored as digests only, with their idle time counted from the import.

Two imports at the same time: a batch that finds its rows stored meanwhile by the other
(a unique key taken) is rolled back and the run stops with :class:`ImportCollision`;
what earlier batches imported stays, and a second run goes on from there.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from functools import partial
from typing import TypeVar

from attrs import define

from movierater_core.errors import (
    AlreadyStored,
    DuplicateRating,
    ImportCollision,
    UsernameTaken,
    ValidationError,
)
from movierater_core.model import MovieFields, Stars, SummaryDelta
from movierater_core.ports import (
    Clock,
    Database,
    ImportRecord,
    NewUser,
    PasswordHasher,
    Repositories,
    TokenIssuer,
)
from movierater_core.ports_legacy import LegacyMovie, LegacyRating, LegacySource, LegacyToken, LegacyUser
from movierater_core.rules import USERNAME_TAKEN, Invalid, is_token_key, parse_stars, parse_username
from movierater_core.use_cases._common import retrying
from movierater_core.use_cases.import_report import Problem, Tally, describe
from movierater_core.use_cases.imports import batches
from movierater_core.use_cases.movies import parse_movie

Row = TypeVar("Row")

KINDS = ("users", "movies", "ratings", "tokens")
CHANGED = "changed in the source since it was imported; left as it is here"
# Inactive Django users keep their hash behind this mark: no password matches it (as Django
# refused them), and removing the mark re-enables the old password.
DISABLED = "!"


def fingerprint(*values: object) -> str:
    return hashlib.sha256(repr(values).encode()).hexdigest()


@define
class DjangoImportReport:
    tallies: dict[str, Tally]

    @property
    def complete(self) -> bool:
        return all(tally.complete for tally in self.tallies.values())


class DjangoImport:
    def __init__(self, db: Database, hasher: PasswordHasher, tokens: TokenIssuer, clock: Clock) -> None:
        self._db = db
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._inactive: set[str] = set()  # legacy ids of inactive users: their tokens stay behind

    def run(
        self, source: LegacySource, progress: Callable[[int], None] = lambda _n: None
    ) -> DjangoImportReport:
        report = DjangoImportReport({kind: Tally() for kind in KINDS})
        self._inactive = set()
        self._batched(source.users(), self._users, report.tallies["users"], progress)
        self._batched(source.movies(), self._movies, report.tallies["movies"], progress)
        self._batched(source.ratings(), self._ratings, report.tallies["ratings"], progress)
        self._batched(source.tokens(), self._tokens_batch, report.tallies["tokens"], progress)
        return report

    def _batched(
        self,
        rows: Iterable[Row],
        step: Callable[[Repositories, Sequence[Row], Tally], None],
        tally: Tally,
        progress: Callable[[int], None],
    ) -> None:
        for batch in batches(rows):
            tally.merge(retrying(partial(self._one_transaction, step, batch)))
            progress(len(batch))

    def _one_transaction(
        self, step: Callable[[Repositories, Sequence[Row], Tally], None], batch: Sequence[Row]
    ) -> Tally:
        tally = Tally()  # afresh for every attempt: a retried batch counts once
        try:
            with self._db.writing() as repos:
                step(repos, batch, tally)
        except (AlreadyStored, UsernameTaken, DuplicateRating) as exc:
            # Checked inside this transaction, stored meanwhile by another one: rolled back.
            raise ImportCollision(ImportCollision.message) from exc
        return tally

    @staticmethod
    def _seen(tally: Tally, where: str, record: ImportRecord, current: str) -> None:
        if record.fingerprint == current:
            tally.already += 1
        else:
            tally.changed.append(Problem(where, CHANGED))

    # ---- one batch of each kind, inside one transaction ----------------------------------
    # Set-based: a few queries a batch whatever its size (what was imported, which ids
    # still exist, which usernames or (user, movie) pairs are taken), every row still
    # checked one by one with the core's rules, then one bulk insert of what passed.

    def _users(self, repos: Repositories, batch: Sequence[LegacyUser], tally: Tally) -> None:
        done = repos.imports.find("user", [row.legacy_id for row in batch])
        parsed: dict[str, str | Invalid] = {}
        for row in batch:
            if row.legacy_id not in done:
                try:
                    parsed[row.legacy_id] = parse_username(row.username)
                except Invalid as exc:
                    parsed[row.legacy_id] = exc
        taken = repos.users.taken(sorted({u for u in parsed.values() if isinstance(u, str)}))
        legacy: list[tuple[str, str]] = []  # (legacy id, fingerprint) of each user added
        new: list[NewUser] = []
        for row in batch:
            where = f"user {row.legacy_id}"
            if not row.is_active:
                self._inactive.add(row.legacy_id)
            current = fingerprint(
                row.username, row.password_hash, row.date_joined, row.is_admin, row.is_active
            )
            if row.legacy_id in done:
                self._seen(tally, where, done[row.legacy_id], current)
                continue
            username = parsed[row.legacy_id]
            if isinstance(username, Invalid):
                tally.rejected.append(Problem(where, f"username: {' '.join(username.messages)}"))
                continue
            if not self._hasher.recognises(row.password_hash):
                scheme = row.password_hash.split("$", 1)[0][:30] or "(empty)"
                tally.rejected.append(Problem(where, f"password: hash format {scheme!r} is not supported"))
                continue
            if username in taken:  # someone else's account here, or a row before this one's
                tally.rejected.append(Problem(where, f"username: {USERNAME_TAKEN}"))
                continue
            taken.add(username)
            password_hash = row.password_hash if row.is_active else DISABLED + row.password_hash
            new.append(NewUser(username, password_hash, row.is_admin, row.date_joined))
            legacy.append((row.legacy_id, current))
        ids = repos.users.add_many(new) if new else []
        self._record(repos, "user", legacy, ids, tally)

    def _movies(self, repos: Repositories, batch: Sequence[LegacyMovie], tally: Tally) -> None:
        done = repos.imports.find("movie", [row.legacy_id for row in batch])
        legacy: list[tuple[str, str]] = []
        new: list[MovieFields] = []
        for row in batch:
            where = f"movie {row.legacy_id}"
            current = fingerprint(row.title, row.description, row.image_path)
            if row.legacy_id in done:
                self._seen(tally, where, done[row.legacy_id], current)
                continue
            data = {"title": row.title, "description": row.description, "imagePath": row.image_path}
            try:
                fields = parse_movie(data, partial=False)
            except ValidationError as exc:
                tally.rejected.append(Problem(where, describe(exc)))
                continue
            new.append(fields)
            legacy.append((row.legacy_id, current))
        ids = repos.movies.add_many(new) if new else []
        self._record(repos, "movie", legacy, ids, tally)

    def _ratings(self, repos: Repositories, batch: Sequence[LegacyRating], tally: Tally) -> None:
        done = repos.imports.find("rating", [row.legacy_id for row in batch])
        users = _alive(repos, "user", {row.user_legacy_id for row in batch}, repos.users.existing)
        movies = _alive(repos, "movie", {row.movie_legacy_id for row in batch}, repos.movies.existing)
        pairs = {
            (users[row.user_legacy_id], movies[row.movie_legacy_id])
            for row in batch
            if row.legacy_id not in done and row.user_legacy_id in users and row.movie_legacy_id in movies
        }
        rated = repos.ratings.rated(pairs) if pairs else set()
        legacy: list[tuple[str, str]] = []
        new: list[tuple[int, int, Stars]] = []
        deltas: dict[int, SummaryDelta] = {}  # movie -> its summary's change: one per movie
        for row in batch:
            where = f"rating {row.legacy_id}"
            current = fingerprint(row.user_legacy_id, row.movie_legacy_id, row.stars)
            if row.legacy_id in done:
                self._seen(tally, where, done[row.legacy_id], current)
                continue
            try:
                stars = parse_stars(row.stars)
            except Invalid as exc:
                tally.rejected.append(Problem(where, f"stars: {' '.join(exc.messages)}"))
                continue
            user_id, movie_id = users.get(row.user_legacy_id), movies.get(row.movie_legacy_id)
            if user_id is None or movie_id is None:
                missing = f"user {row.user_legacy_id}" if user_id is None else f"movie {row.movie_legacy_id}"
                tally.rejected.append(Problem(where, f"its {missing} is not here (rejected or deleted)"))
                continue
            if (user_id, movie_id) in rated:  # here already, or a row before this one's
                tally.rejected.append(Problem(where, "the user has rated this movie here already; kept that"))
                continue
            rated.add((user_id, movie_id))
            new.append((user_id, movie_id, stars))
            deltas[movie_id] = deltas.get(movie_id, SummaryDelta()) + SummaryDelta.added(stars)
            legacy.append((row.legacy_id, current))
        ids = repos.ratings.add_many(new) if new else []
        if deltas:
            repos.movies.adjust_ratings_many(deltas)
        self._record(repos, "rating", legacy, ids, tally)

    def _tokens_batch(self, repos: Repositories, batch: Sequence[LegacyToken], tally: Tally) -> None:
        digests = [self._tokens.digest(row.key) for row in batch]
        done = repos.imports.find("token", digests)  # by digest: the key is stored nowhere
        users = _alive(repos, "user", {row.user_legacy_id for row in batch}, repos.users.existing)
        new: list[tuple[str, int, datetime]] = []
        records: list[tuple[str, ImportRecord]] = []
        now = self._clock.now()
        for row, digest in zip(batch, digests, strict=True):
            where = f"token of user {row.user_legacy_id}"  # never the key itself in a report
            current = fingerprint(row.user_legacy_id, row.created)
            if digest in done:
                self._seen(tally, where, done[digest], current)
                continue
            if not is_token_key(row.key):
                tally.rejected.append(Problem(where, "the key is not one this service accepts"))
                continue
            if row.user_legacy_id in self._inactive:
                tally.rejected.append(Problem(where, "its user is inactive in Django"))
                continue
            user_id = users.get(row.user_legacy_id)
            if user_id is None:
                tally.rejected.append(Problem(where, f"its user {row.user_legacy_id} is not here"))
                continue
            new.append((digest, user_id, row.created))
            records.append((digest, ImportRecord(user_id, current)))
        if new:  # idle expiry counts from the import, not from creation
            repos.tokens.add_many(new, last_used=now)
            repos.imports.add("token", records, now)
        tally.added += len(new)

    def _record(
        self,
        repos: Repositories,
        kind: str,
        legacy: Sequence[tuple[str, str]],
        ids: Sequence[int],
        tally: Tally,
    ) -> None:
        """Provenance of the rows just added: legacy id -> our id, with the fingerprint."""
        records = [
            (legacy_id, ImportRecord(our_id, current))
            for (legacy_id, current), our_id in zip(legacy, ids, strict=True)
        ]
        if records:
            repos.imports.add(kind, records, self._clock.now())
        tally.added += len(records)


def _alive(
    repos: Repositories, kind: str, legacy_ids: set[str], existing: Callable[[Collection[int]], set[int]]
) -> dict[str, int]:
    """Our ids of those imported rows of ``kind`` that still exist here (two queries)."""
    records = repos.imports.find(kind, sorted(legacy_ids))
    present = existing(sorted({record.our_id for record in records.values()})) if records else set()
    return {legacy: record.our_id for legacy, record in records.items() if record.our_id in present}
