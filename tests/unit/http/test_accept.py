"""The listener that shares connections out between workers (src/entrypoints/accept.py),
in-process: a real listening socket and event loop, the other workers' slots written into
the shared table by hand. Through gunicorn's two workers: tests/integration/test_worker_balance.py."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable, Iterator

import pytest
from movierater_entrypoints import accept
from movierater_entrypoints.accept import DEFER_SECONDS, BalancedListener, ConnectionCounts


class Opened(asyncio.Protocol):
    made: list[float] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        Opened.made.append(asyncio.get_running_loop().time())


@pytest.fixture(autouse=True)
def empty_table() -> Iterator[None]:
    accept._table[:] = [0] * len(accept._table)
    Opened.made = []
    yield
    accept._table[:] = [0] * len(accept._table)


def other_worker(held: int, accepted: int = 0) -> None:
    """A live other worker (this test's parent process) holding ``held`` connections, having
    accepted ``accepted`` in all."""
    slot = accept.SLOTS - 1
    accept._table[3 * slot : 3 * slot + 3] = [os.getppid(), held, accepted]


def one_ahead_of_another_worker() -> ConnectionCounts:
    """This worker's counts, holding 1 connection, and another worker holding none."""
    counts = ConnectionCounts()
    counts.claim()
    counts.opened()
    other_worker(0)
    return counts


async def connect_and_wait(
    counts: ConnectionCounts,
    clients: int,
    within: float,
    meanwhile: Callable[[], Awaitable[None]] | None = None,
) -> tuple[list[float], float, list[socket.socket]]:
    """Connect ``clients`` at once and wait until this worker made them all (or ``within``
    seconds passed), while ``meanwhile`` plays the other worker."""
    loop = asyncio.get_running_loop()
    listening = socket.create_server(("127.0.0.1", 0))
    listener = BalancedListener(loop, listening, Opened, counts)
    started = loop.time()
    sockets = [socket.create_connection(listening.getsockname()) for _ in range(clients)]
    other = asyncio.create_task(meanwhile()) if meanwhile else None
    deadline = started + within
    while len(Opened.made) < clients and loop.time() < deadline:
        await asyncio.sleep(0.001)
    if other is not None:
        await other
    listener.close()
    listening.close()
    return Opened.made, started, sockets


def test_a_worker_alone_accepts_every_connection_at_once() -> None:
    counts = ConnectionCounts()
    counts.claim()
    made, started, sockets = asyncio.run(connect_and_wait(counts, 5, within=2))
    assert len(made) == 5 and counts.held == 5
    assert all(at - started < DEFER_SECONDS * 10 for at in made)
    for sock in sockets:
        sock.close()


def test_a_worker_holding_more_leaves_a_connection_to_the_others_for_a_moment() -> None:
    counts = one_ahead_of_another_worker()
    made, started, sockets = asyncio.run(connect_and_wait(counts, 1, within=2))
    assert len(made) == 1  # nobody else took it: taken after the deferral
    assert made[0] - started >= DEFER_SECONDS * 0.9
    for sock in sockets:
        sock.close()


def test_a_burst_the_others_do_not_take_is_accepted_after_one_deferral() -> None:
    counts = one_ahead_of_another_worker()  # the other is stuck: never accepts
    made, started, sockets = asyncio.run(connect_and_wait(counts, 40, within=2))
    assert len(made) == 40
    assert max(made) - started < 40 * DEFER_SECONDS  # not one deferral per connection
    for sock in sockets:
        sock.close()


def test_a_deferring_worker_accepts_as_soon_as_the_others_catch_up(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not at the deferral's end: another worker that overtook it meanwhile would defer in
    turn, and the first of the two to wake up would take every connection waiting."""
    monkeypatch.setattr(accept, "DEFER_SECONDS", 1.0)
    counts = one_ahead_of_another_worker()

    async def catch_up() -> None:
        await asyncio.sleep(0.05)
        other_worker(held=2, accepted=2)  # it took two others meanwhile: it holds more now

    made, started, sockets = asyncio.run(connect_and_wait(counts, 1, within=2, meanwhile=catch_up))
    assert len(made) == 1
    assert 0.05 <= made[0] - started < 0.5  # after the catching up, long before a second
    for sock in sockets:
        sock.close()


def test_a_deferring_worker_waits_on_while_the_others_accept(monkeypatch: pytest.MonkeyPatch) -> None:
    """The others are not stuck while they take connections (and close them again: they
    still hold fewer): the burst of accepting at once waits until they took none for the
    whole deferral."""
    monkeypatch.setattr(accept, "DEFER_SECONDS", 0.2)
    counts = one_ahead_of_another_worker()

    async def keep_accepting() -> None:
        for accepted in range(1, 61):  # one every 10 ms for 0.6 s
            other_worker(held=0, accepted=accepted)
            await asyncio.sleep(0.01)

    made, started, sockets = asyncio.run(connect_and_wait(counts, 1, within=3, meanwhile=keep_accepting))
    assert len(made) == 1
    assert made[0] - started >= 0.6 + 0.2 * 0.9  # the others' last accept, then one deferral
    for sock in sockets:
        sock.close()


def test_slots_are_claimed_once_and_freed() -> None:
    first, second = ConnectionCounts(), ConnectionCounts()
    first.claim()
    other_worker(3)
    assert first.others() == (3, 0)
    first.opened()
    first.opened()
    first.closed()
    assert first.held == 1
    second.claim()  # the same process claims its own slot again, as a restarted loop would
    assert second.others() == (3, 0)
    first.release()
    second.release()
    assert all(accept._table[3 * slot] == 0 for slot in range(accept.SLOTS - 1))


def test_a_slot_whose_worker_is_gone_is_claimed_again() -> None:
    accept._table[0:3] = [2**22 + 12345, 7, 99]  # beyond pid_max here: no such process
    counts = ConnectionCounts()
    counts.claim()
    assert accept._table[0] == os.getpid() and accept._table[1] == 0
