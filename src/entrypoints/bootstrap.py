"""The composition root: the one place where ports are wired to adapters, from settings.

Tests build the same container with fakes by passing them in ``overrides``. Python code
using the core gets the wired use cases from :func:`services`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import attrs
import punq
from movierater_adapters.clock import SystemClock
from movierater_adapters.images import PillowInspector
from movierater_adapters.passwords import Argon2Hasher
from movierater_adapters.sql import SqlDatabase, make_engine
from movierater_adapters.storage_local import LocalImageStorage
from movierater_adapters.tokens import RandomTokenIssuer
from movierater_entrypoints.settings import Settings

from movierater_core.paging import PageSettings
from movierater_core.ports import (
    Clock,
    Database,
    ImageInspector,
    ImageStorage,
    PasswordHasher,
    TokenIssuer,
)
from movierater_core.use_cases import (
    Accounts,
    AccountSettings,
    Health,
    Movies,
    Ratings,
    ScoreSettings,
    TokenCheck,
    Uploads,
    UploadSettings,
    UserAdmin,
)
from movierater_core.use_cases.django_import import DjangoImport
from movierater_core.use_cases.exports import RatingExport, RatingImport
from movierater_core.use_cases.imports import MovieImport


def build_container(
    settings: Settings, overrides: dict[type, Any] | None = None, *, serving: bool = False
) -> punq.Container:
    """Register one instance per port and the use cases that need them.

    ``serving``: the HTTP app's container, whose database waits are bounded by
    ``MOVIERATER_DB_TIMEOUT`` (a stalled database answers 503 within seconds). The CLI's
    and the library's are not: a migration, an import or a seed may take minutes.
    """
    overrides = overrides or {}
    timeout = settings.db_timeout if serving else None
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
                timeout=timeout,
                threads=settings.app_threads if serving else 1,
            ),
            timeout=timeout,
        ),
    )
    provide(PasswordHasher, lambda: password_hasher(settings))
    provide(TokenIssuer, RandomTokenIssuer)
    provide(Clock, SystemClock)
    provide(ImageStorage, lambda: make_storage(settings))
    provide(ImageInspector, PillowInspector)
    container.register(UploadSettings, instance=UploadSettings(url_ttl=settings.upload_url_ttl))
    container.register(PageSettings, instance=PageSettings(max_page_size=settings.max_page_size))
    container.register(
        ScoreSettings,
        instance=ScoreSettings(
            prior_weight=settings.score_prior_weight, mean_max_age=settings.score_mean_max_age
        ),
    )
    container.register(
        AccountSettings,
        instance=AccountSettings(
            token_ttl=settings.token_ttl,
            login_failures_per_address=settings.login_failures_per_address,
            registrations_per_address=settings.registrations_per_address,
        ),
    )
    for use_case in (
        TokenCheck,
        Accounts,
        UserAdmin,
        Uploads,
        Movies,
        Ratings,
        Health,
        DjangoImport,
        MovieImport,
        RatingExport,
        RatingImport,
    ):
        container.register(use_case, scope=punq.Scope.singleton)
    return container


def password_hasher(settings: Settings) -> Argon2Hasher:
    """argon2id at the cost the settings choose (MOVIERATER_PASSWORD_HASH_*)."""
    return Argon2Hasher(
        memory_kib=settings.password_hash_memory_kib, iterations=settings.password_hash_iterations
    )


def prepare_storage(settings: Settings) -> None:
    """Once per server start, before the workers (``movierater serve``, and gunicorn.conf.py
    for the Procfile): make the local media directory, as the embedded database is made.
    /readyz then reports it missing if it goes away while the server runs."""
    if settings.storage == "local":
        Path(settings.media_dir).mkdir(parents=True, exist_ok=True)


def make_storage(settings: Settings) -> Any:
    """The configured ImageStorage adapter; boto3 is imported only when S3 is configured."""
    if settings.storage == "s3":
        from movierater_adapters.storage_s3 import S3ImageStorage

        return S3ImageStorage(
            bucket=settings.s3_bucket,
            region=settings.s3_region,
            endpoint_url=settings.s3_endpoint_url,
            prefix=settings.s3_prefix,
            public_base_url=settings.s3_public_base_url,
            acl=settings.s3_acl,
        )
    return LocalImageStorage(Path(settings.media_dir), settings.public_url, settings.secret_key)


@attrs.frozen
class Services:
    """The use cases, wired to the configured adapters: what other Python code calls (the
    HTTP app and the CLI call the same ones). ``close()`` returns the database connections."""

    accounts: Accounts
    movies: Movies
    ratings: Ratings
    uploads: Uploads
    user_admin: UserAdmin
    health: Health
    database: SqlDatabase

    def close(self) -> None:
        self.database.dispose()


class SchemaNotReady(Exception):
    """A server database whose schema is not at head: ``movierater migrate`` first."""


def services(settings: Settings | None = None, *, database_url: str | None = None) -> Services:
    """The use cases on the configured adapters, on a database whose schema is up to date.

    ``services()`` reads the ``MOVIERATER_*`` environment as the service does;
    ``services(settings)`` takes those settings; ``database_url`` replaces the database of
    either (with the defaults for everything else when no settings are given).
    ``services(database_url="sqlite://")`` is a private in-memory database, for tests.
    SQLite is migrated here, as ``movierater serve`` does; a server database must have been
    migrated once (``movierater migrate``), else :class:`SchemaNotReady`.
    """
    from movierater_adapters.sql.migrate import is_up_to_date, upgrade  # Alembic: not in every worker

    if settings is None:
        settings = Settings() if database_url is not None else Settings.from_env()
    if database_url is not None:
        # environ-config's class is attrs underneath; mypy knows it only as a dataclass_transform
        settings = cast(Settings, attrs.evolve(cast(Any, settings), database_url=database_url))
    database = SqlDatabase(
        make_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            connect_timeout=settings.db_connect_timeout,
            schema=settings.db_schema,
        )
    )
    if settings.embedded:
        upgrade(database.engine)
    elif not is_up_to_date(database.engine):
        database.dispose()
        raise SchemaNotReady("the database schema is not up to date: run `movierater migrate` once")
    container = build_container(settings, overrides={Database: database})
    return Services(
        accounts=container.resolve(Accounts),
        movies=container.resolve(Movies),
        ratings=container.resolve(Ratings),
        uploads=container.resolve(Uploads),
        user_admin=container.resolve(UserAdmin),
        health=container.resolve(Health),
        database=database,
    )
