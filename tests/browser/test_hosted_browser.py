"""The hosted demo's entrypoint (hosted/streamlit_app.py) served as Streamlit Community Cloud serves it:
``streamlit run hosted/streamlit_app.py`` from the repository's root, with only the entrypoint's folder
on sys.path (no PYTHONPATH; ``python -P`` so that ``-m`` doesn't add the working directory either), and
once more from another working directory. Lessons must load, not "Page not found" or an exception."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from browser_helpers import SHOTS, no_exception, pages_on

from cnnviz import course, serve
from cnnviz.i18n import t

ROOT = Path(__file__).resolve().parents[2]
ENTRY = "hosted/streamlit_app.py"


# A server of its own (not conftest's app_url): the entrypoint, its working directory and sys.path are
# what this test is about.
@pytest.fixture(scope="module", params=["root", "elsewhere"])
def hosted_url(request, tmp_path_factory):
    cwd = ROOT if request.param == "root" else tmp_path_factory.mktemp("elsewhere")
    app = ENTRY if request.param == "root" else str(ROOT / ENTRY)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    port = serve.free_port()
    SHOTS.mkdir(parents=True, exist_ok=True)
    log_path = SHOTS / f"hosted_{request.param}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(serve.streamlit_command(app, port, launch=["-P", "-m", "streamlit", "run", app]),
                                cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            if not serve.wait_for_health(port, proc, 120):
                pytest.fail(f"the hosted entrypoint did not start; see {log_path}")
            yield f"http://127.0.0.1:{port}"
        finally:
            serve.stop_processes([proc])


@pytest.fixture
def open_page(chromium, hosted_url):
    with pages_on(chromium, hosted_url, timeout=120_000) as make:
        yield make


@pytest.mark.parametrize("name, title", [("convolution", "conv.title"), ("explain", "explain.title")])
def test_hosted_entrypoint_serves_the_lessons(open_page, name, title):
    from playwright.sync_api import expect

    path = course.url(name)
    page = open_page(path)
    expect(page.get_by_role("heading", name=t(title, "en")).first).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
    expect(page).to_have_url(re.compile(rf"/{path}(\?.*)?$"))
    no_exception(page)
    # the lesson's end drew too: its links to the next lesson or the start are st.page_link on
    # cnnviz.course's paths, which raise if they don't resolve from the entrypoint
    ends = "|".join(re.escape(x) for x in (t("course.next", "en", name=""), t("course.back_home", "en")))
    expect(page.get_by_role("link", name=re.compile(ends)).first).to_be_visible()


def test_hosted_home_links_open_their_lesson(open_page):
    from playwright.sync_api import expect

    page = open_page("")
    no_exception(page)
    # the card of the second lesson, Convolution: its "Open lesson" link
    link = page.get_by_role("link", name=t("home.open_lesson", "en")).and_(
        page.locator(f"a[href='{course.url('convolution')}']"))
    expect(link).to_have_count(1)
    link.click()
    expect(page).to_have_url(re.compile(rf"/{course.url('convolution')}(\?.*)?$"))
    expect(page.get_by_role("heading", name=t("conv.title", "en")).first).to_be_visible()
    expect(page.get_by_text("Page not found")).to_have_count(0)
    no_exception(page)
