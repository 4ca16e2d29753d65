"""The HTTP contract as an OpenAPI 3.1 document, served at ``GET /api/openapi.json``.

It is assembled, not written: the paths and methods are the routes the Falcon app has
(``falcon.inspect.inspect_routes``); each operation (summary, responses, links) is what its
responder says beside the resource (:func:`movierater_entrypoints.http.spec.operation`); request
bodies and query strings are generated from the core's declarations
(``movierater_core.rules.Body``), the same the use cases parse with, so the schemas state
exactly the rules the core enforces (or a subset, where JSON Schema cannot say one). Here
are only the shapes of answers, the shared error responses, and the assembly. The server
does its own validation: the schemas describe valid input, they are not what enforces it.

Paths of the original DRF service are written with their trailing slash, as it documented
them; the app answers the same paths without it.
"""

from __future__ import annotations

import re
from typing import Any

import falcon
import falcon.inspect
import orjson
from movierater_entrypoints.http.pages import cursor_page_schema, page_schema
from movierater_entrypoints.http.spec import (
    JSON,
    Documented,
    Operation,
    RequestBody,
    Schema,
    error,
    header,
    ok,
    operation,
    operation_of,
    ref,
    schema_ref,
)

from movierater_core import __version__
from movierater_core.model import MAX_STARS
from movierater_core.rules import (
    DESCRIPTION_MAX,
    ID,
    IMAGE_PATH_MAX,
    STARS,
    TITLE_MAX,
    USERNAME_MAX,
    Body,
    Field,
    Rule,
)
from movierater_core.uploads import GRANTS_PER_HOUR, MAX_SIZE_MB


def _object(properties: dict[str, Schema], required: list[str], *, closed: bool = True) -> Schema:
    schema: Schema = {"type": "object", "properties": properties, "required": required}
    if closed:
        schema["additionalProperties"] = False
    return schema


# ---- components: the shapes of answers ------------------------------------------------------


