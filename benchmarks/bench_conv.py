"""How fast is cnnviz.maths.conv compared with torch.nn.functional.conv2d, measured in the same run?

    python benchmarks/bench_conv.py [--size 512] [--repeat 20]

Prints, for a 512 x 512 image: the full activation map (ours vs F.conv2d, float32
on the CPU, same threads; ours with the compiled engine the app uses once it is
ready, and with the numpy engine it uses before that or without numba) and one step of the step-by-step view (our .step() plus
the figures the lesson draws for it) with their ratios. Targets (issue 2): one
step <= 20 ms; full map <= 1.5x F.conv2d.
"""

from __future__ import annotations

import argparse

import numpy as np
from timing import median_ms

from cnnviz.maths import conv, kernels
from cnnviz import figures  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=512)
    ap.add_argument("--repeat", type=int, default=20)
    a = ap.parse_args()

    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(0)
    n = a.size
    state = conv.warm_up(wait=True)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; compiled engine: {state}; "
          f"image {n}x{n}; median of {a.repeat}")
    engine = "jit" if state == "ready" else "numpy"
    cases = [
        ("grey, 7x7 dense", rng.uniform(0, 255, (1, n, n)), rng.normal(size=(1, 7, 7))),
        ("grey, 7x7 curve detector", rng.uniform(0, 255, (1, n, n)), kernels.PRESETS["curve_detector"][None]),
        ("colour, 7x7 same slice x3", rng.uniform(0, 255, (3, n, n)), np.repeat(rng.normal(size=(1, 7, 7)), 3, 0)),
        ("colour, 5x5x3 distinct slices", rng.uniform(0, 255, (3, n, n)), rng.normal(size=(3, 5, 5))),
        ("grey, 3x3 stride 2 pad 1", rng.uniform(0, 255, (1, n, n)), rng.normal(size=(1, 3, 3))),
    ]
    print(f"{'full activation map':34s} {'ours ms':>9s} {'torch ms':>9s} {'ratio':>7s}  target <= 1.5"
          f"   {'numpy ms':>9s} {'ratio':>7s}")
    for name, image, kernel in cases:
        stride, padding = (2, 1) if "stride" in name else (1, 0)
        x = torch.tensor(image, dtype=torch.float32)[None]
        w = torch.tensor(kernel, dtype=torch.float32)[None]
        ours = median_ms(lambda: conv.convolve2d(image, kernel, stride=stride, padding=padding,
                                                 engine=engine), a.repeat)
        ref = median_ms(lambda: F.conv2d(x, w, stride=stride, padding=padding), a.repeat)
        slow = median_ms(lambda: conv.convolve2d(image, kernel, stride=stride, padding=padding,
                                                 engine="numpy"), a.repeat)
        print(f"{name:34s} {ours:9.2f} {ref:9.2f} {ours / ref:7.2f}                 {slow:9.2f} {slow / ref:7.2f}")

    image = rng.uniform(0, 255, (n, n))
    result = conv.convolve2d(image, kernels.PRESETS["curve_detector"])
    full_map = figures.colorize(result.output)   # once per convolution, as the lesson does
    pos = iter(range(10**9))

    def one_step():
        i = next(pos) % result.positions
        return result.step(*divmod(i, result.shape[1]))

    def one_step_drawn():
        s = one_step()
        for m in (s.field[0], result.kernel[0], s.products[0]):
            figures.matrix_html(m)
        figures.draw_box(figures.filling_in(full_map, s.row, s.col), (s.row, s.col, 1, 1), target=340)

    field = torch.tensor(image[:7, :7], dtype=torch.float32)[None, None]
    kern = torch.tensor(kernels.PRESETS["curve_detector"], dtype=torch.float32)[None, None]
    step_ms = median_ms(one_step, a.repeat * 5)
    torch_ms = median_ms(lambda: F.conv2d(field, kern), a.repeat * 5)
    drawn_ms = median_ms(one_step_drawn, a.repeat)
    print(f"\n{'one step (7x7 window)':34s} {'ours ms':>9s} {'torch ms':>9s} {'ratio':>7s}  target <= 20 ms")
    print(f"{'  .step() numbers only':34s} {step_ms:9.3f} {torch_ms:9.3f} {step_ms / torch_ms:7.2f}")
    print(f"{'  .step() + the lesson figures':34s} {drawn_ms:9.2f} {'':>9s} {'':>7s}")


if __name__ == "__main__":
    main()
