"""Issue 13, items 3 and 7, on every database backend (local storage, through gunicorn):
own-storage URLs in other spellings are checked or refused and stored canonically, and
an upload URL whose object was refused is spent. ``test_uploads.py`` runs the same
attacks on both storage adapters (on SQLite), and the garbage collector's."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import Client
from tests.integration.test_uploads import attack_spellings, attack_spent_upload_url


def test_own_urls_in_other_spellings_are_checked_or_refused(
    admin: Client, user: Client, movie: dict[str, Any]
) -> None:
    attack_spellings(admin, user, movie["id"])


def test_an_upload_url_is_spent_once_its_object_is_refused(
    admin: Client, user: Client, movie: dict[str, Any]
) -> None:
    attack_spent_upload_url(admin, user, movie["id"], "local")
