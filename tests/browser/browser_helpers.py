"""Helpers for the browser tests: waiting for streamlit, finding widgets, screenshots, drawing."""

import re
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import expect

SHOTS = Path(__file__).resolve().parents[2] / "shots" / "browser"


@contextmanager
def pages_on(chromium, base_url: str, *, timeout: int = 60_000):
    """``make(path, locale)`` -> a new browser at 1280x800 (a projector) on ``base_url/path``, idle;
    every browser it opened is closed at the end."""
    contexts = []

    def make(path: str = "", locale: str = "en-US"):
        ctx = chromium.new_context(viewport={"width": 1280, "height": 800}, locale=locale)
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(timeout)
        watch(page)
        page.goto(f"{base_url}/{path}")
        wait_idle(page)
        fonts_loaded(page)
        return page

    try:
        yield make
    finally:
        for ctx in contexts:
            ctx.close()


def wait_idle(page):
    """Until Streamlit's running indicator is gone: the page's script (or fragment) is not running and
    no element is left over from the run before (``data-stale``). On a page just opened this is the
    first run, done ("initial" until it starts). After a click it proves nothing by itself (the
    server may not have started the run yet): wait for what the click must show instead."""
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=120_000)
    expect(page.locator("[data-testid='stElementContainer'][data-stale='true']")).to_have_count(0, timeout=120_000)


# ------------------------------------------------------------------ what the browser and the server say
# For what a page does not show: that the browser has sent a widget's new value, that the server has
# finished the whole page's run. Read from Streamlit's own messages on the page's websocket.
_SOCKETS = {}


def watch(page):
    """Keep the page's Streamlit websocket (call before ``goto``; a reload's new one replaces it)."""
    page.on("websocket", lambda ws: _SOCKETS.__setitem__(page, ws) if ws.url.endswith("/_stcore/stream") else None)


def _asks_a_run(payload) -> bool:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    if not isinstance(payload, (bytes, bytearray)):
        return False
    return BackMsg.FromString(bytes(payload)).WhichOneof("type") == "rerun_script"


def _whole_run_done(payload) -> bool:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    if not isinstance(payload, (bytes, bytearray)):
        return False
    msg = ForwardMsg.FromString(bytes(payload))
    return msg.WhichOneof("type") == "script_finished" and msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY


@contextmanager
def sends_a_run(page, timeout: int = 60_000):
    """``with sends_a_run(page): action``: returns once the browser has asked the server for a run
    after the action (with every widget's value, a drawing's included)."""
    with _SOCKETS[page].expect_event("framesent", predicate=_asks_a_run, timeout=timeout):
        yield


@contextmanager
def whole_page_run(page, timeout: int = 120_000):
    """``with whole_page_run(page): action``: returns once the server has finished a run of the whole
    page (not of a fragment) after the action, and the page has drawn it."""
    with _SOCKETS[page].expect_event("framereceived", predicate=_whole_run_done, timeout=timeout):
        yield
    wait_idle(page)


def fonts_loaded(page):
    """Until the page's fonts have loaded: Streamlit's icons are ligatures of a font, words
    ("filter_center_focus") until it loads, which then shrink and move everything below them."""
    page.wait_for_function("document.fonts.status === 'loaded'", timeout=60_000)


def shoot(page, name: str):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def keyed(page, key: str):
    """The element container streamlit tags with a widget's key (class st-key-<key>, dots as dashes)."""
    return page.locator(f".st-key-{key.replace('.', '-')}").first


def image_loaded(img, timeout: int = 60_000):
    """Until the <img> ``img`` (a locator) has its picture: loaded, with a width."""
    img.page.wait_for_function("i => i.complete && i.naturalWidth > 0", arg=img.element_handle(), timeout=timeout)


def no_exception(page):
    assert page.locator("[data-testid='stException']").count() == 0


# ------------------------------------------------------------------ the convolution's step view on a projector
SCREEN = 800   # px: the projector's height


STEP_VIEW_JS = """() => {
  const box = e => e.getBoundingClientRect();
  const tops = ['.st-key-conv-first', '.st-key-conv-play', '.st-key-conv-speed']
      .map(s => document.querySelector(s)).filter(e => e).map(e => box(e).top);
  const parts = [...document.querySelectorAll('.cnnviz-card, .cnnviz-step-matrices .cnnviz-matrix')];
  const sum = [...document.querySelectorAll("[data-testid='stMarkdownContainer']")]
      .find(e => /^(Sum|Soma) /.test(e.innerText));
  if (sum) parts.push(sum);
  const header = document.querySelector("[data-testid='stHeader']");
  const opaque = header && getComputedStyle(header).backgroundColor !== 'rgba(0, 0, 0, 0)';
  return {top: Math.min(...tops), bottom: Math.max(...parts.map(e => box(e).bottom)), parts: parts.length,
          header: opaque ? box(header).bottom : 0};
}"""


