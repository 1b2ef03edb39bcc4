"""The training lesson in a real browser: live progress, the Stop button, a finished run."""

import re

import pytest
from browser_helpers import choose_option, keyed, no_exception, sends_a_run, shoot, wait_idle
from playwright.sync_api import expect
from PIL import Image, ImageDraw

from cnnviz import course, data


def press_slider(page, key: str, arrow: str, times: int, value: str) -> None:
    """``times`` presses of ``arrow`` on the slider keyed ``key``, until it says ``value``."""
    slider = keyed(page, key).locator("[role='slider'], input[type='range']").first
    slider.focus()
    for _ in range(times):
        slider.press(arrow)
    expect(slider).to_have_attribute("aria-valuetext", value)
    wait_idle(page)


@pytest.mark.skipif(not data.is_available("fashion"), reason="Fashion-MNIST not available")
def test_training_shows_live_progress_stops_on_request_and_finishes(new_page):
    page = new_page(course.url("train"), locale="pt-BR")
    no_exception(page)
    shoot(page, "train_pt")
    # a long run (500 pictures per class: the default 20 train in a second, and its progress would
    # flash by), stopped half way: the page keeps working and says so
    press_slider(page, "train.per_class", "ArrowRight", 4, "500")        # 20 -> 500 per class
    keyed(page, "train.go").locator("button").click()
    page.get_by_text(re.compile(r"Época 1/15")).first.wait_for(state="visible", timeout=90_000)
    shoot(page, "train_live_pt")
    keyed(page, "train.stop").locator("button").click()
    expect(page.get_by_text("Treino interrompido").first).to_be_visible(timeout=60_000)
    wait_idle(page)
    no_exception(page)
    # a short run to the end (the trainer's place was given back by the stopped run)
    press_slider(page, "train.per_class", "ArrowLeft", 4, "20")         # back to 20 per class
    press_slider(page, "train.epochs", "ArrowLeft", 12, "3")            # 15 -> 3 epochs
    keyed(page, "train.go").locator("button").click()
    page.get_by_text(re.compile(r"Pronto: .* % nas imagens de teste")).first.wait_for(state="visible",
                                                                                     timeout=120_000)
    expect(page.locator("[data-testid='stMetricValue']", has_text=re.compile(r"^3 / 3$"))).to_have_count(1)
    wait_idle(page)
    assert page.locator("[data-testid='stPlotlyChart']").count() >= 2   # curves + confusion matrix
    # 2000 test images: the accuracy comes with its 95 % interval, and no small-test warning
    interval = page.get_by_text(re.compile(r"de 2000 imagens de teste certas\. Intervalo de 95 %: \d+–\d+ %"))
    interval.first.scroll_into_view_if_needed()
    expect(interval.first).to_be_visible()
    assert not page.get_by_text(re.compile(r"Só \d+ imagens de teste")).count()
    no_exception(page)
    shoot(page, "train_done_pt")


# what the own-pictures run says, per language
OWN = {
    "en-US": {"option": "Your own pictures", "split": r"training, .* validation and .* test pictures",
              "done": r"Done: .* % on the test images", "hardest": r"Hardest class:",
              "few": r"Only 2 test images\. The .* % is [012] of 2: .* by 50 points, .* from \d+ % to \d+ % "
                     r"\(95 % interval\)"},
    "pt-BR": {"option": "Suas próprias fotos", "split": r"fotos de treino, .* de validação e .* de teste",
              "done": r"Pronto: .* % nas imagens de teste", "hardest": r"Classe mais difícil:",
              "few": r"Só 2 imagens de teste\. Os .* % são [012] de 2: .* em 50 pontos, .* entre \d+ % e \d+ % "
                     r"\(intervalo de 95 %\)"},
}


@pytest.mark.parametrize("locale", OWN)
def test_own_pictures_upload_and_train(new_page, tmp_path, locale):
    text = OWN[locale]
    files = {}
    for cls, shape in (("circle", "ellipse"), ("square", "rectangle")):
        files[cls] = []
        for i in range(5):
            im = Image.new("RGB", (120, 90), (240, 240 - 20 * i, 200))
            getattr(ImageDraw.Draw(im), shape)((30 + 5 * i, 20, 80 + 5 * i, 70), fill=(40, 40, 120))
            path = tmp_path / f"{cls}_{i}.png"
            im.save(path)
            files[cls].append(str(path))
    page = new_page(course.url("train"), locale=locale)
    choose_option(page, "train.dataset", text["option"], tries=5)
    for i, cls in enumerate(files):
        name = keyed(page, f"train.own_name.{i}").locator("input")
        name.fill(cls)
        name.press("Enter")
        expect(name).to_have_value(cls)
        with sends_a_run(page):         # the pictures are uploaded and the uploader's new value sent
            keyed(page, f"train.own_files.{i}").locator("input[type=file]").set_input_files(files[cls])
    page.get_by_text(re.compile(text["split"])).first.wait_for(state="visible")
    shoot(page, f"train_own_pictures_{locale}")
    keyed(page, "train.go").locator("button").click()
    page.get_by_text(re.compile(text["done"])).first.wait_for(state="visible", timeout=120_000)
    # 5 pictures per class leave 1 per class for the test: the page says what such a figure is worth
    few = page.locator("[data-testid='stAlertContentWarning']").filter(has_text=re.compile(text["few"]))
    expect(few.first).to_be_visible()
    wait_idle(page)
    no_exception(page)
    few.first.scroll_into_view_if_needed()
    page.evaluate("window.scrollTo(0, 0)")
    few.first.scroll_into_view_if_needed()
    shoot(page, f"train_own_result_{locale}")
    # the class names the learner typed are the network's classes
    hardest = page.get_by_text(re.compile(text["hardest"])).first.inner_text()
    assert "circle" in hardest or "square" in hardest, hardest
