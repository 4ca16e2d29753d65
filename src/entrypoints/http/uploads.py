"""Upload routes: the upload-URL grant (every storage), and for local storage the two
routes S3 would otherwise serve: receiving signed uploads and serving the files."""

from __future__ import annotations

from typing import Any, BinaryIO, cast

import falcon
from movierater_adapters.storage_local import LocalImageStorage, UploadRefused
from movierater_entrypoints.http.io import read_json, send
from movierater_entrypoints.http.spec import (
    BODY_ERRORS,
    Documented,
    RequestBody,
    Schema,
    error,
    header,
    ok,
    operation,
    ref,
    schema_ref,
)

from movierater_core.uploads import (
    GRANTS_PER_HOUR,
    IMAGE_TYPES,
    MAX_SIZE_MB,
    OBJECT_NAME_PATTERN,
    TYPE_BY_EXTENSION,
    UPLOAD_BODY,
)
from movierater_core.use_cases import Uploads
from movierater_core.use_cases.uploads import UploadOffer

SPENT = "This upload URL is spent: a file uploaded with it was refused by the content check."
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


class UploadUrl(Documented):
    """``POST /api/movies/get_upload_url/``."""

    trailing_slash = True

    def __init__(self, uploads: Uploads) -> None:
        self._uploads = uploads

    @operation(
        "getUploadUrl",
        "Grant a URL to upload a poster to storage",
        {"200": ok(schema_ref("UploadOffer"), "Where and how to upload, or the stored duplicate.")},
        (*BODY_ERRORS, "429"),
        body=RequestBody("UploadUrlRequest", UPLOAD_BODY, "What will be uploaded."),
        tag="uploads",
        description=(
            f"At most {GRANTS_PER_HOUR} granted URLs per user per rolling hour (429 with Retry-After "
            "after that). A fileHash of an object already stored and verified gives "
            '"deduplicated": true and no upload_url.'
        ),
    )
    def on_post(self, req: Req, resp: Resp) -> None:
        send(resp, offer_json(self._uploads.request_upload_url(req.context.user, read_json(req))))


# ---- local storage only (S3 serves these itself) ----------------------------------------

_NAME = {
    "name": {
        "name": "name",
        "in": "path",
        "required": True,
        "description": "The object's name, as the upload URL gives it.",
        "schema": {"type": "string", "pattern": OBJECT_NAME_PATTERN},
    }
}
_IMAGE_CONTENT: Schema = {content_type: {} for content_type in sorted(IMAGE_TYPES)}


def _signed(name: str, description: str, schema: Schema) -> Schema:
    return {"name": name, "in": "query", "required": True, "description": description, "schema": schema}


_MEDIA_HEADERS = {
    "Cache-Control": header({"type": "string"}, "Public and immutable: names never change content."),
    "Content-Length": header({"type": "integer", "minimum": 0}, "The image's size in bytes."),
    "X-Content-Type-Options": header({"const": "nosniff"}, "No sniffing."),
    "Content-Security-Policy": header({"type": "string"}, "Nothing may run from here."),
}


class LocalUpload(Documented):
    """``PUT /uploads/{name}?…&signature=…``: the signature is the credential."""

    public_methods = ("PUT",)
    path_parameters = _NAME

    def __init__(self, storage: LocalImageStorage, uploads: Uploads) -> None:
        self._storage = storage
        self._uploads = uploads

    @operation(
        "uploadImage",
        "Upload the bytes to a signed local-storage URL (local storage only)",
        {
            "201": ok(schema_ref("StoredUpload"), "Stored."),
            "400": error("The body does not match what was signed (size, SHA-256, or shorter than sent)."),
            "403": error(
                "The signature does not match, the URL has expired, the Content-Type differs, "
                "or the URL is spent: an object uploaded with it was refused by the content check."
            ),
            "409": error("The object exists already; it is never overwritten."),
            "411": error("No Content-Length."),
            "413": error("The body is larger than signed, or than 5 MB."),
        },
        parameters=(
            _signed("expires", "Unix time the URL expires at.", {"type": "string", "pattern": "^[0-9]+$"}),
            _signed("type", "The Content-Type signed.", {"type": "string", "enum": sorted(IMAGE_TYPES)}),
            _signed("size", "The size signed (may be empty).", {"type": "string", "pattern": "^[0-9]*$"}),
            _signed(
                "sha256",
                "The SHA-256 signed (may be empty).",
                {"type": "string", "pattern": "^([0-9a-f]{64})?$"},
            ),
            _signed(
                "signature", "HMAC-SHA256 of the above.", {"type": "string", "pattern": "^[0-9a-f]{64}$"}
            ),
        ),
        body={
            "required": True,
            "description": "The image bytes, with the Content-Type that was signed.",
            "content": _IMAGE_CONTENT,
        },
        tag="uploads",
        description="The signature is the credential: send it exactly as get_upload_url answered.",
    )
    def on_put(self, req: Req, resp: Resp, name: str) -> None:
        if self._uploads.upload_refused(name):  # the grant ended when its object was refused
            send(resp, {"detail": SPENT}, 403)
            return
        query = {k: v for k, v in req.params.items() if isinstance(v, str)}
        try:
            self._storage.receive(name, query, req.content_type, req.content_length, req.bounded_stream)
        except UploadRefused as exc:
            send(resp, {"detail": exc.detail}, exc.status)
            return
        if self._uploads.upload_refused(name):  # refused while the bytes streamed in: they go too
            self._storage.delete(name)
            send(resp, {"detail": SPENT}, 403)
            return
        send(resp, {"key": self._storage.key(name), "public_url": self._storage.public_url(name)}, 201)


class LocalMedia(Documented):
    """``GET /media/movies/{name}``: public, immutable (names are content hashes or random)."""

    public_methods = ("GET", "HEAD")
    path_parameters = _NAME

    def __init__(self, storage: LocalImageStorage) -> None:
        self._storage = storage

    @operation(
        "getMedia",
        "A stored poster (local storage only)",
        {
            "200": {"description": "The image.", "headers": _MEDIA_HEADERS, "content": _IMAGE_CONTENT},
            "404": ref("responses", "NotFound"),
        },
        tag="uploads",
        uses_database=False,
    )
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

    @operation(
        "headMedia",
        "A stored poster's headers (local storage only)",
        {
            "200": {"description": "The image's headers, no body.", "headers": _MEDIA_HEADERS},
            "404": {"description": "No such object (no body)."},
        },
        tag="uploads",
        uses_database=False,
    )
    def on_head(self, req: Req, resp: Resp, name: str) -> None:
        self.on_get(req, resp, name)
        # The file on_get opened (Falcon types a stream as any readable or iterable).
        cast(BinaryIO, resp.stream).close()
        resp.stream = None