def _step_view_extent(page) -> tuple[float, float]:
    """With the step controls scrolled to the top of the screen: (top of the controls, the speed
    selector's label included; bottom of the lowest of the card that adds the products, the bias and
    ReLU, the three matrices and the "Sum" line under them). An opaque header over the top of the
    screen (presentation mode's folded sidebar) counts as taken."""
    page.locator(".cnnviz-card").first.wait_for(state="visible", timeout=90_000)
    wait_idle(page)
    page.evaluate("() => document.querySelector('.st-key-conv-first').scrollIntoView({block: 'start'})")
    got = page.evaluate(STEP_VIEW_JS)
    assert got["parts"] == 5, got                     # the card, three matrices, the sum line
    return min(got["top"], got["top"] - got["header"]), got["bottom"]


def step_view_fits_one_screen(page, when: str):
    """The convolution's step view (issue 10, "Fit a projector"): the controls, the window, the kernel,
    the products and the sum (+ bias, ReLU) visible together on the 800 px screen. ``when``: for the
    message ("asking" before the guess, "shown" after it)."""
    top, bottom = _step_view_extent(page)
    assert bottom - top <= SCREEN, (when, top, bottom)


# ------------------------------------------------------------------ a page read as a learner reads it
# Numbers written the learner's way (a decimal comma in Portuguese), no word broken across two lines,
# no label cut off with "…" (tests/browser/test_selfcheck_browser.py reads every page with them).
ROOTS = "[data-testid='stMain'], [data-testid='stSidebarUserContent']"
# Not checked, and why:
EXEMPT = ", ".join([
    "[data-testid='stSlider']",       # Streamlit writes slider values itself (no locale setting)
    "[data-testid='stNumberInput']",  # same for number inputs
    "[data-testid='stCode']", "code", "pre",   # Python and shell need a point: torch.nn.Conv2d(...)
    ".katex-html",                    # a formula is checked once, in its TeX source (.katex-mathml)
    "style", "script",
])

# The texts of the page (and what its text fields start with), and the words whose letters sit on two
# lines: the browser broke them because their column is too narrow.
_TEXTS_JS = """([roots, exempt]) => {
  const texts = [], broken = [];
  for (const root of document.querySelectorAll(roots)) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let n;
    while ((n = walker.nextNode())) {
      const el = n.parentElement;
      if (!el || el.closest(exempt)) continue;
      const text = n.textContent.trim();
      if (text) texts.push(text);
      const re = /[\\p{L}\\p{N}]{3,}/gu;
      let m;
      while ((m = re.exec(n.textContent))) {
        const r = document.createRange();
        r.setStart(n, m.index);
        r.setEnd(n, m.index + m[0].length);
        const tops = new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top)));
        if (tops.size > 1) broken.push(m[0] + " in: " + el.textContent.trim().slice(0, 60));
      }
    }
    // what a text field starts with is ours too (a kernel "0,2 0,2 0,2", logits "2,0; 1,0; 0,1")
    for (const box of root.querySelectorAll("[data-testid='stTextInput'] input, [data-testid='stTextArea'] textarea"))
      if (box.value.trim()) texts.push(box.value.trim());
  }
  return {texts, broken};
}"""

# A visible label cut off with an ellipsis (text-overflow) because it is wider than its box.
_TRUNCATED_JS = """([roots]) => {
  const bad = [];
  for (const root of document.querySelectorAll(roots)) {
    for (const el of root.querySelectorAll('*')) {
      if (!el.textContent.trim() || el.children.length > 2) continue;
      const style = getComputedStyle(el);
      if (style.textOverflow !== 'ellipsis' || style.visibility === 'hidden') continue;
      const rect = el.getBoundingClientRect();
      if (rect.width > 0 && el.scrollWidth > el.clientWidth + 1) bad.push(el.textContent.trim().slice(0, 60));
    }
  }
  return bad;
}"""

DECIMAL_POINT = re.compile(r"\d\.\d")
# 12.288 and 4.294.967.296 are Brazilian thousands, not decimals (0.111 and 1234.5 are not thousands)
THOUSANDS = re.compile(r"(?<![\d.,])[1-9]\d{0,2}(?:\.\d{3})+(?![\d.])")


