"""The HTTP contract as an OpenAPI 3.1 document, served at ``GET /api/openapi.json``.

Every route and method the app serves is described here, with the request bodies the
validation rules accept (``movierater_core.rules`` and ``movierater_core.uploads``: the
limits are imported, not repeated), every status an operation can answer and the shape
of each error body, and links between operations for stateful testing. The server does
its own validation: the schemas describe valid input, they are not what enforces it.

Paths are written with their trailing slash, as the original DRF service documented
them; the app answers the same paths without it.
"""

from __future__ import annotations

from typing import Any

import falcon
import orjson

from movierater_core import __version__
from movierater_core.model import MAX_STARS, MIN_STARS
from movierater_core.rules import (
    DESCRIPTION_MAX,
    ID_MAX,
    IMAGE_PATH_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    TITLE_MAX,
    USERNAME_MAX,
)
from movierater_core.uploads import (
    FILENAME_MAX,
    GRANTS_PER_HOUR,
    IMAGE_TYPES,
    MAX_SIZE_MB,
    MAX_UPLOAD_BYTES,
)

JSON = "application/json"
Schema = dict[str, Any]

# Strings that are not blank once trimmed (DRF's CharField trims with str.strip, so the
# characters Python counts as whitespace beyond ECMA's \s are listed too) and hold no NUL.
_NO_NUL = "^[^\\u0000]*$"
_NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000\\u001c-\\u001f\\u0085][^\\u0000]*$"
# Django's username characters (it also accepts non-ASCII letters and digits).
_USERNAME = "^[A-Za-z0-9_.@+-]+$"
# An absolute http(s) URL with a plausible host, as rules.is_web_url accepts; or "".
_LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PORT = "(?:[0-9]{1,4}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
_WEB_URL = f"^(?:https?://{_LABEL}(?:\\.{_LABEL})*(?::{_PORT})?(?:/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*)?)?$"
_OBJECT_NAME = "^(?:[0-9a-f]{64}|[0-9a-f]{32})\\.(?:jpg|png|webp|gif)$"


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _schema(name: str) -> dict[str, str]:
    return _ref("schemas", name)


def _text(max_length: int, *, blank: bool = False, description: str | None = None) -> Schema:
    schema: Schema = {
        "type": "string",
        "minLength": 0 if blank else 1,
        "maxLength": max_length,
        "pattern": _NO_NUL if blank else _NOT_BLANK,
    }
    if description:
        schema["description"] = description
    return schema


def _object(properties: dict[str, Schema], required: list[str], *, closed: bool = True) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "required": required}
    if closed:
        schema["additionalProperties"] = False
    return schema


def _json_body(schema: Schema, description: str, *, required: bool = True) -> Schema:
    """A JSON request body. An empty body is read as ``{}`` (as DRF does): only where that is
    valid input (PATCH) is the body not required."""
    return {"required": required, "description": description, "content": {JSON: {"schema": schema}}}


def _ok(schema: Schema, description: str, links: dict[str, Any] | None = None) -> Schema:
    response: Schema = {"description": description, "content": {JSON: {"schema": schema}}}
    if links:
        response["links"] = links
    return response


def _link(operation_id: str, description: str, **parameters: str) -> Schema:
    return {"operationId": operation_id, "description": description, "parameters": parameters}


# ---- components --------------------------------------------------------------------------


