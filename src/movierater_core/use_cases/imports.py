"""The import of movies from a file (CSV or JSON rows), and the batching both imports share.

What it reports is :mod:`movierater_core.use_cases.import_report`'s: every row in
exactly one bucket, nothing dropped without a line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import TypeVar

from movierater_core.errors import ValidationError
from movierater_core.model import MovieFields
from movierater_core.ports import Database
from movierater_core.use_cases._common import retrying
from movierater_core.use_cases.import_report import Problem, Tally, describe
from movierater_core.use_cases.movies import parse_movie
from movierater_core.use_cases.uploads import Uploads

T = TypeVar("T")

# Rows per transaction: few enough to keep each transaction short while the service is
# live (and under SQL Server's 2,100 parameters for an IN list), many enough that a
# commit per batch costs little.
BATCH = 500


def batches(rows: Iterable[T], size: int = BATCH) -> Iterator[Sequence[T]]:
    batch: list[T] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class MovieImport:
    """Movies from rows of a file (``title``, ``description``, ``imagePath``), validated as
    the API validates a new movie. Idempotent by title: a title that exists is skipped."""

    def __init__(self, db: Database, uploads: Uploads) -> None:
        self._db = db
        self._uploads = uploads

    def run(self, rows: Iterable[object], progress: Callable[[int], None] = lambda _n: None) -> Tally:
        tally = Tally()
        with self._db.reading() as repos:
            titles = {movie.title for movie in repos.movies.list()}
        numbered = enumerate(rows, start=1)
        for batch in batches(numbered):
            new: list[MovieFields] = []
            for number, data in batch:
                try:
                    fields = self._uploads.with_checked_poster(parse_movie(data, partial=False))
                except ValidationError as exc:
                    tally.rejected.append(Problem(f"row {number}", describe(exc)))
                    continue
                title = fields.new_movie()[0]  # parsed as new, so it has one
                if title in titles:
                    tally.already += 1
                    continue
                titles.add(title)
                new.append(fields)
            if new:
                retrying(partial(self._add, new))
                tally.added += len(new)
            progress(len(batch))
        return tally

    def _add(self, new: Sequence[MovieFields]) -> None:
        with self._db.writing() as repos:
            repos.movies.add_many(new)
