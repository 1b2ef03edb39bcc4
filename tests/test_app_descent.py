"""The Gradient descent lesson in AppTest, in both languages: the question comes before the path (the
page gives nothing away), a preset's walk is said in the right words with numbers recomputed here by
a walk of our own, and the race arrives as one animated figure (its frames), not a rerun per step."""

import json

import numpy as np
from app_helpers import open_lesson

from cnnviz.train import descent

PAGE = "lessons/gradient_descent.py"
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


def guess(at, choice: str):
    radio = next(r for r in at.radio if r.key and r.key.startswith("gd.pick."))
    radio.set_value(choice).run()
    next(b for b in at.button if b.key == "gd.reveal").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_question_comes_first_and_a_too_large_rate_is_said_to_fly_off():
    at = open_lesson(PAGE, "en")
    figures = [c.proto.spec for c in at.get("plotly_chart")]
    assert len(figures) == 1                                  # the map with the start only
    assert len(json.loads(figures[0])["data"]) == 3          # the map, the bottom, the start: no path
    assert not [s for s in said(at) if any(v in s for v in VERDICTS)]
    assert any("race opens once you have answered" in s for s in said(at))
    next(b for b in at.button if b.key == "gd.preset_diverge").click().run()
    guess(at, "diverged")
    words = [s for s in said(at) if "flew off" in s]
    assert len(words) == 1 and words[0].startswith("Right")
    prob = descent.problem()
    trail, losses = walk(prob, descent.PRESETS["diverge"])
    left = int(np.argmax(np.abs(trail).max(axis=1) > descent.AREA[1]))
    assert left > 0 and f"At step {left} the path left the map" in words[0]
    assert f"after {descent.STEPS} steps the loss is" in words[0]
    # then: the path (map and bowl) and the race, whose steps are the figure's frames
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    race = [s for s in specs if s.get("frames")]
    assert len(specs) == 3 and len(race) == 1 and len(race[0]["frames"]) == 81
    assert race[0]["layout"]["updatemenus"][0]["buttons"][0]["method"] == "animate"


def test_portuguese_a_crawling_rate_and_a_wrong_guess():
    at = open_lesson(PAGE, "pt_BR")
    assert not [s for s in said(at) if any(v in s for v in VERDICTS)]
    next(b for b in at.button if b.key == "gd.preset_crawl").click().run()
    guess(at, "bottom")
    words = [s for s in said(at) if "se arrasta" in s]
    assert len(words) == 1 and words[0].startswith("Não desta vez")
    prob = descent.problem()
    _, losses = walk(prob, descent.PRESETS["crawl"])
    x, y = np.asarray(prob.features), np.asarray(prob.targets)
    lowest = np.mean((x @ np.linalg.lstsq(x, y, rcond=None)[0] - y) ** 2)
    assert f"a perda ainda é {losses[-1]:.3f}".replace(".", ",") in words[0]
    assert f"a menor é {lowest:.3f}".replace(".", ",") in words[0]
