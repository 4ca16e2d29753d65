"""Domain errors. Use cases raise these; entry points translate them (HTTP, CLI).

None of them knows about HTTP: the messages are the ones a client sees, in the
words Django REST Framework used, because existing clients display them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class DomainError(Exception):
    """Base class of every error a use case raises on purpose."""


class ValidationError(DomainError):
    """Input broke a rule: ``errors`` maps a field name (or ``non_field_errors``) to messages."""

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors: dict[str, list[str]] = {field: list(msgs) for field, msgs in errors.items()}
        super().__init__(self.errors)

    @classmethod
    def single(cls, field: str, message: str) -> ValidationError:
        return cls({field: [message]})


class StarsMissing(DomainError):
    """A rating request came without ``stars`` at all (the original answered with a message)."""

    message = "You need to provide stars"


class NotFound(DomainError):
    """The thing asked for does not exist (or the actor may not know it exists)."""

    def __init__(self, what: str = "Not found.") -> None:
        self.detail = what
        super().__init__(what)


class NotAuthenticated(DomainError):
    """No credentials, or credentials that do not identify anyone."""

    NO_CREDENTIALS = "Authentication credentials were not provided."
    INVALID_TOKEN = "Invalid token."

    def __init__(self, detail: str = NO_CREDENTIALS) -> None:
        self.detail = detail
        super().__init__(detail)


class PermissionDenied(DomainError):
    """The actor is known but may not do this."""

    detail = "You do not have permission to perform this action."


class PreconditionFailed(DomainError):
    """The caller made a change conditional on the thing's state (HTTP's ``If-Match``), and
    the thing is no longer in that state: someone changed it since. Nothing was changed."""

    detail = "The movie has changed since you read it: read it again, then make your change."


class RateLimited(DomainError):
    """Too many requests of one kind; ``retry_after`` seconds until the next is allowed."""

    def __init__(self, detail: str, retry_after: int) -> None:
        self.detail = detail
        self.retry_after = retry_after
        super().__init__(detail)


class UsernameTaken(DomainError):
    """Raised by a user repository when a username is already in use."""


class DuplicateRating(DomainError):
    """Raised by a rating repository when (user, movie) already has a rating: a lost race."""


class ReferenceGone(DomainError):
    """Raised by a repository's insert when a row it refers to (a user, a movie) does not
    exist: a concurrent transaction deleted it. Not worth running again: the use case
    answers as it would have just after the deletion (401, 404, bad credentials)."""


class AlreadyStored(DomainError):
    """Raised by a repository's bulk insert when a row's unique key is taken (another writer
    got there first); the transaction must be abandoned."""


class ImportCollision(DomainError):
    """An import's batch met rows that another writer (most likely a second import running
    at the same time) stored meanwhile. The batch was rolled back; what earlier batches
    imported stays, and running the import again goes on from there."""

    message = "another import is running (or a user here wrote the same rows at the same time)"


class ConcurrencyConflict(DomainError):
    """A transaction lost a race (deadlock, serialization failure): safe to run again."""


class ServiceUnavailable(DomainError):
    """A backing service (database, storage) cannot be reached right now."""

    def __init__(self, detail: str, retry_after: int = 5) -> None:
        self.detail = detail
        self.retry_after = retry_after
        super().__init__(detail)
