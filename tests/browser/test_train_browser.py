"""The training lesson in a real browser: live progress, the Stop button, a finished run."""

import re

import pytest
from browser_helpers import keyed, no_exception, shoot, wait_idle

from cnnviz import data

pytestmark = pytest.mark.skipif(not data.is_available("fashion"), reason="Fashion-MNIST not available")


def test_training_shows_live_progress_stops_on_request_and_finishes(new_page):
    page = new_page("train", locale="pt-BR")
    no_exception(page)
    shoot(page, "train_pt")
    # a long run, stopped half way: the page keeps working and says so
    keyed(page, "train.go").locator("button").click()
    page.get_by_text(re.compile(r"Época 1/15")).first.wait_for(state="visible", timeout=90_000)
    shoot(page, "train_live_pt")
    keyed(page, "train.stop").locator("button").click()
    wait_idle(page)
    assert page.get_by_text("Treino interrompido").first.is_visible()
    no_exception(page)
    # a short run to the end (the trainer's place was given back by the stopped run)
    slider = keyed(page, "train.epochs").locator("input[type='range']")
    slider.focus()
    for _ in range(12):
        slider.press("ArrowLeft")    # 15 -> 3 epochs
    wait_idle(page)
    keyed(page, "train.go").locator("button").click()
    page.get_by_text(re.compile(r"Pronto: .* % nas imagens de teste")).first.wait_for(state="visible",
                                                                                     timeout=120_000)
    wait_idle(page)
    values = [v.inner_text() for v in page.locator("[data-testid='stMetricValue']").all()]
    assert "3 / 3" in values, values
    assert page.locator("[data-testid='stPlotlyChart']").count() >= 2   # curves + confusion matrix
    no_exception(page)
    shoot(page, "train_done_pt")
