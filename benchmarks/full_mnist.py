"""The whole MNIST in the Train lesson (issue 19): accuracy and time of its recipe, and the same
recipe in a bare PyTorch loop.

    python benchmarks/full_mnist.py [--skip-bare] [--threads N]

The lesson's code path: ``cnnviz.data.splits.full_split`` (59,000 training images, 1,000 held out
for validation, the 10,000 test images), ``cnnviz.train.experiment.full_experiment`` run by
``run_experiment`` (the one loop, ``cnnviz.train.fit.fit``, with a progress callback as the page
has) inside the server's line of heavy work (``cnnviz.serve.jobs.QUEUE``: a job alone in a one-slot
line runs on 2 torch threads). The bare loop builds the same layers by hand (``nn.Sequential``),
with AdamW and torch's ``OneCycleLR`` of the same settings, the same batches of 128 for 2 epochs,
and tests on the same 10,000 images: what the lesson's bookkeeping (validation, callbacks, the copy
of the best weights, the confusion matrix) costs on top.

Ends with the line
``full MNIST: <accuracy> % test accuracy in <seconds> s (bare PyTorch loop of the same recipe: <seconds> s)``.
Needs the full MNIST (``CNNVIZ_DATA``); the machine's load (``os.getloadavg``) is printed first,
since a shared machine makes every time longer.
"""

from __future__ import annotations

import argparse
import os
import time

import timing  # noqa: F401  (puts the repository on sys.path)


def lesson_path(seed: int, threads: int | None):
    """The lesson's own functions, through the line of heavy work -> (test accuracy, seconds, epochs)."""
    from cnnviz.data import splits
    from cnnviz.serve import jobs
    from cnnviz.train import experiment
    from cnnviz.train.fit import Progress

    split = splits.full_split("mnist", seed=seed)
    exp = experiment.full_experiment("mnist", seed=seed)
    if threads:
        jobs.ALONE_THREADS = jobs.THREADS_PER_JOB = threads
    t0 = time.perf_counter()
    with jobs.QUEUE.run("train", "benchmark"):
        import torch

        used = torch.get_num_threads()
        result, _ = experiment.run_experiment(exp, split, callbacks=[Progress(on_epoch=lambda s: print(
            f"  epoch {s.epoch}: loss {s.history[-1]['loss']:.4f}, val {100 * s.val_acc:.2f} %, "
            f"{s.history[-1]['seconds']:.1f} s", flush=True))])
    return result.test_acc, time.perf_counter() - t0, used, len(split.train_y)


def bare_loop(seed: int, threads: int):
    """The same recipe written with nothing but torch -> (test accuracy, seconds)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from cnnviz.data import datasets, splits
    from cnnviz.train import experiment

    recipe = experiment.FULL_RECIPE
    split = splits.full_split("mnist", seed=seed)
    info = datasets.DATASETS["mnist"]
    x = (split.train_x - info.mean[0]) / info.std[0]
    test_x = (split.test_x - info.mean[0]) / info.std[0]
    torch.set_num_threads(threads)
    torch.manual_seed(seed)

    def block(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2)]

    model = nn.Sequential(*block(1, 32), *block(32, 32), *block(32, 64), nn.Flatten(), nn.Linear(64 * 3 * 3, 10))
    opt = torch.optim.AdamW(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    steps = recipe.epochs * -(-len(x) // recipe.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe.lr, total_steps=steps, pct_start=0.15,
                                                anneal_strategy="cos")
    g = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    model.train()
    for _ in range(recipe.epochs):
        for idx in torch.randperm(len(x), generator=g).split(recipe.batch_size):
            loss = F.cross_entropy(model(x[idx]), split.train_y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(test_x[i:i + 1000]).argmax(1) for i in range(0, len(test_x), 1000)])
    return float((pred == split.test_y).float().mean()), time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None,
                    help="torch threads (default: what the line gives a job alone, cnnviz.serve.jobs.job_threads)")
    ap.add_argument("--skip-bare", action="store_true", help="only the lesson's code path")
    a = ap.parse_args()

    from cnnviz.data import datasets

    if datasets.source("mnist") != "full":
        raise SystemExit(f"needs the full MNIST in {datasets.data_root()} (set CNNVIZ_DATA)")
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"cores {os.cpu_count()}, load average {load}", flush=True)
    acc, secs, used, n = lesson_path(a.seed, a.threads)
    print(f"lesson: {n} training images, {used} torch threads: {100 * acc:.2f} % in {secs:.1f} s", flush=True)
    bare = "skipped"
    if not a.skip_bare:
        bare_acc, bare_secs = bare_loop(a.seed, used)
        print(f"bare loop: {100 * bare_acc:.2f} % in {bare_secs:.1f} s", flush=True)
        bare = f"{bare_secs:.1f} s"
    print(f"load average after: {', '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(f"full MNIST: {100 * acc:.2f} % test accuracy in {secs:.1f} s (bare PyTorch loop of the same recipe: {bare})")


if __name__ == "__main__":
    main()
