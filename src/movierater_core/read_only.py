"""The read-only view that ``Database.reading()`` hands out, for every adapter and the fakes.

mypy already rejects a write inside ``reading()`` (its :class:`~movierater_core.ports.ReadRepositories`
has no write methods); this view makes the same true at run time, for untyped callers: a
read transaction's repositories with only the methods their ``*Reader`` Protocol lists, so
a write fails with AttributeError instead of writing (or, on an autocommit connection,
committing on the spot).
"""

from __future__ import annotations

from typing import Any, cast

from movierater_core.ports import (
    AttemptReader,
    ImageReader,
    ImportRecordReader,
    MovieReader,
    RatingReader,
    Repositories,
    TokenReader,
    UploadGrantReader,
    UserReader,
)


def _methods(protocol: type) -> frozenset[str]:
    """The public methods a reader Protocol declares (its own: readers have no bases)."""
    return frozenset(name for name in vars(protocol) if not name.startswith("_"))


class ReadOnly:
    """``inner``'s attributes named in ``allowed``, and no others."""

    def __init__(self, inner: object, allowed: frozenset[str]) -> None:
        self._inner = inner
        self._allowed = allowed

    def __getattr__(self, name: str) -> Any:  # only called for what the instance lacks
        if name not in self._allowed:
            raise AttributeError(
                f"{type(self._inner).__name__}.{name} is not available in a read-only transaction "
                "(Database.reading()); write in Database.writing()"
            )
        method = getattr(self._inner, name)
        self.__dict__[name] = method  # found once per view: later calls skip __getattr__
        return method


_USERS = _methods(UserReader)
_MOVIES = _methods(MovieReader)
_RATINGS = _methods(RatingReader)
_TOKENS = _methods(TokenReader)
_GRANTS = _methods(UploadGrantReader)
_IMAGES = _methods(ImageReader)
_ATTEMPTS = _methods(AttemptReader)
_IMPORTS = _methods(ImportRecordReader)


class ReadOnlyRepositories:
    """Implements :class:`~movierater_core.ports.ReadRepositories` over any ``Repositories``."""

    def __init__(self, repositories: Repositories) -> None:
        self._repos = repositories

    @property
    def users(self) -> UserReader:
        return cast(UserReader, ReadOnly(self._repos.users, _USERS))

    @property
    def movies(self) -> MovieReader:
        return cast(MovieReader, ReadOnly(self._repos.movies, _MOVIES))

    @property
    def ratings(self) -> RatingReader:
        return cast(RatingReader, ReadOnly(self._repos.ratings, _RATINGS))

    @property
    def tokens(self) -> TokenReader:
        return cast(TokenReader, ReadOnly(self._repos.tokens, _TOKENS))

    @property
    def grants(self) -> UploadGrantReader:
        return cast(UploadGrantReader, ReadOnly(self._repos.grants, _GRANTS))

    @property
    def images(self) -> ImageReader:
        return cast(ImageReader, ReadOnly(self._repos.images, _IMAGES))

    @property
    def attempts(self) -> AttemptReader:
        return cast(AttemptReader, ReadOnly(self._repos.attempts, _ATTEMPTS))

    @property
    def imports(self) -> ImportRecordReader:
        return cast(ImportRecordReader, ReadOnly(self._repos.imports, _IMPORTS))
