"""The composition root: the one place where ports are wired to adapters, from settings.

Tests build the same container with fakes by passing them in ``overrides``.
"""

from __future__ import annotations

from typing import Any

import punq

from adapters.clock import SystemClock
from adapters.passwords import Argon2Hasher
from adapters.sql import SqlDatabase, make_engine
from adapters.tokens import RandomTokenIssuer
from entrypoints.settings import Settings
from movierater_core.ports import Clock, Database, PasswordHasher, TokenIssuer
from movierater_core.use_cases import Accounts, Movies, Ratings


def build_container(settings: Settings, overrides: dict[type, Any] | None = None) -> punq.Container:
    """Register one instance per port and the use cases that need them."""
    overrides = overrides or {}
    container = punq.Container()
    container.register(Settings, instance=settings)

    def provide(port: type, make: Any) -> None:
        container.register(port, instance=overrides[port] if port in overrides else make())

    provide(
        Database,
        lambda: SqlDatabase(
            make_engine(
                settings.database_url,
                pool_size=settings.db_pool_size,
                connect_timeout=settings.db_connect_timeout,
                schema=settings.db_schema,
            )
        ),
    )
    provide(PasswordHasher, Argon2Hasher)
    provide(TokenIssuer, RandomTokenIssuer)
    provide(Clock, SystemClock)
    for use_case in (Accounts, Movies, Ratings):
        container.register(use_case, scope=punq.Scope.singleton)
    return container
