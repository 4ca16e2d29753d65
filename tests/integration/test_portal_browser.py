"""The admin portal (``/admin/``, issue 16) in a real headless Chromium, as the docs page's
test drives it, against a real gunicorn, on local storage and on S3 (LocalStack, with the
bucket's CORS set as the README says).

An admin signs in, creates a movie, drops a PNG on it (the page hashes it, asks for a
grant, uploads straight to storage, sets imagePath) and sees the poster served; replaces
it; drops an HTML file named .png and a 6 MB file and sees each refused in plain words;
searches and pages through 120 movies; deletes a rating; promotes and demotes a user and
meets the password policy; signs out (the token is revoked). A non-admin who signs in sees
only the refusal. No console error in either, beyond the browser's own line for each
refusal the test provokes (Chromium logs every 4xx answer as "Failed to load resource").

With ``MOVIERATER_PORTAL_SCREENSHOTS=docs/portal`` the local run writes the README's
screenshots there (else into a temporary directory)."""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from PIL import Image
from sqlalchemy import create_engine, func, select

from tests.integration.conftest import ADMIN_PASSWORD, USER_PASSWORD, Server, make_admin, run_cli, sign_up
from tests.integration.test_docs_browser import WAIT, driver, requested_urls  # noqa: F401 (a fixture)
from tests.integration.test_uploads import S3_ENDPOINT, _s3_env, s3_client

MOVIES = 120
ADMIN_NAME = "curator"
MB = 1024 * 1024


