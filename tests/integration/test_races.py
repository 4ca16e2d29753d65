"""Requests racing a deletion end as they would just before or just after it, never in a 5xx.

Each test runs a few rounds; in each, threads released together by a barrier send the
requests that race (to a server with enough workers that they really run at once): a
login, an upload URL or a rating against the deletion of the account, or ratings
against an admin deleting the movie. The deletion's transaction locks the row it deletes
first, the others' inserts map a row deleted meanwhile to the answer "after" gives (see
SECURITY.md, "Races with a deletion").
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
import requests
from movierater_adapters.sql.database import SqlDatabase, make_engine
from movierater_adapters.sql.repositories import SqlRepositories
from movierater_adapters.sql.tables import ratings, tokens, upload_grants
from sqlalchemy import func, select

from movierater_core.errors import ReferenceGone
from movierater_core.use_cases.accounts import erase_user
from tests.integration.conftest import USER_PASSWORD, Client, Server, make_admin, sign_up
from tests.integration.test_concurrency import assert_summaries_match_recount

WORKERS = 6  # sync workers: this many requests really run at once
BAD_CREDENTIALS = {"non_field_errors": ["Unable to log in with provided credentials."]}
INVALID_TOKEN = {"detail": "Invalid token."}


@pytest.fixture(scope="module")
def racing(database_url: str, backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(
        database_url,
        tmp_path_factory.mktemp(f"{backend}-races"),
        workers=WORKERS,
        start_timeout=120,
        MOVIERATER_MEDIA_DIR=str(tmp_path_factory.mktemp(f"{backend}-races-media")),
    )
    yield srv
    srv.stop()


def at_once(*calls: Callable[[], requests.Response]) -> list[requests.Response]:
    """Run the calls in threads released together; their responses in the order given."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], requests.Response]) -> requests.Response:
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def later(seconds: float, call: Callable[[], requests.Response]) -> Callable[[], requests.Response]:
    def delayed() -> requests.Response:
        time.sleep(seconds)
        return call()

    return delayed


def rows_left(engine: Any, column: Any, value: int | None) -> int:
    """How many rows of ``column``'s table still refer to ``value``."""
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(column.table).where(column == value)) or 0)


def statuses(responses: list[requests.Response]) -> list[int]:
    return [r.status_code for r in responses]


def test_logging_in_while_the_account_is_deleted(racing: Server, engine: Any) -> None:
    """Login: 200 with a token that the deletion then revokes, or 400 bad credentials."""
    logins_per_round = 4
    for round_ in range(5):
        victim = sign_up(racing.base_url, f"race-login-{round_}-{time.monotonic_ns()}")
        username = victim.get(f"/api/users/{victim.user_id}/").json()["username"]

        log_in = partial(
            requests.post,
            racing.base_url + "/auth/",
            json={"username": username, "password": USER_PASSWORD},
            timeout=30,
        )
        # the deletion lands during the logins' password checks, a little later each round
        delete = later(0.01 * round_, partial(victim.delete, f"/api/users/{victim.user_id}/"))
        deleted, *logins = at_once(delete, *[log_in] * logins_per_round)
        assert deleted.status_code == 204, deleted.text
        assert set(statuses(logins)) <= {200, 400}, [(r.status_code, r.text) for r in logins]
        for login in logins:
            if login.status_code == 400:
                assert login.json() == BAD_CREDENTIALS
            else:  # issued before the deletion: revoked with the account
                dead = Client(racing.base_url, login.json()["token"]).get("/api/movies/")
                assert dead.status_code == 401 and dead.json() == INVALID_TOKEN
        assert rows_left(engine, tokens.c.user_id, victim.user_id) == 0


def test_asking_for_upload_urls_while_the_account_is_deleted(racing: Server, engine: Any) -> None:
    """Upload URL: 200 (the grant goes with the account) or 401 (the token is gone)."""
    asks_per_round = 5
    for round_ in range(8):
        victim = sign_up(racing.base_url, f"race-upload-{round_}-{time.monotonic_ns()}")

        asks = [
            partial(
                victim.post,
                "/api/movies/get_upload_url/",
                json={"filename": f"p{i}.png", "contentType": "image/png", "fileSize": 1000},
            )
            for i in range(asks_per_round)
        ]
        delete = later(0.005 * round_, partial(victim.delete, f"/api/users/{victim.user_id}/"))
        deleted, *answers = at_once(delete, *asks)
        assert deleted.status_code == 204, deleted.text
        assert set(statuses(answers)) <= {200, 401}, [(r.status_code, r.text) for r in answers]
        assert all(r.json() == INVALID_TOKEN for r in answers if r.status_code == 401)
        assert rows_left(engine, upload_grants.c.user_id, victim.user_id) == 0


