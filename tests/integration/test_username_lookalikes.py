"""Look-alike usernames through gunicorn, on every backend (#13 item 6): full-width forms,
ligatures, mathematical letters and superscripts registered as new users beside ``carol``.
Names are now stored NFKC-normalized (as Django stores them), so every spelling of one
name is one account, at registration, rename, login and ``createsuperuser``. Case stays
significant, the same on every backend (MariaDB's column is binary-collated)."""

from __future__ import annotations

import pytest

from tests.integration.conftest import USER_PASSWORD, Client, Server, run_cli, sign_up

TAKEN = {"username": ["A user with that username already exists."]}
LOOK_ALIKES = ["ｃａｒｏｌ", "𝐜𝐚𝐫𝐨𝐥", "𝒸𝒶𝓇ℴ𝓁", "ᶜarol", " ｃａｒｏｌ "]


@pytest.mark.parametrize("spelling", LOOK_ALIKES)
def test_a_look_alike_of_a_taken_name_is_taken(api: Client, spelling: str) -> None:
    carol = sign_up(api.base_url, "carol")
    resp = api.post("/api/users/", json={"username": spelling, "password": USER_PASSWORD})
    assert resp.status_code == 400, resp.text
    assert resp.json() == TAKEN
    other = sign_up(api.base_url, "mallory")
    renamed = other.patch(f"/api/users/{other.user_id}/", json={"username": spelling})
    assert renamed.status_code == 400, renamed.text
    assert renamed.json() == TAKEN
    login = api.post("/auth/", json={"username": spelling, "password": USER_PASSWORD})
    assert login.status_code == 200, login.text  # every spelling of carol is carol
    me = Client(api.base_url, login.json()["token"]).get(f"/api/users/{carol.user_id}/")
    assert me.status_code == 200 and me.json() == {"id": carol.user_id, "username": "carol"}


def test_names_are_stored_in_their_normal_form(api: Client) -> None:
    resp = api.post("/api/users/", json={"username": "ﬁonaⁱ", "password": USER_PASSWORD})
    assert resp.status_code == 201, resp.text
    assert resp.json()["username"] == "fionai"
    assert api.post("/auth/", json={"username": "fionai", "password": USER_PASSWORD}).status_code == 200


def test_case_is_significant_on_every_backend(api: Client) -> None:
    sign_up(api.base_url, "carol")
    resp = api.post("/api/users/", json={"username": "Carol", "password": USER_PASSWORD})
    assert resp.status_code == 201, resp.text
    wrong = api.post("/auth/", json={"username": "CAROL", "password": USER_PASSWORD})
    assert wrong.status_code == 400, wrong.text


def test_createsuperuser_refuses_a_look_alike(api: Client, server: Server) -> None:
    sign_up(api.base_url, "carol")
    result = run_cli(
        "createsuperuser",
        "--username",
        "ｃａｒｏｌ",
        "--noinput",
        env={**server.env, "MOVIERATER_SUPERUSER_PASSWORD": "admin-passphrase-1"},
        check=False,
    )
    assert result.returncode != 0
    assert "already exists" in result.stdout + result.stderr
