"""Errors to HTTP: domain errors and Falcon's own, all in the shapes DRF gives."""

from __future__ import annotations

import logging
from typing import Any

import falcon
import orjson
from movierater_entrypoints.http.io import send

from movierater_core.errors import (
    ConcurrencyConflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    RateLimited,
    ServiceUnavailable,
    StarsMissing,
    ValidationError,
)

log = logging.getLogger("movierater.http")

_DEFAULT_DETAIL = {
    400: "Bad request.",
    404: "Not found.",
    413: "Request body is larger than 1 MiB.",
    415: "Unsupported media type in request.",
}


def _validation(req: falcon.Request, resp: falcon.Response, exc: ValidationError, _p: Any) -> None:
    send(resp, exc.errors, 400)


def _stars_missing(req: falcon.Request, resp: falcon.Response, exc: StarsMissing, _p: Any) -> None:
    send(resp, {"message": exc.message}, 400)


def _not_authenticated(req: falcon.Request, resp: falcon.Response, exc: NotAuthenticated, _p: Any) -> None:
    resp.set_header("WWW-Authenticate", "Token")
    send(resp, {"detail": exc.detail}, 401)


def _forbidden(req: falcon.Request, resp: falcon.Response, exc: PermissionDenied, _p: Any) -> None:
    send(resp, {"detail": exc.detail}, 403)


def _not_found(req: falcon.Request, resp: falcon.Response, exc: NotFound, _p: Any) -> None:
    send(resp, {"detail": exc.detail}, 404)


def _changed(req: falcon.Request, resp: falcon.Response, exc: PreconditionFailed, _p: Any) -> None:
    send(resp, {"detail": exc.detail}, 412)


def _unavailable(req: falcon.Request, resp: falcon.Response, exc: ServiceUnavailable, _p: Any) -> None:
    resp.set_header("Retry-After", str(exc.retry_after))
    send(resp, {"detail": exc.detail}, 503)


def _rate_limited(req: falcon.Request, resp: falcon.Response, exc: RateLimited, _p: Any) -> None:
    resp.set_header("Retry-After", str(exc.retry_after))
    send(resp, {"detail": exc.detail}, 429)


def _busy(req: falcon.Request, resp: falcon.Response, exc: ConcurrencyConflict, _p: Any) -> None:
    # Only after the use case's retries ran out: the database is overloaded.
    resp.set_header("Retry-After", "1")
    send(resp, {"detail": "The service is busy. Try again shortly."}, 503)


def _unexpected(req: falcon.Request, resp: falcon.Response, exc: Exception, _p: Any) -> None:
    log.exception("unhandled error on %s %s", req.method, req.path)
    send(resp, {"detail": "A server error occurred."}, 500)


def _serialize_http_error(req: falcon.Request, resp: falcon.Response, exc: falcon.HTTPError) -> None:
    """Falcon's own errors (routing, 405, 413, 415, bad JSON) as {"detail": ...}."""
    status = exc.status_code
    if status == 405:
        detail = f'Method "{req.method}" not allowed.'
    else:
        detail = exc.description or _DEFAULT_DETAIL.get(status) or exc.title
    resp.content_type = falcon.MEDIA_JSON
    resp.data = orjson.dumps({"detail": detail})


def install(app: falcon.App[falcon.Request, falcon.Response]) -> None:
    app.add_error_handler(Exception, _unexpected)
    app.add_error_handler(ValidationError, _validation)
    app.add_error_handler(StarsMissing, _stars_missing)
    app.add_error_handler(NotAuthenticated, _not_authenticated)
    app.add_error_handler(PermissionDenied, _forbidden)
    app.add_error_handler(NotFound, _not_found)
    app.add_error_handler(PreconditionFailed, _changed)
    app.add_error_handler(ServiceUnavailable, _unavailable)
    app.add_error_handler(ConcurrencyConflict, _busy)
    app.add_error_handler(RateLimited, _rate_limited)
    app.set_error_serializer(_serialize_http_error)
