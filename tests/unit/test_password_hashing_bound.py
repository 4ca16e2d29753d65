"""Password hashes and checks run one at a time per process (src/adapters/passwords.py):
the writes' threads would otherwise run several at once, each on four threads and 64 MiB."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from movierater_adapters.passwords import Argon2Hasher


class Overlaps:
    """A stand-in for argon2's hasher that records how many calls ran at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.running = 0
        self.most = 0

    def _call(self, *_: Any) -> Any:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(0.02)
        with self._lock:
            self.running -= 1
        return True

    hash = verify = _call


def test_hashes_and_checks_from_many_threads_run_one_at_a_time() -> None:
    fake = Overlaps()
    # Two hashers: the bound is the process's, not an instance's.
    hashers = [Argon2Hasher(engine=fake), Argon2Hasher(engine=fake)]  # type: ignore[arg-type]
    with ThreadPoolExecutor(max_workers=8) as threads:
        calls = [threads.submit(hashers[n % 2].hash, "pw") for n in range(8)]
        calls += [threads.submit(hashers[n % 2].verify, "$argon2id$...", "pw") for n in range(8)]
        assert all(call.result() for call in calls)
    assert fake.most == 1
