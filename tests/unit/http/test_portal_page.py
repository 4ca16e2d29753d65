"""The admin portal's page (issue 16), in-process: public, HTML, a CSP with no inline script
or style that lets the page reach this app and the storage its uploads go to, and nothing
else; the modules it loads are in the package."""

from __future__ import annotations

import re

from movierater_entrypoints.http import portal
from movierater_entrypoints.settings import Settings

from tests.unit.http.inprocess import make_app


def directives(csp: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in csp.split("; "))}


def test_the_page_is_public_html_with_a_strict_policy() -> None:
    app = make_app(Settings(public_url="https://movies.example"))
    for path in ("/admin/", "/admin"):
        resp = app.anon.get(path)
        assert resp.status_code == 200
        assert resp.headers["Content-Type"].startswith("text/html")
        policy = directives(resp.headers["Content-Security-Policy"])
        assert policy["default-src"] == ["'none'"]
        assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]
        assert policy["connect-src"] == ["'self'", "https://movies.example"]
        assert policy["frame-ancestors"] == ["'none'"] and policy["form-action"] == ["'none'"]
        assert resp.headers["Cache-Control"] == "no-store"
    page = app.anon.get("/admin/").text
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", page, re.S)
    assert scripts == [""], "no inline script"
    assert not re.search(r"<style|\sstyle=|\son[a-z]+=", page, re.I), "no inline style or handler"
    assert app.anon.post("/admin/", json={}).status_code == 405


def test_every_module_and_stylesheet_the_page_names_is_in_the_package() -> None:
    page = make_app().anon.get("/admin/").text
    named = set(re.findall(r'(?:src|href)="/admin/static/([^"]+)"', page))
    assert set(named) == {"portal.js", "portal.css"}
    shipped = {path.name for path in portal.FILES.iterdir()}
    imported = set(
        re.findall(
            r'from "\./([^"]+)"',
            "".join((portal.FILES / f).read_text() for f in shipped if f.endswith(".js")),
        )
    )
    assert named | imported <= shipped, "a file the page loads is missing"
    assert imported == {"api.js", "dom.js", "upload.js"}


def test_the_policy_lets_uploads_reach_the_storage_and_nothing_more() -> None:
    def origins(**settings: object) -> list[str]:
        return directives(portal.content_security_policy(Settings(**settings)))["connect-src"]  # type: ignore[arg-type]

    assert origins(public_url="http://127.0.0.1:8000/base/") == ["'self'", "http://127.0.0.1:8000"]
    assert origins(storage="s3", s3_bucket="posters", s3_endpoint_url="http://127.0.0.1:4566") == [
        "'self'",
        "http://127.0.0.1:4566",
        "http://posters.127.0.0.1:4566",
    ]
    assert origins(storage="s3", s3_bucket="posters", s3_region="eu-west-1") == [
        "'self'",
        "https://*.amazonaws.com",
    ]
    assert origins(
        storage="s3", s3_bucket="posters", s3_region="cn-north-1", s3_public_base_url="https://cdn.example/p/"
    ) == ["'self'", "https://*.amazonaws.com.cn", "https://cdn.example"]
