"""Password hashing with argon2id (argon2-cffi): the PasswordHasher port.

Hashes imported from the Django original are verified too (:mod:`movierater_adapters.django_hashes`)
and always need a rehash, so a user's first login stores an argon2id hash instead.
"""

from __future__ import annotations

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError
from movierater_adapters.django_hashes import is_django_hash, verify_django


class Argon2Hasher:
    """argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile)."""

    def __init__(self, hasher: _Argon2 | None = None) -> None:
        self._argon2 = hasher or _Argon2()

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        if is_django_hash(password_hash):
            return verify_django(password_hash, password, self._argon2)
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        if is_django_hash(password_hash):
            return True
        try:
            return self._argon2.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def recognises(self, password_hash: str) -> bool:
        """Ours (argon2) or a Django format: a hash that ``verify`` can check."""
        return is_django_hash(password_hash) or password_hash.startswith("$argon2")
