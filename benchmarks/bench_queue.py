"""Do five students training slow down everybody's convolution steps? With and without the line.

    python benchmarks/bench_queue.py [--jobs 5] [--epochs 3] [--per-class 20] [--think 0.05]

One process, as one Streamlit server: a "stepper" thread does the Convolution lesson's work for
one step again and again (``conv.convolve2d`` of the 64 x 64 mouse with the curve detector,
``result.step``, and the pictures and tables the step view draws, PNG-encoded as ``st.image``
sends them), pausing ``--think`` s between steps like a click. Meanwhile ``--jobs`` trainings of
the Train lesson (from scratch on Fashion-MNIST, ``--per-class`` images per class, ``--epochs``
epochs; the bundled sample when the full dataset is absent) run in threads, in four ways:

- ``idle``: no training (the reference);
- ``free``: all at once, torch's default threads (no bound at all);
- ``semaphore``: two at once, torch's default threads (the Train lesson before ``cnnviz.serve.jobs``);
- ``line``: through ``cnnviz.serve.jobs.JobQueue`` (``default_slots()`` at once, ``job_threads``
  torch threads each), as the lessons now run them.

Prints the step time's p50 / p95 / max while the trainings run, and how long the trainings took
(first and last to finish). The step is the server's CPU share of a click (no network, no
browser): issue 11's target is 100 ms of server CPU per step.

Measured on the 2-core machine shared with other work (load average 6-20, so the idle p95 itself
wanders from 15 to 120 ms), 5 trainings of 20/class x 2 epochs, step p50 / p95 in ms:

    run        idle         free           semaphore      line (1 slot x 1 thread)   line x 2 threads
    1          16 / 54      167 / 621      56 / 285       39 / 176
    2          10 / 92       79 / 260      35 / 194       19 / 170                   23 / 145
    3 (quiet)   5 / 15                                    14 / 66                    18 / 95
    4           8 / 120      36 / 196      20 / 150

The line keeps the step's median within 2-3x of idle where free trainings make it 5-10x; one
torch thread per job beats two for the steps at nearly the same total training time (the five
finished after 20.8 s vs 22.8 s in the quiet run). The line runs the five one after the other: the
first is done after 3-4 s instead of 13-50 s, the last after 21-73 s (free: all at 17-53 s).

This is one process. Several worker processes (``python -m cnnviz.serve``) share the machine's line
through ``CNNVIZ_JOBS_DIR``; the class measurement of that, 5 trainings queued across 2 workers
while 25 students step over the network, is ``benchmarks/classroom.py --workers 2 --trainers 5``
(docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from timing import median_ms  # noqa: F401  (puts the repository on sys.path)


def step_work():
    """() -> one step's work, on the Convolution lesson's defaults (its ``stepper`` fragment)."""
    import numpy as np
    from PIL import ImageOps

    from cnnviz.maths import conv, images, kernels
    from cnnviz import figures

    kernel = kernels.make("curve_detector").astype(np.float64)
    small = images.fit(images.load_sample("mouse"), 64)
    pixels = images.to_array(small, "gray").astype(np.float64)
    shown = small.convert("L")
    state = {"i": 0}

    def one():
        result = conv.convolve2d(pixels, kernel, stride=1, padding=0, dilation=1, bias=0.0)
        h_out, w_out = result.shape
        full_map = figures.colorize(result.output)
        lo, hi = figures.display_range(pixels)
        padded = ImageOps.expand(figures.stretched(shown, hi), border=0, fill=0)
        idx = state["i"] % result.positions
        state["i"] += 7
        row, col = divmod(idx, w_out)
        step = result.step(row, col)
        top, left, bh, bw = result.receptive_box(row, col)
        box = (top, left, bh, bw)
        window = figures.neighbourhood((padded.size[1], padded.size[0]), box, side=max(21, 3 * max(bh, bw)))
        mwin = figures.neighbourhood((h_out, w_out), (row, col, 1, 1), side=21)
        pictures = [figures.locate(padded, box, target=210, zoom=window),
                    figures.zoomed(padded, window, box, target=210),
                    figures.zoomed(figures.filling_in(full_map, row, col), mwin, (row, col, 1, 1), target=210)]
        for p in pictures:
            figures.png_bytes(p)
        k = kernel
        figures.matrix_html(step.field[0], scale="gray", vmin=lo, vmax=hi, cell=25, hover="", title="", row0=top,
                            col0=left)
        figures.matrix_html(k, cell=25, title="", hover="", digits=3)
        figures.matrix_html(step.products[0], cell=25, title="", hover="")
        figures.steps_card([("sum", figures.fmt(step.total)), ("relu", figures.fmt(step.relu))], title="")

    return one


def training(per_class: int, epochs: int):
    """() -> one training of the Train lesson (from scratch, its other defaults)."""
    from cnnviz import data
    from cnnviz.train import experiment

    split = data.few_shot("fashion", per_class, seed=0)
    exp = experiment.Experiment("fashion", per_class, "scratch", epochs=epochs, patience=None)

    def one(callbacks=()):
        experiment.run_experiment(exp, split, None, list(callbacks))
    return one


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def scenario(name, n_jobs, job, step, think, min_steps=30):
    import torch

    from cnnviz.serve import jobs

    default_threads = torch.get_num_threads()
    ends, times = [], []
    start = time.perf_counter()
    if name == "line":
        queue = jobs.JobQueue()

        class Check:   # what the lesson's progress bar does: a cancelled job stops at its next report
            def __init__(self, ticket):
                self.ticket = ticket

            def on_train_begin(self, state): ...
            def on_epoch_end(self, state): ...
            def on_train_end(self, state): ...

            def on_batch_end(self, state):
                self.ticket.check()

        def run(i):
            with queue.run("train", f"student-{i}", on_wait=lambda t: None, poll=0.5) as ticket:
                job([Check(ticket)])
            ends.append(time.perf_counter() - start)
    elif name == "semaphore":
        slots = threading.BoundedSemaphore(2)

        def run(i):
            with slots:
                job()
            ends.append(time.perf_counter() - start)
    else:
        def run(i):
            job()
            ends.append(time.perf_counter() - start)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n_jobs)]
    for th in threads:
        th.start()
    while any(th.is_alive() for th in threads) or len(times) < min_steps:
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
        time.sleep(think)
    for th in threads:
        th.join()
    torch.set_num_threads(default_threads)     # the line set one thread per job: back for the next run
    return times, sorted(ends)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--per-class", type=int, default=20)
    ap.add_argument("--think", type=float, default=0.05)
    ap.add_argument("--only", nargs="*", default=["idle", "free", "semaphore", "line"])
    ap.add_argument("--threads", type=int, default=None, help="torch threads per job in the line "
                    "(default: cnnviz.serve.jobs.job_threads)")
    a = ap.parse_args()

    import os

    import torch

    from cnnviz.serve import jobs

    if a.threads:
        jobs.THREADS_PER_JOB = jobs.ALONE_THREADS = a.threads
    step, job = step_work(), training(a.per_class, a.epochs)
    step()
    t0 = time.perf_counter()
    job()                                       # warm up: imports, the split, first allocations
    alone = time.perf_counter() - t0
    print(f"cores {os.cpu_count()}, torch threads {torch.get_num_threads()}, line: {jobs.default_slots()} slot(s) "
          f"x {jobs.job_threads(jobs.default_slots())} thread(s); {a.jobs} trainings of {a.per_class}/class x {a.epochs} epochs "
          f"(one alone, first run: {alone:.1f} s)")
    print(f"{'scenario':10} {'steps':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'first job s':>12} {'last job s':>11}")
    for name in a.only:
        times, ends = scenario(name, 0 if name == "idle" else a.jobs, job, step, a.think)
        first = f"{ends[0]:.1f}" if ends else "-"
        last = f"{ends[-1]:.1f}" if ends else "-"
        print(f"{name:10} {len(times):5d} {statistics.median(times):8.1f} {percentile(times, 0.95):8.1f} "
              f"{max(times):8.1f} {first:>12} {last:>11}", flush=True)


if __name__ == "__main__":
    main()
