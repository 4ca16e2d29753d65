"""Request bodies in, JSON out, and the wire shapes of the original service."""

from __future__ import annotations

from typing import Any

import falcon
import orjson

from movierater_core.model import Movie, Rating, User

MAX_BODY_BYTES = 1024 * 1024


def read_json(req: falcon.Request) -> Any:
    """The decoded JSON body; ``{}`` for an empty body (as DRF treats it).

    413 above 1 MiB, 415 for a body that is not JSON, 400 for malformed JSON.
    """
    if req.content_length is not None and req.content_length > MAX_BODY_BYTES:
        raise falcon.HTTPContentTooLarge(description="Request body is larger than 1 MiB.")
    raw = req.bounded_stream.read(MAX_BODY_BYTES + 1)
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


def send(resp: falcon.Response, body: Any, status: int = 200) -> None:
    resp.status = status
    resp.content_type = falcon.MEDIA_JSON
    resp.data = orjson.dumps(body)


def movie_json(movie: Movie) -> dict[str, Any]:
    return {
        "id": movie.id,
        "title": movie.title,
        "description": movie.description,
        "imagePath": movie.image_path,
        "no_of_ratings": movie.ratings.count,
        "ave_ratings": movie.ratings.average,
    }


def rating_json(rating: Rating) -> dict[str, Any]:
    return {
        "id": rating.id,
        "stars": rating.stars.value,
        "user": rating.user_id,
        "movie": rating.movie_id,
    }


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "username": user.username}
