"""Upload routes: the upload-URL grant (every storage), and for local storage the two
routes S3 would otherwise serve: receiving signed uploads and serving the files."""

from __future__ import annotations

from typing import Any, BinaryIO, cast

import falcon

from adapters.storage_local import LocalImageStorage, UploadRefused
from entrypoints.http.io import read_json, send
from movierater_core.uploads import MAX_SIZE_MB, TYPE_BY_EXTENSION
from movierater_core.use_cases import Uploads
from movierater_core.use_cases.uploads import UploadOffer

Req = falcon.Request
Resp = falcon.Response


def offer_json(offer: UploadOffer) -> dict[str, Any]:
    ticket = offer.ticket
    return {
        "upload_url": ticket.url if ticket else None,
        "method": ticket.method if ticket else None,
        "headers": ticket.headers if ticket else {},
        "fields": ticket.fields if ticket else {},
        "key": offer.key,
        "public_url": offer.public_url,
        "max_size_mb": MAX_SIZE_MB,
        "uploads_remaining": offer.uploads_remaining,
        "deduplicated": offer.deduplicated,
        "expires_in": offer.expires_in,
    }


class UploadUrl:
    """``POST /api/movies/get_upload_url/``."""

    def __init__(self, uploads: Uploads) -> None:
        self._uploads = uploads

    def on_post(self, req: Req, resp: Resp) -> None:
        send(resp, offer_json(self._uploads.request_upload_url(req.context.user, read_json(req))))


class LocalUpload:
    """``PUT /uploads/{name}?…&signature=…``: the signature is the credential."""

    public_methods = ("PUT",)

    def __init__(self, storage: LocalImageStorage) -> None:
        self._storage = storage

    def on_put(self, req: Req, resp: Resp, name: str) -> None:
        query = {k: v for k, v in req.params.items() if isinstance(v, str)}
        try:
            self._storage.receive(name, query, req.content_type, req.content_length, req.bounded_stream)
        except UploadRefused as exc:
            send(resp, {"detail": exc.detail}, exc.status)
            return
        send(resp, {"key": self._storage.key(name), "public_url": self._storage.public_url(name)}, 201)


class LocalMedia:
    """``GET /media/movies/{name}``: public, immutable (names are content hashes or random)."""

    public_methods = ("GET", "HEAD")

    def __init__(self, storage: LocalImageStorage) -> None:
        self._storage = storage

    def on_get(self, req: Req, resp: Resp, name: str) -> None:
        path = self._storage.path(name)
        if path is None or not path.is_file():
            raise falcon.HTTPNotFound()
        resp.content_type = TYPE_BY_EXTENSION[name.rsplit(".", 1)[-1]]
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("Cache-Control", "public, max-age=31536000, immutable")
        resp.set_header("Content-Security-Policy", "default-src 'none'")
        resp.content_length = path.stat().st_size
        resp.stream = path.open("rb")

    def on_head(self, req: Req, resp: Resp, name: str) -> None:
        self.on_get(req, resp, name)
        # The file on_get opened (Falcon types a stream as any readable or iterable).
        cast(BinaryIO, resp.stream).close()
        resp.stream = None
