"""A real headless Chromium, driven by Selenium, against a real Waitress server.

Everything here skips cleanly when Chromium, its driver or Selenium is
missing, so that ``make test`` passes on a machine with only Python and make;
``.ci/run`` installs them.  The axe accessibility engine comes from the npm
package ``axe-core`` (``.ci/run`` installs it into ``var/node``), or from the
file named by ``PLINTH_AXE_JS``.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[4]
AXE_JS = Path(
    os.environ.get("PLINTH_AXE_JS")
    or REPO / "var" / "node" / "node_modules" / "axe-core" / "axe.min.js"
)


def chromium_paths() -> tuple[str, str] | None:
    browser = (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or shutil.which("google-chrome")
    )
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver")
    paths = chromium_paths()
    if paths is None:
        pytest.skip("Chromium and chromedriver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,960",
        "--lang=en",
    ):
        options.add_argument(argument)
    # The browser's console, to catch Content-Security-Policy refusals.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    from selenium.webdriver.chrome.service import Service

    driver = webdriver.Chrome(options=options, service=Service(executable_path=paths[1]))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def live_server(plinth_app: Any) -> Iterator[str]:
    """The test application served by Waitress on a free local port."""
    from waitress.server import create_server

    server = create_server(plinth_app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()


@pytest.fixture
def browser_session(chromium: Any, live_server: str, clean_database: None) -> Iterator[Any]:
    chromium.delete_all_cookies()
    yield chromium
    chromium.delete_all_cookies()


def csp_refusals(driver: Any) -> list[str]:
    """What the browser refused to load or run on the pages since the last call."""
    return [
        entry["message"]
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"] or "Refused to" in entry["message"]
    ]


def axe_violations(driver: Any) -> list[dict[str, Any]]:
    """Serious and critical axe violations on the current page."""
    if not AXE_JS.exists():
        pytest.skip(f"axe-core is not installed ({AXE_JS})")
    driver.execute_script(AXE_JS.read_text())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document).then(r => done(r.violations)).catch(e => done([{impact: 'critical',"
        " id: 'axe-error', help: String(e), nodes: []}]));"
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n.get("target") for n in v["nodes"]][:3],
        }
        for v in result
        if v["impact"] in ("serious", "critical")
    ]
