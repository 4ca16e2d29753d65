"""The OpenAPI document (``GET /api/openapi.json``) against the app that serves it.

- every route and method of the Falcon app is documented, and nothing else;
- the document is valid OpenAPI 3.1, its schemas valid JSON Schema 2020-12, its
  references, links and patterns sound;
- schemathesis drives the live server (gunicorn, on each database backend) with its
  coverage cases (boundaries, wrong types, missing fields and credentials, unexpected
  methods and media types), random positive and negative requests per operation, and
  stateful sequences that follow the document's links, as an admin and as a user: no
  response may be a 5xx, every one must be documented (status, media type, headers,
  body schema). At least 2,000 requests in CI (``CI=true``); a few hundred otherwise.

Each input the fuzzing found that broke the server is kept as a regular test at the end.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import falcon
import falcon.inspect
import hypothesis
import hypothesis.errors
import jsonschema_rs
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from movierater_entrypoints.bootstrap import build_container
from movierater_entrypoints.http import create_app, openapi
from movierater_entrypoints.settings import Settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
    use_after_free,
)
from schemathesis.specs.openapi.formats import INVALID_HEADER_CHARS

from movierater_core.ports import Database, ImageStorage
from tests.integration.conftest import (
    ADMIN_PASSWORD,
    USER_PASSWORD,
    Server,
    make_admin,
    sign_up,
    wipe,
)

CI = os.environ.get("CI") == "true"
JSON = "application/json"
MIN_REQUESTS_IN_CI = 2000
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    ignored_auth,  # an operation that needs a token refuses a request without one (a probe)
    unsupported_method,  # a method a path lacks is 405 with Allow
]
# Along links: what was deleted is gone, what was made can be found.
STATEFUL_CHECKS = [*CHECKS, use_after_free, ensure_resource_availability]
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
PUBLIC = {
    ("POST", "/auth/"),
    ("POST", "/api/users/"),
    ("GET", "/api/openapi.json"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("PUT", "/uploads/{name}"),
    ("GET", "/media/movies/{name}"),
    ("HEAD", "/media/movies/{name}"),
}


# ---- the document describes exactly the app's routes ---------------------------------------

# Pages for people, not the API: Swagger UI (HTML, whose files WhiteNoise serves outside the
# Falcon app) and the root's redirect to it. The document describes the JSON API only.
NOT_API = {("GET", "/api/docs"), ("GET", "/"), ("GET", "/admin")}  # pages for people


def app_for(storage: str) -> falcon.App:
    """The app as the settings build it for local storage or S3, to look at, not to serve:
    no database, and no S3 client (the settings choose the routes)."""
    settings = Settings(storage=storage, s3_bucket="movierater" if storage == "s3" else "")
    overrides: dict[type, Any] = {Database: object()} | ({ImageStorage: object()} if storage == "s3" else {})
    return create_app(build_container(settings, overrides))


def openapi_document(*, local_storage: bool = True) -> dict[str, Any]:
    """The document the app serves, for local storage or S3."""
    return openapi.openapi_document(app_for("local" if local_storage else "s3"))


def app_routes(app: falcon.App) -> set[tuple[str, str]]:
    """(METHOD, path template) for every responder the app's resources define, OPTIONS
    aside (Falcon and the CORS middleware answer it); templates without converters."""
    routes = set()
    for route in falcon.inspect.inspect_routes(app):
        template = re.sub(r"\{(\w+):[^{}]*\}", r"{\1}", route.path)
        for method in route.methods:
            if not method.internal and method.method != "OPTIONS":
                routes.add((method.method, template))
    return routes


def documented_routes(document: dict[str, Any]) -> set[tuple[str, str]]:
    """(METHOD, path) for every operation, the trailing slash dropped as the app routes it."""
    return {
        (method.upper(), path.rstrip("/"))
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


@pytest.mark.parametrize("storage", ["local", "s3"])
def test_every_route_and_method_is_documented_and_nothing_else(storage: str) -> None:
    served = app_routes(app_for(storage))  # with S3 there is no /uploads, no /media
    assert NOT_API <= served
    served -= NOT_API
    document = openapi_document(local_storage=storage == "local")
    documented = documented_routes(document)
    assert served - documented == set(), "served but not documented"
    assert documented - served == set(), "documented but not served"
    assert ("GET", "/api/openapi.json") in served
    assert (("PUT", "/uploads/{name}") in served) == (storage == "local")
    # The DRF paths are documented with their trailing slash.
    for path in document["paths"]:
        if path.startswith(("/api", "/auth")) and path != "/api/openapi.json":
            assert path.endswith("/"), path


def test_the_served_document_is_the_documented_one_and_public(server: Server) -> None:
    resp = requests.get(server.base_url + "/api/openapi.json", timeout=30)
    assert resp.status_code == 200, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.json() == openapi_document(local_storage=True)
    assert requests.get(server.base_url + "/api/openapi.json/", timeout=30).json() == resp.json()


# ---- the document is sound ------------------------------------------------------------------


def walk(node: Any, path: str = "#") -> Iterator[tuple[str, Any]]:
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk(value, f"{path}/{index}")


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def schemas_in(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every JSON Schema the document holds: components, parameters, bodies, headers."""
    for name, schema in document["components"]["schemas"].items():
        yield f"#/components/schemas/{name}", schema
    for where, node in walk(document):
        if isinstance(node, dict) and "schema" in node and isinstance(node["schema"], dict):
            yield f"{where}/schema", node["schema"]


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in HTTP_METHODS:
                yield path, method.upper(), item, operation


