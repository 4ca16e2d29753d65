"""Who may do what: every route and method, as each of four actors.

One table, one test per cell: anonymous, ``user`` (the owner of the targets where that
matters), ``other_user`` and ``admin`` against every route of the API. Each case gets
fresh targets (a movie, the owner's rating of it, and fresh users where the case acts on
users or tokens) and snapshots every row of the database before and after the request:

- a refused request (401, 403, 404, 405) must change nothing at all, in any column;
- a read (GET) must change nothing either;
- an allowed write must change exactly the rows it is about, and nothing else.

The admin and two users per server are cached (as the ``world`` fixture does) so that
argon2 hashing stays off the critical path; cases that change or delete users, or revoke
tokens, sign up users of their own.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pytest
import requests
from movierater_adapters.sql.tables import (
    images,
    movies,
    ratings,
    rejected_images,
    tokens,
    upload_grants,
    users,
)
from sqlalchemy import select

from movierater_core.model import RatingSummary, ScorePrior
from movierater_core.use_cases.movies import DEFAULT_PRIOR_WEIGHT
from tests.integration.conftest import (
    ADMIN_PASSWORD,
    USER_PASSWORD,
    Client,
    Server,
    make_admin,
    sign_up,
)

NO_CREDENTIALS = {"detail": "Authentication credentials were not provided."}
FORBIDDEN = {"detail": "You do not have permission to perform this action."}
NOT_FOUND = {"detail": "Not found."}
NEW_PASSWORD = "renamed-passphrase-2"
UPLOAD_REQUEST = {"filename": "a.png", "contentType": "image/png", "fileSize": 100}
OWNER_STARS = 5

ANON, USER, OTHER, ADMIN = "anonymous", "user", "other_user", "admin"
ACTORS = (ANON, USER, OTHER, ADMIN)

# Every table, keyed by its primary key: a snapshot holds every column of every row.
TABLES = {
    "users": (users, "id"),
    "movies": (movies, "id"),
    "ratings": (ratings, "id"),
    "tokens": (tokens, "digest"),
    "upload_grants": (upload_grants, "id"),
    "images": (images, "name"),
    "rejected_images": (rejected_images, "name"),
}

_names = itertools.count()


def fresh_name(kind: str = "authz") -> str:
    return f"{kind}{next(_names)}-{uuid.uuid4().hex[:8]}"


# ---- the matrix ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # a template: {owner}, {movie}, {rating}
    actor: str
    status: int
    variant: str = ""  # "rated": the actor rates the movie before the request; or a header sent

    @property
    def id(self) -> str:
        who = f"{self.actor} ({self.variant})" if self.variant else self.actor
        return f"{self.method} {self.path} as {who} -> {self.status}"


def row(
    method: str, path: str, anonymous: int, user: int, other_user: int, admin: int, variant: str = ""
) -> list[Case]:
    statuses = {ANON: anonymous, USER: user, OTHER: other_user, ADMIN: admin}
    return [Case(method, path, actor, statuses[actor], variant) for actor in ACTORS]


# Conditional requests (issue 17 item 5): the header each of these variants sends.
CHANGES = ("PUT", "PATCH", "DELETE")
CACHED = "If-None-Match: *"  # the client has a copy: 304 for whoever may read
STALE = 'If-Match: "stale"'  # a tag that is not the movie's: 412 for whoever may write
CURRENT = "If-Match: <the movie's ETag>"  # the change is made as without the header


AUTH = "/auth/"
API = "/api/"
USERS = "/api/users/"
USERS_PAGED = "/api/users/?limit=1000&offset=0"  # paging changes the shape, not who sees whom
OWNER = "/api/users/{owner}/"
# The admin portal's queries (issue 16): found by name, each with their role.
USERS_ROLES = "/api/users/?search=AUTHZ&include=is_admin"
PROMOTE = "/api/users/{owner}/promote/"
DEMOTE = "/api/users/{owner}/demote/"
ME = "/api/users/me/"  # whoever asks (issue 17)
MY_EXPORT = "/api/users/me/export/"  # each caller's own ratings as a file (issue 17)
MY_EXPORT_CSV = "/api/users/me/export/?format=csv"
MOVIES = "/api/movies/"
MOVIE = "/api/movies/{movie}/"
MOVIES_MINE = "/api/movies/?include=my_rating"  # each caller's own stars (issue 17)
MOVIE_MINE = "/api/movies/{movie}/?include=my_rating"
RATE = "/api/movies/{movie}/rate_movie/"
RATINGS = "/api/ratings/"
MY_RATINGS = "/api/ratings/?user=me"
RATINGS_SINCE = "/api/ratings/?since=2000-01-01T00:00:00Z"  # incremental sync (issue 17 item 3)
RATINGS_BY_CURSOR = "/api/ratings/?cursor="  # keyset paging (issue 12): the same rows, forward
MY_RATINGS_BY_CURSOR = "/api/ratings/?user=me&cursor="
MOVIES_BY_SCORE = "/api/movies/?ordering=-score"  # the honest ranking (issue 17 item 4)
RATING = "/api/ratings/{rating}/"
UPLOAD_URL = "/api/movies/get_upload_url/"
HEALTHZ = "/healthz"
READYZ = "/readyz"
ROOT = "/"
DOCS = "/api/docs/"
DOCS_SCRIPT = "/api/docs/static/init.js"  # one of the files WhiteNoise serves, outside Falcon
PORTAL = "/admin/"  # the admin portal's page: public, as its data comes from the API (issue 16)
PORTAL_SCRIPT = "/admin/static/portal.js"

CASES: list[Case] = [
    # the anonymous actor logs in with the owner's credentials
    *row("POST", AUTH, 200, 200, 200, 200),
    *row("DELETE", AUTH, 401, 204, 204, 204),
    *row("GET", API, 401, 200, 200, 200),
    *row("GET", USERS, 401, 200, 200, 200),  # everyone for an admin, themself for the others
    *row("GET", USERS_PAGED, 401, 200, 200, 200),
    *row("POST", USERS, 201, 201, 201, 201),
    *row("GET", OWNER, 401, 200, 403, 200),
    *row("PUT", OWNER, 401, 200, 403, 200),
    *row("PATCH", OWNER, 401, 200, 403, 200),
    *row("DELETE", OWNER, 401, 204, 403, 204),
    *row("GET", ME, 401, 200, 200, 200),  # admin or not, each gets themself
    *row("GET", USERS_ROLES, 401, 200, 200, 200),  # found among everyone by an admin, else themself
    *row("POST", PROMOTE, 401, 403, 403, 200),
    *row("POST", DEMOTE, 401, 403, 403, 200),  # a plain user: nothing changes
    Case("POST", DEMOTE, ADMIN, 200, "promoted"),  # an admin (not the last): a plain user again
    *(
        case
        for path in (PROMOTE, DEMOTE)
        for method in ("GET", "PUT", "PATCH", "DELETE")
        for case in row(method, path, 405, 405, 405, 405)
    ),
    *(case for method in ("POST", "PUT", "PATCH", "DELETE") for case in row(method, ME, 405, 405, 405, 405)),
    *row("GET", MY_EXPORT, 401, 200, 200, 200),  # each their own: the owner's holds the rating
    *row("GET", MY_EXPORT_CSV, 401, 200, 200, 200),
    *(
        case
        for method in ("POST", "PUT", "PATCH", "DELETE")
        for case in row(method, MY_EXPORT, 405, 405, 405, 405)
    ),
    *row("GET", MOVIES, 401, 200, 200, 200),
    *row("POST", MOVIES, 401, 403, 403, 201),
    *row("GET", MOVIE, 401, 200, 200, 200),
    *row("GET", MOVIES_MINE, 401, 200, 200, 200),  # the owner's holds their stars, others' null
    *row("GET", MOVIES_BY_SCORE, 401, 200, 200, 200),
    *row("GET", MOVIE_MINE, 401, 200, 200, 200),
    *row("PUT", MOVIE, 401, 403, 403, 200),
    *row("PATCH", MOVIE, 401, 403, 403, 200),
    *row("DELETE", MOVIE, 401, 403, 403, 204),
    # conditional requests: who may not read or write is refused as without the header
    *(case for path in (MOVIES, MOVIE, MOVIE_MINE) for case in row("GET", path, 401, 304, 304, 304, CACHED)),
    *(case for method in CHANGES for case in row(method, MOVIE, 401, 403, 403, 412, STALE)),
    *row("PUT", MOVIE, 401, 403, 403, 200, CURRENT),
    *row("PATCH", MOVIE, 401, 403, 403, 200, CURRENT),
    *row("DELETE", MOVIE, 401, 403, 403, 204, CURRENT),
    *row("POST", RATE, 401, 200, 200, 200),
    # the owner has rated the movie; the others have not, unless "rated"
    *row("DELETE", RATE, 401, 204, 404, 404),
    Case("DELETE", RATE, OTHER, 204, "rated"),
    Case("DELETE", RATE, ADMIN, 204, "rated"),
    *row("GET", RATINGS, 401, 200, 200, 200),
    *row("GET", MY_RATINGS, 401, 200, 200, 200),  # each their own: the owner's holds the rating
    *row("GET", RATINGS_SINCE, 401, 200, 200, 200),  # everyone's, as the plain list
    *row("GET", RATINGS_BY_CURSOR, 401, 200, 200, 200),  # everyone's, as the plain list
    *row("GET", MY_RATINGS_BY_CURSOR, 401, 200, 200, 200),  # each their own
    *row("GET", RATING, 401, 200, 200, 200),
    *row("DELETE", RATING, 401, 204, 403, 204),  # the owner's rating
    *(
        case
        for path in (RATINGS, RATING)
        for method in ("POST", "PUT", "PATCH")
        for case in row(method, path, 405, 405, 405, 405)
    ),
    *row("POST", UPLOAD_URL, 401, 200, 200, 200),
    # the probes are public, read-only, and ignore a token
    *row("GET", HEALTHZ, 200, 200, 200, 200),
    *row("GET", READYZ, 200, 200, 200, 200),
    *(case for path in (HEALTHZ, READYZ) for case in row("POST", path, 405, 405, 405, 405)),
    # the docs are public too (the root redirects to them: 200 once followed)
    *row("GET", ROOT, 200, 200, 200, 200),
    *row("GET", DOCS, 200, 200, 200, 200),
    *row("GET", DOCS_SCRIPT, 200, 200, 200, 200),
    *(case for path in (ROOT, DOCS) for case in row("POST", path, 405, 405, 405, 405)),
    # so is the admin portal's page: what an admin sees in it comes from the API, as they
    *row("GET", PORTAL, 200, 200, 200, 200),
    *row("GET", PORTAL_SCRIPT, 200, 200, 200, 200),
    *row("POST", PORTAL, 405, 405, 405, 405),
]

# Cases that change or delete users, or revoke tokens, get users of their own.
USER_MUTATING = {
    ("PUT", OWNER),
    ("PATCH", OWNER),
    ("DELETE", OWNER),
    ("DELETE", AUTH),
    ("POST", PROMOTE),
    ("POST", DEMOTE),
}


# ---- actors: a cached cast per server, fresh users where a case needs them ---------------


@dataclass
class Actor:
    client: Client
    username: str
    password: str

    @property
    def id(self) -> int:
        assert self.client.user_id is not None
        return self.client.user_id


def new_user(base_url: str) -> Actor:
    name = fresh_name("authz-user")
    return Actor(sign_up(base_url, name), name, USER_PASSWORD)


def log_in(base_url: str, actor: Actor) -> Actor:
    """The same account with a token of its own (so revoking it harms no other case)."""
    resp = requests.post(
        base_url + "/auth/", json={"username": actor.username, "password": actor.password}, timeout=30
    )
    assert resp.status_code == 200, resp.text
    return Actor(Client(base_url, resp.json()["token"], actor.id), actor.username, actor.password)


@dataclass
class Cast:
    admin: Actor
    user: Actor
    other_user: Actor

    def alive(self) -> bool:
        """Every cached token still works. Called before each case's snapshot, this also
        lets the server record any use of these tokens that is due (tokens.last_used) before
        the snapshot rather than inside the request under test."""
        return all(
            a.client.get(f"/api/users/{a.id}/").status_code == 200
            for a in (self.admin, self.user, self.other_user)
        )


_casts: dict[str, Cast] = {}


def cast_for(server: Server) -> Cast:
    cached = _casts.get(server.base_url)
    if cached is not None and cached.alive():
        return cached
    name = fresh_name("authz-admin")
    admin = Actor(make_admin(server, name), name, ADMIN_PASSWORD)
    _casts[server.base_url] = Cast(admin, new_user(server.base_url), new_user(server.base_url))
    return _casts[server.base_url]


@dataclass
class Stage:
    """One case's world: its actors, a fresh movie and the owner's rating of it."""

    base_url: str
    owner: Actor
    other: Actor
    admin: Actor
    movie: dict[str, Any]
    rating: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)

    def actor(self, name: str) -> Actor | None:
        return {ANON: None, USER: self.owner, OTHER: self.other, ADMIN: self.admin}[name]

    def client(self, name: str) -> Client:
        actor = self.actor(name)
        return Client(self.base_url) if actor is None else actor.client

    def path(self, template: str) -> str:
        return template.format(owner=self.owner.id, movie=self.movie["id"], rating=self.rating["id"])


def set_stage(server: Server, case: Case) -> Stage:
    cast = cast_for(server)
    base = server.base_url
    owner, other, admin = cast.user, cast.other_user, cast.admin
    if (case.method, case.path) in USER_MUTATING:
        if case.path in (OWNER, PROMOTE, DEMOTE) or case.actor == USER:
            owner = new_user(base)  # the target, or the one whose token is revoked
        if case.path == AUTH and case.actor == OTHER:
            other = new_user(base)
        if case.path == AUTH and case.actor == ADMIN:
            admin = log_in(base, admin)  # revoke a token of its own: the cached one survives
    created = admin.client.post(MOVIES, json={"title": "Matrix", "description": "Fresh per case."})
    assert created.status_code == 201, created.text
    movie = created.json()
    rated = owner.client.post(f"/api/movies/{movie['id']}/rate_movie/", json={"stars": OWNER_STARS})
    assert rated.status_code == 200, rated.text
    stage = Stage(base, owner, other, admin, movie, rated.json()["result"])
    if case.variant == "promoted":
        promoted = admin.client.post(f"/api/users/{owner.id}/promote/")
        assert promoted.status_code == 200, promoted.text
    if case.variant == "rated":
        actor = stage.actor(case.actor)
        assert actor is not None
        resp = actor.client.post(stage.path(RATE), json={"stars": 2})
        assert resp.status_code == 200, resp.text
        stage.extra["actor_rating"] = resp.json()["result"]
    return stage


def body_for(case: Case, stage: Stage) -> Any:
    method, path = case.method, case.path
    if (method, path) == ("POST", AUTH):
        creds = stage.actor(case.actor) or stage.owner  # anonymous: the owner's credentials
        return {"username": creds.username, "password": creds.password}
    if (method, path) == ("POST", USERS):
        stage.extra["new_username"] = fresh_name("authz-signup")
        return {"username": stage.extra["new_username"], "password": USER_PASSWORD}
    if (method, path) == ("PUT", OWNER):
        stage.extra["new_username"] = fresh_name("authz-renamed")
        return {"username": stage.extra["new_username"], "password": NEW_PASSWORD}
    if (method, path) == ("PATCH", OWNER):
        stage.extra["new_username"] = fresh_name("authz-renamed")
        return {"username": stage.extra["new_username"]}
    if (method, path) == ("POST", MOVIES):
        return {"title": "Created", "description": "By the matrix."}
    if (method, path) == ("PUT", MOVIE):
        return {"title": "Replaced", "description": "Put."}
    if (method, path) == ("PATCH", MOVIE):
        return {"title": "Patched"}
    if (method, path) == ("POST", RATE):
        return {"stars": 3}
    if (method, path) == ("POST", UPLOAD_URL):
        return UPLOAD_REQUEST
    if path in (RATINGS, RATING):
        return {"stars": 1, "user": stage.owner.id, "movie": stage.movie["id"]}
    return None


# ---- snapshots ----------------------------------------------------------------------------

Snapshot = dict[str, dict[Any, dict[str, Any]]]


def rated_by_owner(state: Snapshot) -> dict[str, Any]:
    """The summary fields of the stage's movie, rated once (OWNER_STARS) by its owner: the
    score with the catalogue's mean in ``state`` (the test servers read it afresh) and the
    default prior weight."""
    count = sum(m["rating_count"] for m in state["movies"].values())
    total = sum(m["rating_sum"] for m in state["movies"].values())
    prior = ScorePrior.of(RatingSummary(count, total, _histogram_of(state)), DEFAULT_PRIOR_WEIGHT)
    one = RatingSummary.of([OWNER_STARS])
    return {
        "no_of_ratings": 1,
        "ave_ratings": OWNER_STARS,
        "score": one.score(prior),
        "histogram": [int(n == OWNER_STARS) for n in range(1, 6)],
    }


def _histogram_of(state: Snapshot) -> tuple[int, ...]:
    return tuple(sum(m[f"star_{n}"] for m in state["movies"].values()) for n in range(1, 6))


def snapshot(engine: Any) -> Snapshot:
    """Every row of every table, every column, keyed by table and primary key."""
    with engine.connect() as conn:
        return {
            name: {r._mapping[pk]: dict(r._mapping) for r in conn.execute(select(table))}
            for name, (table, pk) in TABLES.items()
        }


@dataclass
class Diff:
    added: dict[str, set[Any]]
    removed: dict[str, set[Any]]
    changed: dict[str, set[Any]]

    @classmethod
    def of(cls, before: Snapshot, after: Snapshot) -> Diff:
        added, removed, changed = {}, {}, {}
        for name in TABLES:
            old, new = before[name], after[name]
            added[name] = set(new) - set(old)
            removed[name] = set(old) - set(new)
            changed[name] = {k for k in set(old) & set(new) if old[k] != new[k]}
        return cls(added, removed, changed)

    def summary(self, before: Snapshot, after: Snapshot) -> str:
        lines = []
        for name in TABLES:
            for k in sorted(self.added[name], key=str):
                lines.append(f"{name}: added {after[name][k]}")
            for k in sorted(self.removed[name], key=str):
                lines.append(f"{name}: removed {before[name][k]}")
            for k in sorted(self.changed[name], key=str):
                lines.append(f"{name}: changed {before[name][k]} -> {after[name][k]}")
        return "\n".join(lines) or "(nothing changed)"


class Changes:
    """Asserts that a diff is exactly what a request should have done."""

    def __init__(self, before: Snapshot, after: Snapshot) -> None:
        self.before, self.after = before, after
        self.diff = Diff.of(before, after)

    def expect(
        self,
        *,
        added: dict[str, int] | None = None,
        removed: dict[str, set[Any]] | None = None,
        changed: dict[str, set[Any]] | None = None,
    ) -> None:
        """``added``: how many rows per table; ``removed``/``changed``: which keys."""
        added, removed, changed = added or {}, removed or {}, changed or {}
        got_added = {n: len(k) for n, k in self.diff.added.items() if k}
        got_removed = {n: k for n, k in self.diff.removed.items() if k}
        got_changed = {n: k for n, k in self.diff.changed.items() if k}
        report = self.diff.summary(self.before, self.after)
        assert got_added == added, report
        assert got_removed == removed, report
        assert got_changed == changed, report

    def new_rows(self, table: str) -> list[dict[str, Any]]:
        return [self.after[table][k] for k in self.diff.added[table]]


def digest(key: str | None) -> str:
    assert key is not None
    return hashlib.sha256(key.encode()).hexdigest()


def tokens_of(snap: Snapshot, user_id: int) -> set[str]:
    return {k for k, r in snap["tokens"].items() if r["user_id"] == user_id}


# ---- what an allowed request must do ------------------------------------------------------


def headers_for(case: Case, stage: Stage) -> dict[str, str]:
    if case.variant == CURRENT:
        return {"If-Match": stage.client(ADMIN).get(stage.path(MOVIE)).headers["ETag"]}
    if case.variant in (CACHED, STALE):
        name, value = case.variant.split(": ")
        return {name: value}
    return {}


def check_allowed(case: Case, stage: Stage, resp: requests.Response, changes: Changes) -> None:
    method, path = case.method, case.path
    if case.status == 304:
        changes.expect()
        assert resp.content == b"" and resp.headers["ETag"]
        return
    actor = stage.actor(case.actor)
    movie_id, rating_id = stage.movie["id"], stage.rating["id"]
    is_json = resp.headers.get("Content-Type", "").startswith("application/json")
    body = resp.json() if resp.content and is_json else None

    if method == "GET":
        changes.expect()  # a read changes nothing
        if path == API:
            assert set(body) == {"users", "movies", "ratings"}, body
        elif path == USERS and case.actor == ADMIN:  # every user
            assert {"id": stage.owner.id, "username": stage.owner.username} in body
            assert sorted(u["id"] for u in body) == sorted(changes.before["users"])
        elif path == USERS:  # a user is theirs or an admin's to read: anyone else sees themself
            assert actor is not None
            assert body == [{"id": actor.id, "username": actor.username}]
        elif path == USERS_PAGED and case.actor == ADMIN:
            assert body["count"] == len(changes.before["users"])
            assert sorted(u["id"] for u in body["results"]) == sorted(changes.before["users"])
        elif path == USERS_PAGED:
            assert actor is not None
            assert body == {
                "count": 1,
                "next": None,
                "previous": None,
                "results": [{"id": actor.id, "username": actor.username}],
            }
        elif path == USERS_ROLES:
            found = (
                [r for r in changes.before["users"].values() if "authz" in r["username"]]
                if case.actor == ADMIN
                else [changes.before["users"][actor.id]]
                if actor is not None
                else []
            )
            assert (
                body
                == [
                    {"id": r["id"], "username": r["username"], "is_admin": bool(r["is_admin"])}
                    for r in sorted(found, key=lambda r: r["id"])
                ][:1000]
            )
            owner = {"id": stage.owner.id, "username": stage.owner.username, "is_admin": False}
            assert (owner in body) == (case.actor != OTHER)
            assert any(u["is_admin"] for u in body) == (case.actor == ADMIN)
        elif path == OWNER:
            assert body == {"id": stage.owner.id, "username": stage.owner.username}
        elif path == ME:
            assert actor is not None
            stored = changes.before["users"][actor.id]
            assert body == {
                "id": actor.id,
                "username": actor.username,
                "is_admin": case.actor == ADMIN,
                "date_joined": body["date_joined"],
            }
            assert body["date_joined"].endswith("Z")
            assert datetime.fromisoformat(body["date_joined"]) == stored["date_joined"]
        elif path in (MY_EXPORT, MY_EXPORT_CSV):
            assert actor is not None
            theirs = sorted(
                (r["movie_id"], r["stars"])
                for r in changes.before["ratings"].values()
                if r["user_id"] == actor.id
            )
            titles = {m_id: m["title"] for m_id, m in changes.before["movies"].items()}
            if path == MY_EXPORT_CSV:
                assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
                rows = [
                    (int(r["movie"]), r["title"], int(r["stars"]))
                    for r in csv.DictReader(io.StringIO(resp.text))
                ]
            else:
                rows = [(r["movie"], r["title"], r["stars"]) for r in body]
            assert rows == [(m_id, titles[m_id], stars) for m_id, stars in theirs][:10_000]
            assert ((stage.movie["id"], stage.movie["title"], OWNER_STARS) in rows) == (actor is stage.owner)
        elif path == MOVIES:
            assert stage.movie["id"] in {m["id"] for m in body}
        elif path == MOVIE:
            assert body == {**stage.movie, **rated_by_owner(changes.before)}
        elif path in (MOVIES_MINE, MOVIE_MINE):
            mine = OWNER_STARS if actor is stage.owner else None
            expected = {**stage.movie, **rated_by_owner(changes.before), "my_rating": mine}
            if path == MOVIE_MINE:
                assert body == expected
            else:
                assert expected in body
                theirs = {
                    r["movie_id"]: r["stars"]
                    for r in changes.before["ratings"].values()
                    if actor is not None and r["user_id"] == actor.id
                }
                assert all(m["my_rating"] == theirs.get(m["id"]) for m in body)
        elif path == RATINGS:
            assert stage.rating in body
        elif path == MOVIES_BY_SCORE:  # the honest ranking (issue 17 item 4): whoever may read
            keys = [(m["score"], m["id"]) for m in body]
            assert keys == sorted(keys, reverse=True)
            assert {**stage.movie, **rated_by_owner(changes.before)} in body
        elif path == RATINGS_SINCE:
            assert stage.rating in body
            changed = [(datetime.fromisoformat(r["changed"]), r["id"]) for r in body]
            assert changed == sorted(changed)
        elif path == RATINGS_BY_CURSOR:
            assert body["previous"] is None and "X-Total-Count" not in resp.headers
            assert stage.rating in body["results"]
            ids = [r["id"] for r in body["results"]]
            assert ids == sorted(changes.before["ratings"])[: len(ids)] and len(ids) == min(
                1000, len(changes.before["ratings"])
            )
        elif path == MY_RATINGS_BY_CURSOR:
            assert actor is not None
            theirs = [r for r in changes.before["ratings"].values() if r["user_id"] == actor.id]
            expected = [r["id"] for r in sorted(theirs, key=lambda r: r["movie_id"])][:1000]
            assert [r["id"] for r in body["results"]] == expected
            assert (stage.rating in body["results"]) == (actor is stage.owner)
        elif path == MY_RATINGS:
            assert actor is not None
            theirs = [r for r in changes.before["ratings"].values() if r["user_id"] == actor.id]
            expected = [r["id"] for r in sorted(theirs, key=lambda r: r["movie_id"])][:1000]
            assert [r["id"] for r in body] == expected
            assert {r["user"] for r in body} <= {actor.id}
            assert (stage.rating in body) == (actor is stage.owner)
        elif path == RATING:
            assert body == stage.rating
        elif path == HEALTHZ:
            assert body == {"status": "ok"}
        elif path in (ROOT, DOCS):
            assert [r.status_code for r in resp.history] == ([302] if path == ROOT else [])
            assert resp.url == stage.base_url + DOCS
            assert resp.headers["Content-Type"].startswith("text/html")
            assert "swagger-ui-bundle.js" in resp.text
        elif path == DOCS_SCRIPT:
            assert "SwaggerUIBundle(" in resp.text
        elif path == PORTAL:
            assert resp.headers["Content-Type"].startswith("text/html")
            assert "portal.js" in resp.text
            assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
        elif path == PORTAL_SCRIPT:
            assert "/api/users/me/" in resp.text  # the page asks the API who signed in
        elif path == READYZ:
            assert body == {
                "status": "ok",
                "checks": {"database": {"status": "ok"}, "storage": {"status": "ok"}},
            }
        else:
            raise AssertionError(f"no check for {case.id}")

    elif (method, path) == ("POST", AUTH):
        who = actor or stage.owner
        key = body["token"]
        changes.expect(added={"tokens": 1})
        assert changes.new_rows("tokens")[0]["user_id"] == who.id
        assert changes.new_rows("tokens")[0]["digest"] == digest(key)
        assert Client(stage.base_url, key).get(API).status_code == 200

    elif (method, path) == ("DELETE", AUTH):
        assert actor is not None
        changes.expect(removed={"tokens": {digest(actor.client.token)}})
        assert actor.client.get(API).status_code == 401  # the token used is revoked

    elif (method, path) == ("POST", USERS):
        name = stage.extra["new_username"]
        changes.expect(added={"users": 1})
        new = changes.new_rows("users")[0]
        assert (new["username"], bool(new["is_admin"])) == (name, False)
        assert body == {"id": new["id"], "username": name}

    elif path == OWNER and method in ("PUT", "PATCH"):
        assert actor is not None
        name, owner_id = stage.extra["new_username"], stage.owner.id
        assert body == {"id": owner_id, "username": name}
        old_row, new_row = changes.before["users"][owner_id], changes.after["users"][owner_id]
        assert new_row["username"] == name
        assert new_row["is_admin"] == old_row["is_admin"]
        if method == "PUT" and actor.id != owner_id:  # a password change revokes other tokens
            changes.expect(
                changed={"users": {owner_id}}, removed={"tokens": tokens_of(changes.before, owner_id)}
            )
        else:  # PATCH leaves the password; a user's own PUT keeps the token they used
            changes.expect(changed={"users": {owner_id}})
        password_changed = new_row["password_hash"] != old_row["password_hash"]
        assert password_changed == (method == "PUT")

    elif (method, path) == ("DELETE", OWNER):
        owner_id = stage.owner.id
        changes.expect(
            removed={
                "users": {owner_id},
                "ratings": {rating_id},
                "tokens": tokens_of(changes.before, owner_id),
            },
            changed={"movies": {movie_id}},
        )
        assert changes.after["movies"][movie_id]["rating_count"] == 0

    elif path in (PROMOTE, DEMOTE):
        owner_id = stage.owner.id
        now_admin = path == PROMOTE
        assert body == {"id": owner_id, "username": stage.owner.username, "is_admin": now_admin}
        assert bool(changes.after["users"][owner_id]["is_admin"]) is now_admin
        if path == PROMOTE or case.variant == "promoted":
            changes.expect(changed={"users": {owner_id}})  # the role only: nothing else
            old, new = changes.before["users"][owner_id], changes.after["users"][owner_id]
            assert {k: v for k, v in old.items() if k != "is_admin"} == {
                k: v for k, v in new.items() if k != "is_admin"
            }
        else:
            changes.expect()  # demoting a plain user changes nothing

    elif (method, path) == ("POST", MOVIES):
        changes.expect(added={"movies": 1})
        new = changes.new_rows("movies")[0]
        assert body["id"] == new["id"] and body["title"] == new["title"] == "Created"

    elif path == MOVIE and method in ("PUT", "PATCH"):
        title = "Replaced" if method == "PUT" else "Patched"
        changes.expect(changed={"movies": {movie_id}})
        assert changes.after["movies"][movie_id]["title"] == title
        assert body == {
            **stage.movie,
            **body_for(case, stage),
            **rated_by_owner(changes.after),
        }

    elif (method, path) == ("DELETE", MOVIE):
        changes.expect(removed={"movies": {movie_id}, "ratings": {rating_id}})

    elif (method, path) == ("POST", RATE):
        assert actor is not None
        if actor is stage.owner:  # re-rating: the rating changes, not the count
            assert body["message"] == "Rating updated!"
            changes.expect(changed={"ratings": {rating_id}, "movies": {movie_id}})
            assert changes.after["ratings"][rating_id]["stars"] == 3
        else:
            assert body["message"] == "Rating created!"
            changes.expect(added={"ratings": 1}, changed={"movies": {movie_id}})
            new = changes.new_rows("ratings")[0]
            assert (new["user_id"], new["movie_id"], new["stars"]) == (actor.id, movie_id, 3)
        assert body["result"]["user"] == actor.id and body["result"]["stars"] == 3

    elif (method, path) == ("DELETE", RATE):
        assert actor is not None
        own = stage.extra.get("actor_rating", stage.rating)
        assert own["user"] == actor.id
        changes.expect(removed={"ratings": {own["id"]}}, changed={"movies": {movie_id}})

    elif (method, path) == ("DELETE", RATING):
        changes.expect(removed={"ratings": {rating_id}}, changed={"movies": {movie_id}})
        assert changes.after["movies"][movie_id]["rating_count"] == 0

    elif (method, path) == ("POST", UPLOAD_URL):
        assert actor is not None
        changes.expect(added={"upload_grants": 1})
        assert changes.new_rows("upload_grants")[0]["user_id"] == actor.id
        assert body["upload_url"] and body["deduplicated"] is False

    else:
        raise AssertionError(f"no check for {case.id}")

    if resp.status_code == 204:
        assert resp.content == b""


def check_refused(case: Case, resp: requests.Response, changes: Changes) -> None:
    changes.expect()  # nothing added, removed or changed, in any table
    if case.status == 401:
        assert resp.json() == NO_CREDENTIALS
        assert resp.headers.get("WWW-Authenticate") == "Token"
    elif case.status == 403:
        assert resp.json() == FORBIDDEN
    elif case.status == 404:
        assert resp.json() == NOT_FOUND
    elif case.status == 405:
        assert resp.json() == {"detail": f'Method "{case.method}" not allowed.'}
    elif case.status == 412:
        assert resp.json() == {
            "detail": "The movie has changed since you read it: read it again, then make your change."
        }
    else:
        raise AssertionError(f"unexpected refusal status {case.status}")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_authorization_matrix(server: Server, engine: Any, case: Case) -> None:
    stage = set_stage(server, case)
    client = stage.client(case.actor)
    body = body_for(case, stage)
    headers = headers_for(case, stage)

    before = snapshot(engine)
    resp = client.request(case.method, stage.path(case.path), json=body, headers=headers)
    after = snapshot(engine)

    assert resp.status_code == case.status, f"{case.id}: got {resp.status_code} {resp.text}"
    changes = Changes(before, after)
    if case.status >= 400:
        check_refused(case, resp, changes)
    else:
        check_allowed(case, stage, resp, changes)


# ---- no way up ----------------------------------------------------------------------------

ESCALATION = {"is_admin": True, "is_staff": True, "is_superuser": True, "admin": True, "role": "admin"}


def is_admin_in_db(engine: Any, user_id: int) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(select(users.c.is_admin).where(users.c.id == user_id)).scalar_one())


def test_a_user_cannot_make_themself_admin(server: Server, engine: Any) -> None:
    me = new_user(server.base_url)
    path = f"/api/users/{me.id}/"
    attempts: list[tuple[str, dict[str, Any]]] = [
        ("PATCH", dict(ESCALATION)),
        ("PATCH", {**ESCALATION, "username": fresh_name("authz-escalate")}),
        ("PUT", {**ESCALATION, "username": fresh_name("authz-escalate"), "password": NEW_PASSWORD}),
        ("PUT", {**ESCALATION, "username": fresh_name("authz-escalate"), "password": USER_PASSWORD}),
    ]
    for method, payload in attempts:
        resp = me.client.request(method, path, json=payload)
        assert resp.status_code in (200, 400), (method, payload, resp.text)
        if resp.status_code == 200:
            assert set(resp.json()) == {"id", "username"}, resp.text
            me.username = resp.json()["username"]
            me.password = str(payload.get("password", me.password))
        assert not is_admin_in_db(engine, me.id), (method, payload)

        # neither the token used nor a fresh login may write movies
        fresh = log_in(server.base_url, me)
        for client in (me.client, fresh.client):
            before = snapshot(engine)
            created = client.post(MOVIES, json={"title": "Mine now", "description": "no"})
            assert created.status_code == 403, (method, payload, created.text)
            assert created.json() == FORBIDDEN
            Changes(before, snapshot(engine)).expect()
        assert not is_admin_in_db(engine, me.id), (method, payload)


assert len(CASES) == len({c.id for c in CASES}), "duplicate case ids"
