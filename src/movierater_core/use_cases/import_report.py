"""What an import reports, shared by the Django import and the movie-file import.

Every row ends in exactly one bucket: added, already there, changed in the source since
an earlier import (left as it is here), or rejected with the reason. Nothing is dropped
without a line in the report.
"""

from __future__ import annotations

from attrs import Factory, define, frozen

from movierater_core.errors import ValidationError


@frozen
class Problem:
    where: str  # e.g. "row 3", "movie 17" (the source's id)
    reason: str


@define
class Tally:
    """The outcome of one kind of row."""

    added: int = 0
    already: int = 0
    changed: list[Problem] = Factory(list)
    rejected: list[Problem] = Factory(list)

    def merge(self, other: Tally) -> None:
        self.added += other.added
        self.already += other.already
        self.changed.extend(other.changed)
        self.rejected.extend(other.rejected)

    @property
    def complete(self) -> bool:
        """Everything in the source is here as it is there."""
        return not self.changed and not self.rejected


def describe(error: ValidationError) -> str:
    """One line from a field -> messages mapping, e.g. ``title: This field is required.``"""
    return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in error.errors.items())
