"""The Gradient descent lesson in AppTest, in both languages: the question comes before the path (the
page gives nothing away), a preset's walk is said in the right words with numbers recomputed here by
a walk of our own, and the race arrives as one animated figure (its frames), not a rerun per step."""

import json
import re

import numpy as np
import pytest
import torch
from app_helpers import open_lesson

from cnnviz.train import descent

PAGE = "lessons/gradient_descent.py"
SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
VERDICTS = ("reached the bottom", "flew off", "crawls", "chegou ao fundo", "saiu voando", "se arrasta")


def said(at) -> list[str]:
    """Every alert on the page (success, info, warning)."""
    return [e.value for kind in ("success", "info", "warning") for e in getattr(at, kind)]


def walk(prob, lr, steps=descent.STEPS, start=descent.START):
    """Plain gradient descent on the mean squared error, written here: w <- w - lr * 2/N X^T (Xw - y)."""
    x, y = np.asarray(prob.features), np.asarray(prob.targets)
    w = np.array(start, float)
    trail = [w.copy()]
    for _ in range(steps):
        w = w - lr * 2 * x.T @ (x @ w - y) / len(y)
        trail.append(w.copy())
    return np.array(trail), np.array([np.mean((x @ p - y) ** 2) for p in trail])


def preset_then_guess(at, preset: str, choice: str, words: str) -> str:
    """Press a preset, guess ``choice``, show the path: the one alert that says ``words``."""
    next(b for b in at.button if b.key == f"gd.preset_{preset}").click().run()
    radio = next(r for r in at.radio if r.key and r.key.startswith("gd.pick."))
    radio.set_value(choice).run()
    next(b for b in at.button if b.key == "gd.reveal").click().run()
    assert not at.exception, [e.value for e in at.exception]
    found = [s for s in said(at) if words in s]
    assert len(found) == 1, said(at)
    return found[0]


def test_the_question_comes_first_and_a_too_large_rate_is_said_to_fly_off():
    at = open_lesson(PAGE, "en")
    figures = [c.proto.spec for c in at.get("plotly_chart")]
    assert len(figures) == 1                                  # the map with the start only
    assert len(json.loads(figures[0])["data"]) == 3          # the map, the bottom, the start: no path
    assert not [s for s in said(at) if any(v in s for v in VERDICTS)]
    assert any("race opens once you have answered" in s for s in said(at))
    words = preset_then_guess(at, "diverge", "diverged", "flew off")
    assert words.startswith("Right")
    trail, losses = walk(descent.problem(), descent.PRESETS["diverge"])
    left = int(np.argmax(np.abs(trail).max(axis=1) > descent.AREA[1]))
    assert left > 0 and f"At step {left} the path left the map" in words
    assert f"it started at a loss of {losses[0]:.2f}" in words and losses[-1] > 1e3 * losses[0]
    number = r"(\d[\d,]*(?:\.\d+)?)(?: × 10([⁰¹²³⁴⁵⁶⁷⁸⁹]+))?"        # 12,345.6 or 1.5 × 10⁶
    mantissa, power = re.search(rf"after {descent.STEPS} steps the loss is {number}", words).groups()
    value = float(mantissa.replace(",", "")) * 10 ** int((power or "0").translate(SUPERSCRIPTS))
    assert value == pytest.approx(losses[-1], rel=0.05 if power else 1e-4), (words, losses[-1])
    # then: the path (map and bowl) and the race, whose steps are the figure's frames
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    race = [s for s in specs if s.get("frames")]
    assert len(specs) == 3 and len(race) == 1 and len(race[0]["frames"]) == 81
    assert race[0]["layout"]["updatemenus"][0]["buttons"][0]["method"] == "animate"


