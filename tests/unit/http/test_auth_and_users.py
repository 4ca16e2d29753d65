"""/auth/ and /api/users/ answers that need no stored user: missing fields and a missing
token, in-process on fakes (moved from tests/integration/test_auth_and_users.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.http.inprocess import USER_PASSWORD, Client, Response

REQUIRED = ["This field is required."]
NO_CREDENTIALS = {"detail": "Authentication credentials were not provided."}


def assert_no_credentials(resp: Response) -> None:
    assert resp.status_code == 401, resp.text
    assert resp.headers.get("WWW-Authenticate") == "Token"
    assert resp.json() == NO_CREDENTIALS


# ---- POST /auth/ ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, errors",
    [
        ({"password": USER_PASSWORD}, {"username": REQUIRED}),
        ({"username": "carol"}, {"password": REQUIRED}),
        ({}, {"username": REQUIRED, "password": REQUIRED}),
    ],
    ids=["no-username", "no-password", "empty-object"],
)
def test_login_with_a_missing_field_is_400(api: Client, body: dict[str, str], errors: Any) -> None:
    resp = api.post("/auth/", json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json() == errors


def test_logout_without_a_token_is_401(api: Client) -> None:
    assert_no_credentials(api.delete("/auth/"))


# ---- POST /api/users/ (registration) ----------------------------------------------------


def test_register_with_missing_fields_is_400(api: Client) -> None:
    resp = api.post("/api/users/", json={})
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"username": REQUIRED, "password": REQUIRED}
