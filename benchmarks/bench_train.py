"""What the Train lesson's machinery costs on top of a plain PyTorch loop, measured in the same run.

    python benchmarks/bench_train.py [--per-class 20] [--epochs 5] [--repeat 3]

For each strategy of the lesson (from scratch, transfer learning, fine-tuning) on
Fashion-MNIST with ``--per-class`` images per class, it times ``experiment.run_experiment``
(building the network, preparing the images, ``fit`` with its validation pass,
early-stopping bookkeeping and a live callback, then the test predictions and the
confusion matrix) against the bare minimum: the same network, data and epochs in a
hand-written loop with a validation pass and the test predictions. The ratio is the overhead of everything
the lesson shows. It also prints seconds per epoch, the number a teacher needs.
"""

from __future__ import annotations

import argparse
import statistics
import time

from timing import median_ms  # noqa: F401  (puts the repository on sys.path)


def bare_loop(model, train_x, train_y, val_x, val_y, test_x, epochs: int, batch: int, lr: float) -> None:
    import torch
    import torch.nn.functional as F

    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    g = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(train_y), generator=g).split(batch):
            loss = F.cross_entropy(model(train_x[idx]), train_y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            (model(val_x).argmax(1) == val_y).float().mean().item()
    with torch.no_grad():   # the test predictions the lesson's accuracy and confusion matrix need
        torch.cat([model(test_x[i:i + 500]).argmax(1) for i in range(0, len(test_x), 500)])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-class", type=int, default=20)
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()

    import torch

    from cnnviz import data, models
    from cnnviz.train import experiment, fit, transfer

    split = data.few_shot("fashion", a.per_class, seed=0)
    source = models.load("digits").model

    class Live(fit.Callback):   # what the lesson's progress bar does, minus the drawing
        def on_batch_end(self, state):
            self.last = (state.epoch, state.batch, state.loss)

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; Fashion-MNIST, "
          f"{len(split.train_y)} training + {len(split.val_y)} validation images, {a.epochs} epochs, "
          f"{len(split.test_y)} test images; median of {a.repeat}")
    print(f"{'strategy':12s} {'ours s':>8s} {'bare s':>8s} {'ratio':>6s} {'s/epoch':>8s}")
    for strategy, train_from in (("scratch", None), ("transfer", None), ("fine_tune", "conv2")):
        exp = experiment.Experiment("fashion", a.per_class, strategy, "digits", train_from, epochs=a.epochs,
                                    patience=None)
        ours, bare = [], []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            experiment.run_experiment(exp, split, source, [Live()])
            ours.append(time.perf_counter() - t0)

            t0 = time.perf_counter()
            if strategy == "scratch":
                model, _ = transfer.scratch_model("fashion", 10)
            else:
                model, _ = transfer.transfer_model(source, 10, train_from if strategy == "fine_tune" else None)
            x, vx, tx = (experiment.prepare(exp, v) for v in (split.train_x, split.val_x, split.test_x))
            bare_loop(model, x, split.train_y, vx, split.val_y, tx, a.epochs, exp.batch_size, exp.lr)
            bare.append(time.perf_counter() - t0)
        o, b = statistics.median(ours), statistics.median(bare)
        print(f"{strategy:12s} {o:8.2f} {b:8.2f} {o / b:6.2f} {o / a.epochs:8.2f}")


if __name__ == "__main__":
    main()
