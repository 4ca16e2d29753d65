"""The port of the Django original's database, read by the import (``movierater import-django``).

A module of its own: only the import and its adapter need it, and the legacy row types are
not the service's model. Values the core validates are typed ``object``: they come as
stored, unchecked.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from attrs import frozen


@frozen
class LegacyUser:
    legacy_id: str
    username: object
    password_hash: str
    date_joined: datetime  # timezone-aware
    is_admin: bool  # is_staff or is_superuser
    is_active: bool


@frozen
class LegacyMovie:
    legacy_id: str
    title: object
    description: object
    image_path: object


@frozen
class LegacyRating:
    legacy_id: str
    user_legacy_id: str
    movie_legacy_id: str
    stars: object


@frozen
class LegacyToken:
    key: str
    user_legacy_id: str
    created: datetime  # timezone-aware


class LegacySource(Protocol):
    """The original service's data, read in the order users, movies, ratings, tokens
    (each in the legacy primary key's order, so a run is repeatable)."""

    def count(self, kind: str) -> int:
        """How many rows of ``kind`` (users, movies, ratings, tokens) there are."""
        ...

    def users(self) -> Iterable[LegacyUser]: ...

    def movies(self) -> Iterable[LegacyMovie]: ...

    def ratings(self) -> Iterable[LegacyRating]: ...

    def tokens(self) -> Iterable[LegacyToken]: ...
