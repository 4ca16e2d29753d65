"""Request bodies in, JSON out, and the wire shapes of the original service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, cast

import falcon
import orjson

from movierater_core.model import Movie, MovieView, Profile, Rating, ScorePrior, User, UserView

MAX_BODY_BYTES = 1024 * 1024


class Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


def read_json(req: falcon.Request) -> Any:
    """The decoded JSON body; ``{}`` for an empty body (as DRF treats it).

    413 above 1 MiB, 415 for a body that is not JSON, 400 for malformed JSON; a chunked
    body is read like any other (411 where the server cannot end it for us).
    """
    if req.content_length is not None and req.content_length > MAX_BODY_BYTES:
        raise falcon.HTTPContentTooLarge(description="Request body is larger than 1 MiB.")
    raw = read_at_most(_body_stream(req), MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise falcon.HTTPContentTooLarge(description="Request body is larger than 1 MiB.")
    if not raw.strip():
        return {}
    media_type = (req.content_type or "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise falcon.HTTPUnsupportedMediaType(
            description=f'Unsupported media type "{req.content_type or ""}" in request.'
        )
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise falcon.HTTPBadRequest(description=f"JSON parse error - {exc}") from None


def is_chunked(req: falcon.Request) -> bool:
    """Whether the body comes with ``Transfer-Encoding: chunked`` (no Content-Length)."""
    return "chunked" in (req.get_header("Transfer-Encoding") or "").lower()


def _body_stream(req: falcon.Request) -> Readable:
    # Falcon's bounded_stream reads Content-Length bytes, so none of a chunked body: it was
    # taken for {} and a PATCH changed nothing. gunicorn de-chunks the input and ends it
    # (PEP 3333's wsgi.input_terminated), so it may be read to its end; a server that does
    # not promise that leaves no safe way to find the end: 411, never a silent {}.
    if req.content_length is None and is_chunked(req):
        if not req.env.get("wsgi.input_terminated"):
            raise falcon.HTTPLengthRequired(description="A chunked body needs a Content-Length here.")
        return cast(Readable, req.stream)
    return req.bounded_stream


def read_at_most(stream: Readable, limit: int) -> bytes:
    """Up to ``limit`` bytes of ``stream`` (a read may return fewer than asked before its end)."""
    parts: list[bytes] = []
    left = limit
    while left > 0:
        part = stream.read(left)
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def encode(body: Any) -> bytes:
    """A JSON answer's bytes (the ETag of a representation is computed from these)."""
    return orjson.dumps(body)


def send(resp: falcon.Response, body: Any, status: int = 200) -> None:
    resp.status = status
    resp.content_type = falcon.MEDIA_JSON
    resp.data = encode(body)


def movie_json(movie: Movie, prior: ScorePrior) -> dict[str, Any]:
    """A movie as the original wrote it, then what it did not have: ``score`` (the Bayesian
    average with ``prior``) and ``histogram`` ([1-star count, ..., 5-star count])."""
    return movie_serializer(prior)(movie)


def movie_serializer(prior: ScorePrior) -> Callable[[Movie], dict[str, Any]]:
    """``movie_json`` with the prior bound once, for a list (200 movies: a few us each)."""
    score = prior.scoring()

    def to_json(movie: Movie) -> dict[str, Any]:
        ratings = movie.ratings
        count, total = ratings.count, ratings.total
        return {
            "id": movie.id,
            "title": movie.title,
            "description": movie.description,
            "imagePath": movie.image_path,
            "no_of_ratings": count,
            "ave_ratings": ratings.average,
            "score": score(count, total),
            "histogram": ratings.histogram,  # a JSON array: 1 star first (orjson writes the tuple)
        }

    return to_json


def movie_view_json(view: MovieView, prior: ScorePrior) -> dict[str, Any]:
    """A movie asked with ``?include=my_rating``: it also carries ``my_rating``, the
    signed-in user's stars, or null."""
    return movie_view_serializer(prior)(view)


def movie_view_serializer(prior: ScorePrior) -> Callable[[MovieView], dict[str, Any]]:
    movie = movie_serializer(prior)

    def to_json(view: MovieView) -> dict[str, Any]:
        stars = view.my_stars
        return {**movie(view.movie), "my_rating": None if stars is None else stars.value}

    return to_json


def any_movie_json(item: Movie | MovieView, prior: ScorePrior) -> dict[str, Any]:
    return movie_view_json(item, prior) if isinstance(item, MovieView) else movie_json(item, prior)


def utc_text(at: datetime | None) -> str | None:
    """A time as DRF's DateTimeField writes UTC: ISO 8601 ending in ``Z``; None stays None."""
    if at is None:
        return None
    text = at.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def rating_json(rating: Rating) -> dict[str, Any]:
    return {
        "id": rating.id,
        "stars": rating.stars.value,
        "user": rating.user_id,
        "movie": rating.movie_id,
        "created": utc_text(rating.created),
        "changed": utc_text(rating.changed),
    }


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username}


def user_role_json(user: User) -> dict[str, Any]:
    """A user with their role: the users list with ``?include=is_admin``, promote, demote."""
    return {"id": user.id, "username": user.username, "is_admin": user.is_admin}


def user_view_json(view: UserView) -> dict[str, Any]:
    return user_role_json(view.user)


def profile_json(profile: Profile) -> dict[str, Any]:
    """``GET /api/users/me/``: the user's fields, then Django's names for the rest
    (``date_joined`` as DRF's DateTimeField writes UTC: ISO 8601 ending in ``Z``)."""
    joined = utc_text(profile.date_joined)
    return {
        "id": profile.id,
        "username": profile.username,
        "is_admin": profile.is_admin,
        "date_joined": joined,
    }
