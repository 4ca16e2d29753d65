"""``MISSING``: a field that was not given at all, told apart from one given as ``null``."""

from __future__ import annotations

import enum
from typing import Final


class Missing(enum.Enum):
    """A one-member Enum, so that ``value is MISSING`` narrows ``T | Missing`` to ``T`` for mypy
    (an instance of a plain class cannot be narrowed that way)."""

    MISSING = "MISSING"

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = Missing.MISSING