@pytest.mark.parametrize("local_storage", [True, False], ids=["local", "s3"])
def test_the_document_is_valid_openapi_3_1(local_storage: bool) -> None:
    document = openapi_document(local_storage=local_storage)
    assert document["openapi"].startswith("3.1")
    schema = schemathesis.openapi.from_dict(document)
    schema.validate()  # the OpenAPI 3.1 meta-schema
    loaded = list(schema.get_all_operations())
    assert all(result.ok() for result in loaded)
    assert len(loaded) == len(documented_routes(document))
    for where, node in schemas_in(document):
        assert jsonschema_rs.meta.is_valid(node), where  # JSON Schema 2020-12
        for inner, value in walk(node, where):
            if inner.endswith("/pattern"):
                re.compile(value)  # what generators use; jsonschema_rs compiled it as ECMA already
    for where, node in walk(document):
        if isinstance(node, dict) and "$ref" in node:
            assert resolve(document, node["$ref"]) is not None, where


def test_every_operation_is_identified_secured_and_answers_its_errors() -> None:
    document = openapi_document()
    assert document["security"] == [{"tokenAuth": []}]
    scheme = document["components"]["securitySchemes"]["tokenAuth"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    ids = [operation["operationId"] for _p, _m, _i, operation in operations(document)]
    assert len(ids) == len(set(ids))
    public = set()
    for path, method, item, operation in operations(document):
        responses = operation["responses"]
        if operation.get("security") == []:
            public.add((method, path))
        else:
            assert "security" not in operation
            assert resolve(document, responses["401"]["$ref"])["headers"]["WWW-Authenticate"]["required"]
        if "requestBody" in operation and path != "/uploads/{name}":
            assert {"400", "413", "415"} <= set(responses), (method, path)
        for parameter in item.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"].endswith("_id"):
                assert parameter["schema"] == {"$ref": "#/components/schemas/Id"}
                assert "404" in responses, (method, path)
        for code in ("429", "503"):
            if code in responses:
                assert resolve(document, responses[code]["$ref"])["headers"]["Retry-After"]["required"]
    assert public == PUBLIC
    assert document["components"]["schemas"]["Id"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 2147483647,
        "format": "int32",
    }


def test_links_name_real_operations_and_parameters() -> None:
    document = openapi_document()
    by_id = {operation["operationId"]: (item, operation) for _p, _m, item, operation in operations(document)}
    links = [
        (where, link) for where, node in walk(document) if where.endswith("/links") for link in node.values()
    ]
    assert len(links) >= 20
    for where, link in links:
        item, target = by_id[link["operationId"]]
        names = {p["name"] for p in item.get("parameters", []) + target.get("parameters", [])}
        for name, expression in link.get("parameters", {}).items():
            assert name in names, (where, name)
            assert expression.startswith("$response.body#/"), expression
    expected = {
        ("register", "getUser", "$response.body#/id"),
        ("createMovie", "getMovie", "$response.body#/id"),
        ("createMovie", "updateMovie", "$response.body#/id"),
        ("createMovie", "patchMovie", "$response.body#/id"),
        ("createMovie", "deleteMovie", "$response.body#/id"),
        ("createMovie", "rateMovie", "$response.body#/id"),
        ("rateMovie", "getRating", "$response.body#/result/id"),
        ("register", "logIn", "$request.body"),
        ("register", "promoteUser", "$response.body#/id"),
        ("promoteUser", "demoteUser", "$response.body#/id"),
    }
    found = {
        (operation["operationId"], link["operationId"], expression)
        for _p, _m, _i, operation in operations(document)
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
        for expression in link.get("parameters", {"body": link.get("requestBody")}).values()
    }
    assert expected <= found


# ---- schemathesis against the live server ---------------------------------------------------


class Actor:
    """A signed-in account the fuzzer acts as. Fuzzing may revoke its token (log out,
    a password change by someone else), rename it or delete it: it then signs in again,
    or is made anew."""

    def __init__(self, server: Server, *, admin: bool) -> None:
        self.server = server
        self.admin = admin
        self.password = ""
        self.username = ""
        self.token = ""
        self.user_id = 0
        self.renewals = 0
        self._make()

    def _make(self) -> None:
        self.username = f"fuzz-{'admin' if self.admin else 'user'}-{os.getpid()}-{time.monotonic_ns()}"
        if self.admin:
            self.password = ADMIN_PASSWORD
            client = make_admin(self.server, self.username)
        else:
            self.password = USER_PASSWORD
            client = sign_up(self.server.base_url, self.username, self.password)
        assert client.token and client.user_id
        self.token, self.user_id = client.token, client.user_id

    @property
    def authorization(self) -> str:
        return f"Token {self.token}"

    def log_in(self) -> str | None:
        resp = requests.post(
            self.server.base_url + "/auth/",
            json={"username": self.username, "password": self.password},
            timeout=30,
        )
        return str(resp.json()["token"]) if resp.status_code == 200 else None

    def renew(self) -> None:
        self.renewals += 1
        token = self.log_in()
        if token is None:
            self._make()
        else:
            self.token = token

    def observe(self, case: Any, response: Any) -> None:
        """Keep up with what a request did to this account."""
        path_id = (case.path_parameters or {}).get("user_id")
        if (
            case.path == "/api/users/{user_id}/"
            and str(path_id) == str(self.user_id)
            and response.status_code == 200
            and isinstance(case.body, dict)
        ):
            if isinstance(case.body.get("password"), str):
                self.password = case.body["password"]
            self.username = response.json()["username"]
        sent = response.request.headers.get("Authorization")
        if response.status_code == 401 and sent == self.authorization:
            self.renew()  # revoked, expired, or its user deleted
        elif (
            case.path == f"/api/users/{{user_id}}/{'demote' if self.admin else 'promote'}/"
            and str(path_id) == str(self.user_id)
            and response.status_code == 200
        ):
            self.renewals += 1
            self._make()  # no longer what it acts as: an admin (or a user) made anew


class Fuzzer:
    """Sends schemathesis' cases as an admin or a user, counts the requests, and collects
    every check failure (not only the first) with a reproduction."""

    def __init__(self, server: Server, schema: Any) -> None:
        self.server = server
        self.schema = schema
        self.session = requests.Session()
        self.admin = Actor(server, admin=True)
        self.user = Actor(server, admin=False)
        self.requests = 0
        self.statuses: dict[tuple[str, int], int] = {}
        self.failures: dict[tuple[str, str], str] = {}
        self.flaky_suites = 0
        self._turn = 0

    def actor(self) -> Actor:
        """Three requests in four as the admin (it reaches the most code), one as the user."""
        self._turn += 1
        return self.user if self._turn % 4 == 0 else self.admin

    def send(self, case: Any, actor: Actor | None = None) -> Any:
        actor = actor or self.actor()
        authorization = actor.authorization
        if case.operation.label == "DELETE /auth/":
            # Logging out revokes the token used: spend a fresh one, keep the actor's.
            authorization = f"Token {actor.log_in() or actor.token}"
        response = case.call(
            base_url=self.server.base_url, session=self.session, headers={"Authorization": authorization}
        )
        self.requests += 1
        key = (f"{case.method.upper()} {case.path}", response.status_code)  # probes: their own method
        self.statuses[key] = self.statuses.get(key, 0) + 1
        for someone in (self.admin, self.user):
            someone.observe(case, response)
        return response

    def check(self, case: Any, response: Any, checks: list[Any] = CHECKS, recorder: Any = None) -> None:
        try:
            case.validate_response(response, checks=checks, recorder=recorder)
        except FailureGroup as group:
            kinds = ", ".join(sorted(type(failure).__name__ for failure in group.exceptions))
            key = (f"{case.operation.label} -> {response.status_code}", kinds)
            if key not in self.failures:
                self.failures[key] = (
                    f"{str(group).strip()}\n\nbody sent: {case.body!r}\nquery: {case.query!r}\n"
                    f"response headers: {dict(response.headers)}"
                )

    def run_case(self, case: Any) -> None:
        self.check(case, self.send(case))

    def report(self) -> str:
        lines = [f"{len(self.failures)} distinct failure(s) in {self.requests} requests:"]
        for (where, kinds), detail in self.failures.items():
            lines += ["", "=" * 100, f"{where}: {kinds}", detail]
        return "\n".join(lines)


# Operations whose success the run must reach in CI: all but those that need a signed
# upload URL or a stored file (never made here), and the two that only a three-step
# sequence reaches (create a movie, rate it, then remove that rating): those it may miss.
ALL = {
    f"{method.upper()} {path}"
    for path, item in openapi_document()["paths"].items()
    for method in item
    if method in HTTP_METHODS
}
SHOULD_SUCCEED = ALL - {
    "PUT /uploads/{name}",
    "GET /media/movies/{name}",
    "HEAD /media/movies/{name}",
    "DELETE /api/movies/{movie_id}/rate_movie/",
    "DELETE /api/ratings/{rating_id}/",
}


def budget() -> dict[str, int]:
    """Requests per phase: CI's at least 2,000 per backend, a developer's a few hundred."""
    if CI:
        return {"coverage_every": 1, "fuzz_examples": 20, "stateful": 500, "scenarios": 20, "steps": 10}
    return {"coverage_every": 5, "fuzz_examples": 3, "stateful": 80, "scenarios": 10, "steps": 8}


def fuzz_settings(**kw: Any) -> hypothesis.settings:
    return hypothesis.settings(
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # failures are collected, not shrunk
        **kw,
    )


def run_coverage_phase(fuzzer: Fuzzer, every: int) -> None:
    """schemathesis' deterministic coverage cases: boundaries, each field missing or of a
    wrong type, missing credentials, unexpected methods and media types."""
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    for result in fuzzer.schema.get_all_operations():
        operation = result.ok()
        generation = fuzzer.schema.config.generation_for(operation=operation, phase="coverage")
        cases = fuzzer.schema.iter_coverage_cases(
            operation, generation_modes=modes, generation_config=generation
        )
        for index, case in enumerate(cases):
            if index % every == 0:
                fuzzer.run_case(case)


def run_fuzzing_phase(fuzzer: Fuzzer, examples: int) -> None:
    """Random valid and invalid requests to every operation."""
    for result in fuzzer.schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @fuzz_settings(max_examples=examples)
            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            def fuzz(case: Any) -> None:
                fuzzer.run_case(case)

            try:
                fuzz()
            except hypothesis.errors.Unsatisfiable:
                assert mode is GenerationMode.NEGATIVE  # nothing to get wrong: no input, public


def missed_successes(fuzzer: Fuzzer) -> list[str]:
    """The operations (of those that can succeed here) not yet answered with a 2xx."""
    succeeded = {label for (label, status), _n in fuzzer.statuses.items() if status < 300}
    return sorted(SHOULD_SUCCEED - succeeded)


def run_stateful_phase(fuzzer: Fuzzer, target: int, scenarios: int, steps: int) -> None:
    """Sequences along the document's links (register -> log in / get / update / delete that
    user, create a movie -> rate it -> get / delete the rating, ...), as the admin, in
    suites of ``scenarios`` until ``target`` requests were made; in CI, also until every
    operation has succeeded once (the seeds are fixed there, so which suites that takes
    is the same every run; adding an operation to the document may change it).

    The server's answers decide which links can be followed, so Hypothesis may find a
    replayed scenario going another way and stop the suite as flaky: as schemathesis' own
    runner does, the next suite then starts with another seed."""

    class Sequences(fuzzer.schema.as_state_machine()):  # type: ignore[misc]
        def call(self, case: Any, **kwargs: Any) -> Any:
            return fuzzer.send(case, fuzzer.admin)

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            fuzzer.check(case, response, STATEFUL_CHECKS, self.recorder)

    start = fuzzer.requests
    for suite in range(1, 51):
        if fuzzer.requests - start >= target and not (CI and missed_successes(fuzzer)):
            break  # the budget spent (and in CI, every operation's success path reached)
        seed = suite if CI else random.randrange(2**32)  # CI: the same sequences every run
        Sequences.rule_order_seed = seed
        try:
            hypothesis.seed(seed)(Sequences).run(
                settings=fuzz_settings(max_examples=scenarios, stateful_step_count=steps, derandomize=False)
            )
        except hypothesis.errors.Flaky:
            fuzzer.flaky_suites += 1


def test_schemathesis_finds_no_server_error_and_no_undocumented_response(
    server: Server, engine: Any, backend: str
) -> None:
    wipe(engine)
    for _ in range(3):  # so that the fuzzer's own accounts do not have the smallest ids
        sign_up(server.base_url)
    started = time.monotonic()
    # From the served document (from_url would leave out the operation that serves it).
    document = requests.get(server.base_url + "/api/openapi.json", timeout=30).json()
    schema = schemathesis.openapi.from_dict(document)
    schema.config.update(base_url=server.base_url)
    # Header parameters (If-Match, If-None-Match) are fuzzed with any value HTTP allows in a
    # header. Some phases still send control characters: gunicorn's parser answers those 400
    # itself, in DRF's shape too (the worker's _send_error_response).
    schema.config.generation.update(exclude_header_characters=INVALID_HEADER_CHARS)
    fuzzer = Fuzzer(server, schema)
    plan = budget()
    try:
        run_coverage_phase(fuzzer, plan["coverage_every"])
        after_coverage = fuzzer.requests
        run_fuzzing_phase(fuzzer, plan["fuzz_examples"])
        after_fuzzing = fuzzer.requests
        run_stateful_phase(fuzzer, plan["stateful"], plan["scenarios"], plan["steps"])
    finally:
        wipe(engine)
    elapsed = time.monotonic() - started
    print(
        f"\n[{backend}] {fuzzer.requests} requests in {elapsed:.1f}s: coverage {after_coverage}, "
        f"fuzzing {after_fuzzing - after_coverage}, stateful {fuzzer.requests - after_fuzzing}; "
        f"admin renewed {fuzzer.admin.renewals}x, user {fuzzer.user.renewals}x; "
        f"stateful suites cut short as flaky: {fuzzer.flaky_suites}"
    )
    assert not fuzzer.failures, fuzzer.report()
    # The run must have reached the operations' success paths, not only their errors
    # (a developer's short random run may miss some: it only says which).
    succeeded = {label for (label, status), _n in fuzzer.statuses.items() if status < 300}
    missed = missed_successes(fuzzer)
    print(f"[{backend}] reached success: {len(succeeded & ALL)} operations; not: {sorted(ALL - succeeded)}")
    if CI:
        assert not missed, f"never succeeded: {missed}\n{sorted(fuzzer.statuses.items())}"
        assert fuzzer.requests >= MIN_REQUESTS_IN_CI, fuzzer.requests


# ---- what fuzzing cannot reach: the upload flow, and errors that take many requests --------

RESPONSE_CHECKS = CHECKS[:5]


def assert_conforms(schema: Any, method: str, path: str, response: requests.Response, **case: Any) -> None:
    """The response is one the document gives for that operation (status, media type,
    headers, body)."""
    schema[path][method].Case(**case).validate_response(response, checks=RESPONSE_CHECKS)


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), tuple(os.urandom(3))).save(buffer, "PNG")  # new bytes: no deduplication
    return buffer.getvalue()


