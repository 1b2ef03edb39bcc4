"""Feature visualization (cnnviz.analysis.featviz): seconds per channel, on one thread as in the
server's line of heavy work, with a reference measured in the same run.

    python benchmarks/bench_featviz.py [--quality] [--no-resnet] [--repeat 3]

For each bundled network (its last layer of maps but one, or its last): one channel
(``visualize``), and a whole layer as one batch (``visualize_layer``) per channel. The
reference: one plain forward + backward pass of one picture to that layer, times the number of
steps (what unregularized gradient ascent would cost); the ratio is the price of the
parametrization, the transformations and the rest. ResNet-18 at 224 px is
``torchvision.models.resnet18(weights=None)``: the time of a step does not depend on the weights
(they cannot be downloaded here). Targets (issue 20): one channel of a bundled network <= 3 s,
ResNet-18 <= 30 s.

``--quality``: over every channel of those layers, how often the optimized picture excites its
channel more than its top test image (the first 1,000 test images, ranked by peak as the lesson
ranks them) and has no more high-frequency power than that image.
"""

from __future__ import annotations

import argparse
import time

from timing import median_ms

LAYERS = {"digits": "pool2", "fashion": "conv3", "tiny-rgb": "conv5"}


def step_reference_ms(loaded, layer: str, repeat: int) -> float:
    """One forward + backward pass of one picture to ``layer``, without featviz's machinery."""
    import torch

    h, w = loaded.input_size
    x = torch.rand(1, loaded.in_channels, h, w)
    module = dict(loaded.model.named_modules())[layer]
    seen = {}
    handle = module.register_forward_hook(lambda m, a, out: seen.__setitem__("out", out))

    def once():
        xi = x.clone().requires_grad_(True)
        loaded.model(xi)
        torch.autograd.grad(seen["out"][0, 0].mean(), xi)
    try:
        return median_ms(once, repeat)
    finally:
        handle.remove()


def seconds(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def quality(loaded, name: str, layer: str) -> tuple[int, int, int]:
    from cnnviz import models
    from cnnviz.analysis import featviz
    from cnnviz.analysis import inspect as insp

    x, found = insp.dataset_top_images(loaded, models.BUNDLED[name].dataset, 1000, k=1)
    top = found[layer]
    pictures = featviz.visualize_layer(loaded, layer)
    stronger = smoother = 0
    for ch, pic in enumerate(pictures):
        best = x[int(top.images[ch][0])].permute(1, 2, 0).numpy()
        best = best[..., 0] if best.shape[2] == 1 else best
        stronger += featviz.peak(loaded, layer, ch, pic) > float(top.values[ch][0])
        smoother += featviz.high_frequency_share(pic) <= featviz.high_frequency_share(best)
    return stronger, smoother, len(pictures)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--quality", action="store_true")
    ap.add_argument("--no-resnet", action="store_true")
    a = ap.parse_args()
    import torch

    from cnnviz import models
    from cnnviz.analysis import featviz

    torch.set_num_threads(1)          # as a job in the line of heavy work on a 2-core server
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread")
    runs = [(name, models.load(name), layer) for name, layer in LAYERS.items()]
    if not a.no_resnet:
        runs.append(("resnet18 (weights=None)", models.load("resnet18", pretrained=False), "layer4.1"))
    print(f"{'network':24} {'layer':9} {'steps':>5} {'step ref':>9} {'1 channel':>10} {'ratio':>6} "
          f"{'grid/ch':>8} {'channels':>8}")
    for name, loaded, layer in runs:
        steps = featviz.default_steps(loaded)
        ref = step_reference_ms(loaded, layer, a.repeat)
        one = min(seconds(lambda: featviz.visualize(loaded, layer, 0)) for _ in range(a.repeat if steps > 200 else 1))
        n = featviz.channel_count(loaded, layer)
        grid = f"{seconds(lambda: featviz.visualize_layer(loaded, layer)) / n:7.3f}s" \
            if max(loaded.input_size) <= 64 else "   (none)"
        target = 3.0 if max(loaded.input_size) <= 64 else 30.0
        print(f"{name:24} {layer:9} {steps:5d} {ref:7.2f}ms {one:9.2f}s {one / (steps * ref / 1e3):6.2f} "
              f"{grid} {n:8d}   target {target:.0f} s: {'ok' if one <= target else 'OVER'}")
    print("ratio = one channel / (steps x one plain forward+backward pass to the layer)")
    print("ResNet-18's time does not depend on its weights (random here: no download).")
    if a.quality:
        for name, loaded, layer in runs[:3]:
            stronger, smoother, n = quality(loaded, name, layer)
            print(f"{name:9} {layer:6}: excites more than its top test image {stronger}/{n}, "
                  f"high frequencies <= the top image's {smoother}/{n}")


if __name__ == "__main__":
    main()
