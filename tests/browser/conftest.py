"""Fixtures for browser tests: the real app under `streamlit run`, driven by Debian's Chromium.

We never download a browser: CHROMIUM (default /usr/bin/chromium) must exist, or
the tests skip with the reason. Screenshots land in shots/browser/.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from cnnviz import serve

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "shots" / "browser"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def app_url():
    port = serve.free_port()
    SHOTS.mkdir(parents=True, exist_ok=True)
    log = open(SHOTS / "server.log", "w")
    proc = subprocess.Popen(serve.streamlit_command("app.py", port), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        if not serve.wait_for_health(port, proc, 120):
            pytest.fail("streamlit did not start; see shots/browser/server.log")
        yield url
    finally:
        serve.stop_processes([proc])
        log.close()


@pytest.fixture(scope="session")
def chromium():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


from browser_helpers import pages_on  # noqa: E402


@pytest.fixture
def new_page(chromium, app_url):
    """new_page(path, locale) -> a page at 1280x800 (a projector) on that lesson, idle."""
    with pages_on(chromium, app_url) as make:
        yield make
