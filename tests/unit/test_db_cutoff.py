"""The stall cutoff's thread (``_Cutoff``): it shuts a connection's socket down at its unit's
deadline, and a read that ends well before its deadline does not wake it.

A socket pair stands in for a driver connection: the cutoff only needs its ``fileno``."""

from __future__ import annotations

import math
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from movierater_adapters.sql.database import _Cutoff, _Unit


class _CountingCondition(threading.Condition):
    def __init__(self) -> None:
        super().__init__()
        self.notified = 0

    def notify(self, n: int = 1) -> None:
        self.notified += 1
        super().notify(n)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair()
    yield ours, theirs
    ours.close()
    theirs.close()


def _shut_within(sock: socket.socket, seconds: float) -> bool:
    """Whether ``sock`` was shut down (reads end of file) within ``seconds``."""
    sock.settimeout(seconds)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False


def test_units_that_end_before_their_deadline_do_not_wake_the_thread(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    cutoff = _Cutoff()
    cutoff._cond = counting = _CountingCondition()
    connection = pair[0]
    cutoff.watch(connection, _Unit(time.monotonic() + 30))  # starts the thread
    cutoff.unwatch(connection)
    deadline = time.monotonic() + 10
    while cutoff._wake_at == math.inf:  # its first pass, however busy the machine
        assert time.monotonic() < deadline
        time.sleep(0.01)
    counting.notified = 0
    for _ in range(1000):  # reads one after another, each unwatched when it ends
        cutoff.watch(connection, _Unit(time.monotonic() + 30))
        cutoff.unwatch(connection)
    assert counting.notified == 0
    assert not _shut_within(pair[1], 0.05)


def test_a_unit_past_its_deadline_is_cut(pair: tuple[socket.socket, socket.socket]) -> None:
    cutoff = _Cutoff()
    unit = _Unit(time.monotonic() + 0.2)
    cutoff.watch(pair[0], unit)
    assert _shut_within(pair[0], 5)
    assert unit.cut


def test_an_earlier_deadline_wakes_a_thread_sleeping_until_a_later_one(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    cutoff = _Cutoff()
    far, near = socket.socketpair()
    try:
        cutoff.watch(far, _Unit(time.monotonic() + 60))
        time.sleep(0.05)  # the thread now sleeps until a minute from now
        unit = _Unit(time.monotonic() + 0.2)
        cutoff.watch(near, unit)
        started = time.monotonic()
        assert _shut_within(near, 5)
        assert unit.cut and time.monotonic() - started < 5
        cutoff.unwatch(far)
    finally:
        far.close()
        near.close()


def test_a_later_deadline_is_kept_after_the_thread_wakes_for_an_unwatched_one(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    cutoff = _Cutoff()
    other, _ = pair
    gone = socket.socket()
    try:
        cutoff.watch(gone, _Unit(time.monotonic() + 0.1))
        cutoff.unwatch(gone)  # ended in time; the thread still wakes for it once
        unit = _Unit(time.monotonic() + 0.4)
        cutoff.watch(other, unit)  # later than the thread's wake-up: no notify
        assert not _shut_within(other, 0.2)
        assert _shut_within(other, 5)
        assert unit.cut
    finally:
        gone.close()