def test_the_upload_flow_conforms_to_the_document(server: Server) -> None:
    """Grant, upload to the signed URL, use as a poster, serve, deduplicate: every answer
    is documented (the fuzzer cannot sign uploads, so it only meets their refusals)."""
    schema = schemathesis.openapi.from_dict(openapi_document())
    user, admin = sign_up(server.base_url), make_admin(server)
    image = png_bytes()
    wanted = {
        "filename": "poster.png",
        "contentType": "image/png",
        "fileSize": len(image),
        "fileHash": hashlib.sha256(image).hexdigest(),
    }
    grant = user.post("/api/movies/get_upload_url/", json=wanted)
    assert grant.status_code == 200, grant.text
    assert_conforms(schema, "POST", "/api/movies/get_upload_url/", grant, body=wanted)
    offer = grant.json()
    # The URL names the public address (MOVIERATER_PUBLIC_URL); send it to this server.
    target = urlsplit(offer["upload_url"])
    upload_url = f"{server.base_url}{target.path}?{target.query}"
    name = target.path.rsplit("/", 1)[-1]
    bad = requests.put(upload_url, data=image[:-1], headers=offer["headers"], timeout=30)  # not as signed
    assert bad.status_code == 400, bad.text
    assert_conforms(schema, "PUT", "/uploads/{name}", bad, path_parameters={"name": name})
    put = requests.put(upload_url, data=image, headers=offer["headers"], timeout=30)
    assert put.status_code == 201, put.text
    assert_conforms(schema, "PUT", "/uploads/{name}", put, path_parameters={"name": name})
    again = requests.put(upload_url, data=image, headers=offer["headers"], timeout=30)
    assert again.status_code == 409, again.text
    assert_conforms(schema, "PUT", "/uploads/{name}", again, path_parameters={"name": name})
    created = admin.post("/api/movies/", json={"title": "Poster", "imagePath": offer["public_url"]})
    assert created.status_code == 201, created.text
    assert_conforms(schema, "POST", "/api/movies/", created)
    media = requests.get(f"{server.base_url}/{offer['key']}", timeout=30)
    assert media.status_code == 200 and media.content == image
    assert_conforms(schema, "GET", "/media/movies/{name}", media, path_parameters={"name": name})
    head = requests.head(f"{server.base_url}/{offer['key']}", timeout=30)
    assert head.status_code == 200 and head.content == b""
    assert_conforms(schema, "HEAD", "/media/movies/{name}", head, path_parameters={"name": name})
    dedup = user.post("/api/movies/get_upload_url/", json=wanted)
    assert dedup.status_code == 200 and dedup.json()["deduplicated"] is True, dedup.text
    assert dedup.json()["upload_url"] is None
    assert_conforms(schema, "POST", "/api/movies/get_upload_url/", dedup, body=wanted)


