"""Password hashes made by Django, verified without Django, so that imported users keep
their passwords (then :class:`~movierater_adapters.passwords.Argon2Hasher` re-hashes them to ours).

Django's formats (``django.contrib.auth.hashers``): ``pbkdf2_sha256$<iterations>$<salt>$<b64>``,
the same with ``pbkdf2_sha1``, ``argon2$argon2id$...`` (an argon2 hash with Django's prefix),
and unusable passwords: ``!`` followed by random characters, which match no password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError

_PBKDF2 = {"pbkdf2_sha256": "sha256", "pbkdf2_sha1": "sha1"}
# Far above Django's 1,000,000 of 2025, far below what would stall a login for minutes.
_MAX_ITERATIONS = 10_000_000


def is_django_hash(encoded: str) -> bool:
    """Is this one of the formats above (recognised, whether or not it can ever match)?"""
    return encoded.startswith("!") or encoded.split("$", 1)[0] in (*_PBKDF2, "argon2")


def verify_django(encoded: str, password: str, argon2: _Argon2) -> bool:
    """True iff ``password`` matches the Django hash ``encoded``; never raises."""
    if encoded.startswith("!"):
        return False  # Django's set_unusable_password()
    algorithm = encoded.split("$", 1)[0]
    if algorithm == "argon2":
        try:
            return argon2.verify(encoded[len("argon2") :], password)
        except (VerificationError, InvalidHashError):
            return False
    digest_name = _PBKDF2.get(algorithm)
    parts = encoded.split("$")
    if digest_name is None or len(parts) != 4 or not parts[1].isdigit():
        return False
    iterations = int(parts[1])
    if not 0 < iterations <= _MAX_ITERATIONS:
        return False
    computed = hashlib.pbkdf2_hmac(digest_name, password.encode(), parts[2].encode(), iterations)
    return hmac.compare_digest(base64.b64encode(computed).decode("ascii"), parts[3])
