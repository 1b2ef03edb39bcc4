"""The server's line of heavy work in a real browser: a training that finds every slot taken
waits, says its place in line (updating), and Cancel takes it out of the line; when the slot is
free, the next in line trains and says how long it waited."""

import re

import pytest
from browser_helpers import choose_option, keyed, no_exception, shoot, wait_idle
from playwright.sync_api import expect

from cnnviz import course, data
from cnnviz.serve import jobs

WAITING = {"en-US": "Waiting in line: you are number {n}", "pt-BR": "Aguardando na fila: você é o número {n}"}


def press(page, key):
    keyed(page, key).locator("button").click()


def press_slider(page, key: str, times: int, value: str):
    """``times`` steps to the right on the slider keyed ``key``, until it says ``value``."""
    slider = keyed(page, key).locator("[role='slider'], input[type='range']").first
    slider.focus()
    for _ in range(times):
        slider.press("ArrowRight")
    expect(slider).to_have_attribute("aria-valuetext", value)
    wait_idle(page)


def more_pictures(page):
    """500 pictures per class (the default 20 train in a second: the progress would flash by)."""
    press_slider(page, "train.per_class", 4, "500")


def long_training(page):
    """30 epochs on 500 pictures per class without early stopping: it holds its slot a while."""
    more_pictures(page)
    press_slider(page, "train.epochs", 15, "30")
    choose_option(page, "train.patience", "off")


@pytest.mark.skipif(not data.is_available("fashion"), reason="Fashion-MNIST not available (500 per class)")
def test_trainings_wait_in_line_show_their_place_and_cancel_leaves_the_line(new_page):
    # every slot of the server's line taken by a long training
    busy = []
    for _ in range(jobs.default_slots()):     # the server runs on this machine: the same slots
        page = new_page(course.url("train"), locale="en-US")
        long_training(page)
        press(page, "train.go")
        page.get_by_text(re.compile(r"Epoch 1/30")).first.wait_for(state="visible", timeout=180_000)
        busy.append(page)
    # two more learners: number 1 and number 2 in line, each in their language
    first = new_page(course.url("train"), locale="en-US")
    press(first, "train.go")
    first.get_by_text(WAITING["en-US"].format(n=1)).first.wait_for(state="visible", timeout=60_000)
    second = new_page(course.url("train"), locale="pt-BR")
    more_pictures(second)
    press(second, "train.go")
    second.get_by_text(WAITING["pt-BR"].format(n=2)).first.wait_for(state="visible", timeout=60_000)
    shoot(first, "jobs_waiting_en")
    shoot(second, "jobs_waiting_pt")
    no_exception(first)
    no_exception(second)

    # the first in line cancels: it is out, and the other moves up (the place updates by itself)
    press(first, "train.stop")
    expect(first.get_by_text("Training stopped").first).to_be_visible(timeout=60_000)
    expect(first.get_by_text(re.compile("Waiting in line"))).to_have_count(0)
    second.get_by_text(WAITING["pt-BR"].format(n=1)).first.wait_for(state="visible", timeout=30_000)

    # the slot is given back: the one in line trains, and says how long it waited
    for page in busy:
        press(page, "train.stop")
        expect(page.get_by_text("Training stopped").first).to_be_visible(timeout=60_000)
    second.get_by_text(re.compile(r"Época 1/15")).first.wait_for(state="visible", timeout=180_000)
    waited = second.get_by_text(re.compile(r"Você esperou \d+,\d s na fila \(era o número 2 quando pediu\)"))
    expect(waited.first).to_be_visible()
    shoot(second, "jobs_after_wait_pt")
    press(second, "train.stop")
    expect(second.get_by_text("Treino interrompido").first).to_be_visible(timeout=60_000)
    no_exception(second)
