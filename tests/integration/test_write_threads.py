"""Writes on threads of their own (MOVIERATER_WRITE_THREADS), through gunicorn, on every
backend, in test_app_threads.py's scene: one worker, a rating held up by another
transaction's lock on its movie, and a movie's detail from the same worker meanwhile.
With write threads the detail does not wait for the rating; with none (the default) it
waits its turn on the loop's one app thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_app_threads import detail_while_a_rating_waits_for_a_lock

pytestmark = pytest.mark.exclusive  # it bounds a latency


def test_with_write_threads_a_rating_waiting_for_a_lock_holds_up_no_read(
    database_url: str, engine: Any, tmp_path: Path
) -> None:
    env = {"MOVIERATER_WRITE_THREADS": "2"}
    assert detail_while_a_rating_waits_for_a_lock(database_url, engine, tmp_path, **env) < 0.5


def test_by_default_the_read_waits_for_the_rating(database_url: str, engine: Any, tmp_path: Path) -> None:
    """The control (the first test's bound means something): no write threads by default."""
    assert detail_while_a_rating_waits_for_a_lock(database_url, engine, tmp_path) > 1.0
