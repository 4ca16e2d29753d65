"""Interactive API documentation: Swagger UI at ``/api/docs/``, reading ``/api/openapi.json``,
offline (nothing is fetched from anywhere but this server).

The page is a Falcon resource, so it gets the security headers, a request id and an
access-log line like every route, and a Content-Security-Policy of its own. Its files
(Swagger UI's, from the ``swagger-ui-bundle-v2`` package, and its init script, a file so
that no inline script is needed) are served by WhiteNoise in front of the app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from wsgiref.headers import Headers

import falcon
from movierater_entrypoints.http import portal
from movierater_entrypoints.http.middleware import HSTS, SECURITY_HEADERS
from movierater_entrypoints.http.spec import Documented

# Neither ships type information (no py.typed), and there is no stubs package for either.
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]
from whitenoise import WhiteNoise  # type: ignore[import-untyped]

DOCS = "/api/docs/"
STATIC = "/api/docs/static/"
_BUNDLE = Path(str(swagger_ui_path))
# Swagger UI's version is in its URL, so its files may be cached for good.
SWAGGER_UI = f"{STATIC}{_BUNDLE.name}/"
SWAGGER_UI_FILES = (
    "swagger-ui-bundle.js",
    "swagger-ui.css",
    "swagger-ui.css.map",
    "index.css",
    "favicon-32x32.png",
)
_OWN = Path(__file__).parent / "static"

# Scripts, styles and requests: this origin only; no inline script, no eval, no framing.
# Images may be data: URLs (Swagger UI's icons are, in its stylesheet).
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)


class DocsPage(Documented):
    """``GET /api/docs/`` (and ``/api/docs``: its URLs are absolute, so both work)."""

    api = False

    public_methods = ("GET",)

    def __init__(self) -> None:
        html = (Path(__file__).parent / "docs.html").read_text(encoding="utf-8")
        self._body = html.replace("{swagger_ui}", SWAGGER_UI).replace("{static}", STATIC).encode()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.set_header("Content-Security-Policy", CSP)
        resp.data = self._body


class RootRedirect(Documented):
    """``GET /``: 302 Found to the docs. Not 301/308, which browsers cache for good: the root
    may serve something else one day. For a GET, 302 and 307 behave the same."""

    api = False

    public_methods = ("GET",)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.status = falcon.HTTP_302
        resp.location = DOCS


WsgiApp = Callable[[dict[str, Any], Any], Iterable[bytes]]


def with_docs_files(app: WsgiApp, *, https_only: bool = False) -> WsgiApp:
    """``app`` behind WhiteNoise serving the docs' static files under ``/api/docs/static/``
    and the admin portal's under ``/admin/static/`` (ETags, conditional and ranged GETs,
    HEAD), with the headers the app sends."""
    headers = {**SECURITY_HEADERS, **({"Strict-Transport-Security": HSTS} if https_only else {})}

    def add_headers(sent: Headers, path: str, url: str) -> None:
        for name, value in headers.items():
            sent[name] = value

    static = WhiteNoise(
        app,
        allow_all_origins=False,  # only this page uses them
        add_headers_function=add_headers,
        immutable_file_test=lambda path, url: url.startswith(SWAGGER_UI),
    )
    static.add_files(str(_OWN), prefix=STATIC)
    static.add_files(str(portal.FILES), prefix=portal.STATIC)
    for name in SWAGGER_UI_FILES:  # not the bundle's index.html, which points at a demo API
        static.add_file_to_dictionary(SWAGGER_UI + name, str(_BUNDLE / name))
    served: WsgiApp = static  # WhiteNoise is untyped; it is a WSGI app
    return served
