"""Does transfer learning help with few images? The Train lesson's three strategies, measured.

    python benchmarks/transfer_gain.py [--seeds 3] [--epochs 15]

For each target dataset and source network, trains from scratch, by transfer learning
(source convolutions frozen, new decision layers) and by fine-tuning (from the source's
last conv on) with the lesson's defaults (batch 32, lr 1e-3, early stopping after 5
epochs, best weights restored), and prints the mean test accuracy over seeds (min-max)
and the mean training seconds. The reference is training from scratch in the same run.
"""

from __future__ import annotations

import argparse
import statistics

from timing import median_ms  # noqa: F401  (puts the repository on sys.path)

CASES = [("fashion", "digits", 20), ("mnist", "fashion", 20), ("cifar10-subset", "fashion", 50)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=15)
    a = ap.parse_args()

    from cnnviz import data, models
    from cnnviz.train import experiment, transfer

    print(f"{'target':15s} {'source':8s} {'img/cls':>7s}  {'strategy':10s} {'test % mean (min-max)':>22s} "
          f"{'vs scratch':>10s} {'seconds':>8s}")
    for dataset, source, per_class in CASES:
        net = models.load(source).model
        acc: dict[str, list[float]] = {}
        secs: dict[str, list[float]] = {}
        for seed in range(a.seeds):
            split = data.few_shot(dataset, per_class, seed=seed)
            for strategy in transfer.STRATEGIES:
                train_from = transfer.trainable_from_choices(net)[-1] if strategy == "fine_tune" else None
                exp = experiment.Experiment(dataset, per_class, strategy, source, train_from, epochs=a.epochs,
                                            patience=5, seed=seed)
                result, _ = experiment.run_experiment(exp, split, net)
                acc.setdefault(strategy, []).append(100 * result.test_acc)
                secs.setdefault(strategy, []).append(result.seconds)
        base = statistics.mean(acc["scratch"])
        for strategy in transfer.STRATEGIES:
            v = acc[strategy]
            print(f"{dataset:15s} {source:8s} {per_class:7d}  {strategy:10s} "
                  f"{statistics.mean(v):8.1f} ({min(v):.1f}-{max(v):.1f}) {statistics.mean(v) - base:+10.1f} "
                  f"{statistics.mean(secs[strategy]):8.1f}")


if __name__ == "__main__":
    main()
