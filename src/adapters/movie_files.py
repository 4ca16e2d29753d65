"""Rows of a movie file, as the API would receive them: CSV (with a header row) or JSON
(a list of objects), chosen by the file's extension. The core validates the rows."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TextIO

FIELDS = ("title", "description", "imagePath")


class UnreadableFile(Exception):
    """The file as a whole cannot be read as movies; the message says why, for a person."""


def read_movie_rows(path: Path) -> list[object]:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise UnreadableFile(
            f"{path}: unknown format {suffix or '(no extension)'!r}: "
            "use .csv (with a header row) or .json (a list of objects)"
        )
    try:
        with path.open(encoding="utf-8-sig", newline="") as file:  # -sig: spreadsheets' BOM
            return _csv(path, file) if suffix == ".csv" else json_list(path, file)
    except OSError as exc:
        raise UnreadableFile(f"{path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _csv(path: Path, file: TextIO) -> list[object]:
    reader = csv.DictReader(file)
    header = reader.fieldnames or []
    if "title" not in header:
        found = ", ".join(repr(name) for name in header) or "nothing"
        raise UnreadableFile(f"{path}: the header row must name a 'title' column (found {found})")
    rows: list[object] = []
    try:
        for row in reader:
            data = {name: row[name] for name in FIELDS if name in row}
            if data.get("imagePath") == "":
                data["imagePath"] = None  # a CSV cell cannot be null: empty means no image
            rows.append(data)
    except csv.Error as exc:
        raise UnreadableFile(f"{path}, line {reader.line_num}: {exc}") from None
    return rows


def json_list(path: Path, file: TextIO) -> list[object]:
    """The JSON list a movies or ratings file holds; :class:`UnreadableFile` otherwise."""
    try:
        data = json.load(file)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(f"{path}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, list):
        raise UnreadableFile(f"{path}: must hold a JSON list of objects, not a {type(data).__name__}")
    return data
