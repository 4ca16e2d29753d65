"""The interactive docs in a real headless Chromium (Debian's chromium and chromium-driver,
driven by Selenium): ``/`` lands on ``/api/docs/``, Swagger UI renders the API's title and
every operation, with no console error (a CSP violation is one) and no request to any host
but this server; then a user authorizes with the token POST /auth/ gave and runs
GET /api/movies/ from the page: 200.

Without chromium or chromedriver this skips, or fails under MOVIERATER_REQUIRE_BACKENDS=1."""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.integration.backends import backends_required
from tests.integration.conftest import Server, sign_up

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--window-size=1280,2000",
)
WAIT = 30  # seconds, for what the page renders or fetches


def _browser_missing() -> str | None:
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if shutil.which(path) is None]
    return (
        f"{' and '.join(missing)} not installed (apt-get install chromium chromium-driver)"
        if missing
        else None
    )


@pytest.fixture
def driver() -> Iterator[Any]:
    reason = _browser_missing()
    if reason:
        if backends_required():
            pytest.fail(f"browser unavailable: {reason} (MOVIERATER_REQUIRE_BACKENDS=1)")
        pytest.skip(f"browser unavailable: {reason}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    # The console, and every request the page makes (the performance log's network events).
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    browser = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    try:
        yield browser
    finally:
        browser.quit()


@pytest.fixture
def docs_server(tmp_path: Path) -> Iterator[Server]:
    """Its own server: the page does not depend on the database backend."""
    server = Server(
        f"sqlite:///{tmp_path / 'docs.db'}", tmp_path, MOVIERATER_MEDIA_DIR=str(tmp_path / "media")
    )
    yield server
    server.stop()


def requested_urls(driver: Any) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def authorize(driver: Any, wait: Any, value: str) -> None:
    """Swagger UI's Authorize dialog: type ``value`` for tokenAuth, authorize, close."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    driver.find_element(By.CSS_SELECTOR, ".auth-wrapper .btn.authorize").click()
    dialog = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".modal-ux")))
    logout = dialog.find_elements(By.XPATH, ".//button[normalize-space()='Logout']")
    if logout:
        logout[0].click()
    field = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".modal-ux input[type=text]")))
    field.send_keys(value)
    dialog.find_element(By.CSS_SELECTOR, "button.modal-btn.auth.authorize").click()
    wait.until(
        ec.visibility_of_element_located(
            (By.XPATH, "//div[@class='modal-ux']//button[normalize-space()='Logout']")
        )
    )
    dialog.find_element(By.CSS_SELECTOR, "button.close-modal").click()
    wait.until(ec.invisibility_of_element_located((By.CSS_SELECTOR, ".modal-ux")))


def execute(driver: Any, wait: Any, operation: Any) -> str:
    """Execute the (tried-out) operation and return the status the page shows."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    for old in operation.find_elements(By.CSS_SELECTOR, ".btn-clear"):
        old.click()  # so that the status read below is the new one
    operation.find_element(By.CSS_SELECTOR, "button.execute").click()
    cell = (By.CSS_SELECTOR, ".live-responses-table .response .response-col_status")
    status = wait.until(lambda _d: operation.find_elements(*cell))
    wait.until(ec.visibility_of(status[0]))
    return str(status[0].text.strip())


def test_swagger_ui_offline_authorize_and_try_an_operation(driver: Any, docs_server: Server) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    base = docs_server.base_url
    wait = WebDriverWait(driver, WAIT)
    driver.get(base + "/")
    title = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, ".information-container .title")))
    assert driver.current_url == base + "/api/docs/"
    assert title.text.startswith("movierater")
    with urllib.request.urlopen(base + "/api/openapi.json", timeout=30) as served:  # what the page reads
        document = json.load(served)
    expected = {
        f"operations-{op['tags'][0]}-{op['operationId']}"
        for item in document["paths"].values()
        for method, op in item.items()
        if isinstance(op, dict) and "operationId" in op
    }
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) >= len(expected))
    shown = {element.get_attribute("id") for element in driver.find_elements(By.CSS_SELECTOR, ".opblock")}
    assert shown == expected

    # A user signed up through the API; its key (the page adds the "Token" keyword to a bare key).
    key = sign_up(base).token
    assert key
    authorize(driver, wait, key)
    operation = driver.find_element(By.ID, "operations-movies-listMovies")
    operation.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
    wait.until(lambda _d: operation.find_elements(By.CSS_SELECTOR, "button.try-out__btn"))[0].click()
    assert execute(driver, wait, operation) == "200"
    curl = operation.find_element(By.CSS_SELECTOR, ".curl-command").text
    assert f"Authorization: Token {key}" in curl

    # As the security scheme documents it: "Token <key>", sent as typed.
    authorize(driver, wait, f"Token {key}")
    assert execute(driver, wait, operation) == "200"

    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == [], errors
    urls = requested_urls(driver)
    assert any(url.endswith("/api/openapi.json") for url in urls), urls
    assert any(url.endswith("/api/movies/") for url in urls), urls
    elsewhere = [
        url
        for url in urls
        if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).hostname != "127.0.0.1"
    ]
    assert elsewhere == [], elsewhere