def _schemas() -> dict[str, Schema]:
    id_schema = {"type": "integer", "minimum": 1, "maximum": ID_MAX, "format": "int32"}
    password = {
        "type": "string",
        "minLength": PASSWORD_MIN,
        "maxLength": PASSWORD_MAX,
        "pattern": _NO_NUL,
        "description": (
            f"Django's default policy: at least {PASSWORD_MIN} characters, not entirely numeric, "
            "not too similar to the username, not among 20,000 common passwords. Never trimmed."
        ),
    }
    username = {
        "type": "string",
        "minLength": 1,
        "maxLength": USERNAME_MAX,
        "pattern": _USERNAME,
        "description": (
            "Letters, digits and @/./+/-/_ (non-ASCII letters and digits are accepted too); "
            "surrounding whitespace is trimmed; unique."
        ),
    }
    title = _text(TITLE_MAX, description="Trimmed; may not be blank.")
    description = _text(DESCRIPTION_MAX, blank=True, description="Trimmed; may be empty.")
    image_path = {
        "type": ["string", "null"],
        "maxLength": IMAGE_PATH_MAX,
        "pattern": _WEB_URL,
        "description": (
            'An absolute http(s) URL; null or "" for no image. A URL of this service\'s own '
            "storage must name an uploaded object that really is an image of its type (else 400)."
        ),
    }
    content_types = sorted(IMAGE_TYPES)
    # The file name's extension must agree with contentType (any letter case).
    by_type = []
    for content_type in content_types:
        extensions, _canonical, _format = IMAGE_TYPES[content_type]
        cased = "|".join("".join(f"[{c.upper()}{c}]" for c in ext) for ext in extensions)
        by_type.append(
            {
                "properties": {
                    "contentType": {"const": content_type},
                    "filename": {"pattern": f"^[^\\u0000]*\\.(?:{cased})$"},
                }
            }
        )
    string_map = {"type": "object", "additionalProperties": {"type": "string"}}
    return {
        "Id": id_schema,
        "Credentials": _object(
            {
                "username": _text(USERNAME_MAX, description="Trimmed."),
                "password": {"type": "string", "minLength": 1, "maxLength": PASSWORD_MAX, "pattern": _NO_NUL},
            },
            ["username", "password"],
            closed=False,
        ),
        "Token": _object(
            {
                "token": {
                    "type": "string",
                    "minLength": 1,
                    "description": "Send as `Authorization: Token <key>`.",
                }
            },
            ["token"],
        ),
        "UserWrite": _object(
            {"username": username, "password": password}, ["username", "password"], closed=False
        ),
        "UserPatch": _object({"username": username, "password": password}, [], closed=False),
        "User": _object(
            {"id": _schema("Id"), "username": {"type": "string", "minLength": 1, "maxLength": USERNAME_MAX}},
            ["id", "username"],
        ),
        "MovieWrite": _object(
            {"title": title, "description": description, "imagePath": image_path},
            ["title"],
            closed=False,
        ),
        "MoviePatch": _object(
            {"title": title, "description": description, "imagePath": image_path}, [], closed=False
        ),
        "Movie": _object(
            {
                "id": _schema("Id"),
                "title": {"type": "string", "minLength": 1, "maxLength": TITLE_MAX},
                "description": {"type": "string", "maxLength": DESCRIPTION_MAX},
                "imagePath": {"type": ["string", "null"], "maxLength": IMAGE_PATH_MAX},
                "no_of_ratings": {"type": "integer", "minimum": 0},
                "ave_ratings": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": MAX_STARS,
                    "description": "Mean stars; 0 when the movie has no ratings.",
                },
            },
            ["id", "title", "description", "imagePath", "no_of_ratings", "ave_ratings"],
        ),
        "Stars": {"type": "integer", "minimum": MIN_STARS, "maximum": MAX_STARS},
        "RateMovie": _object(
            {
                "stars": {
                    **_schema("Stars"),
                    "description": (
                        'A JSON integer written without a fraction: 2.5, 4.0, "5" and true are refused.'
                    ),
                }
            },
            ["stars"],
            closed=False,
        ),
        "Rating": _object(
            {"id": _schema("Id"), "stars": _schema("Stars"), "user": _schema("Id"), "movie": _schema("Id")},
            ["id", "stars", "user", "movie"],
        ),
        "RatingResult": _object(
            {
                "message": {"type": "string", "enum": ["Rating created!", "Rating updated!"]},
                "result": _schema("Rating"),
            },
            ["message", "result"],
        ),
        "ApiRoot": _object(
            {name: {"type": "string", "format": "uri"} for name in ("users", "movies", "ratings")},
            ["users", "movies", "ratings"],
        ),
        "UploadUrlRequest": {
            **_object(
                {
                    "filename": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": FILENAME_MAX,
                        "description": "Only its extension is used: it must match contentType.",
                    },
                    "contentType": {"type": "string", "enum": content_types},
                    "fileSize": {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": MAX_UPLOAD_BYTES,
                        "description": (
                            f"Bytes, at most {MAX_SIZE_MB} MB, as an integer without a fraction (not 4.0); "
                            "with it the upload is a signed PUT."
                        ),
                    },
                    "fileHash": {
                        "type": "string",
                        "pattern": "^[0-9a-fA-F]{64}$",
                        "description": "The file's SHA-256 in hex; needs fileSize.",
                    },
                },
                ["filename", "contentType"],
                closed=False,
            ),
            "dependentRequired": {"fileHash": ["fileSize"]},
            "anyOf": by_type,
        },
        "UploadOffer": _object(
            {
                "upload_url": {"type": ["string", "null"], "description": "null when deduplicated."},
                "method": {"enum": ["PUT", "POST", None]},
                "headers": {**string_map, "description": "Send exactly these headers with the upload."},
                "fields": {**string_map, "description": "Form fields of a POST upload."},
                "key": {"type": "string", "minLength": 1},
                "public_url": {"type": "string", "minLength": 1},
                "max_size_mb": {"type": "integer", "const": MAX_SIZE_MB},
                "uploads_remaining": {"type": "integer", "minimum": 0, "maximum": GRANTS_PER_HOUR},
                "deduplicated": {"type": "boolean"},
                "expires_in": {"type": ["integer", "null"], "minimum": 1},
            },
            [
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
            ],
        ),
        "StoredUpload": _object(
            {"key": {"type": "string", "minLength": 1}, "public_url": {"type": "string", "minLength": 1}},
            ["key", "public_url"],
        ),
        "Detail": _object({"detail": {"type": "string", "minLength": 1}}, ["detail"]),
        "FieldErrors": {
            "type": "object",
            "description": (
                'DRF\'s validation errors: each field (or "non_field_errors") to its messages, '
                'e.g. {"title": ["This field is required."]}.'
            ),
            "minProperties": 1,
            "additionalProperties": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string", "minLength": 1},
            },
        },
        "StarsMissing": _object({"message": {"const": "You need to provide stars"}}, ["message"]),
        "Liveness": _object({"status": {"const": "ok"}}, ["status"]),
        "Readiness": _object(
            {
                "status": {"enum": ["ok", "unavailable"]},
                "detail": {"type": "string", "minLength": 1, "description": "Which checks failed."},
                "checks": _object(
                    {name: _schema("ReadinessCheck") for name in ("database", "storage")},
                    ["database", "storage"],
                ),
            },
            ["status", "checks"],
        ),
        "ReadinessCheck": _object(
            {
                "status": {"enum": ["ok", "unavailable"]},
                "detail": {"type": "string", "minLength": 1, "description": "What is wrong."},
            },
            ["status"],
        ),
    }


