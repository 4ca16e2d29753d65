"""The docs' wiring, in-process: the redirect, the page and its CSP, the static files
WhiteNoise serves in front of the app (with the app's security headers), and that the
API's own responses are unchanged by any of it (no CSP added there)."""

from __future__ import annotations

from falcon import testing
from movierater_entrypoints.bootstrap import build_container
from movierater_entrypoints.http import create_wsgi_app
from movierater_entrypoints.http.docs import CSP, SWAGGER_UI, SWAGGER_UI_FILES
from movierater_entrypoints.http.middleware import SECURITY_HEADERS
from movierater_entrypoints.settings import Settings

from movierater_core.ports import Database, ImageStorage
from tests.unit.fakes import FakeStorage, FixedClock, InMemoryDatabase


def client(**settings: object) -> testing.TestClient:
    container = build_container(
        Settings(**settings),  # type: ignore[arg-type]
        overrides={Database: InMemoryDatabase(), ImageStorage: FakeStorage(FixedClock())},
    )
    return testing.TestClient(create_wsgi_app(container))


def test_the_root_redirects_to_the_docs() -> None:
    resp = client().simulate_get("/")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/api/docs/"


def test_the_page_with_and_without_its_slash_has_a_strict_csp_and_no_inline_script() -> None:
    app = client()
    pages = [app.simulate_get("/api/docs/"), app.simulate_get("/api/docs")]
    for page in pages:
        assert page.status_code == 200
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        assert page.headers["Content-Security-Policy"] == CSP
        assert "script-src 'self';" in CSP and "unsafe" not in CSP
        for name, value in SECURITY_HEADERS.items():
            assert page.headers[name] == value
        assert page.text.count("<script") == page.text.count("<script src=") == 2
        assert "http://" not in page.text and "https://" not in page.text  # nothing from elsewhere
    assert pages[0].text == pages[1].text


def test_the_static_files_are_served_with_the_security_headers() -> None:
    app = client(https_only=True)
    for name in SWAGGER_UI_FILES:
        resp = app.simulate_get(SWAGGER_UI + name, headers={"X-Forwarded-Proto": "https"})
        assert resp.status_code == 200, name
        assert "immutable" in resp.headers["Cache-Control"]  # the version is in the URL
        assert "Access-Control-Allow-Origin" not in resp.headers
        for header, value in SECURITY_HEADERS.items():
            assert resp.headers[header] == value
        assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    script = app.simulate_get("/api/docs/static/init.js", headers={"X-Forwarded-Proto": "https"})
    assert script.status_code == 200 and "SwaggerUIBundle(" in script.text
    assert "immutable" not in script.headers["Cache-Control"]
    demo = app.simulate_get(SWAGGER_UI + "index.html", headers={"X-Forwarded-Proto": "https"})
    assert demo.status_code == 404  # the bundle's own page, which points at a demo API


def test_the_api_responses_are_unchanged() -> None:
    resp = client().simulate_get("/api/movies/")
    assert resp.status_code == 401
    assert "Content-Security-Policy" not in resp.headers