def decimal_points(texts):
    """The texts that write a decimal with a point (1377.8, 0.00, 1.0000, e^{2.00})."""
    return [t for t in texts if DECIMAL_POINT.search(THOUSANDS.sub("N", t))]


def settle(page):
    """Until the script has run and every element is drawn (no placeholder skeleton left)."""
    wait_idle(page)
    expect(page.locator("[data-testid='stSkeleton']")).to_have_count(0, timeout=120_000)


def open_lesson(new_page, path, locale="pt-BR"):
    page = new_page(path, locale=locale)
    page.locator("[data-testid='stMain'] h1").first.wait_for(state="visible", timeout=120_000)
    settle(page)
    no_exception(page)
    return page


def page_problems(page, *, decimals: bool = True) -> dict:
    read = page.evaluate(_TEXTS_JS, [ROOTS, EXEMPT])
    texts = read["texts"]
    assert texts, "nothing read from the page"
    problems = {
        "numbers with a decimal point": decimal_points(texts) if decimals else [],
        "words broken across two lines": read["broken"],
        "labels cut off with an ellipsis": page.evaluate(_TRUNCATED_JS, [ROOTS]),
    }
    return {k: v for k, v in problems.items() if v}


_STROKE_JS = """([points]) => {
  const host = [...document.querySelectorAll('div')].find(
      d => d.shadowRoot && d.shadowRoot.querySelector('canvas.upper-canvas'));
  const canvas = host.shadowRoot.querySelector('canvas.upper-canvas');
  const send = (type, [x, y]) => canvas.dispatchEvent(new MouseEvent(type, {
      clientX: x, clientY: y, bubbles: true, composed: true, button: 0,
      buttons: type === 'mouseup' ? 0 : 1, view: window}));
  send('mousedown', points[0]);
  points.slice(1).forEach(p => send('mousemove', p));
  send('mouseup', points[points.length - 1]);
}"""


def draw_stroke(page, points):
    """Draw one stroke on the drawable canvas through page coordinates.

    Playwright's page.mouse.down() never reaches Fabric's canvas here (the canvas
    is draggable, and Playwright's drag handling swallows the press), so we send
    the same mouse events a hand would, from inside the page.
    """
    page.evaluate(_STROKE_JS, [points])


def choose_option(page, key: str | None, label, tries: int = 4, *, box=None, typed: str | None = None):
    """Open the selectbox keyed ``key`` (or the element ``box``) and pick ``label``; returns once the
    box shows it. A click that lands while the page is still drawing opens nothing (seen under
    load): open it again. ``typed``: text typed first, so a long list (64 channels) shows only the
    wanted option and a list that moves under the pointer can't take the click elsewhere. What the
    choice changes on the page is for the caller to wait for."""
    option = page.get_by_role("option", name=label)
    combobox = (box if box is not None else keyed(page, key)).locator("input[role='combobox']")
    for _ in range(tries):
        combobox.click()
        if typed:
            page.keyboard.type(typed)
        try:
            option.wait_for(state="visible", timeout=8_000)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: try again
            page.keyboard.press("Escape")
            wait_idle(page)
    option.click()
    # the option's name matches as get_by_role matches it: a part of it, in any case
    expect(combobox).to_have_value(re.compile(re.escape(label), re.I) if isinstance(label, str) else label)


def gone_then_idle(page, key: str):
    """Until the widget keyed ``key`` has left the page (the run that replaces it has drawn that far),
    then until that run has finished."""
    expect(page.locator(f".st-key-{key.replace('.', '-')}")).to_have_count(0, timeout=120_000)
    wait_idle(page)


def skip_explain_guess(page):
    """*Where does it look?* hides every map until the learner guesses where the network looks
    (issues 13, 17): its "Skip" shows them, for tests about the maps."""
    button = keyed(page, "explain.predict.skip_button").locator("button").first
    button.wait_for(state="visible", timeout=120_000)
    button.click()
    gone_then_idle(page, "explain.predict.skip_button")


def reveal_prediction(page):
    """Inside a CNN hides the network's answer until the learner guesses it (issue 13): "Skip: show
    the answer" at the top shows it, for tests about what comes after."""
    button = keyed(page, "inside.predict.skip_button_top").locator("button").first
    button.wait_for(state="visible", timeout=120_000)
    button.click()
    gone_then_idle(page, "inside.predict.skip_button_top")
    expect(page.locator("[data-testid='stMetricValue']").first).to_be_visible()
