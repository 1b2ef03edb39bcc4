"""Where does it look? in a real browser: a class change reruns only the part that depends on the
class (an st.fragment, issue 11), and that part still agrees with itself: the box, the heading, the
map and its caption name the same class."""

import re

import pytest
from browser_helpers import keyed, no_exception, shoot, wait_idle

from cnnviz import course

WORDS = {"en-US": ("Grad-CAM for", "Grad-CAM of", "Skip"), "pt-BR": ("Grad-CAM de", "Grad-CAM de", "Pular")}


def listen(page) -> tuple[list, list]:
    """(the browser's "run the script" requests, the server's "script finished" statuses), as they pass;
    ``asked.socket`` is the websocket they pass on."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    asked, finished = Heard(), []

    def on_ws(ws):
        asked.socket = ws
        def sent(payload):
            if isinstance(payload, (bytes, bytearray)):
                msg = BackMsg.FromString(bytes(payload))
                if msg.WhichOneof("type") == "rerun_script":
                    asked.append(msg.rerun_script.fragment_id)

        def received(payload):
            if isinstance(payload, (bytes, bytearray)):
                msg = ForwardMsg.FromString(bytes(payload))
                if msg.WhichOneof("type") == "script_finished":
                    finished.append(ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished))
        ws.on("framesent", sent)
        ws.on("framereceived", received)

    page.on("websocket", on_ws)
    return asked, finished


def class_box(page):
    box = page.locator("[class*='st-key-explain-target-'] input[role='combobox']").first
    box.wait_for(state="visible", timeout=90_000)
    return box


def open_class_box(page, tries: int = 4):
    """The options of the class box, opened (a click that lands while the page draws opens nothing)."""
    options = page.get_by_role("option")
    for _ in range(tries):
        class_box(page).click()
        try:
            options.first.wait_for(state="visible", timeout=8_000)
            return options
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: try again
            page.keyboard.press("Escape")
            wait_idle(page)
    raise AssertionError("the class box does not open")


def shown_class(page) -> str:
    return re.sub(r"\s*\([\d.,]+\s*%\)$", "", class_box(page).input_value().strip())


def heading_class(page, word: str) -> str:
    heading = page.get_by_role("heading", name=re.compile(f"^{word} “")).first
    heading.wait_for(state="visible", timeout=90_000)
    return re.search(r"“(.+)”", heading.inner_text()).group(1)


def the_map(page, word: str):
    """The Grad-CAM picture (its caption: 'Grad-CAM of “3” through relu2, ...')."""
    return page.locator("[data-testid='stImage']", has_text=re.compile(f"^{word} “")).first


def caption_class(page, word: str) -> str:
    return re.search(r"“(.+?)”", the_map(page, word).inner_text()).group(1)


def map_src(page, word: str) -> str:
    return the_map(page, word).locator("img").first.get_attribute("src")


class Heard(list):
    socket = None


def settle(page, asked: Heard, finished: list, before: int):
    """Until the server has answered every request sent since ``before`` finished statuses (each
    message the server sends is a moment to look again), and the page has drawn the answer."""
    while not (len(finished) - before >= 1 and len(finished) >= len(asked)):
        try:
            asked.socket.wait_for_event("framereceived", timeout=120_000)
        except Exception as e:  # noqa: BLE001 - playwright's TimeoutError
            raise AssertionError(f"no answer: asked {asked}, finished {finished}") from e
    wait_idle(page)


@pytest.mark.parametrize("locale", ["en-US", "pt-BR"])
def test_a_class_change_reruns_only_the_class_part_and_it_agrees(chromium, app_url, locale):
    heading_word, caption_word, skip = WORDS[locale]
    ctx = chromium.new_context(viewport={"width": 1280, "height": 800}, locale=locale)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    asked, finished = listen(page)
    page.goto(f"{app_url}/{course.url('explain')}")
    wait_idle(page)
    class_box(page)
    button = keyed(page, "explain.predict.skip_button").locator("button").first     # predict-then-reveal
    button.wait_for(state="visible", timeout=90_000)
    assert skip in button.inner_text()
    n = len(finished)
    button.click()
    settle(page, asked, finished, n)
    the_map(page, caption_word).wait_for(state="visible", timeout=90_000)
    first = shown_class(page)
    assert heading_class(page, heading_word) == caption_class(page, caption_word) == first == "7"      # test image 0, a 7
    src = map_src(page, caption_word)
    title = page.locator("h1").first
    title.evaluate("el => { el.dataset.kept = 'yes' }")    # gone if the page above were drawn again
    shoot(page, f"explain_fragment_before_{locale}")

    n_asked, n_finished = len(asked), len(finished)
    option = open_class_box(page).nth(1)                  # the second most likely class
    label = re.sub(r"\s*\([\d.,]+\s*%\)$", "", option.inner_text().strip())
    option.click()
    settle(page, asked, finished, n_finished)
    no_exception(page)
    # one request, for a fragment (not the whole page), answered as a fragment run
    assert len(asked) == n_asked + 1 and asked[-1], asked
    assert finished[n_finished:] == ["FINISHED_FRAGMENT_RUN_SUCCESSFULLY"], finished
    assert title.evaluate("el => el.dataset.kept") == "yes"
    # the box, the heading, the map's caption say the new class; the map is a new picture
    assert label != first
    assert shown_class(page) == label
    assert heading_class(page, heading_word) == label
    assert caption_class(page, caption_word) == label
    assert map_src(page, caption_word) != src
    shoot(page, f"explain_fragment_after_{locale}")
    page.screenshot(path=str(page_shot(f"explain_fragment_full_{locale}")), full_page=True)
    ctx.close()


def page_shot(name: str):
    from browser_helpers import SHOTS

    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS / f"{name}.png"
