"""Progress that lasts (issue 17), in Chromium: a right answer is still counted after a reload, after
opening a link with settings, and after the worker that served it is killed (python -m cnnviz.serve,
two workers); another browser starts at zero; "Forget my progress" starts again; the browser's id is
in a cookie, never in the address or Copy link; a report downloaded right after Check has the answer.

The question answered is the ReLU lesson's first one (its numbers are in the prompt, so the test
can work out the right answer). Screenshots: shots/browser/progress_sidebar_<locale>.png and
progress_forget_<locale>.png.
"""

import os
from pathlib import Path
import re
import signal
import time

import pytest
from playwright.sync_api import expect

from browser_helpers import keyed, no_exception, sends_a_run, shoot, wait_idle, watch
from cnnviz import course
from cnnviz import exercises as ex
from cnnviz.course import progress_store
from cnnviz import serve
from cnnviz.i18n import t

# the lessons a learner can open, counted from the lesson files (every one but the home page)
TOTAL = len([p for p in (Path(__file__).parents[2] / "lessons").glob("*.py") if p.stem != "home"])


def _context(chromium, locale="en-US"):
    ctx = chromium.new_context(viewport={"width": 1280, "height": 800}, locale=locale, accept_downloads=True)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    watch(page)
    return ctx, page


def _open(page, url):
    page.goto(url)
    wait_idle(page)
    no_exception(page)


def _bar(page):
    return keyed(page, "course-progress").locator("[data-testid='stProgress']")


def _count(lang, opened, right):
    return t("course.progress", lang, opened=opened, total=TOTAL, right=right)


def _learner(ctx) -> str | None:
    return next((c["value"] for c in ctx.cookies() if c["name"] == progress_store.COOKIE), None)


def _answer_relu(page, *, right: bool):
    """The ReLU lesson's question 1 ("What does ReLU make of 6; -2; ...?"), answered right or wrong."""
    assert ex.KINDS["layers"][0] == "layers.relu"
    box = keyed(page, "sc-layers-0")
    box.wait_for(state="attached", timeout=120_000)
    box.scroll_into_view_if_needed()
    prompt = box.locator("[data-testid='stMarkdownContainer']").first.inner_text()
    values = [int(v) for v in re.search(r"(-?\d+(?:; -?\d+)+)\?", prompt).group(1).split("; ")]
    typed = [max(0, v) + (0 if right else 100) for v in values]
    field = box.locator("textarea").first
    with sends_a_run(page):         # the answer reaches the server before Check asks for it
        field.fill("; ".join(map(str, typed)))
        field.press("Tab")
    keyed(page, "sc.layers.0.check").locator("button").click()
    verdict = "stAlertContentSuccess" if right else "stAlertContentError"
    expect(box.locator(f"[data-testid='{verdict}']")).to_have_count(1, timeout=60_000)


def _answer_pooling_wrong(page):
    """Question 2 (max pooling of a matrix of small numbers): 99 everywhere is wrong."""
    box = keyed(page, "sc-layers-1")
    box.scroll_into_view_if_needed()
    field = box.locator("textarea").first
    with sends_a_run(page):
        field.fill("99 99; 99 99")
        field.press("Tab")
    keyed(page, "sc.layers.1.check").locator("button").click()
    expect(box.locator("[data-testid='stAlertContentError']")).to_have_count(1, timeout=60_000)


def _report(page) -> str:
    with page.expect_download() as download:
        keyed(page, "course.report").locator("button").click()
    return open(download.value.path(), encoding="utf-8").read()


def _forget(page, lang):
    keyed(page, "course-progress").scroll_into_view_if_needed()
    page.get_by_role("button", name=re.compile(re.escape(t("course.forget", lang)))).click()
    confirm = keyed(page, "course.forget").locator("button")
    expect(confirm).to_be_visible()
    confirm.click()              # what it does (a count of zero, a new id) is for the caller to wait for


