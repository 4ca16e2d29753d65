"""The ImageStorage port on S3 (or an S3-compatible service) with boto3.

The API never touches image bytes here: clients upload straight to S3 with presigned
requests, and S3 enforces what was signed. A PUT signs Content-Type, Content-Length,
``x-amz-checksum-sha256`` (when the hash is known), ``If-None-Match: *`` (no overwrite)
and the ``pending`` tag; without a size, a POST policy signs the type, the tag and
``content-length-range``.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from movierater_adapters.storage_urls import PrefixedObjectUrls, s3_bucket_urls

from movierater_core.errors import ServiceUnavailable
from movierater_core.ports import StoredObject
from movierater_core.uploads import MAX_UPLOAD_BYTES, UploadTicket, is_object_name

if TYPE_CHECKING:  # a stubs package (mypy-boto3-s3), installed with the test extra only
    from mypy_boto3_s3 import S3Client

T = TypeVar("T")
# Every upload starts tagged; the content check removes the tag. A bucket lifecycle rule
# on this tag expires uploads that never became a poster (see the README).
PENDING_TAG = "movierater=pending"
PENDING_TAGGING_XML = (
    "<Tagging><TagSet><Tag><Key>movierater</Key><Value>pending</Value></Tag></TagSet></Tagging>"
)
log = logging.getLogger("movierater.storage")
UNAVAILABLE = "The image storage is unavailable right now. Try again shortly."
_MISSING = {"404", "NoSuchKey", "NotFound"}
# How long a bucket check is trusted before an upload URL is granted into the bucket: a
# usable bucket is checked again after 10 s, a missing one after Retry-After (5 s), so a
# grant costs at most one HEAD bucket per worker per interval.
BUCKET_OK_SECONDS = 10.0
BUCKET_FAILED_SECONDS = 5.0


class S3ImageStorage(PrefixedObjectUrls):
    def __init__(
        self,
        *,
        bucket: str,
        region: str,
        endpoint_url: str | None = None,
        prefix: str = "media/movies/",
        public_base_url: str | None = None,
        acl: str | None = None,
        client: S3Client | None = None,
    ) -> None:
        self._bucket = bucket
        self._acl = acl
        self._bucket_checked_until = 0.0  # time.monotonic() until which the last check holds
        self._bucket_problem: ServiceUnavailable | None = None
        self._s3 = client or boto3.client(
            "s3",
            region_name=region,
            endpoint_url=endpoint_url,
            config=Config(
                signature_version="s3v4",
                # S3-compatible services and the emulator want path-style addressing.
                s3={"addressing_style": "path" if endpoint_url else "auto"},
                # Only the checksums we ask for: presigned URLs must sign exactly those.
                request_checksum_calculation="when_required",
                response_checksum_validation="when_required",
                connect_timeout=5,
                read_timeout=10,
                retries={"max_attempts": 2, "mode": "standard"},
            ),
        )
        # Public URLs use the CDN if there is one; the bucket's own URLs lead to it too.
        bucket_urls = s3_bucket_urls(bucket, region, endpoint_url)
        super().__init__(public_base_url or bucket_urls[0], prefix, aliases=bucket_urls)

    # ---- uploads ---------------------------------------------------------------------------

    def presign_upload(
        self, name: str, *, content_type: str, size: int | None, sha256: str | None, expires_in: int
    ) -> UploadTicket:
        """Signing is local work, but a URL into a bucket that is not there would only fail
        at the client: the bucket's last check (cached) must have found it usable."""
        self._recently_checked()
        if size is not None:
            params: dict[str, Any] = {
                "Bucket": self._bucket,
                "Key": self.key(name),
                "ContentType": content_type,
                "ContentLength": size,
                "IfNoneMatch": "*",
                "Tagging": PENDING_TAG,
            }
            headers = {
                "Content-Type": content_type,
                "If-None-Match": "*",
                "x-amz-tagging": PENDING_TAG,
            }
            if sha256:
                checksum = base64.b64encode(bytes.fromhex(sha256)).decode()
                params["ChecksumSHA256"] = checksum
                headers["x-amz-checksum-sha256"] = checksum
            if self._acl:
                params["ACL"] = self._acl
                headers["x-amz-acl"] = self._acl
            url = self._call(
                lambda: self._s3.generate_presigned_url("put_object", Params=params, ExpiresIn=expires_in)
            )
            return UploadTicket(url=url, method="PUT", headers=headers, fields={})
        fields = {"Content-Type": content_type, "tagging": PENDING_TAGGING_XML}
        conditions: list[Any] = [
            ["content-length-range", 1, MAX_UPLOAD_BYTES],
            {"Content-Type": content_type},
            {"tagging": PENDING_TAGGING_XML},
        ]
        if self._acl:
            fields["acl"] = self._acl
            conditions.append({"acl": self._acl})
        post = self._call(
            lambda: self._s3.generate_presigned_post(
                self._bucket,
                self.key(name),
                Fields=fields,
                Conditions=conditions,
                ExpiresIn=expires_in,
            )
        )
        return UploadTicket(url=post["url"], method="POST", headers={}, fields=post["fields"])

    # ---- stored objects --------------------------------------------------------------------

    def exists(self, name: str) -> bool:
        try:
            self._call(lambda: self._s3.head_object(Bucket=self._bucket, Key=self.key(name)))
        except _Missing:
            return False
        return True

    def read_head(self, name: str, limit: int) -> bytes | None:
        try:
            response = self._call(
                lambda: self._s3.get_object(
                    Bucket=self._bucket, Key=self.key(name), Range=f"bytes=0-{limit - 1}"
                )
            )
        except _Missing:
            return None
        data: bytes = self._call(lambda: response["Body"].read(limit))
        return data

    def delete(self, name: str) -> None:
        self._call(lambda: self._s3.delete_object(Bucket=self._bucket, Key=self.key(name)))

    def mark_in_use(self, name: str) -> None:
        self._call(lambda: self._s3.delete_object_tagging(Bucket=self._bucket, Key=self.key(name)))

    def list_objects(self) -> Iterable[StoredObject]:
        def collect() -> list[StoredObject]:
            found = []
            pages = self._s3.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=self._prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    name = item["Key"][len(self._prefix) :]
                    if is_object_name(name):
                        found.append(StoredObject(name, item["LastModified"]))
            return found

        return self._call(collect)

    def check(self) -> None:
        """HEAD the bucket: reachable, and these credentials may use it. The cause of a
        failure goes to the log (one line); the probe's answer stays generic."""
        try:
            self._s3.head_bucket(Bucket=self._bucket)
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, ClientError):
                code = str(exc.response.get("Error", {}).get("Code"))
                cause = "it does not exist" if code in _MISSING | {"NoSuchBucket"} else f"{code}: {exc}"
            else:
                cause = str(exc)
            log.warning("storage not ready: S3 bucket %r: %s", self._bucket, cause)
            problem = ServiceUnavailable(UNAVAILABLE, retry_after=int(BUCKET_FAILED_SECONDS))
            self._remember(problem, BUCKET_FAILED_SECONDS)
            raise problem from exc
        self._remember(None, BUCKET_OK_SECONDS)

    def _remember(self, problem: ServiceUnavailable | None, seconds: float) -> None:
        self._bucket_problem = problem
        self._bucket_checked_until = time.monotonic() + seconds

    def _recently_checked(self) -> None:
        """Raise the last check's ServiceUnavailable, checking again once it is stale."""
        if time.monotonic() >= self._bucket_checked_until:
            self.check()
        elif self._bucket_problem is not None:
            raise ServiceUnavailable(UNAVAILABLE, retry_after=int(BUCKET_FAILED_SECONDS))

    def _call(self, operation: Callable[[], T]) -> T:
        """Run a boto3 call: a missing object raises _Missing, an unreachable service 503."""
        try:
            return operation()
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code"))
            if code in _MISSING:
                raise _Missing from exc
            log.error("S3 refused a request: %s", exc)  # e.g. no such bucket, access denied
            raise ServiceUnavailable(UNAVAILABLE) from exc
        except BotoCoreError as exc:  # connection refused, timeouts, DNS
            raise ServiceUnavailable(UNAVAILABLE) from exc


class _Missing(Exception):
    pass
