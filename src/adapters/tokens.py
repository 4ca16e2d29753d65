"""Login token keys: the TokenIssuer port (random keys, stored as SHA-256 digests)."""

from __future__ import annotations

import hashlib
import secrets


class RandomTokenIssuer:
    """40 hex characters from the OS's CSPRNG, as DRF's keys look; SHA-256 for storage."""

    def new_key(self) -> str:
        return secrets.token_hex(20)

    def digest(self, key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()
