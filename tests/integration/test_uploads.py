"""Poster uploads end to end, the same suite for both storage adapters: local (the app
receives signed uploads itself) and S3 (LocalStack with signature validation on).

Each test asks for an upload URL through the real app, sends bytes where it says, and
tries to break one layer: authentication, rate limit, size, type, real content, names,
expiry, overwrite, deduplication.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from PIL import Image
from sqlalchemy import create_engine, text

from tests.integration.backends import unavailable
from tests.integration.conftest import Client, Server, free_port, make_admin, run_cli, sign_up

S3_ENDPOINT = os.environ.get("MOVIERATER_TEST_S3_ENDPOINT", "http://127.0.0.1:4566")
AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
    "AWS_DEFAULT_REGION": "us-east-1",
}
MB = 1024 * 1024


def png(width: int = 40, height: int = 30, seed: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (seed % 256, 20, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def s3_client() -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=S3_ENDPOINT,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def _s3_env(tmp_path: Any) -> dict[str, str]:
    try:
        requests.get(S3_ENDPOINT + "/_localstack/health", timeout=3).raise_for_status()
    except requests.RequestException as exc:
        unavailable("s3", f"no S3 emulator at {S3_ENDPOINT} ({exc}); start it with scripts/s3-emulator start")
    bucket = f"movierater-test-{uuid.uuid4().hex[:10]}"
    s3_client().create_bucket(Bucket=bucket)
    return {
        "MOVIERATER_STORAGE": "s3",
        "MOVIERATER_S3_BUCKET": bucket,
        "MOVIERATER_S3_ENDPOINT_URL": S3_ENDPOINT,
        "MOVIERATER_S3_REGION": "us-east-1",
        **AWS_ENV,
    }


class Deployment:
    """A server with its own SQLite database and storage, and an admin on it."""

    def __init__(self, kind: str, tmp_path: Any, **extra_env: str) -> None:
        self.kind = kind
        env = _s3_env(tmp_path) if kind == "s3" else {"MOVIERATER_MEDIA_DIR": str(tmp_path / "media")}
        env.update(extra_env)
        url = f"sqlite:///{tmp_path / 'uploads.db'}"
        self.database_url = url
        run_cli("migrate", env={"MOVIERATER_DATABASE_URL": url})
        self.server = Server(url, tmp_path, **env)
        self.base_url = self.server.base_url
        self.admin = make_admin(self.server)
        created = self.admin.post("/api/movies/", json={"title": "Poster test"})
        assert created.status_code == 201, created.text
        self.movie_id = created.json()["id"]

    def env(self) -> dict[str, str]:
        return self.server.env


@pytest.fixture(scope="module", params=["local", "s3"])
def deployment(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    dep = Deployment(request.param, tmp_path_factory.mktemp(f"uploads-{request.param}"))
    yield dep
    dep.server.stop()


@pytest.fixture
def uploader(deployment: Deployment) -> Client:
    """A fresh user (the rate limit is per user)."""
    return sign_up(deployment.base_url)


def ask(client: Client, data: bytes | None = None, **body: Any) -> requests.Response:
    """POST /api/movies/get_upload_url/ for ``data`` (filename/type/size/hash filled in)."""
    payload: dict[str, Any] = {"filename": "poster.png", "contentType": "image/png"}
    if data is not None:
        payload |= {"fileSize": len(data), "fileHash": hashlib.sha256(data).hexdigest()}
    payload |= body
    return client.post(
        "/api/movies/get_upload_url/", json={k: v for k, v in payload.items() if v is not None}
    )


def send(offer: dict[str, Any], data: bytes, headers: dict[str, str] | None = None) -> requests.Response:
    """Upload as a client would: PUT with the given headers, or the form POST with its fields."""
    if offer["method"] == "PUT":
        return requests.put(
            offer["upload_url"],
            data=data,
            headers=headers if headers is not None else offer["headers"],
            timeout=60,
        )
    content_type = offer["fields"].get("Content-Type", "application/octet-stream")
    return requests.post(
        offer["upload_url"], data=offer["fields"], files={"file": ("f", data, content_type)}, timeout=60
    )


def tags(deployment: Deployment, key: str) -> list[dict[str, str]]:
    bucket = deployment.env()["MOVIERATER_S3_BUCKET"]
    return list(s3_client().get_object_tagging(Bucket=bucket, Key=key)["TagSet"])


def set_poster(client: Client, movie_id: int, url: str) -> requests.Response:
    return client.patch(f"/api/movies/{movie_id}/", json={"imagePath": url})


# ---- the happy paths -----------------------------------------------------------------------


def test_upload_then_use_as_poster_then_fetch_the_same_bytes(
    deployment: Deployment, uploader: Client
) -> None:
    data = png(seed=1)
    granted = ask(uploader, data)
    assert granted.status_code == 200, granted.text
    offer = granted.json()
    assert set(offer) == {
        "upload_url",
        "method",
        "headers",
        "fields",
        "key",
        "public_url",
        "max_size_mb",
        "uploads_remaining",
        "deduplicated",
        "expires_in",
    }
    assert offer["method"] == "PUT" and offer["max_size_mb"] == 5 and offer["deduplicated"] is False
    assert offer["expires_in"] == 3600 and offer["uploads_remaining"] == 9
    assert offer["key"] == "media/movies/" + hashlib.sha256(data).hexdigest() + ".png"  # content-addressed
    assert send(offer, data).status_code in (200, 201)
    if deployment.kind == "s3":  # a stray until checked: the lifecycle rule's tag
        assert tags(deployment, offer["key"]) == [{"Key": "movierater", "Value": "pending"}]
    patched = set_poster(deployment.admin, deployment.movie_id, offer["public_url"])
    assert patched.status_code == 200, patched.text
    if deployment.kind == "s3":
        assert tags(deployment, offer["key"]) == []
    assert patched.json()["imagePath"] == offer["public_url"]
    fetched = requests.get(offer["public_url"], timeout=30)
    assert fetched.status_code == 200 and fetched.content == data
    if deployment.kind == "local":
        assert fetched.headers["Content-Type"] == "image/png"
        assert fetched.headers["X-Content-Type-Options"] == "nosniff"
        assert "max-age=31536000" in fetched.headers["Cache-Control"]


def test_without_file_size_the_upload_is_still_size_limited(deployment: Deployment, uploader: Client) -> None:
    granted = ask(uploader, None, filename="p.png")
    assert granted.status_code == 200, granted.text
    offer = granted.json()
    # S3: a POST policy with content-length-range; local: a PUT capped at 5 MB
    assert offer["method"] == ("POST" if deployment.kind == "s3" else "PUT")
    assert len(offer["key"].rsplit("/", 1)[1]) == len(uuid.uuid4().hex) + len(".png")  # random name
    too_big = send(offer, b"\x89PNG" + b"0" * (5 * MB + 10))
    assert too_big.status_code in (400, 413), too_big.text
    data = png(seed=2)
    assert send(offer, data).status_code in (200, 201, 204)
    assert set_poster(deployment.admin, deployment.movie_id, offer["public_url"]).status_code == 200
    assert requests.get(offer["public_url"], timeout=30).content == data


def test_dedup_of_a_verified_upload_needs_no_upload_at_all(deployment: Deployment, uploader: Client) -> None:
    data = png(seed=3)
    first = ask(uploader, data).json()
    assert send(first, data).status_code in (200, 201)
    assert set_poster(deployment.admin, deployment.movie_id, first["public_url"]).status_code == 200
    other = sign_up(deployment.base_url)
    again = ask(other, data)
    assert again.status_code == 200
    body = again.json()
    assert body["deduplicated"] is True and body["upload_url"] is None and body["method"] is None
    assert body["public_url"] == first["public_url"]
    assert body["uploads_remaining"] == 10  # a deduplicated answer grants nothing


def test_external_urls_stay_allowed(deployment: Deployment) -> None:
    response = set_poster(deployment.admin, deployment.movie_id, "https://images.example.org/alien.jpg")
    assert (
        response.status_code == 200 and response.json()["imagePath"] == "https://images.example.org/alien.jpg"
    )


# ---- each layer, attacked --------------------------------------------------------------------


def test_layer1_authentication(deployment: Deployment) -> None:
    response = requests.post(
        deployment.base_url + "/api/movies/get_upload_url/",
        json={"filename": "a.png", "contentType": "image/png", "fileSize": 10},
        timeout=30,
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_layer2_rate_limit_holds_under_concurrency(deployment: Deployment, uploader: Client) -> None:
    barrier = threading.Barrier(12)

    def one(i: int) -> requests.Response:
        barrier.wait()
        return ask(uploader, None, filename=f"p{i}.png", fileSize=100)

    with ThreadPoolExecutor(max_workers=12) as pool:
        responses = list(pool.map(one, range(12)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 10 + [429] * 2
    remaining = sorted(r.json()["uploads_remaining"] for r in responses if r.status_code == 200)
    assert remaining == list(range(10))
    refused = next(r for r in responses if r.status_code == 429)
    assert 3500 <= int(refused.headers["Retry-After"]) <= 3600
    assert "10 upload URLs per hour" in refused.json()["detail"]


def test_layer3_size(deployment: Deployment, uploader: Client) -> None:
    declared_too_big = ask(uploader, None, fileSize=5 * MB + 1)
    assert declared_too_big.status_code == 400
    assert declared_too_big.json() == {"fileSize": ["The file is too large: at most 5 MB."]}
    for bad in (0, -5, "100", 2.5, True):
        assert ask(uploader, None, fileSize=bad).status_code == 400
    data = png(seed=4)
    offer = ask(uploader, None, fileSize=len(data)).json()
    longer = send(offer, data + b"extra bytes")
    assert longer.status_code in (400, 403, 413), longer.text
    shorter = send(offer, data[:-5])
    assert shorter.status_code in (400, 403), shorter.text


def test_layer4_type(deployment: Deployment, uploader: Client) -> None:
    assert ask(uploader, None, filename="a.jpg", contentType="image/png", fileSize=10).json() == {
        "filename": ["The file extension must match image/png: .png."]
    }
    for content_type in ("text/html", "image/svg+xml", "application/octet-stream"):
        refused = ask(uploader, None, filename="a.png", contentType=content_type, fileSize=10)
        assert refused.status_code == 400 and "contentType" in refused.json()
    assert ask(uploader, None, filename="noextension", fileSize=10).status_code == 400
    assert (
        ask(uploader, None, filename="photo.JPEG", contentType="image/jpeg", fileSize=10).status_code == 200
    )
    data = png(seed=5)
    offer = ask(uploader, data).json()
    other_type = send(offer, data, headers={**offer["headers"], "Content-Type": "text/html"})
    assert other_type.status_code == 403, other_type.text


def test_layer5_disguised_html_is_refused_and_deleted(deployment: Deployment, uploader: Client) -> None:
    html = b"<!doctype html><script>alert(document.cookie)</script>" + b" " * 200
    offer = ask(uploader, html).json()
    assert send(offer, html).status_code in (200, 201)  # storage cannot know; we check after
    refused = set_poster(deployment.admin, deployment.movie_id, offer["public_url"])
    assert refused.status_code == 400
    assert refused.json() == {"imagePath": ["The uploaded file is not a valid PNG image."]}
    assert requests.get(offer["public_url"], timeout=30).status_code in (403, 404)  # deleted
    movie = deployment.admin.get(f"/api/movies/{deployment.movie_id}/").json()
    assert movie["imagePath"] != offer["public_url"]


def test_layer5_absurd_dimensions_are_refused(deployment: Deployment, uploader: Client) -> None:
    huge = png(width=30_000, height=1)
    offer = ask(uploader, huge).json()
    assert send(offer, huge).status_code in (200, 201)
    refused = set_poster(deployment.admin, deployment.movie_id, offer["public_url"])
    assert refused.status_code == 400 and "pixels" in refused.json()["imagePath"][0]


def test_layer5_own_url_that_was_never_uploaded(deployment: Deployment, uploader: Client) -> None:
    offer = ask(uploader, png(seed=6)).json()
    refused = set_poster(deployment.admin, deployment.movie_id, offer["public_url"])
    assert refused.status_code == 400
    assert refused.json() == {"imagePath": ["The uploaded image was not found: upload the file first."]}


def test_layer6_tampered_bytes_never_land_and_nothing_is_overwritten(
    deployment: Deployment, uploader: Client
) -> None:
    data = png(seed=7)
    offer = ask(uploader, data).json()
    assert "poster" not in offer["key"]  # never the user's filename
    tampered = bytes([data[0] ^ 1]) + data[1:]
    bad = send(offer, tampered)
    assert bad.status_code in (400, 403), bad.text  # BadDigest: the bytes are not the hash's
    assert send(offer, data).status_code in (200, 201)
    again = send(offer, data)  # the same URL once more: the object exists
    assert again.status_code in (409, 412), again.text


def test_layer7_expired_upload_urls_are_refused(tmp_path: Any, deployment: Deployment) -> None:
    short = Deployment(deployment.kind, tmp_path, MOVIERATER_UPLOAD_URL_TTL="1")
    try:
        client = sign_up(short.base_url)
        data = png(seed=8)
        offer = ask(client, data).json()
        assert offer["expires_in"] == 1
        time.sleep(2.5)
        expired = send(offer, data)
        assert expired.status_code == 403, expired.text
    finally:
        short.server.stop()


def test_gc_uploads_removes_only_unreferenced_objects(deployment: Deployment, uploader: Client) -> None:
    used, stray = png(seed=9), png(seed=10)
    used_offer, stray_offer = ask(uploader, used).json(), ask(uploader, stray).json()
    assert send(used_offer, used).status_code in (200, 201)
    assert send(stray_offer, stray).status_code in (200, 201)
    assert set_poster(deployment.admin, deployment.movie_id, used_offer["public_url"]).status_code == 200
    kept = run_cli(
        "gc-uploads", "--older-than", "24h", env=deployment.env(), cwd=deployment.server.log.parent
    )
    assert "Removed 0 unused upload(s)." in kept.stdout
    swept = run_cli(
        "gc-uploads", "--older-than", "0s", env=deployment.env(), cwd=deployment.server.log.parent
    )
    assert stray_offer["key"].rsplit("/", 1)[1] in swept.stdout
    assert used_offer["key"].rsplit("/", 1)[1] not in swept.stdout
    assert requests.get(used_offer["public_url"], timeout=30).content == used
    assert requests.get(stray_offer["public_url"], timeout=30).status_code in (403, 404)


# ---- own-storage URLs in other spellings; a refused upload's URL is spent (issue 13) -----

NOT_A_PNG = {"imagePath": ["The uploaded file is not a valid PNG image."]}
NOT_UPLOADED = {"imagePath": ["The uploaded image was not found: upload the file first."]}
SPENT = {
    "imagePath": [
        "This upload was refused by the content check; its upload URL is spent: upload the file again."
    ]
}


def spellings(public_url: str) -> list[str]:
    """Other spellings of one of our public URLs that lead to the same object."""
    scheme, rest = public_url.split("://", 1)
    host, path = rest.split("/", 1)
    head, name = public_url.rsplit("/", 1)
    return [
        public_url + "?v=2",
        public_url + "#poster",
        public_url + "/",
        f"{scheme.upper()}://{host.replace('127.0.0.1', 'LocalHost')}/{path}",
        f"{head}/%{ord(name[0]):02X}{name[1:]}",
        public_url.replace("/media/movies/", "/media/./x/..//movies/"),
    ]


def html_like(data: bytes) -> bytes:
    """A page as long as ``data`` (so the same signed size fits both)."""
    page = b"<!doctype html><!-- %s --><script>alert(document.cookie)</script>" % uuid.uuid4().hex.encode()
    return page + b" " * (len(data) - len(page))


def attack_spellings(admin: Client, uploader: Client, movie_id: int) -> None:
    """Every spelling of an own URL is checked: a real image is stored canonically, a page
    disguised as a PNG is refused and deleted, a path never uploaded is refused."""
    data = png(seed=20 + movie_id)
    offer = ask(uploader, data).json()
    assert offer["deduplicated"] or send(offer, data).status_code in (200, 201)
    for spelled in spellings(offer["public_url"]):
        stored = set_poster(admin, movie_id, spelled)
        assert stored.status_code == 200, (spelled, stored.text)
        assert stored.json()["imagePath"] == offer["public_url"], spelled
    page = html_like(data)
    for which in range(len(spellings(offer["public_url"]))):
        bad = ask(uploader, None, fileSize=len(page)).json()  # a random name
        assert send(bad, page).status_code in (200, 201)
        spelled = spellings(bad["public_url"])[which]
        refused = set_poster(admin, movie_id, spelled)
        assert (refused.status_code, refused.json()) == (400, NOT_A_PNG), spelled
        for url in (bad["public_url"], spelled):
            assert requests.get(url, timeout=30).status_code in (403, 404), url  # deleted
    prefix = offer["public_url"].rsplit("/", 1)[0]
    for never in (f"{prefix}/anything.png", f"{prefix}/{'c' * 32}.png?v=1", f"{prefix}//{'d' * 32}.png/"):
        refused = set_poster(admin, movie_id, never)
        assert (refused.status_code, refused.json()) == (400, NOT_UPLOADED), never
    assert admin.get(f"/api/movies/{movie_id}/").json()["imagePath"] == offer["public_url"]


def attack_spent_upload_url(admin: Client, uploader: Client, movie_id: int, kind: str) -> None:
    """An upload URL used again after its object was refused: the name is spent."""
    data = png(seed=40 + movie_id)
    page = html_like(data)
    for size in (len(page), None):  # a signed PUT; without a size, S3's POST policy
        offer = ask(uploader, None, fileSize=size).json()
        assert send(offer, page).status_code in (200, 201, 204)
        refused = set_poster(admin, movie_id, offer["public_url"] + "?v=3")
        assert (refused.status_code, refused.json()) == (400, NOT_A_PNG)
        again = send(offer, data)  # the same URL once more, now with a real image
        if kind == "local":  # the app receives uploads itself: it refuses the spent URL
            assert again.status_code == 403, again.text
            assert "spent" in again.json()["detail"]
        else:  # S3 cannot ask us (the object is gone, so If-None-Match lets it in)
            assert again.status_code in (200, 201, 204), again.text
        used = set_poster(admin, movie_id, offer["public_url"])
        assert (used.status_code, used.json()) == (400, SPENT)
        assert requests.get(offer["public_url"], timeout=30).status_code in (403, 404)
    hashed = ask(uploader, page).json()  # content-addressed: the same bytes can only fail again
    assert send(hashed, page).status_code in (200, 201)
    assert set_poster(admin, movie_id, hashed["public_url"]).status_code == 400
    refused_hash = ask(uploader, page)
    assert refused_hash.status_code == 400 and set(refused_hash.json()) == {"fileHash"}


def test_own_urls_in_other_spellings_are_checked_or_refused(deployment: Deployment, uploader: Client) -> None:
    attack_spellings(deployment.admin, uploader, deployment.movie_id)


def test_an_upload_url_is_spent_once_its_object_is_refused(deployment: Deployment, uploader: Client) -> None:
    attack_spent_upload_url(deployment.admin, uploader, deployment.movie_id, deployment.kind)


def test_gc_uploads_keeps_an_object_referenced_in_any_spelling(
    deployment: Deployment, uploader: Client
) -> None:
    """0.2.0 stored ``<public_url>?v=2`` as given, and gc-uploads deleted the poster in use."""
    posters = {seed: png(seed=seed) for seed in range(60, 63)}
    offers = {seed: ask(uploader, data).json() for seed, data in posters.items()}
    for seed, data in posters.items():
        assert send(offers[seed], data).status_code in (200, 201)
    movie_ids = []
    for seed in posters:
        created = deployment.admin.post(
            "/api/movies/",
            json={"title": f"Spelled {seed}", "imagePath": offers[seed]["public_url"] + "?v=2"},
        )
        assert created.status_code == 201, created.text
        assert created.json()["imagePath"] == offers[seed]["public_url"]  # stored canonically
        movie_ids.append(created.json()["id"])
    # Rows written before this version, or imported, keep the spelling they had.
    kept_as = {
        movie_ids[1]: offers[61]["public_url"] + "#poster",
        movie_ids[2]: offers[62]["public_url"].replace("http://", "HTTP://").replace("/media/", "/media//"),
    }
    engine = create_engine(deployment.database_url)
    with engine.begin() as conn:
        for movie_id, url in kept_as.items():
            conn.execute(text("UPDATE movies SET image_path = :u WHERE id = :i"), {"u": url, "i": movie_id})
    engine.dispose()
    swept = run_cli(
        "gc-uploads", "--older-than", "0s", env=deployment.env(), cwd=deployment.server.log.parent
    )
    for seed, data in posters.items():
        assert offers[seed]["key"].rsplit("/", 1)[1] not in swept.stdout
        assert requests.get(offers[seed]["public_url"], timeout=30).content == data


def test_layer8_only_a_correctly_signed_url_can_write(deployment: Deployment, uploader: Client) -> None:
    data = png(seed=11)
    offer = ask(uploader, data).json()
    url = offer["upload_url"]
    signature = "signature=" if deployment.kind == "local" else "X-Amz-Signature="
    head, _, tail = url.partition(signature)
    forged_signature = head + signature + ("0" * 64) + tail[64:]
    assert requests.put(forged_signature, data=data, headers=offer["headers"], timeout=30).status_code == 403
    # stretch what was signed: a longer expiry (S3) or the expiry time itself (local)
    stretched = url.replace("X-Amz-Expires=3600", "X-Amz-Expires=604800").replace("expires=", "expires=9")
    assert stretched != url
    assert requests.put(stretched, data=data, headers=offer["headers"], timeout=30).status_code == 403
    if deployment.kind == "local":  # LocalStack accepts unsigned writes; real S3 and we do not
        unsigned = url.split("?", 1)[0]
        assert requests.put(unsigned, data=data, headers=offer["headers"], timeout=30).status_code == 403
    assert send(offer, data).status_code in (200, 201)  # the genuine URL still works


def test_unreachable_storage_gives_503_and_everything_else_keeps_working(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'dead-s3.db'}"
    run_cli("migrate", env={"MOVIERATER_DATABASE_URL": url})
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    server = Server(
        url,
        tmp_path,
        MOVIERATER_STORAGE="s3",
        MOVIERATER_S3_BUCKET="posters",
        MOVIERATER_S3_ENDPOINT_URL=dead,
        **AWS_ENV,
    )
    try:
        client = sign_up(server.base_url)
        data = png(seed=12)
        down = ask(client, data)  # with a hash, the app asks storage whether it has it
        assert down.status_code == 503
        assert down.json() == {"detail": "The image storage is unavailable right now. Try again shortly."}
        assert down.headers["Retry-After"].isdigit()
        assert client.get("/api/movies/").status_code == 200
        assert client.get("/api/users/").status_code == 200
        boss = make_admin(server)
        poster = f"{dead}/posters/media/movies/{hashlib.sha256(data).hexdigest()}.png"
        refused = boss.post("/api/movies/", json={"title": "Dark", "imagePath": poster})
        assert refused.status_code == 503  # cannot check the poster: nothing is created
        assert boss.get("/api/movies/").json() == []
        assert boss.post("/api/movies/", json={"title": "Light"}).status_code == 201
    finally:
        server.stop()


def test_no_upload_url_into_a_missing_bucket(tmp_path: Any) -> None:
    """A bucket deleted under a running server: the grant is refused with 503 and Retry-After
    (it costs the user no grant), and granted again once the bucket is back."""
    dep = Deployment("s3", tmp_path)  # skips (or fails in CI) without the S3 emulator
    try:
        client = sign_up(dep.base_url)
        bucket = dep.env()["MOVIERATER_S3_BUCKET"]
        s3_client().delete_bucket(Bucket=bucket)
        for body in ({"fileSize": 100}, {}):  # a PUT and a POST grant
            refused = ask(client, **body)
            assert refused.status_code == 503, refused.text
            assert refused.json() == {
                "detail": "The image storage is unavailable right now. Try again shortly."
            }
            assert refused.headers["Retry-After"].isdigit()
        s3_client().create_bucket(Bucket=bucket)
        deadline = time.monotonic() + 30  # each worker checks a failed bucket again after 5 s
        while (granted := ask(client, fileSize=100)).status_code == 503 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert granted.status_code == 200, granted.text
        assert granted.json()["uploads_remaining"] == 9  # the refused ones were not counted
    finally:
        dep.server.stop()
