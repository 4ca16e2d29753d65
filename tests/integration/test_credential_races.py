"""Races on credentials through gunicorn: two app instances of 4 workers each on one
database, requests released together by a barrier (issue 13, items 1 and 2).

- A password change against logins with the old password: once the change has returned,
  no token any racing login obtained may work.
- The login lock and the registration limit are exact: N concurrent attempts get exactly
  the limit through, whichever worker or instance answers them.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from tests.integration.conftest import Server

OLD = "the old passphrase 1"
NEW = "the new passphrase 2"
ROUNDS = 3  # password-change rounds; each ~1-3 s
RACERS = 3  # clients logging in with the old password during each change


@pytest.fixture(scope="module")
def instances(
    database_url: str, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Server]]:
    """Two instances on one database; 127.0.0.1 is a trusted proxy, so each test gives its
    requests an address of their own (X-Forwarded-For) and the per-address limits start
    afresh, at their defaults (50 failed logins per 15 minutes, 20 registrations per hour)."""
    env = {
        "MOVIERATER_TRUSTED_PROXIES": "127.0.0.1",
        "MOVIERATER_LOGIN_FAILURES_PER_ADDRESS": "50",
        "MOVIERATER_REGISTRATIONS_PER_ADDRESS": "20",
    }
    first = Server(database_url, tmp_path_factory.mktemp(f"{backend}-races-a"), workers=4, **env)
    try:
        second = Server(database_url, tmp_path_factory.mktemp(f"{backend}-races-b"), workers=4, **env)
    except BaseException:
        first.stop()
        raise
    yield first, second
    first.stop()
    second.stop()


def _address() -> dict[str, str]:
    return {"X-Forwarded-For": f"2001:db8::{uuid.uuid4().hex[:4]}:{uuid.uuid4().hex[:4]}"}


def _post(server: Server, path: str, body: dict[str, str], headers: dict[str, str]) -> requests.Response:
    return requests.post(server.base_url + path, json=body, headers=headers, timeout=60)


def _register(server: Server, headers: dict[str, str], password: str = OLD) -> tuple[str, int]:
    name = f"racer-{uuid.uuid4().hex[:10]}"
    created = _post(server, "/api/users/", {"username": name, "password": password}, headers)
    assert created.status_code == 201, created.text
    return name, int(created.json()["id"])


def _status_with(server: Server, user_id: int, token: str) -> int:
    return requests.get(
        f"{server.base_url}/api/users/{user_id}/", headers={"Authorization": f"Token {token}"}, timeout=60
    ).status_code


# ---- item 1 -----------------------------------------------------------------------------


@dataclass
class Round:
    """One password change raced by logins with the old password."""

    user_id: int
    owner_token: str
    issued: list[tuple[str, float]] = field(default_factory=list)  # (token, when its login returned)
    statuses: Counter[int] = field(default_factory=Counter)
    changed_at: float = 0.0


def _race_a_password_change(instances: tuple[Server, Server], delay: float) -> Round:
    headers = _address()
    name, user_id = _register(instances[0], headers)
    owner = _post(instances[1], "/auth/", {"username": name, "password": OLD}, headers)
    assert owner.status_code == 200, owner.text
    result = Round(user_id, owner.json()["token"])
    barrier = threading.Barrier(RACERS + 1)
    changed = threading.Event()

    def race(server: Server) -> None:
        barrier.wait()
        while not changed.is_set():
            login = _post(server, "/auth/", {"username": name, "password": OLD}, headers)
            result.statuses[login.status_code] += 1
            if login.status_code == 200:
                result.issued.append((login.json()["token"], time.monotonic()))

    def change() -> None:
        barrier.wait()
        time.sleep(delay)  # logins at various stages when the change lands
        try:
            answer = requests.patch(
                f"{instances[0].base_url}/api/users/{user_id}/",
                json={"password": NEW},
                headers={"Authorization": f"Token {result.owner_token}", **headers},
                timeout=60,
            )
        finally:
            result.changed_at = time.monotonic()
            changed.set()
        assert answer.status_code == 200, answer.text

    with ThreadPoolExecutor(RACERS + 1) as pool:
        racers = [pool.submit(race, instances[n % 2]) for n in range(RACERS)]
        pool.submit(change).result(timeout=60)
        for racer in racers:
            racer.result(timeout=60)
    return result


def test_after_a_password_change_returns_no_token_of_a_racing_old_password_login_works(
    instances: tuple[Server, Server],
) -> None:
    statuses: Counter[int] = Counter()
    alive: list[tuple[int, int]] = []  # (round, ms after the change returned that its login did)
    issued = 0
    for n in range(ROUNDS):
        result = _race_a_password_change(instances, delay=0.3 * n)
        statuses += result.statuses
        issued += len(result.issued)
        for token, when in result.issued:
            if _status_with(instances[1], result.user_id, token) != 401:
                alive.append((n, round((when - result.changed_at) * 1000)))
        assert _status_with(instances[0], result.user_id, result.owner_token) == 200  # the changer's stays
    assert issued, f"no login got a token before the changes: nothing was raced ({statuses})"
    assert not any(status >= 500 for status in statuses), statuses
    assert alive == [], f"old-password tokens still work after the change (round, ms after it): {alive}"


# ---- item 2 -----------------------------------------------------------------------------


def _all_at_once(count: int, send: Any) -> Counter[int]:
    """``send(n)`` for n in range(count), in as many threads released together."""
    barrier = threading.Barrier(count)

    def one(n: int) -> int:
        barrier.wait()
        return int(send(n).status_code)

    with ThreadPoolExecutor(count) as pool:
        return Counter(pool.map(one, range(count)))


@pytest.mark.parametrize("exists", [True, False], ids=["user", "unknown-username"])
def test_concurrent_wrong_passwords_for_one_username_get_exactly_five_checks(
    instances: tuple[Server, Server], exists: bool
) -> None:
    headers = _address()
    name = _register(instances[0], headers)[0] if exists else f"nobody-{uuid.uuid4().hex[:10]}"
    guess = {"username": name, "password": "a wrong guess 1"}
    statuses = _all_at_once(40, lambda n: _post(instances[n % 2], "/auth/", guess, headers))
    # a 400 comes only after a hash check, a 429 before any: exactly five were checked
    assert statuses == Counter({400: 5, 429: 35}), statuses
    right = _post(instances[1], "/auth/", {"username": name, "password": OLD}, headers)
    assert right.status_code == 429  # locked for the window, the right password too


def test_concurrent_registrations_from_one_address_stop_exactly_at_the_limit(
    instances: tuple[Server, Server],
) -> None:
    headers = _address()
    prefix = f"signup-{uuid.uuid4().hex[:8]}"
    statuses = _all_at_once(
        30,
        lambda n: _post(
            instances[n % 2], "/api/users/", {"username": f"{prefix}-{n}", "password": OLD}, headers
        ),
    )
    assert statuses == Counter({201: 20, 429: 10}), statuses
