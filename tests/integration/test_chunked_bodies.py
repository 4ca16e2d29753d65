"""Bodies sent with ``Transfer-Encoding: chunked`` through gunicorn (#13 item 5): they were
read as ``{}``, so a PATCH answered 200 and changed nothing. Now they are read within the
same 1 MiB limit, and the local upload route, which needs the length up front, says 411."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import requests

from tests.integration.conftest import Client, World

MIB = 1024 * 1024


def chunks(raw: bytes, size: int = 7) -> Iterator[bytes]:
    """A generator: requests sends it chunked, with no Content-Length."""
    for start in range(0, len(raw), size):
        yield raw[start : start + size]


def chunked(client: Client, method: str, path: str, raw: bytes) -> requests.Response:
    return client.request(method, path, data=chunks(raw), headers={"Content-Type": "application/json"})


def test_a_chunked_patch_changes_the_movie(world: World) -> None:
    movie = world.new_movie(title="Before")
    resp = chunked(world.admin, "PATCH", f"/api/movies/{movie['id']}/", b'{"title": "After"}')
    assert resp.request.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in resp.request.headers
    assert resp.status_code == 200, resp.text
    assert resp.json()["title"] == "After"
    assert world.admin.get(f"/api/movies/{movie['id']}/").json()["title"] == "After"


def test_a_chunked_body_is_validated_like_any_other(world: World) -> None:
    resp = chunked(world.admin, "POST", "/api/movies/", b'{"title": ""}')
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"title": ["This field may not be blank."]}
    resp = chunked(world.admin, "POST", "/api/movies/", b'{"title": ')
    assert resp.status_code == 400, resp.text


def test_a_chunked_body_over_one_mib_is_413(world: World) -> None:
    raw = json.dumps({"title": "t" * MIB}).encode()
    resp = chunked(world.admin, "POST", "/api/movies/", raw)
    assert resp.status_code == 413, resp.text
    assert list(resp.json()) == ["detail"]


def test_a_chunked_body_of_just_under_one_mib_is_read(world: World) -> None:
    raw = json.dumps({"title": "t" * (MIB - 100)}).encode()
    assert len(raw) <= MIB
    resp = chunked(world.admin, "POST", "/api/movies/", raw)
    assert resp.status_code == 400, resp.text
    assert resp.json() == {"title": ["Ensure this field has no more than 150 characters."]}


def test_a_chunked_local_upload_is_411_and_stores_nothing(world: World) -> None:
    data = b"\x89PNG\r\n\x1a\n" + b"\0" * 100
    offer = world.user.post(
        "/api/movies/get_upload_url/",
        json={
            "filename": "p.png",
            "contentType": "image/png",
            "fileSize": len(data),
            "fileHash": hashlib.sha256(data).hexdigest(),
        },
    )
    assert offer.status_code == 200, offer.text
    url = offer.json()["upload_url"]
    resp = requests.put(url, data=chunks(data), headers={"Content-Type": "image/png"}, timeout=30)
    assert resp.status_code == 411, resp.text
    assert world.anon.get(f"/media/movies/{url.split('/uploads/')[1].split('?')[0]}").status_code == 404
