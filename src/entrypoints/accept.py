"""Connections shared out evenly between gunicorn's workers.

Every worker waits on the one listening socket, and the kernel hands a new connection to
whichever worker calls ``accept`` first; asyncio's server then accepts every connection
waiting. Clients that keep their connections (a proxy's upstream pool, a load test) thus
ended split 11 to 5 between two workers, and the requests on the busier worker waited
twice as long. Here a worker accepts one connection at a time, and one that holds more
connections than another worker first leaves a new one to the others, looking again every
``RECHECK_SECONDS``: it accepts again as soon as no other worker holds fewer (they caught
up, or overtook it while it waited). If the others took none for ``DEFER_SECONDS`` (they
are busy, or stuck), it accepts all that wait: no connection waits longer than that for a
busy worker.

The workers see one another's counts in a small table of shared memory made in
gunicorn's master before it forks them (this module is imported there, with the worker
class): a slot per worker with its pid, its open connections and how many it accepted.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable
from multiprocessing import Lock, RawArray
from typing import Any

log = logging.getLogger(__name__)

# How long a worker holding more connections than another leaves a new one to the others:
# longer than a worker runs between two looks at its sockets on a busy machine.
DEFER_SECONDS = 0.005
# How often a deferring worker looks at the others' counts. It must not sleep through its
# whole deferral: another worker that overtook it meanwhile defers in turn, and the first of
# the two to wake up found the other idle and took every waiting connection (14 to 2).
RECHECK_SECONDS = 0.001
# Connections accepted at once after a deferral the others did not use (asyncio's server
# takes up to its backlog): a burst must not trickle in one connection per deferral.
ACCEPT_BATCH = 128
# Workers beyond this many (rare) accept at once, without looking at the others.
SLOTS = 256

# (pid, open connections, connections accepted) per slot; pid 0 is a free slot. Each slot
# is written by its own worker (claimed under the lock); a reader may see a count a moment
# old, which is all this heuristic needs.
_FIELDS = 3
_table: Any = RawArray("q", _FIELDS * SLOTS)
_claiming = Lock()


class ConnectionCounts:
    """This worker's slot in the shared table."""

    def __init__(self) -> None:
        self._slot: int | None = None
        self.held = 0  # connections accepted and not yet closed

    def opened(self) -> None:
        self.held += 1
        self._publish(accepted=True)

    def closed(self) -> None:
        self.held = max(0, self.held - 1)
        self._publish()

    def claim(self) -> None:
        """Take a free slot, or one whose worker is gone (in the worker, once it serves)."""
        me = os.getpid()
        with _claiming:
            for slot in range(SLOTS):
                pid = _table[_FIELDS * slot]
                if pid == 0 or pid == me or not _alive(pid):
                    _table[_FIELDS * slot : _FIELDS * (slot + 1)] = [me, 0, 0]
                    self._slot = slot
                    return

    def release(self) -> None:
        if self._slot is not None:
            _table[_FIELDS * self._slot] = 0
            self._slot = None

    def _publish(self, *, accepted: bool = False) -> None:
        if self._slot is not None:
            _table[_FIELDS * self._slot + 1] = self.held
            if accepted:
                _table[_FIELDS * self._slot + 2] += 1

    def others(self) -> tuple[int | None, int]:
        """The fewest connections another worker holds (None: no other worker), and how
        many the others accepted in all."""
        if self._slot is None:
            return None, 0
        fewest: int | None = None
        accepted = 0
        for slot in range(SLOTS):
            base = _FIELDS * slot
            if slot != self._slot and _table[base] != 0:
                held = _table[base + 1]
                fewest = held if fewest is None else min(fewest, held)
                accepted += _table[base + 2]
        return fewest, accepted


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class BalancedListener:
    """Accepts connections on ``sock`` for this worker, deferring to less loaded workers;
    stands in for the asyncio server gunicorn would make (``close``, ``wait_closed``)."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.Protocol],
        counts: ConnectionCounts,
        ssl: Any = None,
    ) -> None:
        self._loop = loop
        self._sock = sock
        self._factory = protocol_factory
        self._counts = counts
        self._ssl = ssl
        self._deferred: asyncio.TimerHandle | None = None
        self._others_accepted = 0  # by the other workers, at the deferral's last look
        self._defer_until = 0.0  # the loop's time when a deferral the others ignore ends
        self._closed = False
        sock.setblocking(False)
        loop.add_reader(sock.fileno(), self._readable)

    def _readable(self) -> None:
        fewest, accepted = self._counts.others()
        if self._holds_more_than(fewest):
            self._loop.remove_reader(self._sock.fileno())
            self._others_accepted = accepted
            self._defer_until = self._loop.time() + DEFER_SECONDS
            self._deferred = self._loop.call_later(RECHECK_SECONDS, self._recheck)
        else:
            self._accept()

    def _holds_more_than(self, fewest: int | None) -> bool:
        """Whether this worker holds more than ``fewest``, the fewest another holds."""
        return fewest is not None and fewest < self._counts.held

    def _recheck(self) -> None:
        """A deferring worker's look at the others: it accepts again once none holds fewer,
        waits on while they take connections, and takes all that wait once they took none
        for ``DEFER_SECONDS`` (busy, or stuck)."""
        self._deferred = None
        fewest, accepted = self._counts.others()
        if accepted != self._others_accepted:
            self._others_accepted = accepted
            self._defer_until = self._loop.time() + DEFER_SECONDS
        holds_more = self._holds_more_than(fewest)
        if holds_more and self._loop.time() < self._defer_until:
            self._deferred = self._loop.call_later(RECHECK_SECONDS, self._recheck)
            return
        if holds_more:
            for _ in range(ACCEPT_BATCH):
                if not self._accept():
                    break
        self._loop.add_reader(self._sock.fileno(), self._readable)

    def _accept(self) -> bool:
        """Accept one connection; whether there was one."""
        try:
            conn, _ = self._sock.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return False  # another worker took it, or its client left first
        except OSError as exc:  # out of descriptors, say: the next readiness tries again
            log.warning("Could not accept a connection: %s", exc)
            return False
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._counts.opened()  # until the protocol's connection_lost (the worker's)
        opened = self._loop.create_task(
            self._loop.connect_accepted_socket(self._factory, conn, ssl=self._ssl)
        )
        opened.add_done_callback(lambda task: self._opened(task, conn))
        return True

    def _opened(self, task: asyncio.Task[Any], conn: socket.socket) -> None:
        if task.cancelled() or task.exception() is not None:
            if not task.cancelled():
                log.warning("Could not open a connection: %s", task.exception())
            conn.close()
            self._counts.closed()  # never the protocol's: it will not say so

    def close(self) -> None:
        """Stop accepting (gunicorn's graceful shutdown); the socket stays gunicorn's."""
        if self._closed:
            return
        self._closed = True
        if self._deferred is not None:
            self._deferred.cancel()
            self._deferred = None
        else:
            self._loop.remove_reader(self._sock.fileno())

    async def wait_closed(self) -> None:
        return None
