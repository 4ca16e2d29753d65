"""Ratings files: what an export writes (JSON or CSV) and what an import reads back.

A row is ``movie`` (the id here), ``title``, ``stars``; an export of everyone's ratings
puts ``user`` (the id here) and ``username`` first. JSON is a list of objects, written one
object a line; CSV has a header row, and a text cell that a spreadsheet would run as a
formula is written after an apostrophe (read back without it). Writers take an iterable
and write as they go, so an export of any size holds one row at a time. The CSV reader
streams too; a JSON file is read whole (CSV for very large files). The core validates the
rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Final, TextIO

import orjson
from movierater_adapters.movie_files import UnreadableFile, json_list

from movierater_core.model import ExportedRating

ONE_USER: Final = ("movie", "title", "stars")
EVERYONE: Final = ("user", "username", *ONE_USER)
FORMATS: Final = ("json", "csv")
# What a spreadsheet takes a cell beginning with to be a formula (OWASP, "CSV Injection"):
# a title such as =HYPERLINK(...) would run when the export is opened. Such a text cell is
# written after an apostrophe, which spreadsheets show as text, and read back without it.
# The apostrophe is one of them, so that a title beginning with one comes back whole.
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r", "'")


def record(rating: ExportedRating, *, with_user: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"user": rating.user_id, "username": rating.username} if with_user else {}
    row.update(movie=rating.movie_id, title=rating.title, stars=rating.stars.value)
    return row


def write(ratings: Iterable[ExportedRating], out: TextIO, file_format: str, *, with_user: bool) -> int:
    """Write the ratings to ``out`` as they come; how many were written."""
    written = 0
    if file_format == "csv":
        # Lines end in CRLF, as RFC 4180 has them: the writer then also quotes a cell that
        # holds a lone CR (a title may), which it wrote bare with "\n" lines, and which
        # ended the row there for every reader.
        writer = csv.DictWriter(out, EVERYONE if with_user else ONE_USER, lineterminator="\r\n")
        writer.writeheader()
        for rating in ratings:
            row = record(rating, with_user=with_user)
            writer.writerow(
                {name: inert(value) if isinstance(value, str) else value for name, value in row.items()}
            )
            written += 1
        return written
    out.write("[")
    for rating in ratings:
        out.write(",\n" if written else "\n")
        out.write(orjson.dumps(record(rating, with_user=with_user)).decode())
        written += 1
    out.write("\n]\n" if written else "]\n")
    return written


def inert(text: str) -> str:
    """The text as a CSV cell no spreadsheet runs: after an apostrophe if it begins as a
    formula would (:data:`FORMULA_STARTS`)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def as_written(cell: str) -> str:
    """The text an :func:`inert` cell was made from (other cells as they are)."""
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA_STARTS) else cell


def to_bytes(ratings: Iterable[ExportedRating], file_format: str, *, with_user: bool) -> bytes:
    out = io.StringIO()
    write(ratings, out, file_format, with_user=with_user)
    return out.getvalue().encode()


def format_of(path: Path, chosen: str | None) -> str:
    """``chosen``, else the file's extension (``.json``/``.csv``)."""
    if chosen is not None:
        return chosen
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise UnreadableFile(
            f"{path}: unknown format {path.suffix or '(no extension)'!r}: "
            "use .csv (with a header row) or .json (a list of objects), or pass --format"
        )
    return suffix


def read_rating_rows(path: Path, file_format: str) -> Iterator[tuple[str, object]]:
    """(where, row) pairs, ``where`` being "line N" of a CSV file (the line its row ends
    on) or "row N" of a JSON list. Raises :class:`UnreadableFile` for a file that cannot
    be read as ratings at all (at the start, or where a CSV file stops making sense)."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:  # -sig: spreadsheets' BOM
            if file_format == "csv":
                yield from _csv(path, file)
            else:
                yield from _json(path, file)
    except OSError as exc:
        raise UnreadableFile(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _csv(path: Path, file: TextIO) -> Iterator[tuple[str, object]]:
    reader = csv.DictReader(file)
    header = reader.fieldnames or []
    if "stars" not in header or not {"movie", "title"} & set(header):
        found = ", ".join(repr(name) for name in header) or "nothing"
        raise UnreadableFile(
            f"{path}: the header row must name 'stars' and 'movie' or 'title' columns (found {found})"
        )
    try:
        for row in reader:
            yield f"line {reader.line_num}", _cells(row)
    except csv.Error as exc:
        raise UnreadableFile(f"{path}, line {reader.line_num}: {exc}") from None


def _cells(row: dict[str, str | None]) -> dict[str, object]:
    """A CSV row as the JSON one would be: an empty cell is no value; ``stars`` written as
    a whole number is that number (other text stays text, for the core to refuse); text
    written inert is read as it was before (:func:`as_written`)."""
    data: dict[str, object] = {}
    for name in EVERYONE:
        cell = row.get(name)
        if cell is None or cell == "":
            continue
        if name == "stars" and cell.strip().isascii() and cell.strip().isdigit():
            data[name] = int(cell)
        else:
            data[name] = as_written(cell)
    return data


def _json(path: Path, file: TextIO) -> Iterator[tuple[str, object]]:
    for number, row in enumerate(json_list(path, file), start=1):
        yield f"row {number}", row
