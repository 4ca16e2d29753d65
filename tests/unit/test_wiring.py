"""The composition root builds the same app with fakes in place of every adapter: the HTTP
layer then runs in-process, with no database, storage or argon2."""

from __future__ import annotations

from falcon import testing
from movierater_entrypoints.bootstrap import build_container
from movierater_entrypoints.http import create_app
from movierater_entrypoints.settings import Settings

from movierater_core.ports import Database
from movierater_core.use_cases import Movies, Ratings
from tests.unit.fakes import (
    InMemoryDatabase,
)
from tests.unit.http.inprocess import fake_container


def make_client() -> tuple[testing.TestClient, InMemoryDatabase]:
    container, db = fake_container()
    return testing.TestClient(create_app(container)), db


def test_the_container_wires_use_cases_to_the_given_fakes() -> None:
    db = InMemoryDatabase()
    container = build_container(Settings(), overrides={Database: db})
    assert container.resolve(Database) is db
    assert container.resolve(Movies) is container.resolve(Movies)  # one per process
    assert isinstance(container.resolve(Ratings), Ratings)


def test_register_login_rate_through_the_http_layer_on_fakes() -> None:
    client, db = make_client()
    created = client.simulate_post("/api/users/", json={"username": "ann", "password": "a fine passphrase"})
    assert created.status_code == 201 and created.json == {"id": 1, "username": "ann"}
    token = client.simulate_post("/auth/", json={"username": "ann", "password": "a fine passphrase"}).json[
        "token"
    ]
    assert len(token) == 40
    auth = {"Authorization": f"Token {token}"}
    assert client.simulate_get("/api/movies/", headers=auth).json == []
    assert client.simulate_post("/api/movies/", headers=auth, json={"title": "X"}).status_code == 403
    assert (
        client.simulate_post("/api/movies/1/rate_movie/", headers=auth, json={"stars": 3}).status_code == 404
    )
    assert set(db.state.users) == {1} and db.state.movies == {}