def _header(schema: Schema, description: str) -> Schema:
    return {"required": True, "description": description, "schema": schema}


def _retry_after() -> Schema:
    return _header({"type": "integer", "minimum": 1}, "Seconds to wait before trying again.")


def _error(description: str, **headers: Schema) -> Schema:
    response: Schema = {"description": description, "content": {JSON: {"schema": _schema("Detail")}}}
    if headers:
        response["headers"] = headers
    return response


def _responses() -> dict[str, Schema]:
    return {
        "BadRequest": {
            "description": (
                'Invalid input: DRF field errors ({"field": ["message"]} or {"non_field_errors": [...]}), '
                'or malformed JSON ({"detail": "JSON parse error - ..."}).'
            ),
            "content": {JSON: {"schema": {"anyOf": [_schema("FieldErrors"), _schema("Detail")]}}},
        },
        "Unauthorized": _error(
            "No token, a malformed Authorization header, or a token that is unknown, revoked or expired.",
            **{"WWW-Authenticate": _header({"const": "Token"}, "The scheme to authenticate with.")},
        ),
        "Forbidden": _error("Signed in, but not allowed: not an admin, or not the user or rating's owner."),
        "NotFound": _error("Nothing with that id (ids are 1..2147483647; others are not found either)."),
        "ContentTooLarge": _error("The request body is larger than 1 MiB."),
        "UnsupportedMediaType": _error("The request body is not JSON (application/json or */*+json)."),
        "TooManyRequests": _error(
            "An abuse limit was reached (upload URLs per user, failed logins per username or address, "
            "registrations per address): try again after Retry-After seconds.",
            **{"Retry-After": _retry_after()},
        ),
        "ServiceUnavailable": _error(
            "The database (or S3) cannot be reached, or is too busy to finish the request.",
            **{"Retry-After": _retry_after()},
        ),
        "NotReady": {
            "description": "A dependency (database, storage) does not answer: each check says which.",
            "headers": {"Retry-After": _retry_after()},
            "content": {JSON: {"schema": _schema("Readiness")}},
        },
        "MethodNotAllowed": _error(
            "The path exists but not with this method.",
            Allow=_header({"type": "string"}, "The methods the path has."),
        ),
    }


