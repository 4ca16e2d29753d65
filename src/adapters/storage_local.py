"""The ImageStorage port on a local directory: the embedded default, no cloud account.

It plays S3's part itself: upload URLs point at this app (``PUT /uploads/{name}``),
carry an HMAC signature over what was granted (expiry, content type, size, hash), and
:meth:`LocalImageStorage.receive` enforces all of it while the bytes stream in.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import tempfile
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import urlencode

from movierater_adapters.storage_urls import PrefixedObjectUrls

from movierater_core.errors import ServiceUnavailable
from movierater_core.ports import StoredObject
from movierater_core.uploads import MAX_UPLOAD_BYTES, UploadTicket, is_object_name

CHUNK = 64 * 1024
UPLOAD_PATH = "/uploads/"


class Readable(Protocol):
    """What an upload's body must offer: a file, or the web framework's request stream."""

    def read(self, size: int, /) -> bytes: ...


class UploadRefused(Exception):
    """The upload broke what its URL granted; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(detail)


class LocalImageStorage(PrefixedObjectUrls):
    def __init__(
        self, media_dir: Path, public_url: str, secret_key: str, prefix: str = "media/movies/"
    ) -> None:
        super().__init__(public_url, prefix)
        self.media_dir = Path(media_dir)
        self.root = self.media_dir / prefix
        self._secret = hashlib.sha256(b"movierater-local-uploads:" + secret_key.encode()).digest()

    def path(self, name: str) -> Path | None:
        """The file of an object, or None for a name we never hand out."""
        return self.root / name if is_object_name(name) else None

    # ---- uploads ---------------------------------------------------------------------------

    def presign_upload(
        self, name: str, *, content_type: str, size: int | None, sha256: str | None, expires_in: int
    ) -> UploadTicket:
        params = {
            "expires": str(int(time.time()) + expires_in),
            "type": content_type,
            "size": str(size) if size is not None else "",
            "sha256": sha256 or "",
        }
        query = urlencode({**params, "signature": self._sign(name, params)})
        return UploadTicket(
            url=f"{self._base}{UPLOAD_PATH}{name}?{query}",
            method="PUT",
            headers={"Content-Type": content_type},
            fields={},
        )

    def _sign(self, name: str, params: Mapping[str, str]) -> str:
        message = "\n".join([name, params["expires"], params["type"], params["size"], params["sha256"]])
        return hmac.new(self._secret, message.encode(), hashlib.sha256).hexdigest()

    def receive(
        self,
        name: str,
        query: Mapping[str, str],
        content_type: str | None,
        content_length: int | None,
        body: Readable,
    ) -> None:
        """Store an upload if it is exactly what the signed URL granted; else UploadRefused."""
        params = {k: query.get(k, "") for k in ("expires", "type", "size", "sha256")}
        signature = query.get("signature", "")
        path = self.path(name)
        # Compared as bytes: compare_digest refuses non-ASCII str (a forged "é" was a 500).
        expected = self._sign(name, params).encode()
        if path is None or not hmac.compare_digest(signature.encode(), expected):
            raise UploadRefused(403, "The upload URL's signature does not match.")
        if not params["expires"].isdigit() or int(params["expires"]) < time.time():
            raise UploadRefused(403, "The upload URL has expired.")
        if (content_type or "").split(";")[0].strip().lower() != params["type"]:
            raise UploadRefused(403, f"Content-Type must be {params['type']}, as signed.")
        limit = int(params["size"]) if params["size"] else MAX_UPLOAD_BYTES
        if content_length is None:
            raise UploadRefused(411, "Content-Length is required.")
        if content_length > limit or (params["size"] and content_length != limit):
            raise UploadRefused(
                413 if content_length > limit else 400,
                f"The body must be exactly {limit} bytes, as signed."
                if params["size"]
                else f"The file is too large: at most {MAX_UPLOAD_BYTES} bytes.",
            )
        if path.exists():
            raise UploadRefused(409, "This object exists already and is never overwritten.")
        self.root.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        received = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as tmp:
                while chunk := body.read(CHUNK):
                    received += len(chunk)
                    if received > limit:
                        raise UploadRefused(413, f"The body is larger than the {limit} bytes signed.")
                    digest.update(chunk)
                    tmp.write(chunk)
            if received != content_length:
                raise UploadRefused(400, "The body is shorter than its Content-Length.")
            if params["sha256"] and not hmac.compare_digest(
                digest.hexdigest().encode(), params["sha256"].encode()
            ):
                raise UploadRefused(400, "BadDigest: the body does not match the signed SHA-256.")
            try:
                os.link(tmp_name, path)  # fails if the name exists: never overwrite
            except FileExistsError:
                raise UploadRefused(409, "This object exists already and is never overwritten.") from None
        finally:
            os.unlink(tmp_name)

    # ---- stored objects --------------------------------------------------------------------

    def exists(self, name: str) -> bool:
        path = self.path(name)
        return path is not None and path.is_file()

    def read_head(self, name: str, limit: int) -> bytes | None:
        path = self.path(name)
        if path is None:
            return None
        try:
            with path.open("rb") as fh:
                return fh.read(limit)
        except FileNotFoundError:
            return None

    def delete(self, name: str) -> None:
        path = self.path(name)
        if path is not None:
            path.unlink(missing_ok=True)

    def mark_in_use(self, name: str) -> None:
        """Nothing to do: strays here are found by ``gc-uploads`` alone."""

    def check(self) -> None:
        """The configured directory (``movierater serve`` makes it) must exist and be writable:
        its subdirectories are made on demand, but a missing one means a lost volume."""
        if not self.media_dir.is_dir():
            raise ServiceUnavailable("The media directory does not exist.")  # no path: probes are public
        if not os.access(self.media_dir, os.W_OK | os.X_OK):
            raise ServiceUnavailable("The media directory is not writable.")

    def list_objects(self) -> Iterable[StoredObject]:
        if not self.root.is_dir():
            return []
        return [
            StoredObject(entry.name, datetime.fromtimestamp(entry.stat().st_mtime, UTC))
            for entry in self.root.iterdir()
            if entry.is_file() and is_object_name(entry.name)
        ]