def png(colour: tuple[int, int, int], size: tuple[int, int] = (60, 90)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


class Portal:
    """A server (its own SQLite database and storage) with an admin, 120 movies, a user who
    rated one, and a user to promote."""

    def __init__(self, kind: str, workdir: Path) -> None:
        self.kind = kind
        env = {"MOVIERATER_MEDIA_DIR": str(workdir / "media")}
        if kind == "s3":
            env = _s3_env(workdir)  # skips (or fails in CI) without the S3 emulator
        self.database_url = f"sqlite:///{workdir / 'portal.db'}"
        run_cli("migrate", env={"MOVIERATER_DATABASE_URL": self.database_url})
        self.server = Server(self.database_url, workdir, **env)
        self.base_url = self.server.base_url
        if kind == "s3":  # as the README's "S3 bucket setup" says, for this page's origin
            s3_client().put_bucket_cors(
                Bucket=env["MOVIERATER_S3_BUCKET"],
                CORSConfiguration={
                    "CORSRules": [
                        {
                            "AllowedOrigins": [self.base_url],
                            "AllowedMethods": ["PUT", "POST"],
                            "AllowedHeaders": [
                                "content-type",
                                "x-amz-checksum-sha256",
                                "if-none-match",
                                "x-amz-tagging",
                            ],
                            "MaxAgeSeconds": 3600,
                        }
                    ]
                },
            )
        self.admin = make_admin(self.server, ADMIN_NAME)
        for number in range(1, MOVIES + 1):
            made = self.admin.post(
                "/api/movies/", json={"title": f"Film {number:03}", "description": "Seeded."}
            )
            assert made.status_code == 201, made.text
        self.rated = self.movie_named("Film 007")
        self.viewer = sign_up(self.base_url, "critic")
        assert self.viewer.post(f"/api/movies/{self.rated['id']}/rate_movie/", json={"stars": 4}).ok
        self.promotee = "newcomer"
        sign_up(self.base_url, self.promotee)

    def movie_named(self, title: str) -> dict[str, Any]:
        found = self.admin.get("/api/movies/", params={"search": title}).json()
        return next(movie for movie in found if movie["title"] == title)

    def tokens_of(self, username: str) -> int:
        from movierater_adapters.sql.tables import tokens, users

        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                query = (
                    select(func.count())
                    .select_from(tokens.join(users, users.c.id == tokens.c.user_id))
                    .where(users.c.username == username)
                )
                return int(conn.execute(query).scalar_one())
        finally:
            engine.dispose()


@pytest.fixture(scope="module", params=["local", "s3"])
def portal(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    deployment = Portal(request.param, tmp_path_factory.mktemp(f"portal-{request.param}"))
    yield deployment
    deployment.server.stop()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    wanted = os.environ.get("MOVIERATER_PORTAL_SCREENSHOTS")
    where = Path(wanted) if wanted else tmp_path / "screenshots"
    where.mkdir(parents=True, exist_ok=True)
    return where


# ---- driving the page ---------------------------------------------------------------------


class Page:
    def __init__(self, browser: Any, base_url: str, shots: Path | None) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver = browser
        browser.set_window_size(1280, 1000)  # the screenshots' size
        self.base_url = base_url
        self.wait = WebDriverWait(browser, WAIT)
        self.shots = shots

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def visible(self, css: str) -> Any:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec

        return self.wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))

    def text_of(self, css: str, pattern: str) -> str:
        """Wait until the element's text matches ``pattern``; its text."""
        self.wait.until(lambda _d: re.search(pattern, self.find(css).text))
        return str(self.find(css).text)

    def button(self, label: str, within: Any = None) -> Any:
        from selenium.webdriver.common.by import By

        scope = within or self.driver
        buttons = scope.find_elements(By.XPATH, f".//button[normalize-space()='{label}']")
        shown = [b for b in buttons if b.is_displayed()]
        assert shown, f"no button {label!r}"
        return shown[0]

    def type_into(self, css: str, text: str) -> None:
        field = self.find(css)
        field.clear()
        field.send_keys(text)

    def shot(self, name: str) -> None:
        if self.shots is not None:
            self.driver.save_screenshot(str(self.shots / f"{name}.png"))

    def sign_in(self, username: str, password: str) -> None:
        self.driver.get(self.base_url + "/admin/")
        self.visible("#sign-in-username")
        self.shot("sign-in")
        self.type_into("#sign-in-username", username)
        self.type_into("#sign-in-password", password)
        self.button("Sign in").click()

    def movie_row(self, title: str) -> Any:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support import expected_conditions as ec

        return self.wait.until(
            ec.visibility_of_element_located(
                (By.XPATH, f"//tbody[@id='movies-rows']/tr[.//strong[normalize-space()='{title}']]")
            )
        )

    def search_movies(self, text: str) -> None:
        self.type_into("#movies-search", text)
        self.button("Search", self.find("#movies-query")).click()

    def drop(self, target: Any, path: Path) -> None:
        """Drop a file on ``target`` as a user's drag from the desktop does: a file input
        (outside the page's own elements) holds it, and a drop event carries it."""
        file_input = self.driver.execute_script(
            "const input = document.createElement('input');"
            "input.type = 'file'; input.id = 'test-file-source'; document.body.append(input);"
            "return input;"
        )
        file_input.send_keys(str(path))
        self.driver.execute_script(
            "const [target, input] = arguments;"
            "const data = new DataTransfer(); data.items.add(input.files[0]);"
            "for (const type of ['dragenter', 'dragover', 'drop']) {"
            "  const init = {bubbles: true, cancelable: true, dataTransfer: data};"
            "  target.dispatchEvent(new DragEvent(type, init));"
            "}"
            "input.remove();",
            target,
            file_input,
        )

    def upload_outcome(self, row: Any) -> tuple[str, bool]:
        """Wait for the row's upload to end: its status text, and whether it is a refusal."""
        from selenium.webdriver.common.by import By

        status = row.find_element(By.CSS_SELECTOR, ".upload-status")
        self.wait.until(
            lambda _d: "poster is set" in status.text or "bad" in (status.get_attribute("class") or "")
        )
        return str(status.text), "bad" in (status.get_attribute("class") or "")

    def poster_shown(self, row: Any) -> str:
        """The row's thumbnail once the browser has loaded it: its URL."""
        from selenium.webdriver.common.by import By

        def loaded(_d: Any) -> str | None:
            images = row.find_elements(By.CSS_SELECTOR, "img.thumb")
            if images and self.driver.execute_script(
                "return arguments[0].complete && arguments[0].naturalWidth > 0", images[0]
            ):
                return str(images[0].get_attribute("src"))
            return None

        return str(self.wait.until(loaded))

    def severe_logs(self) -> list[dict[str, Any]]:
        return [entry for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]