# ---- operations --------------------------------------------------------------------------

_BODY_ERRORS = ("400", "413", "415")


def _operation(
    operation_id: str,
    summary: str,
    responses: dict[str, Schema],
    errors: tuple[str, ...],
    *,
    public: bool = False,
    body: Schema | None = None,
    parameters: list[Schema] | None = None,
    tag: str,
    description: str | None = None,
    uses_database: bool = True,
) -> Schema:
    """One operation: ``responses`` plus the shared error responses named in ``errors``;
    401 unless ``public``, 503 when it ``uses_database``."""
    names = {
        "400": "BadRequest",
        "401": "Unauthorized",
        "403": "Forbidden",
        "404": "NotFound",
        "413": "ContentTooLarge",
        "415": "UnsupportedMediaType",
        "429": "TooManyRequests",
        "503": "ServiceUnavailable",
    }
    all_responses = dict(responses)
    codes = set(errors) | ({"503"} if uses_database else set())
    if not public:
        codes.add("401")
    for code in sorted(codes):
        all_responses.setdefault(code, _ref("responses", names[code]))
    operation: Schema = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [tag],
        "responses": dict(sorted(all_responses.items())),
    }
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = body
    if public:
        operation["security"] = []
    return operation


def _id_param(name: str, what: str) -> Schema:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": f"The {what}'s id.",
        "schema": _schema("Id"),
    }


def _no_content(description: str) -> Schema:
    return {"description": description}