def _schemas() -> dict[str, Schema]:
    string_map = {"type": "object", "additionalProperties": {"type": "string"}}
    return {
        "Id": dict(ID.schema),
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
        "User": _object(
            {
                "id": schema_ref("Id"),
                "username": {"type": "string", "minLength": 1, "maxLength": USERNAME_MAX},
                "is_admin": {
                    "type": "boolean",
                    "description": (
                        "Only with ?include=is_admin (the users list) and in the answers of "
                        "promote and demote: whether the user is an admin."
                    ),
                },
            },
            ["id", "username"],
        ),
        "Me": _object(
            {
                "id": schema_ref("Id"),
                "username": {"type": "string", "minLength": 1, "maxLength": USERNAME_MAX},
                "is_admin": {"type": "boolean", "description": "May write movies and manage users."},
                "date_joined": {
                    "type": "string",
                    "format": "date-time",
                    "description": "When the account was made (ISO 8601, UTC, DRF's format).",
                },
            },
            ["id", "username", "is_admin", "date_joined"],
        ),
        "Movie": _object(
            {
                "id": schema_ref("Id"),
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
                "score": {
                    "type": "number",
                    "minimum": 0,
                    "maximum": MAX_STARS,
                    "description": (
                        "The Bayesian average (C*m + sum of stars) / (m + no_of_ratings): C the catalogue's "
                        "mean stars (over every rating of every movie; 0 without ratings), m the setting "
                        "MOVIERATER_SCORE_PRIOR_WEIGHT. A movie with few ratings scores near C, one with "
                        "many near its own average: what ?ordering=-score ranks by. C is re-read at most "
                        "every MOVIERATER_SCORE_MEAN_MAX_AGE seconds by each server process."
                    ),
                },
                "histogram": {
                    "type": "array",
                    "items": {"type": "integer", "minimum": 0},
                    "minItems": MAX_STARS,
                    "maxItems": MAX_STARS,
                    "description": (
                        "How many ratings have 1, 2, 3, 4 and 5 stars, in that order ([0, 0, 1, 2, 7]: "
                        "one 3, two 4s, seven 5s); they add up to no_of_ratings and, times their stars, "
                        "to the sum behind ave_ratings."
                    ),
                },
                "my_rating": {
                    "anyOf": [schema_ref("Stars"), {"type": "null"}],
                    "description": (
                        "Only with ?include=my_rating: the signed-in user's stars, null where "
                        "they have not rated the movie."
                    ),
                },
            },
            ["id", "title", "description", "imagePath", "no_of_ratings", "ave_ratings", "score", "histogram"],
        ),
        "MoviePage": page_schema("Movie"),
        "RatingPage": page_schema("Rating"),
        "RatingCursorPage": cursor_page_schema("Rating"),
        "UserPage": page_schema("User"),
        "Stars": dict(STARS.schema),
        "Rating": _object(
            {
                "id": schema_ref("Id"),
                "stars": schema_ref("Stars"),
                "user": schema_ref("Id"),
                "movie": schema_ref("Id"),
                "created": {
                    "type": ["string", "null"],
                    "format": "date-time",
                    "description": (
                        "When the rating was made (ISO 8601, UTC, ending in Z); null for ratings "
                        "imported from the Django original, which kept no times."
                    ),
                },
                "changed": {
                    "type": ["string", "null"],
                    "format": "date-time",
                    "description": (
                        "When its stars last changed (at first: `created`); null as `created` is. "
                        "What `?since=` filters and orders by."
                    ),
                },
            },
            ["id", "stars", "user", "movie", "created", "changed"],
        ),
        "ExportedRating": _object(
            {
                "movie": schema_ref("Id"),
                "title": {"type": "string", "minLength": 1, "maxLength": TITLE_MAX},
                "stars": schema_ref("Stars"),
            },
            ["movie", "title", "stars"],
        ),
        "RatingResult": _object(
            {
                "message": {"type": "string", "enum": ["Rating created!", "Rating updated!"]},
                "result": schema_ref("Rating"),
            },
            ["message", "result"],
        ),
        "ApiRoot": _object(
            {name: {"type": "string", "format": "uri"} for name in ("users", "movies", "ratings")},
            ["users", "movies", "ratings"],
        ),
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
                    {name: schema_ref("ReadinessCheck") for name in ("database", "storage")},
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


def retry_after() -> Schema:
    return header({"type": "integer", "minimum": 1}, "Seconds to wait before trying again.")


def _responses() -> dict[str, Schema]:
    return {
        "BadRequest": {
            "description": (
                'Invalid input: DRF field errors ({"field": ["message"]} or {"non_field_errors": [...]}), '
                'or malformed JSON ({"detail": "JSON parse error - ..."}).'
            ),
            "content": {JSON: {"schema": {"anyOf": [schema_ref("FieldErrors"), schema_ref("Detail")]}}},
        },
        "Unauthorized": error(
            "No token, a malformed Authorization header, or a token that is unknown, revoked or expired.",
            **{"WWW-Authenticate": header({"const": "Token"}, "The scheme to authenticate with.")},
        ),
        "Forbidden": error("Signed in, but not allowed: not an admin, or not the user or rating's owner."),
        "NotFound": error("Nothing with that id (ids are 1..2147483647; others are not found either)."),
        "ContentTooLarge": error("The request body is larger than 1 MiB."),
        "UnsupportedMediaType": error("The request body is not JSON (application/json or */*+json)."),
        "TooManyRequests": error(
            "An abuse limit was reached (upload URLs per user, failed logins per username or address, "
            "registrations per address): try again after Retry-After seconds.",
            **{"Retry-After": retry_after()},
        ),
        "ServiceUnavailable": error(
            "The database (or S3) cannot be reached, or is too busy to finish the request.",
            **{"Retry-After": retry_after()},
        ),
        "NotReady": {
            "description": "A dependency (database, storage) does not answer: each check says which.",
            "headers": {"Retry-After": retry_after()},
            "content": {JSON: {"schema": schema_ref("Readiness")}},
        },
        "MethodNotAllowed": error(
            "The path exists but not with this method.",
            Allow=header({"type": "string"}, "The methods the path has."),
        ),
    }


# ---- assembly: the app's routes, their operations, the core's bodies --------------------------

_ERROR_RESPONSES = {
    "400": "BadRequest",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "NotFound",
    "413": "ContentTooLarge",
    "415": "UnsupportedMediaType",
    "429": "TooManyRequests",
    "503": "ServiceUnavailable",
}
_CONVERTER = re.compile(r"\{(\w+):[^{}]*\}")  # {user_id:int(min=1, ...)} -> {user_id}


def _paths(app: falcon.App[falcon.Request, falcon.Response], schemas: dict[str, Schema]) -> dict[str, Schema]:
    """Every route's path item; request body schemas are added to ``schemas``."""
    paths: dict[str, Schema] = {}
    for route in falcon.inspect.inspect_routes(app):
        resource = Documented.by_name.get(route.class_name)
        if resource is None:
            raise LookupError(f"{route.path}: {route.class_name} is not a Documented resource")
        if not resource.api:
            continue
        template = _CONVERTER.sub(r"{\1}", route.path)
        item: Schema = {}
        names = re.findall(r"\{(\w+)\}", template)
        if names:
            item["parameters"] = [_path_parameter(resource, name) for name in names]
        for method in route.methods:
            if method.internal or method.method == "OPTIONS":  # Falcon's and the CORS middleware's
                continue
            described = operation_of(getattr(resource, method.function_name))
            if described is None:
                raise LookupError(f"{route.class_name}.{method.function_name} has no @operation")
            public = method.method in resource.public_methods
            item[method.method.lower()] = _operation(described, public, schemas)
        paths[template + "/" if resource.trailing_slash else template] = item
    return paths


def _path_parameter(resource: type[Documented], name: str) -> Schema:
    if name in resource.path_parameters:
        return dict(resource.path_parameters[name])
    if not name.endswith("_id"):
        raise LookupError(f"{resource.__name__} does not describe its path parameter {name}")
    what = name.removesuffix("_id")
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": f"The {what}'s id.",
        "schema": _rule_schema(ID, schemas=None),
    }


