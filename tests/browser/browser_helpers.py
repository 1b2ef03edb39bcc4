"""Helpers for the browser tests: waiting for streamlit, finding widgets, screenshots, drawing."""

from contextlib import contextmanager
from pathlib import Path

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
        page.goto(f"{base_url}/{path}")
        wait_idle(page)
        return page

    try:
        yield make
    finally:
        for ctx in contexts:
            ctx.close()


def wait_idle(page, settle_ms: int = 400):
    """Until the script (or fragment) has finished running and the page has painted."""
    page.wait_for_timeout(settle_ms)
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=120_000)
    page.wait_for_timeout(settle_ms)


def shoot(page, name: str):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def keyed(page, key: str):
    """The element container streamlit tags with a widget's key (class st-key-<key>, dots as dashes)."""
    return page.locator(f".st-key-{key.replace('.', '-')}").first


def no_exception(page):
    assert page.locator("[data-testid='stException']").count() == 0


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
    """Open the selectbox keyed ``key`` (or the element ``box``) and pick ``label``. A click that
    lands while the page is still drawing opens nothing (seen under load): open it again.
    ``typed``: text typed first, so a long list (64 channels) shows only the wanted option and a
    list that moves under the pointer can't take the click elsewhere."""
    option = page.get_by_role("option", name=label)
    for _ in range(tries):
        (box if box is not None else keyed(page, key)).locator("input[role='combobox']").click()
        if typed:
            page.keyboard.type(typed)
        try:
            option.wait_for(state="visible", timeout=8_000)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: try again
            page.keyboard.press("Escape")
            wait_idle(page)
    option.click()
    wait_idle(page)


def skip_explain_guess(page):
    """*Where does it look?* hides every map until the learner guesses where the network looks
    (issues 13, 17): its "Skip" shows them, for tests about the maps."""
    button = keyed(page, "explain.predict.skip_button").locator("button").first
    button.wait_for(state="visible", timeout=120_000)
    button.click()
    wait_idle(page)


def reveal_prediction(page):
    """Inside a CNN hides the network's answer until the learner guesses it (issue 13): "Skip: show
    the answer" at the top shows it, for tests about what comes after."""
    button = keyed(page, "inside.predict.skip_button_top").locator("button").first
    button.wait_for(state="visible", timeout=120_000)
    button.click()
    wait_idle(page)