def _paths(local_storage: bool) -> dict[str, Schema]:
    user_id, movie_id, rating_id = (
        _id_param("user_id", "user"),
        _id_param("movie_id", "movie"),
        _id_param("rating_id", "rating"),
    )
    user_links = {
        "GetUser": _link("getUser", "The user just made or changed.", user_id="$response.body#/id"),
        "UpdateUser": _link("updateUser", "Replace that user.", user_id="$response.body#/id"),
        "PatchUser": _link("patchUser", "Change that user.", user_id="$response.body#/id"),
        "DeleteUser": _link("deleteUser", "Delete that user.", user_id="$response.body#/id"),
        "ListTheirRatings": _link("listRatings", "That user's ratings.", user="$response.body#/id"),
    }
    log_in_link = {
        "LogInAsThem": {
            "operationId": "logIn",
            "description": "Log in with the username and password just set.",
            "requestBody": "$request.body",
        }
    }
    movie_links = {
        "GetMovie": _link("getMovie", "The movie just made or changed.", movie_id="$response.body#/id"),
        "UpdateMovie": _link("updateMovie", "Replace that movie.", movie_id="$response.body#/id"),
        "PatchMovie": _link("patchMovie", "Change that movie.", movie_id="$response.body#/id"),
        "DeleteMovie": _link("deleteMovie", "Delete that movie.", movie_id="$response.body#/id"),
        "RateMovie": _link("rateMovie", "Rate that movie.", movie_id="$response.body#/id"),
        "UnrateMovie": _link(
            "unrateMovie", "Remove one's rating of that movie.", movie_id="$response.body#/id"
        ),
        "ListItsRatings": _link("listRatings", "That movie's ratings.", movie="$response.body#/id"),
    }
    rating_links = {
        "GetRating": _link(
            "getRating", "The rating just made or changed.", rating_id="$response.body#/result/id"
        ),
        "DeleteRating": _link("deleteRating", "Delete that rating.", rating_id="$response.body#/result/id"),
        "GetRatedMovie": _link("getMovie", "The movie rated.", movie_id="$response.body#/result/movie"),
        "UnrateMovie": _link("unrateMovie", "Remove that rating.", movie_id="$response.body#/result/movie"),
    }
    id_query = [
        {
            "name": name,
            "in": "query",
            "required": False,
            "description": f"Only the ratings of this {name}.",
            "schema": _schema("Id"),
        }
        for name in ("movie", "user")
    ]
    paths: dict[str, Schema] = {
        "/api/": {
            "get": _operation(
                "apiRoot",
                "Links to the collections, as DRF's DefaultRouter served",
                {"200": _ok(_schema("ApiRoot"), "The collections' URLs.")},
                (),
                tag="root",
            )
        },
        "/api/openapi.json": {
            "get": _operation(
                "getOpenApi",
                "This document",
                {
                    "200": _ok(
                        {"type": "object", "required": ["openapi", "info", "paths"]},
                        "The OpenAPI 3.1 document.",
                    )
                },
                (),
                public=True,
                tag="root",
                uses_database=False,
            )
        },
        "/healthz": {
            "get": _operation(
                "liveness",
                "Liveness probe: the process answers (touches no database)",
                {"200": _ok(_schema("Liveness"), "Alive.")},
                (),
                public=True,
                tag="operations",
                uses_database=False,
            )
        },
        "/readyz": {
            "get": _operation(
                "readiness",
                "Readiness probe: the database (SELECT 1) and the image storage answer",
                {
                    "200": _ok(_schema("Readiness"), "Ready: every check is ok."),
                    "503": _ref("responses", "NotReady"),
                },
                (),
                public=True,
                tag="operations",
                uses_database=False,
            )
        },
        "/auth/": {
            "post": _operation(
                "logIn",
                "Exchange credentials for a new token",
                {"200": _ok(_schema("Token"), "A new token.")},
                (*_BODY_ERRORS, "429"),
                public=True,
                body=_json_body(_schema("Credentials"), "The user's credentials."),
                tag="auth",
                description=(
                    "Wrong credentials give 400 "
                    '{"non_field_errors": ["Unable to log in with provided credentials."]}. '
                    "Too many failures for a username (5 in 15 minutes) or from an address give 429, "
                    "even with the right password."
                ),
            ),
            "delete": _operation(
                "logOut",
                "Revoke the token used",
                {"204": _no_content("Revoked.")},
                (),
                tag="auth",
            ),
        },
        "/api/users/": {
            "get": _operation(
                "listUsers",
                "Every user",
                {"200": _ok({"type": "array", "items": _schema("User")}, "The users.")},
                (),
                tag="users",
            ),
            "post": _operation(
                "register",
                "Register (open to anyone)",
                {"201": _ok(_schema("User"), "The new user.", {**user_links, **log_in_link})},
                (*_BODY_ERRORS, "429"),
                public=True,
                body=_json_body(_schema("UserWrite"), "The new user's username and password."),
                tag="users",
            ),
        },
        "/api/users/{user_id}/": {
            "parameters": [user_id],
            "get": _operation(
                "getUser",
                "A user (themself or an admin)",
                {"200": _ok(_schema("User"), "The user.")},
                ("403", "404"),
                tag="users",
            ),
            "put": _operation(
                "updateUser",
                "Replace username and password (themself or an admin)",
                {"200": _ok(_schema("User"), "The user, changed.", {**user_links, **log_in_link})},
                (*_BODY_ERRORS, "403", "404"),
                body=_json_body(_schema("UserWrite"), "Both fields."),
                tag="users",
                description="A new password revokes the user's other tokens; the one used stays.",
            ),
            "patch": _operation(
                "patchUser",
                "Change username and/or password (themself or an admin)",
                {"200": _ok(_schema("User"), "The user, changed.", user_links)},
                (*_BODY_ERRORS, "403", "404"),
                body=_json_body(_schema("UserPatch"), "The fields to change.", required=False),
                tag="users",
                description="A new password revokes the user's other tokens; the one used stays.",
            ),
            "delete": _operation(
                "deleteUser",
                "Delete a user with their ratings and tokens (themself or an admin)",
                {"204": _no_content("Deleted.")},
                ("403", "404"),
                tag="users",
            ),
        },
        "/api/movies/": {
            "get": _operation(
                "listMovies",
                "Every movie with its rating summary",
                {"200": _ok({"type": "array", "items": _schema("Movie")}, "The movies.")},
                (),
                tag="movies",
            ),
            "post": _operation(
                "createMovie",
                "Add a movie (admins)",
                {"201": _ok(_schema("Movie"), "The new movie.", movie_links)},
                (*_BODY_ERRORS, "403"),
                body=_json_body(_schema("MovieWrite"), "The movie; description and imagePath are optional."),
                tag="movies",
            ),
        },
        "/api/movies/{movie_id}/": {
            "parameters": [movie_id],
            "get": _operation(
                "getMovie",
                "A movie",
                {"200": _ok(_schema("Movie"), "The movie.")},
                ("404",),
                tag="movies",
            ),
            "put": _operation(
                "updateMovie",
                "Replace a movie (admins)",
                {"200": _ok(_schema("Movie"), "The movie, changed.", movie_links)},
                (*_BODY_ERRORS, "403", "404"),
                body=_json_body(_schema("MovieWrite"), "The title; fields left out stay as they are."),
                tag="movies",
            ),
            "patch": _operation(
                "patchMovie",
                "Change a movie (admins)",
                {"200": _ok(_schema("Movie"), "The movie, changed.", movie_links)},
                (*_BODY_ERRORS, "403", "404"),
                body=_json_body(_schema("MoviePatch"), "The fields to change.", required=False),
                tag="movies",
            ),
            "delete": _operation(
                "deleteMovie",
                "Delete a movie and its ratings (admins)",
                {"204": _no_content("Deleted.")},
                ("403", "404"),
                tag="movies",
            ),
        },
        "/api/movies/{movie_id}/rate_movie/": {
            "parameters": [movie_id],
            "post": _operation(
                "rateMovie",
                "Rate a movie, or change one's rating of it",
                {
                    "200": _ok(_schema("RatingResult"), "Created or updated.", rating_links),
                    "400": {
                        "description": (
                            'No stars at all: {"message": "You need to provide stars"}; otherwise as any 400.'
                        ),
                        "content": {
                            JSON: {
                                "schema": {
                                    "anyOf": [
                                        _schema("StarsMissing"),
                                        _schema("FieldErrors"),
                                        _schema("Detail"),
                                    ]
                                }
                            }
                        },
                    },
                },
                (*_BODY_ERRORS, "404"),
                body=_json_body(_schema("RateMovie"), "The stars."),
                tag="ratings",
            ),
            "delete": _operation(
                "unrateMovie",
                "Remove one's own rating of a movie",
                {"204": _no_content("Removed.")},
                ("404",),
                tag="ratings",
            ),
        },
        "/api/movies/get_upload_url/": {
            "post": _operation(
                "getUploadUrl",
                "Grant a URL to upload a poster to storage",
                {"200": _ok(_schema("UploadOffer"), "Where and how to upload, or the stored duplicate.")},
                (*_BODY_ERRORS, "429"),
                body=_json_body(_schema("UploadUrlRequest"), "What will be uploaded."),
                tag="uploads",
                description=(
                    f"At most {GRANTS_PER_HOUR} granted URLs per user per rolling hour (429 with Retry-After "
                    "after that). A fileHash of an object already stored and verified gives "
                    '"deduplicated": true and no upload_url.'
                ),
            )
        },
        "/api/ratings/": {
            "get": _operation(
                "listRatings",
                "Every rating, or those of a movie and/or a user",
                {"200": _ok({"type": "array", "items": _schema("Rating")}, "The ratings.")},
                ("400",),
                parameters=id_query,
                tag="ratings",
            )
        },
        "/api/ratings/{rating_id}/": {
            "parameters": [rating_id],
            "get": _operation(
                "getRating",
                "A rating",
                {"200": _ok(_schema("Rating"), "The rating.")},
                ("404",),
                tag="ratings",
            ),
            "delete": _operation(
                "deleteRating",
                "Delete a rating (its owner or an admin)",
                {"204": _no_content("Deleted.")},
                ("403", "404"),
                tag="ratings",
            ),
        },
    }
    if local_storage:
        paths.update(_local_storage_paths())
    return paths