def test_the_errors_of_many_requests_conform_to_the_document(server: Server) -> None:
    """413 (a body over 1 MiB), 429 with Retry-After (the upload limit, failed logins for
    one username), 405 with Allow: what fuzzing's small random requests never provoke."""
    schema = schemathesis.openapi.from_dict(openapi_document())
    user = sign_up(server.base_url)
    huge = user.post(
        "/api/movies/", data=b'{"title": "' + b"t" * (1024 * 1024) + b'"}', headers={"Content-Type": JSON}
    )
    assert huge.status_code == 413, huge.text
    assert_conforms(schema, "POST", "/api/movies/", huge)
    wanted = {"filename": "p.gif", "contentType": "image/gif"}
    answers = [user.post("/api/movies/get_upload_url/", json=wanted) for _ in range(11)]
    assert [a.status_code for a in answers] == [200] * 10 + [429], answers[-1].text
    assert int(answers[-1].headers["Retry-After"]) > 0
    for answer in answers[-2:]:
        assert_conforms(schema, "POST", "/api/movies/get_upload_url/", answer, body=wanted)
    name = f"nobody-{time.monotonic_ns()}"
    logins = [
        requests.post(server.base_url + "/auth/", json={"username": name, "password": "wrong"}, timeout=30)
        for _ in range(6)
    ]
    assert [r.status_code for r in logins] == [400] * 5 + [429], logins[-1].text
    for login in logins[-2:]:
        assert_conforms(schema, "POST", "/auth/", login)
    not_allowed = user.request("PATCH", "/api/movies/")
    assert not_allowed.status_code == 405, not_allowed.text
    assert not_allowed.json() == {"detail": 'Method "PATCH" not allowed.'}
    assert not_allowed.headers["Allow"]
    detail = openapi_document()["components"]["schemas"]["Detail"]
    assert jsonschema_rs.validator_for(detail).is_valid(not_allowed.json())


