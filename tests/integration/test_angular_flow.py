"""The deployed Angular client's calls, in order, through the real gunicorn server.

Each call is sent as the browser sends an Angular ``HttpClient`` request from the SPA on
http://localhost:4200: a CORS preflight first (the Authorization and Content-Type headers
make every call non-simple), then the request with ``Content-Type: application/json``,
``Authorization: Token <key>`` once logged in, and a body made by ``JSON.stringify``.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from tests.integration.conftest import ADMIN_PASSWORD, Client, Server, run_cli

ORIGIN = "http://localhost:4200"
ACCEPT = "application/json, text/plain, */*"  # HttpClient's default Accept


class AngularApi:
    """The client's ApiService: one browser tab with its own token."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.token: str | None = None
        self.session = requests.Session()

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        return headers

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        url = self.base_url + path
        headers = self.headers()
        pre = self.session.options(
            url,
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": ",".join(sorted(h.lower() for h in headers)),
            },
            timeout=30,
        )
        assert 200 <= pre.status_code < 300, (method, path, pre.status_code, pre.text)
        assert pre.headers.get("Access-Control-Allow-Origin") == ORIGIN, (method, path)
        allowed_methods = {
            m.strip().upper() for m in pre.headers.get("Access-Control-Allow-Methods", "").split(",")
        }
        assert method in allowed_methods, (method, path, allowed_methods)
        allowed_headers = {
            h.strip().lower() for h in pre.headers.get("Access-Control-Allow-Headers", "").split(",")
        }
        assert {h.lower() for h in headers} <= allowed_headers, (method, path, allowed_headers)

        data = None if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
        resp = self.session.request(
            method, url, data=data, headers={**headers, "Accept": ACCEPT, "Origin": ORIGIN}, timeout=30
        )
        assert resp.headers.get("Access-Control-Allow-Origin") == ORIGIN, (method, path)
        return resp

    def register(self, username: str, password: str) -> requests.Response:
        return self.call("POST", "/api/users/", {"username": username, "password": password})

    def login(self, username: str, password: str) -> requests.Response:
        resp = self.call("POST", "/auth/", {"username": username, "password": password})
        if resp.status_code == 200:
            self.token = resp.json()["token"]
        return resp

    def get_movies(self) -> requests.Response:
        return self.call("GET", "/api/movies/")

    def get_movie(self, movie_id: int) -> requests.Response:
        return self.call("GET", f"/api/movies/{movie_id}/")

    def create_movie(self, title: str, description: str) -> requests.Response:
        return self.call("POST", "/api/movies/", {"title": title, "description": description})

    def update_movie(self, movie_id: int, title: str, description: str) -> requests.Response:
        return self.call("PUT", f"/api/movies/{movie_id}/", {"title": title, "description": description})

    def rate_movie(self, movie_id: int, stars: int) -> requests.Response:
        return self.call("POST", f"/api/movies/{movie_id}/rate_movie/", {"stars": stars})

    def delete_movie(self, movie_id: int) -> requests.Response:
        return self.call("DELETE", f"/api/movies/{movie_id}/")


def test_the_angular_client_flow(api: Client, server: Server) -> None:
    viewer = AngularApi(server.base_url)
    editor = AngularApi(server.base_url)
    run_cli(
        "createsuperuser",
        "--username",
        "editor",
        "--noinput",
        env={**server.env, "MOVIERATER_SUPERUSER_PASSWORD": ADMIN_PASSWORD},
    )

    # auth component: register, then log in
    registered = viewer.register("moviefan", "popcorn-and-1-soda")
    assert registered.status_code == 201, registered.text
    assert set(registered.json()) == {"id", "username"}
    assert registered.json()["username"] == "moviefan"

    logged_in = viewer.login("moviefan", "popcorn-and-1-soda")
    assert logged_in.status_code == 200, logged_in.text
    assert list(logged_in.json()) == ["token"]
    assert len(viewer.token or "") == 40

    # main component: the list, empty at first
    first = viewer.get_movies()
    assert first.status_code == 200, first.text
    assert first.json() == []

    # an admin's tab: log in, create, open, edit
    assert editor.login("editor", ADMIN_PASSWORD).status_code == 200
    created = editor.create_movie("Alien", "In space no one can hear you scream.")
    assert created.status_code == 201, created.text
    movie = created.json()
    assert angular(movie) == {
        "id": movie["id"],
        "title": "Alien",
        "description": "In space no one can hear you scream.",
        "imagePath": None,
        "no_of_ratings": 0,
        "ave_ratings": 0,
    }
    # issue 17 item 4 added fields after the client's, which it ignores; none of its changed
    assert list(movie)[6:] == ["score", "histogram"]
    assert movie["histogram"] == [0, 0, 0, 0, 0]

    opened = editor.get_movie(movie["id"])
    assert opened.status_code == 200, opened.text
    assert opened.json() == movie

    updated = editor.update_movie(movie["id"], "Alien (1979)", "Director's cut — in space.")
    assert updated.status_code == 200, updated.text
    assert updated.json() == {**movie, "title": "Alien (1979)", "description": "Director's cut — in space."}

    # the viewer rates it from the details component
    rated = viewer.rate_movie(movie["id"], 4)
    assert rated.status_code == 200, rated.text
    assert rated.json()["message"] == "Rating created!"
    result = rated.json()["result"]
    assert {k: result[k] for k in ("id", "stars", "user", "movie")} == {
        "id": result["id"],
        "stars": 4,
        "user": registered.json()["id"],
        "movie": movie["id"],
    }
    assert list(result)[4:] == ["created", "changed"]  # issue 17 item 3, after the client's fields

    listed = viewer.get_movies()
    assert listed.status_code == 200, listed.text
    assert [angular(m) for m in listed.json()] == [
        {**angular(updated.json()), "no_of_ratings": 1, "ave_ratings": 4.0}
    ]
    assert listed.json()[0]["histogram"] == [0, 0, 0, 1, 0]

    # the admin deletes it; the list no longer has it
    deleted = editor.delete_movie(movie["id"])
    assert deleted.status_code == 204, deleted.text
    assert deleted.content == b""

    final = viewer.get_movies()
    assert final.status_code == 200, final.text
    assert final.json() == []
    gone = viewer.get_movie(movie["id"])
    assert gone.status_code == 404, gone.text
    assert gone.json() == {"detail": "Not found."}


def angular(movie: dict[str, Any]) -> dict[str, Any]:
    """The fields of a movie the Angular client reads (the original's), in its order."""
    fields = ("id", "title", "description", "imagePath", "no_of_ratings", "ave_ratings")
    assert list(movie)[:6] == list(fields)
    return {k: movie[k] for k in fields}