def _local_storage_paths() -> dict[str, Schema]:
    """The two routes local storage adds (S3 serves these itself)."""
    name = {
        "name": "name",
        "in": "path",
        "required": True,
        "description": "The object's name, as the upload URL gives it.",
        "schema": {"type": "string", "pattern": _OBJECT_NAME},
    }
    image_content = {content_type: {} for content_type in sorted(IMAGE_TYPES)}

    def signed(param: str, description: str, schema: Schema) -> Schema:
        return {"name": param, "in": "query", "required": True, "description": description, "schema": schema}

    refused = {
        "400": _error("The body does not match what was signed (size, SHA-256, or shorter than sent)."),
        "403": _error("The signature does not match, the URL has expired, or the Content-Type differs."),
        "409": _error("The object exists already; it is never overwritten."),
        "411": _error("No Content-Length."),
        "413": _error("The body is larger than signed, or than 5 MB."),
    }
    media_headers = {
        "Cache-Control": _header({"type": "string"}, "Public and immutable: names never change content."),
        "Content-Length": _header({"type": "integer", "minimum": 0}, "The image's size in bytes."),
        "X-Content-Type-Options": _header({"const": "nosniff"}, "No sniffing."),
        "Content-Security-Policy": _header({"type": "string"}, "Nothing may run from here."),
    }
    return {
        "/uploads/{name}": {
            "parameters": [name],
            "put": _operation(
                "uploadImage",
                "Upload the bytes to a signed local-storage URL (local storage only)",
                {"201": _ok(_schema("StoredUpload"), "Stored."), **refused},
                (),
                public=True,
                parameters=[
                    signed(
                        "expires", "Unix time the URL expires at.", {"type": "string", "pattern": "^[0-9]+$"}
                    ),
                    signed(
                        "type", "The Content-Type signed.", {"type": "string", "enum": sorted(IMAGE_TYPES)}
                    ),
                    signed(
                        "size", "The size signed (may be empty).", {"type": "string", "pattern": "^[0-9]*$"}
                    ),
                    signed(
                        "sha256",
                        "The SHA-256 signed (may be empty).",
                        {"type": "string", "pattern": "^([0-9a-f]{64})?$"},
                    ),
                    signed(
                        "signature",
                        "HMAC-SHA256 of the above.",
                        {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    ),
                ],
                body={
                    "required": True,
                    "description": "The image bytes, with the Content-Type that was signed.",
                    "content": image_content,
                },
                tag="uploads",
                description="The signature is the credential: send it exactly as get_upload_url answered.",
                uses_database=False,
            ),
        },
        "/media/movies/{name}": {
            "parameters": [name],
            "get": _operation(
                "getMedia",
                "A stored poster (local storage only)",
                {
                    "200": {"description": "The image.", "headers": media_headers, "content": image_content},
                    "404": _ref("responses", "NotFound"),
                },
                (),
                public=True,
                tag="uploads",
                uses_database=False,
            ),
            "head": _operation(
                "headMedia",
                "A stored poster's headers (local storage only)",
                {
                    "200": {"description": "The image's headers, no body.", "headers": media_headers},
                    "404": {"description": "No such object (no body)."},
                },
                (),
                public=True,
                tag="uploads",
                uses_database=False,
            ),
        },
    }


def openapi_document(*, local_storage: bool = True) -> dict[str, Any]:
    """The whole document; ``local_storage=False`` (S3) leaves out the two local-only routes."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "movierater",
            "version": __version__,
            "description": (
                "Movies, users and 1-5 star ratings with live averages: the HTTP contract of the Django "
                "REST Framework service it replaces (paths with trailing slashes, which may be left "
                "out; DRF's error bodies). A method a path does not have gives 405 "
                '{"detail": "Method \\"X\\" not allowed."} with Allow.'
            ),
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": "/"}],
        "security": [{"tokenAuth": []}],
        "tags": [
            {"name": name} for name in ("root", "auth", "users", "movies", "ratings", "uploads", "operations")
        ],
        "paths": _paths(local_storage),
        "components": {
            "securitySchemes": {
                "tokenAuth": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": (
                        "`Token <key>` with the key POST /auth/ gave (`Bearer <key>` is accepted too)."
                    ),
                }
            },
            "schemas": _schemas(),
            "responses": _responses(),
        },
    }


class OpenApiDocument:
    """``GET /api/openapi.json``: the document, built once with the app, served as bytes."""

    public_methods = ("GET",)

    def __init__(self, *, local_storage: bool) -> None:
        self._body = orjson.dumps(openapi_document(local_storage=local_storage))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_JSON
        resp.data = self._body