def get_params(document: dict[str, Any], path: str) -> list[dict[str, Any]]:
    return list(document["paths"][path]["get"]["parameters"])


def test_the_lists_paging_parameters_and_both_answer_shapes_are_documented() -> None:
    """Each list names limit and offset (movies also search and ordering, users search) with the core's
    schemas, answers the bare array or DRF's envelope, and documents its headers and 400."""
    document = openapi_document()
    for path, extra, headers in (
        ("/api/movies/", {"search", "ordering", "include", "If-None-Match"}, {"ETag"}),
        ("/api/ratings/", {"movie", "user", "since", "cursor"}, set()),
        ("/api/users/", {"search", "include"}, set()),
    ):
        get = document["paths"][path]["get"]
        assert {p["name"] for p in get["parameters"]} == {"limit", "offset", *extra}
        ok = get["responses"]["200"]
        assert set(ok["headers"]) == {"Link", "X-Total-Count", *headers}
        by_cursor = "cursor" in extra  # a cursor page has no count
        assert ok["headers"]["X-Total-Count"]["required"] is not by_cursor
        shapes = ok["content"][JSON]["schema"]["oneOf"]
        assert shapes[0]["type"] == "array" and shapes[1]["$ref"].endswith("Page")
        assert [s["$ref"].rsplit("/", 1)[1] for s in shapes[2:]] == (
            ["RatingCursorPage"] if by_cursor else []
        )
        assert "400" in get["responses"]
    (cursor,) = (p for p in get_params(document, "/api/ratings/") if p["name"] == "cursor")
    assert cursor["schema"] == {"type": "string", "maxLength": 100, "pattern": "^[A-Za-z0-9_-]*$"}
    assert not cursor["required"] and "next" in cursor["description"]
    cursor_page = document["components"]["schemas"]["RatingCursorPage"]
    assert cursor_page["required"] == ["next", "previous", "results"]
    assert cursor_page["additionalProperties"] is False and "count" not in cursor_page["properties"]
    ordering = next(
        p for p in document["paths"]["/api/movies/"]["get"]["parameters"] if p["name"] == "ordering"
    )
    assert "-ave_ratings" in ordering["schema"]["enum"]
    # issue 17: ?include=my_rating on the list and the detail, ?user=me on ratings
    detail = document["paths"]["/api/movies/{movie_id}/"]["get"]
    includes = [
        p for p in (*get_params(document, "/api/movies/"), *detail["parameters"]) if p["name"] == "include"
    ]
    assert [p["schema"]["enum"] for p in includes] == [["my_rating"], ["my_rating"]]
    assert "400" in detail["responses"]
    assert "my_rating" in document["components"]["schemas"]["Movie"]["properties"]
    assert "my_rating" not in document["components"]["schemas"]["Movie"]["required"]
    (since,) = (p for p in get_params(document, "/api/ratings/") if p["name"] == "since")
    assert since["schema"] == {"type": "string", "format": "date-time"}  # issue 17 item 3
    rating = document["components"]["schemas"]["Rating"]
    assert {"created", "changed"} <= set(rating["required"])
    assert rating["properties"]["changed"]["type"] == ["string", "null"]
    (user,) = (p for p in get_params(document, "/api/ratings/") if p["name"] == "user")
    assert {"type": "string", "const": "me"} in user["schema"]["anyOf"]
    assert document["paths"]["/api/users/me/"]["get"]["operationId"] == "getMe"
    page = document["components"]["schemas"]["MoviePage"]
    assert page["required"] == ["count", "next", "previous", "results"]


