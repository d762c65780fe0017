"""Swagger UI at ``/docs`` in ``make run``, in a real browser: Debian's Chromium, headless, driven by
Selenium through Debian's chromedriver (never a driver download). The page shows the five routes, and
"Try it out" creates an order. ``UPDATE_SCREENSHOTS=1`` writes the screenshot docs/api.md shows."""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from .conftest import REPO, RunningApi

pytestmark = pytest.mark.e2e

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMEDRIVER = shutil.which("chromedriver")
SCREENSHOT = REPO / "docs" / "images" / "swagger-ui.png"
NEEDS_BROWSER = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="no Chromium and chromedriver here (apt install chromium chromium-driver; .ci/run installs them)",
)


@pytest.fixture(scope="module")
def local_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApi]:
    running = RunningApi(tmp_path_factory.mktemp("docs-data")).start()
    yield running
    running.stop()


@pytest.fixture
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1600",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_the_docs_page_and_its_assets_come_from_make_run_not_a_cdn(local_api: RunningApi) -> None:
    page = requests.get(f"{local_api.url}/docs", timeout=10)
    script = requests.get(f"{local_api.url}/docs/swagger-ui-bundle.js", timeout=10)

    assert page.status_code == 200
    assert "text/html" in page.headers["Content-Type"]
    assert "https://" not in page.text  # every asset from make run itself
    assert script.status_code == 200
    assert len(script.content) > 500_000
    assert requests.get(f"{local_api.url}/docs/../cursor-key", timeout=10).status_code == 404


@NEEDS_BROWSER
def test_swagger_ui_shows_the_five_routes_and_try_it_out_creates_an_order(
    local_api: RunningApi, browser: object, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    assert isinstance(browser, WebDriver)
    wait = WebDriverWait(browser, 30)

    # Given the page, rendered from make run's own OpenAPI document
    browser.get(f"{local_api.url}/docs")
    wait.until(lambda driver: len(driver.find_elements(By.CSS_SELECTOR, ".opblock")) >= 5)
    routes = {
        (
            block.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text,
            block.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute("data-path"),
        )
        for block in browser.find_elements(By.CSS_SELECTOR, ".opblock")
    }
    assert routes == {
        ("POST", "/orders"),
        ("GET", "/orders"),
        ("GET", "/orders/{orderId}"),
        ("PATCH", "/orders/{orderId}"),
        ("DELETE", "/orders/{orderId}"),
    }

    # When "Try it out" sends a create with an order of the reader's
    create = browser.find_element(By.CSS_SELECTOR, ".opblock-post")
    create.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait.until(shown.element_to_be_clickable((By.CSS_SELECTOR, ".opblock-post .try-out__btn"))).click()
    body = wait.until(shown.visibility_of_element_located((By.CSS_SELECTOR, ".opblock-post textarea")))
    body.clear()
    body.send_keys(
        json.dumps({"productName": "Tried in the browser", "productQuantity": 3, "productPrice": 990})
    )
    browser.find_element(By.CSS_SELECTOR, ".opblock-post .execute").click()
    status = wait.until(
        shown.visibility_of_element_located(
            (By.CSS_SELECTOR, ".opblock-post .live-responses-table tr.response .response-col_status")
        )
    )

    # Then the API answered 201, and the order is stored
    assert status.text.strip().startswith("201")
    listed = requests.get(f"{local_api.url}/orders", timeout=10).json()["items"]
    assert [order["productName"] for order in listed] == ["Tried in the browser"]
    shot = SCREENSHOT if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path / "swagger-ui.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    browser.execute_script("window.scrollTo(0, 0)")
    assert browser.save_screenshot(str(shot))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@NEEDS_BROWSER
def test_a_deployed_stages_page_with_iam_shows_the_five_routes_for_reading_only(
    browser: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page ``-c swaggerUi=true`` deploys, from its function's own asset, served as API Gateway
    would call that function; with ``apiAuth=iam`` a browser cannot sign, so no "Try it out"."""
    import importlib.util
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import WebDriverWait

    from cdk_app.bundling import build_files_asset
    from cdk_app.swagger_ui import page_files

    asset = build_files_asset(page_files(), "swagger-ui", tmp_path)
    spec = importlib.util.spec_from_file_location("deployed_docs_page", asset.path / "docs_page.py")
    assert spec is not None
    assert spec.loader is not None
    page_function = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(page_function)
    monkeypatch.setenv("DOCS_API_AUTH", "iam")

    class Gateway(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            answer = page_function.handler({"rawPath": self.path.partition("?")[0]}, None)
            body = answer["body"].encode()
            body = base64.b64decode(body) if answer["isBase64Encoded"] else body
            self.send_response(answer["statusCode"])
            for name, value in answer["headers"].items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert isinstance(browser, WebDriver)
        browser.get(f"http://127.0.0.1:{server.server_port}/docs")
        WebDriverWait(browser, 30).until(
            lambda driver: len(driver.find_elements(By.CSS_SELECTOR, ".opblock")) >= 5
        )
        browser.find_element(By.CSS_SELECTOR, ".opblock-post .opblock-summary").click()
        WebDriverWait(browser, 10).until(
            lambda driver: driver.find_elements(By.CSS_SELECTOR, ".opblock-post .opblock-body")
        )

        assert len(browser.find_elements(By.CSS_SELECTOR, ".opblock")) == 5
        assert browser.find_elements(By.CSS_SELECTOR, ".try-out__btn") == []
        assert "SigV4" in browser.title
    finally:
        server.shutdown()
