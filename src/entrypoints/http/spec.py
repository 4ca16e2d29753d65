"""What each responder tells the OpenAPI document, written beside the resource that serves it.

A responder is marked with :func:`operation` (its id, summary, responses, request body,
query); resources derive from :class:`Documented`, so that ``openapi.py`` can find the
class of each route ``falcon.inspect`` lists. Request bodies and query strings are the
core's declarations (:class:`movierater_core.rules.Body`), the ones the use cases parse
with: the document's schemas are generated from them, never written again here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

from attrs import frozen

from movierater_core.rules import Body

JSON = "application/json"
Schema = dict[str, Any]
Responder = TypeVar("Responder", bound=Callable[..., None])


def ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def schema_ref(name: str) -> dict[str, str]:
    return ref("schemas", name)


def ok(schema: Schema, description: str, links: Mapping[str, Schema] | None = None) -> Schema:
    response: Schema = {"description": description, "content": {JSON: {"schema": schema}}}
    if links:
        response["links"] = dict(links)
    return response


def no_content(description: str) -> Schema:
    return {"description": description}


def link(operation_id: str, description: str, **parameters: str) -> Schema:
    return {"operationId": operation_id, "description": description, "parameters": parameters}


def header(schema: Schema, description: str) -> Schema:
    return {"required": True, "description": description, "schema": schema}


def error(description: str, **headers: Schema) -> Schema:
    """A response with DRF's ``{"detail": ...}`` body."""
    response: Schema = {"description": description, "content": {JSON: {"schema": schema_ref("Detail")}}}
    if headers:
        response["headers"] = headers
    return response


@frozen
class RequestBody:
    """A JSON body the core declares, published as the schema ``component``. ``partial``
    (PATCH): only the fields needed always are required, and an empty body (read as ``{}``,
    as DRF does) is valid, so the body itself is not required."""

    component: str
    body: Body
    description: str
    partial: bool = False


BODY_ERRORS = ("400", "413", "415")


@frozen
class Operation:
    """One operation: ``responses`` plus the shared error responses named in ``errors``;
    401 unless the resource lists the method in ``public_methods``, 503 when it
    ``uses_database``."""

    operation_id: str
    summary: str
    responses: Mapping[str, Schema]
    errors: tuple[str, ...] = ()
    tag: str = ""
    body: RequestBody | Schema | None = None
    query: Body | None = None  # the query string's fields, as the core declares them
    parameters: tuple[Schema, ...] = ()  # any other (the signed query of a local upload)
    description: str | None = None
    uses_database: bool = True


def operation(
    operation_id: str,
    summary: str,
    responses: Mapping[str, Schema],
    errors: tuple[str, ...] = (),
    **details: Any,
) -> Callable[[Responder], Responder]:
    """Mark a responder (``on_get``, ...) with the operation it serves."""

    def mark(responder: Responder) -> Responder:
        described = Operation(operation_id, summary, responses, errors, **details)
        responder.__dict__["openapi_operation"] = described
        return responder

    return mark


class Documented:
    """A resource the document describes. ``trailing_slash``: documented with a trailing slash
    (the DRF paths, which the app also answers without). ``path_parameters``: the schema of
    each parameter of its route template (an ``*_id`` is an :data:`Id` without saying so)."""

    by_name: ClassVar[dict[str, type[Documented]]] = {}
    api: ClassVar[bool] = True  # False: a page for people, which the document leaves out
    public_methods: ClassVar[tuple[str, ...]] = ()
    trailing_slash: ClassVar[bool] = False
    path_parameters: ClassVar[Mapping[str, Schema]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # falcon.inspect names a route's resource by its class name: keep those unique.
        if Documented.by_name.setdefault(cls.__name__, cls) is not cls:
            raise TypeError(f"two resources named {cls.__name__}")


def operation_of(responder: object) -> Operation | None:
    found = getattr(responder, "openapi_operation", None)
    return found if isinstance(found, Operation) else None
