"""How long does the Gradient descent lesson's race take to build, per frame, against one still figure?

    python benchmarks/descent_race.py [--steps 80] [--repeat 5]

The race (``cnnviz.figures.descent.race_figure``: SGD, momentum and Adam from the lesson's start, one
plotly frame per step, the Play button and the slider) is built fresh each time (not from the shared
store), and so is the reference measured in the same run: the walk's still map
(``contour_figure`` with one path), the figure every other chart of the lesson costs. Printed: the
paths' time, the race's time, its time per frame, that per-frame time as a ratio of the reference,
and the size of the JSON the browser receives. The race is built once per start, rate and language
for the whole class (``Kept``), so a learner who has seen the same race before costs nothing.
"""

from __future__ import annotations

import argparse

from timing import median_ms

from cnnviz.figures import descent as figs
from cnnviz.train import descent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=80)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    prob = descent.problem()
    w1, w2, loss = descent.surface(prob)
    names = {k: k for k in ("w1", "w2", "loss", "bottom", "path", "start", "step", "play", "pause",
                            "sgd", "momentum", "adam")}
    paths = {}

    def run_paths():
        paths.update({o: descent.run(prob, o, 0.1, descent.START, a.steps).points for o in descent.OPTIMIZERS})

    walk = descent.run(prob, "sgd", descent.PRESETS["good"], descent.START, descent.STEPS)
    reference = median_ms(lambda: figs.contour_figure(w1, w2, loss, bottom=prob.bottom, lowest=prob.lowest_loss,
                                                      path=walk.points, names=names, area=descent.AREA), a.repeat)
    path_ms = median_ms(run_paths, a.repeat)
    race = None

    def build():
        nonlocal race
        race = figs._race_figure(w1, w2, loss, prob.bottom, prob.lowest_loss, paths, names, descent.AREA, 14, 470,
                                 figs.FRAME_MS, "en")

    race_ms = median_ms(build, a.repeat)
    frames = len(race.frames)
    per_frame = race_ms / frames
    size = len(race.to_json()) / 1e3
    print(f"data: {prob.source} ({prob.n} pictures); {frames} frames; median of {a.repeat}")
    print(f"{'reference: the still map':34s} {reference:8.1f} ms")
    print(f"{'the three paths':34s} {path_ms:8.1f} ms")
    print(f"{'the race (all frames)':34s} {race_ms:8.1f} ms")
    print(f"{'the race, per frame':34s} {per_frame:8.2f} ms   ratio to the reference: {per_frame / reference:.3f}")
    print(f"{'the race as JSON':34s} {size:8.0f} KB")


if __name__ == "__main__":
    main()