def test_paged_bounded_and_refused_list_answers_conform_to_the_document(server: Server, engine: Any) -> None:
    """The answers the fuzzer meets rarely (an envelope with both links, a cut bare list is
    beyond its data) are documented answers too."""
    wipe(engine)
    schema = schemathesis.openapi.from_dict(openapi_document())
    admin = make_admin(server)
    for n in range(5):
        created = admin.post("/api/movies/", json={"title": f"Movie {n}"})
        assert created.status_code == 201
        if n < 2:  # two ratings: a cursor page of one has a next one
            rated = admin.post(f"/api/movies/{created.json()['id']}/rate_movie/", json={"stars": 3})
            assert rated.status_code == 200
    cases: list[tuple[str, dict[str, str]]] = [
        ("/api/movies/", {"limit": "2", "offset": "2", "ordering": "-ave_ratings", "search": "movie"}),
        ("/api/movies/", {}),
        ("/api/movies/", {"limit": "0"}),
        ("/api/ratings/", {"offset": "1"}),
        ("/api/ratings/", {"since": "2000-01-01T00:00:00Z", "limit": "1"}),
        ("/api/ratings/", {"since": "not a time"}),
        ("/api/ratings/", {"cursor": "", "limit": "1"}),  # by cursor: no count, a next link
        ("/api/ratings/", {"cursor": "", "since": "2000-01-01T00:00:00Z"}),  # the last page: next null
        ("/api/ratings/", {"cursor": "bm90IGEgY3Vyc29y"}),
        ("/api/ratings/", {"cursor": "", "offset": "0"}),
        ("/api/users/", {"limit": "1"}),
    ]
    for path, params in cases:
        resp = admin.get(path, params=params)
        assert resp.status_code in (200, 400), resp.text
        assert_conforms(schema, "GET", path, resp, query=params or None)
    body = admin.get("/api/movies/", params={"limit": "2", "offset": "2"}).json()
    assert body["next"] and body["previous"]
    by_cursor = admin.get("/api/ratings/", params={"cursor": "", "limit": "1"})
    assert by_cursor.json()["next"] and "X-Total-Count" not in by_cursor.headers
    wipe(engine)


