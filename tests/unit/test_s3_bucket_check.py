"""The S3 adapter grants no upload URL into a bucket that is not there, and finds out cheaply:
one HEAD bucket, trusted for a short while, per worker. botocore's Stubber plays S3 and fails
the test on any request it was not told to expect."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from movierater_adapters import storage_s3
from movierater_adapters.storage_s3 import S3ImageStorage

from movierater_core.errors import ServiceUnavailable

BUCKET = "posters"


@pytest.fixture
def s3() -> Iterator[tuple[S3ImageStorage, Stubber]]:
    client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test"
    )
    with Stubber(client) as stubber:
        yield S3ImageStorage(bucket=BUCKET, region="us-east-1", client=client), stubber
        stubber.assert_no_pending_responses()


def presign(storage: S3ImageStorage) -> Any:
    return storage.presign_upload(
        "a" * 32 + ".png", content_type="image/png", size=100, sha256=None, expires_in=60
    )


def test_no_upload_url_into_a_missing_bucket(s3: tuple[S3ImageStorage, Stubber]) -> None:
    storage, stubber = s3
    stubber.add_client_error("head_bucket", service_error_code="404", http_status_code=404)
    with pytest.raises(ServiceUnavailable) as refused:
        presign(storage)
    assert refused.value.retry_after == storage_s3.BUCKET_FAILED_SECONDS
    with pytest.raises(ServiceUnavailable):  # remembered: no second HEAD (Stubber would fail)
        presign(storage)


def test_a_usable_bucket_is_checked_once_per_interval(
    s3: tuple[S3ImageStorage, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    storage, stubber = s3
    now = [1000.0]
    monkeypatch.setattr(storage_s3.time, "monotonic", lambda: now[0])
    stubber.add_response("head_bucket", {}, {"Bucket": BUCKET})
    assert presign(storage).method == "PUT"
    assert presign(storage).method == "PUT"  # within the interval: no HEAD
    now[0] += storage_s3.BUCKET_OK_SECONDS
    stubber.add_client_error("head_bucket", service_error_code="404", http_status_code=404)
    with pytest.raises(ServiceUnavailable):  # checked again, and gone
        presign(storage)
    now[0] += storage_s3.BUCKET_FAILED_SECONDS
    stubber.add_response("head_bucket", {}, {"Bucket": BUCKET})
    assert presign(storage).method == "PUT"  # back


def test_readiness_logs_why_the_bucket_is_not_usable(
    s3: tuple[S3ImageStorage, Stubber], caplog: pytest.LogCaptureFixture
) -> None:
    storage, stubber = s3
    stubber.add_client_error("head_bucket", service_error_code="404", http_status_code=404)
    with caplog.at_level(logging.WARNING, logger="movierater.storage"), pytest.raises(ServiceUnavailable):
        storage.check()
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "storage not ready: S3 bucket 'posters': it does not exist"