def only_expected_refusals(logs: list[dict[str, Any]], expected: list[str]) -> None:
    """Every SEVERE console line is Chromium's network line for one of the refusals the test
    provoked (``expected``: URL patterns), each of those appears, and nothing else does."""
    unexpected = [
        entry
        for entry in logs
        if not (
            entry.get("source") == "network"
            and "status of 4" in entry["message"]
            and any(re.search(pattern, entry["message"]) for pattern in expected)
        )
    ]
    assert unexpected == [], unexpected
    for pattern in expected:
        assert any(re.search(pattern, entry["message"]) for entry in logs), (pattern, logs)


def only_this_server_and_storage(browser: Any, base_url: str, kind: str) -> None:
    allowed = {urlsplit(base_url).netloc} | ({urlsplit(S3_ENDPOINT).netloc} if kind == "s3" else set())
    elsewhere = [
        url
        for url in requested_urls(browser)
        if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).netloc not in allowed
    ]
    assert elsewhere == [], elsewhere


# ---- the tests ------------------------------------------------------------------------------


def test_an_admin_curates_the_catalogue_posters_ratings_and_users(
    driver: Any,  # noqa: F811 (the docs test's fixture)
    portal: Portal,
    shots: Path,
    tmp_path: Path,
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    page = Page(driver, portal.base_url, shots if portal.kind == "local" else None)
    page.sign_in(ADMIN_NAME, ADMIN_PASSWORD)
    assert page.text_of("#movies-caption", r"of 120") == "Movies 1–20 of 120"
    assert page.find("#who-name").text == f"Signed in as {ADMIN_NAME}"
    page.shot("movies")

    # ---- create a movie
    page.button("New movie").click()
    page.visible("#movie-title")
    page.button("Save", page.find("#movie-form")).click()  # no title: the API's message, by the field
    assert page.text_of("#movie-title-error", r".") == "This field may not be blank."
    assert page.find("#movie-title").get_attribute("aria-invalid") == "true"
    page.type_into("#movie-title", "Portal Premiere")
    page.type_into("#movie-description", "Made in the admin portal.")
    page.button("Save", page.find("#movie-form")).click()
    page.text_of("#flash", "was created")
    page.search_movies("Portal Premiere")
    assert page.text_of("#movies-caption", "of 1$") == "Movies 1–1 of 1"
    made = portal.movie_named("Portal Premiere")
    assert made["description"] == "Made in the admin portal." and made["imagePath"] is None

    # ---- drop a PNG on it: hashed, granted, uploaded to storage, checked, shown
    first, second = tmp_path / "first.png", tmp_path / "second.png"
    first.write_bytes(png((200, 40, 40)))
    second.write_bytes(png((40, 40, 200), (80, 120)))
    row = page.movie_row("Portal Premiere")
    page.drop(row.find_element(By.CSS_SELECTOR, "td.drop"), first)
    status, refused = page.upload_outcome(row)
    assert not refused and status == "Uploaded. The poster is set.", status
    shown = page.poster_shown(row)
    stored = portal.movie_named("Portal Premiere")["imagePath"]
    assert shown == stored
    if portal.kind == "s3":
        assert stored.startswith(S3_ENDPOINT), stored  # straight from the bucket
    served = requests.get(stored, timeout=30)
    assert served.status_code == 200 and served.content == first.read_bytes()
    page.shot("poster")

    # ---- replace it
    page.drop(row.find_element(By.CSS_SELECTOR, "td.drop"), second)
    status, refused = page.upload_outcome(row)
    assert not refused and status == "Uploaded. The poster is set.", status
    replaced = portal.movie_named("Portal Premiere")["imagePath"]
    assert replaced != stored and page.poster_shown(row) == replaced
    assert requests.get(replaced, timeout=30).content == second.read_bytes()

    # ---- the same file again: already uploaded, not sent twice
    page.drop(row.find_element(By.CSS_SELECTOR, "td.drop"), first)
    status, refused = page.upload_outcome(row)
    assert not refused and status.startswith("Already uploaded"), status
    assert portal.movie_named("Portal Premiere")["imagePath"] == stored

    # ---- refusals, in plain words; the poster stays
    fake = tmp_path / "page.png"
    fake.write_bytes(b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>\n" * 20)
    page.drop(row.find_element(By.CSS_SELECTOR, "td.drop"), fake)
    status, refused = page.upload_outcome(row)
    assert refused and status == "The file was refused: The uploaded file is not a valid PNG image.", status
    big = tmp_path / "big.png"
    big.write_bytes(png((1, 2, 3))[:64] + os.urandom(6 * MB))
    page.drop(row.find_element(By.CSS_SELECTOR, "td.drop"), big)
    status, refused = page.upload_outcome(row)
    assert refused and status == "This file cannot be uploaded: The file is too large: at most 5 MB.", status
    page.shot("refused")
    assert portal.movie_named("Portal Premiere")["imagePath"] == stored

    # ---- the upload limit (10 grants an hour), with when to try again
    if portal.kind == "local":  # the page's handling is the same on either storage
        for shade in range(10):
            other = tmp_path / f"other-{shade}.png"
            other.write_bytes(png((shade, 100, 100)))
            page.drop(row.find_element(By.CSS_SELECTOR, "td.drop"), other)
            status, refused = page.upload_outcome(row)
            if refused:
                break
        assert refused and re.fullmatch(
            r"Upload limit reached: 10 upload URLs per hour\. Try again in \d+ minutes \(at [^)]+\)\.", status
        ), status

    # ---- search and page through the 121 movies
    page.search_movies("Film 1")  # Film 100 .. Film 120
    assert page.text_of("#movies-caption", "of 21") == "Movies 1–20 of 21"
    page.button("Next page", page.find("#movies-pager")).click()
    assert page.text_of("#movies-caption", "21–21") == "Movies 21–21 of 21"
    assert [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#movies-rows strong")] == ["Film 120"]
    page.search_movies("")
    Select(page.find("#movies-ordering")).select_by_value("-title")  # submits the query
    assert page.text_of("#movies-caption", "1–20 of 121") == "Movies 1–20 of 121"
    titles = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#movies-rows strong")]
    assert titles[:2] == ["Portal Premiere", "Film 120"], titles
    for first_row in (21, 41, 61, 81, 101):
        page.button("Next page", page.find("#movies-pager")).click()
        page.text_of("#movies-caption", f"{first_row}–")
    assert page.find("#movies-caption").text == "Movies 101–120 of 121"
    page.button("Next page", page.find("#movies-pager")).click()
    assert page.text_of("#movies-caption", "121–") == "Movies 121–121 of 121"
    assert page.find("#movies-pager [data-page=next]").get_attribute("disabled") is not None
    assert page.find("#movies-page-label").text == "Page 7 of 7"

    # ---- a movie's ratings: delete one (moderation)
    page.search_movies("Film 007")
    rated = page.movie_row("Film 007")
    page.button("Ratings", rated).click()
    page.text_of("#ratings-caption", "of 1$")
    viewer_name = portal.viewer.get("/api/users/me/").json()["username"]
    assert page.find("#ratings-rows").text.startswith(viewer_name)
    page.shot("ratings")
    page.button("Delete", page.find("#ratings-rows")).click()
    page.visible("#confirm-text")
    assert page.find("#confirm-text").text == f"Delete {viewer_name}'s rating of “Film 007”?"
    page.button("Delete rating").click()
    page.text_of("#ratings-status", "was deleted")
    assert page.text_of("#ratings-caption", "No ratings") == "No ratings."
    page.button("Close", page.find("#ratings-dialog")).click()
    assert portal.admin.get(f"/api/ratings/?movie={portal.rated['id']}").json() == []

    # ---- users: promote, demote, the password policy
    page.button("Users").click()
    page.type_into("#users-search", portal.promotee)
    page.button("Search", page.find("#users-query")).click()
    page.text_of("#users-caption", "of 1$")
    page.button("Promote", page.find("#users-rows")).click()
    page.text_of("#flash", "is now an admin")
    assert page.text_of("#users-rows", "Admin")
    assert page.button("Demote", page.find("#users-rows"))
    page.type_into("#users-search", "")
    page.button("Search", page.find("#users-query")).click()
    page.text_of("#users-caption", "of 3")
    page.shot("users")
    page.type_into("#users-search", portal.promotee)
    page.button("Search", page.find("#users-query")).click()
    page.text_of("#users-caption", "of 1$")
    page.button("Demote", page.find("#users-rows")).click()
    page.text_of("#flash", "is now a plain user")
    promotee = portal.admin.get("/api/users/", params={"search": portal.promotee, "include": "is_admin"})
    assert promotee.json()[0]["is_admin"] is False
    page.button("Set password", page.find("#users-rows")).click()
    page.visible("#new-password")
    page.type_into("#new-password", "password")
    page.button("Set password", page.find("#password-form")).click()
    assert page.text_of("#new-password-error", ".") == "This password is too common."
    page.shot("password")
    page.button("Cancel", page.find("#password-form")).click()

    # ---- sign out: the token is revoked
    assert portal.tokens_of(ADMIN_NAME) == 2  # make_admin's, and the page's
    page.button("Sign out").click()
    page.visible("#sign-in-username")
    assert portal.tokens_of(ADMIN_NAME) == 1

    only_expected_refusals(
        page.severe_logs(),
        [r"/api/movies/\d+/ ", r"/api/movies/get_upload_url/ ", r"/api/movies/ ", r"/api/users/\d+/ "],
    )
    only_this_server_and_storage(driver, portal.base_url, portal.kind)


def test_a_non_admin_who_signs_in_sees_only_the_refusal(
    driver: Any,  # noqa: F811 (the docs test's fixture)
    shots: Path,
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'portal.db'}"
    run_cli("migrate", env={"MOVIERATER_DATABASE_URL": url})
    server = Server(url, tmp_path, MOVIERATER_MEDIA_DIR=str(tmp_path / "m"))
    try:
        make_admin(server)
        reader = sign_up(server.base_url, "reader")
        page = Page(driver, server.base_url, shots)
        page.sign_in("reader", USER_PASSWORD)
        refusal = page.text_of("#refusal-text", "not an admin")
        assert refusal.startswith("reader is not an admin: this portal is for admins only.")
        for hidden in ("#admin-screen", "#sign-in-screen", "#movies-section", "#users-section"):
            assert not page.find(hidden).is_displayed(), hidden
        page.shot("not-an-admin")
        paths = [urlsplit(url).path for url in requested_urls(driver)]
        api_calls = [path for path in paths if path.startswith(("/api/", "/auth/"))]
        assert api_calls == ["/auth/", "/api/users/me/"], paths  # nothing else was asked
        page.button("Sign out").click()
        page.visible("#sign-in-username")
        assert reader.get("/api/users/me/").status_code == 200  # another token: still valid
        assert page.severe_logs() == []
    finally:
        server.stop()
