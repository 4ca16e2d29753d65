"""Password hashing with argon2id (argon2-cffi): the PasswordHasher port.

Hashes imported from the Django original are verified too (:mod:`movierater_adapters.django_hashes`)
and always need a rehash, so a user's first login stores an argon2id hash instead.
"""

from __future__ import annotations

import threading

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError
from movierater_adapters.django_hashes import is_django_hash, verify_django

# RFC 9106's second recommended profile ("low memory", argon2-cffi's default since 21.2):
# 64 MiB and 3 iterations over 4 lanes. The settings may choose another cost (never below
# OWASP's floor, settings.py); the lanes stay 4.
DEFAULT_MEMORY_KIB = 64 * 1024
DEFAULT_ITERATIONS = 3
_LANES = 4

# One hash or check at a time per process. By default each takes about 0.1 s of four
# threads and 64 MiB; several at once (MOVIERATER_THREADS or
# MOVIERATER_WRITE_THREADS above one) only share the cores slower and starve the process's
# other requests, whose row locks then make a burst of logins or sign-ups wait past the
# lock timeout (503). One at a time is what a worker with one app thread did.
_ONE_AT_A_TIME = threading.Lock()


class Argon2Hasher:
    """argon2id, one hash or check at a time per process. A stored hash made with another
    cost verifies, and needs a rehash (the next login stores one at this cost)."""

    def __init__(
        self,
        *,
        memory_kib: int = DEFAULT_MEMORY_KIB,
        iterations: int = DEFAULT_ITERATIONS,
        engine: _Argon2 | None = None,  # argon2-cffi's hasher, built from the two if not given
    ) -> None:
        self._argon2 = engine or _Argon2(time_cost=iterations, memory_cost=memory_kib, parallelism=_LANES)

    def hash(self, password: str) -> str:
        with _ONE_AT_A_TIME:
            return self._argon2.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        with _ONE_AT_A_TIME:
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