def test_progress_lasts_across_reloads_and_links_and_not_into_another_browser(chromium, app_url):
    ctx, page = _context(chromium)
    other = None
    urls = []
    page.on("request", lambda r: urls.append(r.url))
    page.on("framenavigated", lambda f: urls.append(f.url))
    try:
        _open(page, f"{app_url}/{course.url('layers')}")
        expect(_bar(page)).to_contain_text(_count("en", 1, 0), timeout=60_000)
        _answer_relu(page, right=True)
        expect(_bar(page)).to_contain_text(_count("en", 1, 1), timeout=30_000)
        # the id is in a cookie for the whole site, kept for months, not sent to other sites
        me = _learner(ctx)
        assert progress_store.valid_id(me), ctx.cookies()
        cookie = next(c for c in ctx.cookies() if c["name"] == progress_store.COOKIE)
        assert cookie["path"] == "/" and cookie["sameSite"] == "Lax"
        assert cookie["expires"] > time.time() + 300 * 24 * 3600

        # a wrong answer right after: a report downloaded at once has both
        _answer_pooling_wrong(page)
        report = _report(page)
        assert t("course.report_totals", "en", opened=1, total=TOTAL, answered=2, right=1) in report, report

        page.reload()                                     # F5
        wait_idle(page)
        expect(_bar(page)).to_contain_text(_count("en", 1, 1), timeout=60_000)
        assert t("course.report_totals", "en", opened=1, total=TOTAL, answered=2, right=1) in _report(page)

        # a teacher's link with settings
        _open(page, f"{app_url}/{course.url('convolution', 'conv.stride=2&lang=en')}")
        expect(_bar(page)).to_contain_text(_count("en", 2, 1), timeout=60_000)
        assert _learner(ctx) == me

        # Copy link and the address never carry the id
        copy_box = page.locator("#cnnviz-url")
        page.locator("#cnnviz-copy").click()
        assert "conv.stride=2" in copy_box.input_value()
        assert me not in copy_box.input_value() and me not in page.url
        assert urls and not [u for u in urls if me in u]

        # another browser (a classmate's laptop) starts at zero, with an id of its own
        other, page2 = _context(chromium)
        _open(page2, f"{app_url}/{course.url('layers')}")
        expect(_bar(page2)).to_contain_text(_count("en", 1, 0), timeout=60_000)
        # the sidebar's line of script writes the cookie once it is drawn: wait for it, then read it
        page2.wait_for_function(f"document.cookie.includes({progress_store.COOKIE!r} + '=')", timeout=30_000)
        assert progress_store.valid_id(_learner(other)) and _learner(other) != me

        # forget: zero, a new id, and a reload finds nothing of the old one
        _forget(page, "en")
        expect(_bar(page)).to_contain_text(_count("en", 1, 0), timeout=60_000)
        page.wait_for_function(f"!document.cookie.includes({me!r})", timeout=30_000)   # the new id written
        new = _learner(ctx)
        assert progress_store.valid_id(new) and new != me
        page.reload()
        wait_idle(page)
        expect(_bar(page)).to_contain_text(_count("en", 1, 0), timeout=60_000)
        assert _learner(ctx) == new
        no_exception(page)
        # the other browser's progress is its own: still there after the first one forgot
        _answer_relu(page2, right=True)
        page2.reload()
        wait_idle(page2)
        expect(_bar(page2)).to_contain_text(_count("en", 1, 1), timeout=60_000)
    finally:
        ctx.close()
        if other is not None:
            other.close()


@pytest.mark.parametrize("locale", ["en-US", "pt-BR"])
def test_the_sidebar_shows_progress_and_forget_in_both_languages(chromium, app_url, locale):
    lang = locale.replace("-", "_")
    ctx, page = _context(chromium, locale)
    try:
        _open(page, f"{app_url}/{course.url('layers')}")
        _answer_relu(page, right=True)
        box = keyed(page, "course-progress")
        box.scroll_into_view_if_needed()
        expect(_bar(page)).to_contain_text(_count(lang, 1, 1), timeout=30_000)
        expect(box.get_by_role("button", name=re.compile(re.escape(t("course.forget", lang))))).to_be_visible()
        expect(box.get_by_role("button", name=re.compile(re.escape(t("course.report_download", lang))))).to_be_visible()
        expect(page.get_by_text(t("course.progress_session_only", lang))).to_have_count(0)
        shoot(page, f"progress_sidebar_{locale}")
        page.get_by_role("button", name=re.compile(re.escape(t("course.forget", lang)))).click()
        expect(page.get_by_text(t("course.forget_note", lang))).to_be_visible()
        shoot(page, f"progress_forget_{locale}")
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory):
    """python -m cnnviz.serve with two workers behind nginx (not warmed: this test opens one lesson),
    their progress in a file of this test's."""
    import shutil
    from pathlib import Path

    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        pytest.skip("nginx is not installed (apt-get install nginx)")
    db = tmp_path_factory.mktemp("serve-progress") / "progress.db"
    c = serve.Cluster(workers=2, port=serve.free_port(), debug_header=True, warm=False, progress_db=db)
    try:
        c.start()
        yield c
    finally:
        c.stop()


def test_progress_survives_a_killed_worker(chromium, two_workers):
    """The worker that served the answer is killed: the browser reloads onto the other worker and
    still has its count; the supervisor restarts the killed one, the browser goes back to it (its
    cookie hashes there), and the count is still there."""
    cluster = two_workers
    url = f"http://127.0.0.1:{cluster.port}"
    ctx, page = _context(chromium, "pt-BR")
    served = []
    page.on("response", lambda r: served.append(r.headers.get("x-cnnviz-upstream")))
    try:
        _open(page, f"{url}/{course.url('layers')}")
        _answer_relu(page, right=True)
        expect(_bar(page)).to_contain_text(_count("pt_BR", 1, 1), timeout=30_000)
        first = next(a for a in served if a)
        assert {a for a in served if a} == {first}
        worker = next(w for w in cluster._workers if f"127.0.0.1:{w.port}" == first)

        os.kill(worker.proc.pid, signal.SIGKILL)          # a crash: no goodbye, no flush
        worker.proc.wait(30)
        served.clear()
        page.reload()
        wait_idle(page)
        expect(_bar(page)).to_contain_text(_count("pt_BR", 1, 1), timeout=90_000)
        assert {a for a in served if a} - {first}, served      # another worker answered
        no_exception(page)

        assert cluster.supervise_once() == [worker.port]       # restarted, as serve's loop does
        assert serve.wait_for_health(worker.port, worker.proc, 180)
        served.clear()
        page.reload()
        wait_idle(page)
        expect(_bar(page)).to_contain_text(_count("pt_BR", 1, 1), timeout=90_000)
        assert first in {a for a in served if a}                # back on the restarted worker
        assert cluster.progress_path.exists()
    finally:
        ctx.close()