def test_an_admin_deleting_a_movie_while_users_rate_it(racing: Server, engine: Any) -> None:
    """Rating: 200 (the rating goes with the movie) or 404; the movie is deleted, always."""
    admin = make_admin(racing)
    raters = [sign_up(racing.base_url, f"race-rater-{n}-{time.monotonic_ns()}") for n in range(5)]
    for round_ in range(15):
        created = admin.post("/api/movies/", json={"title": f"Doomed {round_}"})
        assert created.status_code == 201, created.text
        movie_id = created.json()["id"]
        for rater in raters[::2]:  # some re-rate, some rate it first
            assert rater.post(f"/api/movies/{movie_id}/rate_movie/", json={"stars": 3}).status_code == 200

        rates = [
            partial(r.post, f"/api/movies/{movie_id}/rate_movie/", json={"stars": 1 + n % 5})
            for n, r in enumerate(raters)
        ]
        delete = later(0.003 * (round_ % 5), partial(admin.delete, f"/api/movies/{movie_id}/"))
        deleted, *rated = at_once(delete, *rates)
        assert deleted.status_code == 204, deleted.text
        assert set(statuses(rated)) <= {200, 404}, [(r.status_code, r.text) for r in rated]
        assert admin.get(f"/api/movies/{movie_id}/").status_code == 404
        assert rows_left(engine, ratings.c.movie_id, movie_id) == 0
    assert_summaries_match_recount(engine)


def test_a_user_rating_while_their_account_is_deleted(racing: Server, engine: Any) -> None:
    """Rating by a user being deleted: 200 (the rating goes with the account) or 401."""
    admin = make_admin(racing)
    movie_ids = []
    for title in ("First", "Second", "Third"):
        created = admin.post("/api/movies/", json={"title": title})
        assert created.status_code == 201, created.text
        movie_ids.append(created.json()["id"])
    for round_ in range(8):
        victim = sign_up(racing.base_url, f"race-rating-{round_}-{time.monotonic_ns()}")
        assert victim.post(f"/api/movies/{movie_ids[0]}/rate_movie/", json={"stars": 2}).status_code == 200

        rates = [
            partial(victim.post, f"/api/movies/{movie_ids[n % 3]}/rate_movie/", json={"stars": 1 + n % 5})
            for n in range(5)
        ]
        delete = later(0.005 * (round_ % 4), partial(victim.delete, f"/api/users/{victim.user_id}/"))
        deleted, *rated = at_once(delete, *rates)
        assert deleted.status_code == 204, deleted.text
        assert set(statuses(rated)) <= {200, 401}, [(r.status_code, r.text) for r in rated]
        assert all(r.json() == INVALID_TOKEN for r in rated if r.status_code == 401)
        assert rows_left(engine, ratings.c.user_id, victim.user_id) == 0
    assert_summaries_match_recount(engine)


def test_an_admin_changing_a_user_while_the_account_is_deleted(racing: Server) -> None:
    """A change by an admin: 200 (made before the deletion) or 404 (after it), never a 500."""
    admin = make_admin(racing)
    for round_ in range(8):
        victim = sign_up(racing.base_url, f"race-change-{round_}-{time.monotonic_ns()}")
        changes = [
            partial(admin.patch, f"/api/users/{victim.user_id}/", json={"username": f"renamed-{round_}-{n}"})
            for n in range(4)
        ]
        delete = later(0.004 * (round_ % 4), partial(victim.delete, f"/api/users/{victim.user_id}/"))
        deleted, *changed = at_once(delete, *changes)
        assert deleted.status_code == 204, deleted.text
        assert set(statuses(changed)) <= {200, 404}, [(r.status_code, r.text) for r in changed]
        assert admin.get(f"/api/users/{victim.user_id}/").status_code == 404


def test_a_login_token_stored_while_the_account_is_erased_waits_and_finds_it_gone(database_url: str) -> None:
    """The interleaving the user's row lock is for, made to happen every time (in process):
    the login's token insert lands after the erasure deleted the user's tokens and before
    it deletes the user. Without the lock (PostgreSQL), the insert commits and the
    erasure then fails on the foreign key: a 500 for the deletion."""
    db = SqlDatabase(make_engine(database_url, pool_size=2))
    tokens_deleted = threading.Event()

    class PausingAfterTokens(SqlDatabase):
        @contextmanager
        def writing(self) -> Iterator[SqlRepositories]:
            with super().writing() as repos:
                delete_tokens = repos.tokens.delete_for_user

                def delete_then_pause(user_id: int, *, keep: str | None = None) -> None:
                    delete_tokens(user_id, keep=keep)
                    tokens_deleted.set()
                    time.sleep(0.5)  # the login's insert comes now

                repos.tokens.delete_for_user = delete_then_pause  # type: ignore[method-assign]
                yield repos

    try:
        with db.writing() as repos:
            user = repos.users.add(f"erased-{time.monotonic_ns()}", "not a hash")
        errors: list[BaseException] = []

        def erase() -> None:
            try:
                with PausingAfterTokens(db.engine).writing() as repos:
                    erase_user(repos, user.id)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        eraser = threading.Thread(target=erase)
        eraser.start()
        assert tokens_deleted.wait(timeout=30)
        digest = secrets.token_hex(32)
        with pytest.raises(ReferenceGone), db.writing() as repos:
            repos.tokens.add(digest, user.id, datetime.now(UTC))
        eraser.join(timeout=30)
        assert errors == []
        with db.reading() as repos:
            assert repos.users.get(user.id) is None
            assert repos.tokens.user_for(digest) is None
    finally:
        db.engine.dispose()
