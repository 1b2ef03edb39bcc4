"""The convolution lesson in a real browser: language switch, curve detector, stepping, drawing."""

import re

from browser_helpers import choose_option, draw_stroke, keyed, no_exception, shoot, wait_idle


def sum_text(page, word="Sum"):
    line = page.locator("[data-testid='stMarkdownContainer']", has_text=re.compile(rf"^{word}")).first
    line.wait_for(state="visible", timeout=90_000)
    return line.inner_text()


def test_step_the_curve_detector_then_switch_language(new_page):
    page = new_page("convolution")
    no_exception(page)
    assert page.get_by_role("heading", name="Convolution: slide a kernel").is_visible()
    # the curve detector is the default; pick it explicitly anyway through the preset box
    choose_option(page, "conv.preset", "Curve detector (course, 7×7)")
    first = sum_text(page)
    assert "6600" in first, first
    shoot(page, "conv_en_6600")

    keyed(page, "conv.next").locator("button").first.click()
    wait_idle(page)
    second = sum_text(page)
    assert second != first and "6600" not in second.split("=")[-1], second
    page.locator("[data-testid='stSlider']").first.scroll_into_view_if_needed()
    shoot(page, "conv_en_step")

    keyed(page, "conv.max").locator("button").first.click()
    wait_idle(page)
    assert sum_text(page).rstrip().endswith("9000"), sum_text(page)
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
    """Switch Play on, read the position every half second until it has moved ``enough`` (at most
    ``seconds``), switch it off; the positions seen."""
    seen = [_slider_value(page, pos_key)]
    keyed(page, f"{prefix}.play").locator("label").click()
    for _ in range(int(seconds * 2)):
        page.wait_for_timeout(500)
        seen.append(_slider_value(page, pos_key))
        if seen[-1] - seen[0] >= enough + 1:
            break
    keyed(page, f"{prefix}.play").locator("label").click()
    wait_idle(page)
    return seen


def _steady(seen: list[int]) -> bool:
    """Moved forward at least 5 positions, one tick at a time (no single jump, never backwards)."""
    return seen[-1] - seen[0] >= 5 and len(set(seen)) >= 4 and seen == sorted(seen)


def test_play_advances_the_kernel_steadily_and_stops(new_page):
    page = new_page("convolution")
    seen = _play_for(page, "conv", "conv.t", 15)   # x1: a step every 0.5 s (slower on a loaded machine)
    assert _steady(seen), seen
    stopped = _slider_value(page, "conv.t")
    page.wait_for_timeout(2000)
    assert _slider_value(page, "conv.t") == stopped  # Play off: the kernel stays put
    no_exception(page)


def test_play_advances_the_1d_kernel(new_page):
    page = new_page("conv1d")
    seen = _play_for(page, "conv1d", "conv1d.i", 15)
    assert _steady(seen), seen
    no_exception(page)


def test_draw_a_kernel_on_the_canvas(new_page):
    page = new_page("convolution")
    page.get_by_role("tab", name="Draw").click()
    page.wait_for_timeout(1500)
    frame_canvas = page.locator("canvas.upper-canvas").first
    frame_canvas.wait_for(state="visible", timeout=30_000)
    box = frame_canvas.bounding_box()
    # a vertical stroke down the middle column of the 7x7 grid
    x = box["x"] + box["width"] / 2
    draw_stroke(page, [(x, box["y"] + 5 + i * (box["height"] - 10) / 20) for i in range(21)])
    wait_idle(page, 1000)
    shoot(page, "conv_drawn")
    keyed(page, "conv.use_drawing").locator("button").first.click()
    wait_idle(page, 800)
    page.get_by_role("tab", name="Numbers").click()
    page.wait_for_timeout(800)
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
    page.goto(f"{app_url}/convolution")
    wait_idle(page)
    page.wait_for_timeout(3000)
    assert len(runs) == 1, len(runs)
    page.get_by_role("tab", name="Draw").click()      # opening the tab runs the page and mounts the canvas
    wait_idle(page, 1500)
    assert len(runs) >= 2
    no_exception(page)
    ctx.close()
