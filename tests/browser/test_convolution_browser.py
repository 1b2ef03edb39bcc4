"""The convolution lesson in a real browser: language switch, curve detector, stepping, drawing."""

import re

from browser_helpers import (choose_option, draw_stroke, keyed, no_exception, sends_a_run, shoot, wait_idle,
                             whole_page_run)
from playwright.sync_api import expect

from cnnviz import course

ANSWER = re.compile(r"=[^=]*\b6600\b[^=]*$")      # the sum's result (after its last "=") is 6600


def sum_line(page, word="Sum"):
    """The "Sum = ... = result" line under the step's matrices, once drawn."""
    line = page.locator("[data-testid='stMarkdownContainer']", has_text=re.compile(rf"^{word}")).first
    expect(line).to_be_visible(timeout=90_000)
    return line


def sum_text(page, word="Sum"):
    return sum_line(page, word).inner_text()


def test_step_the_curve_detector_then_switch_language(new_page):
    page = new_page(course.url("convolution"))
    no_exception(page)
    expect(page.get_by_role("heading", name="Convolution: slide a kernel")).to_be_visible()
    # the curve detector is the default; pick it explicitly anyway through the preset box
    choose_option(page, "conv.preset", "Curve detector (course, 7×7)")
    expect(sum_line(page)).to_have_text(ANSWER)
    wait_idle(page)
    first = sum_text(page)
    shoot(page, "conv_en_6600")

    keyed(page, "conv.next").locator("button").first.click()
    expect(sum_line(page)).not_to_have_text(ANSWER)          # one step on: another window, another sum
    wait_idle(page)
    second = sum_text(page)
    assert second != first and "6600" not in second.split("=")[-1], second
    page.locator("[data-testid='stSlider']").first.scroll_into_view_if_needed()
    shoot(page, "conv_en_step")

    keyed(page, "conv.max").locator("button").first.click()
    expect(sum_line(page)).to_have_text(re.compile(r"9000\s*$"))
    no_exception(page)

    # switch to Portuguese from the sidebar
    choose_option(page, "lang_picker", "Português (Brasil)")
    page.get_by_role("heading", name="Convolução: deslize um kernel").wait_for(state="visible", timeout=60_000)
    assert "Soma" in sum_text(page, "Soma")
    shoot(page, "conv_pt")
    no_exception(page)


def _slider_value(page, key: str) -> int:
    return int(keyed(page, key).locator("input[type=range]").get_attribute("aria-valuetext").replace(",", ""))


def _play_for(page, prefix: str, pos_key: str, seconds: float, enough: int = 5) -> list[int]:
    """Switch Play on, read the position each time it changes until it has moved ``enough`` (or
    ``seconds`` passed without a change), switch it off and wait for the page's run without its timer;
    the positions seen."""
    position = keyed(page, pos_key).locator("input[type=range]")
    seen = [_slider_value(page, pos_key)]
    keyed(page, f"{prefix}.play").locator("label").click()
    while seen[-1] - seen[0] < enough + 1:
        try:
            expect(position).not_to_have_attribute("aria-valuetext", position.get_attribute("aria-valuetext"),
                                                   timeout=int(seconds * 1000))
        except AssertionError:
            break
        seen.append(_slider_value(page, pos_key))
    with whole_page_run(page):       # Play off reruns the whole page, which stops the fragment's timer
        keyed(page, f"{prefix}.play").locator("label").click()
    expect(keyed(page, f"{prefix}.play").locator("input")).not_to_be_checked()
    return seen


def _steady(seen: list[int]) -> bool:
    """Moved forward at least 5 positions, one tick at a time (no single jump, never backwards)."""
    return seen[-1] - seen[0] >= 5 and len(set(seen)) >= 4 and seen == sorted(seen)


def test_play_advances_the_kernel_steadily_and_stops(new_page):
    page = new_page(course.url("convolution"))
    seen = _play_for(page, "conv", "conv.t", 15)   # x1: a step every 0.5 s (slower on a loaded machine)
    assert _steady(seen), seen
    stopped = _slider_value(page, "conv.t")
    page.wait_for_timeout(2000)     # a fixed wait on purpose: it proves nothing moves in 2 s (4 ticks of Play)
    assert _slider_value(page, "conv.t") == stopped  # Play off: the kernel stays put
    no_exception(page)


def test_play_advances_the_1d_kernel(new_page):
    page = new_page(course.url("conv1d"))
    seen = _play_for(page, "conv1d", "conv1d.i", 15)
    assert _steady(seen), seen
    no_exception(page)


def test_draw_a_kernel_on_the_canvas(new_page):
    page = new_page(course.url("convolution"))
    page.get_by_role("tab", name="Draw").click()
    frame_canvas = page.locator("canvas.upper-canvas").first
    frame_canvas.wait_for(state="visible", timeout=30_000)
    wait_idle(page)
    box = frame_canvas.bounding_box()
    # a vertical stroke down the middle column of the 7x7 grid
    x = box["x"] + box["width"] / 2
    with sends_a_run(page):         # the canvas sends the drawing to the server
        draw_stroke(page, [(x, box["y"] + 5 + i * (box["height"] - 10) / 20) for i in range(21)])
    wait_idle(page)
    shoot(page, "conv_drawn")
    keyed(page, "conv.use_drawing").locator("button").first.click()
    expect(sum_line(page)).not_to_have_text(ANSWER)   # the drawn kernel is a vertical bar: the curve's 6600 is gone
    wait_idle(page)
    page.get_by_role("tab", name="Numbers").click()
    shoot(page, "conv_drawn_numbers")
    text = sum_text(page)
    # the drawn kernel is a vertical bar: the article's curve no longer gives 6600
    assert "6600" not in text.split("=")[-1], text
    no_exception(page)


def _script_runs(page) -> list:
    """Every 'run the script' message the browser sends to the server, as it sends it."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    runs = []

    def on_ws(ws):
        def sent(payload):
            if isinstance(payload, (bytes, bytearray)):
                msg = BackMsg.FromString(bytes(payload))
                if msg.WhichOneof("type") == "rerun_script":
                    runs.append(msg.rerun_script)
        ws.on("framesent", sent)

    page.on("websocket", on_ws)
    return runs


def test_opening_the_lesson_runs_it_once(chromium, app_url):
    """The drawing canvas answers when it is mounted: it must not be mounted (and rerun the
    whole page) until the learner opens the Draw tab."""
    ctx = chromium.new_context(viewport={"width": 1280, "height": 800})
    page = ctx.new_page()
    runs = _script_runs(page)
    page.goto(f"{app_url}/{course.url('convolution')}")
    wait_idle(page)
    page.wait_for_timeout(3000)     # a fixed wait on purpose: it proves no second run comes in 3 s
    assert len(runs) == 1, len(runs)
    page.get_by_role("tab", name="Draw").click()      # opening the tab runs the page and mounts the canvas
    # the canvas on screen is the learner's proof that the tab ran the page (the canvas may answer
    # its mounting with one more run: how many runs follow is not what this test is about)
    expect(page.locator("canvas.upper-canvas").first).to_be_visible(timeout=60_000)
    no_exception(page)
    ctx.close()
