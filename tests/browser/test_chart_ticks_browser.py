"""What plotly draws for the app's charts, read in Chromium: every class labelled on a confusion
matrix, tick labels in the learner's language (no "10B" / "100M", decimal commas in Portuguese).

The figures are the app's own (``cnnviz.figures``), rendered by the plotly.js that the plotly
package ships, without a server."""

from __future__ import annotations

import re

import numpy as np
import pytest

from cnnviz import figures, i18n


def _ticks(chromium, tmp_path, fig, axis: str) -> list[str]:
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    path = tmp_path / "chart.html"
    path.write_text(fig.to_html(include_plotlyjs=True, full_html=True), encoding="utf-8")
    page.goto(path.as_uri())
    page.locator(f".{axis}tick text").first.wait_for(state="attached")
    texts = [t.text_content() for t in page.locator(f".{axis}tick text").all()]
    page.close()
    return texts


@pytest.mark.parametrize("labels", [[str(d) for d in range(10)],
                                    ["T-shirt", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                                     "Sneaker", "Bag", "Ankle boot"]])
def test_confusion_matrix_labels_every_class(chromium, tmp_path, labels):
    counts = np.random.default_rng(0).integers(0, 50, (10, 10))
    fig = figures.confusion_figure(counts, labels, xtitle="predicted", ytitle="true", hover="%{z}")
    assert _ticks(chromium, tmp_path, fig, "x") == labels          # before: 0, 2, 4, 6, 8 for the digits
    assert _ticks(chromium, tmp_path, fig, "y") == labels


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_weight_bars_ticks_read_in_every_language(chromium, tmp_path, lang):
    rows = [("conv1", 896), ("fc1", 12_845_568), ("fc2", 4_294_967_296)]
    with i18n.language(lang):
        fig = figures.log_bars({"MLP": rows}, ytitle="weights")
    ticks = _ticks(chromium, tmp_path, fig, "y")
    assert ticks and not [t for t in ticks if re.search(r"\d\s*[kMGBT]$", t)], ticks     # no "10B", "100M", "1k"
    # powers of ten: "10" and a superscript exponent (plotly writes 10<sup>9</sup>), in both languages
    powers = [t.replace("\u200b", "") for t in ticks]
    assert all(re.fullmatch(r"1|10\d{0,2}", p) for p in powers), ticks
    exponents = [int(p[2:] or 1) if p != "1" else 0 for p in powers]
    assert exponents == sorted(exponents) and exponents[-1] >= 9, ticks
    texts = _ticks(chromium, tmp_path, fig, "x")
    assert texts == ["conv1", "fc1", "fc2"]


def test_chart_numbers_are_readable_from_the_back(chromium, tmp_path):
    """Tick numbers and the bars' counts are drawn at 14 px or more (digits a class must read)."""
    rows = [("conv1", 144), ("conv2", 4608), ("fc1", 655_360)]
    with i18n.language("pt_BR"):
        fig = figures.log_bars({"CNN": rows}, ytitle="pesos")
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    path = tmp_path / "chart.html"
    path.write_text(fig.to_html(include_plotlyjs=True, full_html=True), encoding="utf-8")
    page.goto(path.as_uri())
    page.locator(".ytick text").first.wait_for(state="attached")
    sizes = page.evaluate("""() => [...document.querySelectorAll('.xtick text, .ytick text, text.bartext')]
        .map(e => parseFloat(getComputedStyle(e).fontSize))""")
    bars = page.locator("text.bartext").all_text_contents()
    page.close()
    assert sizes and min(sizes) >= 14, sizes
    assert bars == ["144", "4608", "655.360"], bars