def test_portuguese_a_crawling_rate_and_a_wrong_guess():
    at = open_lesson(PAGE, "pt_BR")
    assert not [s for s in said(at) if any(v in s for v in VERDICTS)]
    words = preset_then_guess(at, "crawl", "bottom", "se arrasta")
    assert words.startswith("Não desta vez")
    prob = descent.problem()
    _, losses = walk(prob, descent.PRESETS["crawl"])
    x, y = np.asarray(prob.features), np.asarray(prob.targets)
    lowest = np.mean((x @ np.linalg.lstsq(x, y, rcond=None)[0] - y) ** 2)
    assert f"a perda ainda é {losses[-1]:.3f}".replace(".", ",") in words
    assert f"a menor é {lowest:.3f}".replace(".", ",") in words
    # a far too large rate: the loss overflows, and the lesson says at which step (the guess skipped)
    at.select_slider(key="gd.rate").set_value(10.0)
    at.select_slider(key="gd.steps").set_value(200).run()
    next(b for b in at.button if b.key == "gd.predict.skip_button").click().run()
    words = [s for s in said(at) if "infinita" in s]
    assert len(words) == 1 and not at.exception, said(at)
    with np.errstate(over="ignore", invalid="ignore"):
        _, losses = walk(prob, 10.0, steps=200)
    first_inf = int(np.argmax(~np.isfinite(losses)))
    found = re.search(r"No passo (\d+) o caminho saiu do mapa, e no passo (\d+)", words[0])
    left, step = int(found.group(1)), int(found.group(2))
    assert left == 1 and first_inf <= step <= first_inf + 3      # this walk squares each picture's error: sooner


def test_a_link_opens_the_walk_and_the_race_it_names():
    from test_app_links import link_warnings, open_link

    at = open_link(PAGE, {"lang": "en", "gd.rate": "0.6", "gd.w1": "1.5", "gd.w2": "-2.0", "gd.steps": "20",
                          "gd.racers": "adam"})
    assert not link_warnings(at)
    assert at.select_slider(key="gd.rate").value == 0.6 and at.select_slider(key="gd.steps").value == 20
    assert (at.select_slider(key="gd.w1").value, at.select_slider(key="gd.w2").value) == (1.5, -2.0)
    assert "with η = 0.6, where will gradient descent be after 20 steps?" in " ".join(m.value for m in at.markdown)
    next(b for b in at.button if b.key == "gd.predict.skip_button").click().run()
    race = [json.loads(c.proto.spec) for c in at.get("plotly_chart") if json.loads(c.proto.spec).get("frames")]
    assert [t["name"] for t in race[0]["data"][1:]] == ["Adam"]
    # the numbers the page states, recomputed here: the first step, the largest rate that converges,
    # the bottom's loss and accuracy
    x, y = np.asarray(descent.problem().features), np.asarray(descent.problem().targets)
    start = np.array([1.5, -2.0])
    grad = 2 * x.T @ (x @ start - y) / len(y)
    formulas = [m.value for m in at.latex]
    for i in range(2):
        new = start[i] - 0.6 * grad[i]
        assert any(f"w_{i + 1} \\leftarrow {start[i]:g} - 0.6 \\times ({grad[i]:.3f}) = {new:.3f}" in f
                   for f in formulas), formulas
    steepest = np.linalg.eigvalsh(2 * x.T @ x / len(y)).max()
    assert f"steepest curvature is {steepest:.2f}" in " ".join(c.value for c in at.caption)
    assert f"2 / {steepest:.2f} = {2 / steepest:.2f}" in " ".join(c.value for c in at.caption)
    best = np.linalg.lstsq(x, y, rcond=None)[0]
    values = {m.label: m.value for m in at.metric}
    assert values["Lowest loss"] == f"{np.mean((x @ best - y) ** 2):.3f}"
    assert values["Bottom at (w₁; w₂)"] == f"({best[0]:.2f}; {best[1]:.2f})"
    assert values["Right at the bottom"] == f"{100 * np.mean(np.sign(x @ best) == y):.1f} %"
    # the race's Adam, by torch.optim.Adam: the step its loss first comes within 0.01 of the lowest
    w = torch.nn.Parameter(torch.tensor(start))
    adam, xt, yt = torch.optim.Adam([w], lr=0.1), torch.tensor(x), torch.tensor(y)
    lowest = np.mean((x @ best - y) ** 2)
    for step in range(1, 81):
        adam.zero_grad()
        torch.mean((xt @ w - yt) ** 2).backward()
        adam.step()
        if float(torch.mean((xt @ w.detach() - yt) ** 2)) - lowest <= 0.01:
            break
    assert f"Adam reached the bottom at step {step}." in " ".join(m.value for m in at.markdown)
    at = open_link(PAGE, {"lang": "en", "gd.rate": "7", "gd.racers": "newton"})
    (warning,) = link_warnings(at)
    assert "gd.rate=7" in warning and "gd.racers=newton" in warning
    assert at.select_slider(key="gd.rate").value == descent.PRESETS["good"]
