"""The speed promises the unit tests used to time, as ratios against a reference measured in the same run.

    python benchmarks/bench_limits.py [--repeat 3]

Unit tests assert behaviour, not timings (a loaded classroom server or CI runner makes any
threshold flaky); these three numbers moved here:

- loading a bundled model (``models.load``) vs only reading its weights file
  (``safetensors.torch.load_file``): the cost of building the network and its card;
- refusing a CSV of a million and one rows (``signal_csv.from_csv``) vs only splitting the upload
  into lines (``bytes.splitlines``): the refusal must come before any cell is parsed;
- training the 1D lesson's CNN (``signal_cnn.train_signal_cnn``, 8 epochs) vs a bare PyTorch loop
  over the same network, data and batches: the overhead of ``cnnviz.train.fit.fit`` (validation,
  callbacks, early-stopping bookkeeping) and the test pass.
"""

from __future__ import annotations

import argparse
import statistics
import time

from timing import median_ms  # (puts the repository on sys.path)


def seconds(fn, repeat: int) -> float:
    """Median wall time of ``fn()`` in seconds (no warm-up: a training run warms nothing up)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bare_signal_training(epochs: int, seed: int = 0, n_per_class: int = 240, lr: float = 5e-3) -> None:
    """What train_signal_cnn must do at least: the same data, network and batches in a plain loop."""
    import torch
    import torch.nn.functional as F

    from cnnviz.train import signal_cnn

    x, y = (torch.from_numpy(a) for a in signal_cnn.make_dataset(n_per_class, seed=seed * 3 + 1))
    vx, vy = (torch.from_numpy(a) for a in signal_cnn.make_dataset(max(n_per_class // 6, 10), seed=seed * 3 + 2))
    tx, ty = (torch.from_numpy(a) for a in signal_cnn.make_dataset(max(n_per_class // 3, 10), seed=seed * 3 + 3))
    x, vx, tx = x[:, None], vx[:, None], tx[:, None]
    before = torch.get_num_threads()
    torch.set_num_threads(1)          # as the lesson trains
    try:
        torch.manual_seed(seed)
        model = signal_cnn.signal_cnn()
        opt = torch.optim.AdamW(model.parameters(), lr=lr)
        g = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            model.train()
            for idx in torch.randperm(len(y), generator=g).split(64):
                loss = F.cross_entropy(model(x[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
            model.eval()
            with torch.no_grad():
                (model(vx).argmax(1) == vy).float().mean().item()
        with torch.no_grad():
            (model(tx).argmax(1) == ty).float().mean().item()
    finally:
        torch.set_num_threads(before)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()

    import torch
    from safetensors.torch import load_file

    from cnnviz import models
    from cnnviz.train import signal_cnn
    from cnnviz.data import signal_csv
    from cnnviz.maths import signals

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; median of {a.repeat}")
    print(f"{'what':34s} {'ours':>10s} {'reference':>10s} {'ratio':>6s}")

    for name in models.BUNDLED_NAMES:
        path = models.WEIGHTS_DIR / f"{name}.safetensors"
        ours = median_ms(lambda: models.load(name), a.repeat)
        ref = median_ms(lambda: load_file(str(path)), a.repeat)
        print(f"{'load ' + name:34s} {ours:8.1f}ms {ref:8.1f}ms {ours / ref:6.1f}")

    rows = b"1\n" * (signal_csv.MAX_ROWS + 2)

    def refuse():
        try:
            signal_csv.from_csv(rows)
        except signals.SignalError:
            return
        raise AssertionError("a CSV of more than MAX_ROWS rows was accepted")

    ours = median_ms(refuse, a.repeat)
    ref = median_ms(lambda: [ln for ln in rows.splitlines() if ln.strip()], a.repeat)
    print(f"{'refuse a CSV of 1,000,002 rows':34s} {ours:8.1f}ms {ref:8.1f}ms {ours / ref:6.1f}")

    ours = seconds(lambda: signal_cnn.train_signal_cnn(epochs=8, seed=0), a.repeat)
    ref = seconds(lambda: bare_signal_training(8), a.repeat)
    print(f"{'train the 1D CNN, 8 epochs':34s} {ours:9.2f}s {ref:9.2f}s {ours / ref:6.2f}")


if __name__ == "__main__":
    main()
