"""Ids in paths, read by the core's rule, the one ``?movie=`` and ``?user=`` are read by."""

from __future__ import annotations

from falcon.routing import BaseConverter

from movierater_core.rules import id_in_text


class IdConverter(BaseConverter):
    """``{movie_id:id}``: ``6`` and ``0006`` are 6; ``+6``, `` 6``, ``٦`` or ``2147483648``
    match no route (404), where Falcon's ``int`` converter read ``+6`` and ``٦`` as 6."""

    def convert(self, value: str) -> int | None:
        return id_in_text(value)