def _operation(described: Operation, public: bool, schemas: dict[str, Schema]) -> Schema:
    """``responses`` plus the shared errors it names; 401 unless public, 503 when it uses the database."""
    responses = dict(described.responses)
    codes = set(described.errors) | ({"503"} if described.uses_database else set())
    if not public:
        codes.add("401")
    for code in sorted(codes):
        responses.setdefault(code, ref("responses", _ERROR_RESPONSES[code]))
    result: Schema = {
        "operationId": described.operation_id,
        "summary": described.summary,
        "tags": [described.tag],
        "responses": dict(sorted(responses.items())),
    }
    if described.description:
        result["description"] = described.description
    parameters = [*_query_parameters(described.query, schemas), *described.parameters]
    if parameters:
        result["parameters"] = parameters
    if isinstance(described.body, RequestBody):
        result["requestBody"] = _request_body(described.body, schemas)
    elif described.body is not None:
        result["requestBody"] = described.body
    if public:
        result["security"] = []
    return result


def _request_body(body: RequestBody, schemas: dict[str, Schema]) -> Schema:
    """A JSON request body. An empty body is read as ``{}`` (as DRF does): only where that is
    valid input (PATCH) is the body not required."""
    properties = {field.name: _field_schema(field, schemas) for field in body.body.fields}
    schema = {
        **_object(properties, body.body.required(partial=body.partial), closed=False),
        **body.body.across_fields,
    }
    _define(schemas, body.component, schema)
    return {
        "required": not body.partial,
        "description": body.description,
        "content": {JSON: {"schema": schema_ref(body.component)}},
    }


def _query_parameters(query: Body | None, schemas: dict[str, Schema]) -> list[Schema]:
    return [
        {
            "name": field.name,
            "in": "query",
            "required": field.required(partial=False),
            "description": field.description,
            "schema": _rule_schema(field.rule, schemas),
        }
        for field in (query.fields if query else ())
    ]


def _field_schema(field: Field[Any], schemas: dict[str, Schema]) -> Schema:
    schema = _rule_schema(field.rule, schemas)
    if field.description:
        schema["description"] = field.description
    return schema


def _rule_schema(rule: Rule[Any], schemas: dict[str, Schema] | None) -> Schema:
    """A rule's JSON Schema; a shared (named) rule's as a reference to its component."""
    if rule.name is None:
        return dict(rule.schema)
    if schemas is not None:
        _define(schemas, rule.name, dict(rule.schema))
    return dict(schema_ref(rule.name))


def _define(schemas: dict[str, Schema], name: str, schema: Schema) -> None:
    if schemas.setdefault(name, schema) != schema:
        raise ValueError(f"two different schemas named {name}")


# ---- the document ---------------------------------------------------------------------------


def openapi_document(app: falcon.App[falcon.Request, falcon.Response]) -> dict[str, Any]:
    """The document of ``app``'s routes, as ``falcon.inspect`` lists them (with S3 storage,
    the two local-storage routes are not there, so they are not documented either)."""
    schemas = _schemas()
    paths = _paths(app, schemas)
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
        "paths": paths,
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
            "schemas": dict(sorted(schemas.items())),
            "responses": _responses(),
        },
    }


class OpenApiDocument(Documented):
    """``GET /api/openapi.json``: the document, built once with the app, served as bytes."""

    public_methods = ("GET",)

    def __init__(self) -> None:
        self._body = b""

    def publish(self, app: falcon.App[falcon.Request, falcon.Response]) -> None:
        """Build the document of ``app``, once all its routes are added."""
        self._body = orjson.dumps(openapi_document(app))

    @operation(
        "getOpenApi",
        "This document",
        {
            "200": ok(
                {"type": "object", "required": ["openapi", "info", "paths"]},
                "The OpenAPI 3.1 document.",
            )
        },
        tag="root",
        uses_database=False,
    )
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_JSON
        resp.data = self._body