def test_conditional_requests_are_documented() -> None:
    """Issue 17 item 5: ETag on the movie reads and changes, If-None-Match (304) on the
    reads, If-Match and If-None-Match (412) on the changes."""
    document = openapi_document()
    movie = document["paths"]["/api/movies/{movie_id}/"]
    movies = document["paths"]["/api/movies/"]
    for read in (movie["get"], movies["get"]):
        headers = {p["name"]: p for p in read["parameters"] if p["in"] == "header"}
        assert set(headers) == {"If-None-Match"} and not headers["If-None-Match"]["required"]
        assert read["responses"]["200"]["headers"]["ETag"]["required"]
        assert "content" not in read["responses"]["304"] and "ETag" in read["responses"]["304"]["headers"]
    for method in ("put", "patch", "delete"):
        change = movie[method]
        headers = {p["name"] for p in change["parameters"] if p["in"] == "header"}
        assert headers == {"If-Match", "If-None-Match"}, method
        detail = change["responses"]["412"]["content"][JSON]["schema"]
        assert detail == {"$ref": "#/components/schemas/Detail"}
    assert "ETag" in movie["put"]["responses"]["200"]["headers"]
    assert "ETag" in movies["post"]["responses"]["201"]["headers"]


def test_conditional_answers_conform_to_the_document(server: Server) -> None:
    """The answers the fuzzer rarely meets (a matching If-None-Match, a stale If-Match) are
    documented answers too."""
    schema = schemathesis.openapi.from_dict(openapi_document())
    admin = make_admin(server)
    created = admin.post("/api/movies/", json={"title": "Tagged"})
    assert created.status_code == 201
    assert_conforms(schema, "POST", "/api/movies/", created, body={"title": "Tagged"})
    movie_id = created.json()["id"]
    path = "/api/movies/{movie_id}/"
    params = {"movie_id": movie_id}
    read = admin.get(f"/api/movies/{movie_id}/")
    etag = read.headers["ETag"]
    assert_conforms(schema, "GET", path, read, path_parameters=params)
    for url, template, query in (
        (f"/api/movies/{movie_id}/", path, None),
        ("/api/movies/?include=my_rating", "/api/movies/", {"include": "my_rating"}),
    ):
        cached = admin.get(url, headers={"If-None-Match": "*"})
        assert cached.status_code == 304 and cached.content == b""
        extra: dict[str, Any] = {"path_parameters": params} if template == path else {}
        assert_conforms(schema, "GET", template, cached, query=query, headers={"If-None-Match": "*"}, **extra)
    for method in ("PUT", "PATCH", "DELETE"):
        url = f"/api/movies/{movie_id}/"
        stale = admin.request(method, url, json={"title": "x"}, headers={"If-Match": '"0"'})
        assert stale.status_code == 412, stale.text
        assert_conforms(schema, method, path, stale, path_parameters=params, headers={"If-Match": '"0"'})
    changed = admin.put(f"/api/movies/{movie_id}/", json={"title": "Changed"}, headers={"If-Match": etag})
    assert changed.status_code == 200, changed.text
    assert_conforms(schema, "PUT", path, changed, path_parameters=params, body={"title": "Changed"})


