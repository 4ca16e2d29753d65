"""The admin portal: a page at ``/admin/`` for the people who curate the catalogue.

It is a client of the public API and nothing else: the page and its files are public (they
hold no data), and every movie, user and rating it shows or changes goes through the API
with the token of the admin who signed in, so the API's authorization stays the one gate.
Plain ES modules and a stylesheet, in the package (no build step, no CDN), served by
WhiteNoise under ``/admin/static/`` as the docs' files are (:mod:`.docs`).

The page's Content-Security-Policy allows scripts and styles from this origin only (no
inline script or style, no eval), requests to this origin and to the storage that uploads
go to (this app's public URL, or the S3 endpoint or bucket), and images from those and any
HTTPS host (a movie's ``imagePath`` may be any web URL).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import falcon
from movierater_entrypoints.http.spec import Documented
from movierater_entrypoints.settings import Settings

PORTAL = "/admin/"
STATIC = "/admin/static/"
FILES = Path(__file__).parent / "portal_static"


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def storage_origins(settings: Settings) -> list[str]:
    """Where the browser sends a poster's bytes and reads posters from: this app's public URL
    (local storage), or the S3 endpoint and the bucket on it (path-style and virtual-hosted),
    or AWS's S3 hosts; and a CDN in front of S3."""
    if settings.storage != "s3":
        return [_origin(settings.public_url)]
    if settings.s3_endpoint_url:
        endpoint = urlsplit(settings.s3_endpoint_url)
        origins = [
            _origin(settings.s3_endpoint_url),
            f"{endpoint.scheme}://{settings.s3_bucket}.{endpoint.netloc}",
        ]
    else:
        domain = "amazonaws.com.cn" if settings.s3_region.startswith("cn-") else "amazonaws.com"
        origins = [f"https://*.{domain}"]
    if settings.s3_public_base_url:
        origins.append(_origin(settings.s3_public_base_url))
    return origins


def content_security_policy(settings: Settings) -> str:
    storage = " ".join(dict.fromkeys(storage_origins(settings)))
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data: blob: https: {storage}",
            f"connect-src 'self' {storage}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )


class PortalPage(Documented):
    """``GET /admin/`` (and ``/admin``: its URLs are absolute, so both work)."""

    api = False

    public_methods = ("GET",)

    def __init__(self, settings: Settings) -> None:
        html = (Path(__file__).parent / "portal.html").read_text(encoding="utf-8")
        self._body = html.replace("{static}", STATIC).encode()
        self._csp = content_security_policy(settings)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_HTML
        resp.set_header("Content-Security-Policy", self._csp)
        resp.set_header("Cache-Control", "no-store")
        resp.data = self._body