def test_the_export_is_documented_and_its_answers_conform(server: Server) -> None:
    """Issue 17 item 6: ``GET /api/users/me/export/`` in JSON and CSV, and its 400."""
    document = openapi_document()
    export = document["paths"]["/api/users/me/export/"]["get"]
    assert set(export["responses"]["200"]["content"]) == {JSON, "text/csv"}
    assert {p["name"] for p in export["parameters"]} == {"format", "after"}
    assert {"400", "401"} <= set(export["responses"])
    schema = schemathesis.openapi.from_dict(document)
    user, admin = sign_up(server.base_url), make_admin(server)
    movie = admin.post("/api/movies/", json={"title": "Exported"}).json()["id"]
    assert user.post(f"/api/movies/{movie}/rate_movie/", json={"stars": 3}).status_code == 200
    for query in ({}, {"format": "csv"}, {"format": "json", "after": "1"}, {"format": "xml"}):
        resp = user.get("/api/users/me/export/", params=query)
        assert resp.status_code == (400 if query.get("format") == "xml" else 200), resp.text
        assert_conforms(schema, "GET", "/api/users/me/export/", resp, query=query or None)


# ---- inputs the fuzzing found that broke the server (fixed; kept as regressions) -------------


def test_a_non_ascii_upload_signature_is_403_not_500(server: Server) -> None:
    """``PUT /uploads/<name>?signature=é`` was a 500: hmac.compare_digest raises TypeError
    for non-ASCII strings. Any forged signature must be 403."""
    name = "0" * 64 + ".png"
    query = {"expires": "9999999999", "type": "image/png", "size": "1", "sha256": "", "signature": "é"}
    resp = requests.put(
        f"{server.base_url}/uploads/{name}",
        params=query,
        data=b"x",
        headers={"Content-Type": "image/png"},
        timeout=30,
    )
    assert resp.status_code == 403, f"{resp.status_code} {resp.text}"
    assert resp.json() == {"detail": "The upload URL's signature does not match."}
