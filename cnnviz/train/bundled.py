"""The command that rebuilds the bundled models, seeded and on the CPU.

    python -m cnnviz.train digits                 # -> assets/models/digits.safetensors + digits.json
    python -m cnnviz.train fashion --epochs 15 --patience 4 --seed 0 --out assets/models

It trains through the same loop as every network here (``cnnviz.train.fit.fit``), with each
model's recipe (``cnnviz.models.specs``) and a terminal progress bar, and writes the
weights with their model card (``cnnviz.train.cards.bundled_card``). The Train lesson's
experiments are in ``cnnviz.train.experiment``, transfer learning in ``cnnviz.train.transfer``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from torch.utils.data import DataLoader, Subset

from cnnviz.data import datasets as cdata
from cnnviz.train.fit import Callback, FitConfig, evaluate, fit
from cnnviz.models.archs import ARCHITECTURES
from cnnviz.models.specs import BUNDLED, Recipe

REPO = Path(__file__).resolve().parents[2]


class TqdmProgress(Callback):
    """A terminal progress bar per epoch (the CLI uses it)."""

    def on_train_begin(self, state):
        self.bar = None

    def on_batch_end(self, state):
        from tqdm import tqdm

        if self.bar is None:
            self.bar = tqdm(total=state.batches, desc=f"epoch {state.epoch}/{state.epochs}",
                            leave=True, file=sys.stderr, dynamic_ncols=True)
        self.bar.update(1)
        if state.batch % 20 == 0 or state.batch == state.batches:
            self.bar.set_postfix(loss=f"{state.loss:.4f}", acc=f"{state.train_acc:.4f}")

    def on_epoch_end(self, state):
        if self.bar is not None:
            self.bar.set_postfix(loss=f"{state.loss:.4f}", val_acc=f"{state.val_acc:.4f}",
                                 best=f"{state.best_val_acc:.4f}@{state.best_epoch}")
            self.bar.close()
            self.bar = None

    def on_train_end(self, state):
        self.on_epoch_end(state)


def default_device() -> str:
    """CUDA or Apple's MPS when present (for training in the app), else the CPU."""
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def split(dataset, val_size: int, seed: int):
    """(train, val) subsets: a seeded random ``val_size`` images held out for early stopping."""
    perm = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(seed)).tolist()
    return Subset(dataset, perm[val_size:]), Subset(dataset, perm[:val_size])


def train_bundled(name: str, *, epochs: int | None = None, patience: int | None = None,
                  seed: int = 0, out: Path | str = REPO / "assets" / "models",
                  threads: int = 2, limit: int | None = None, test_limit: int | None = None,
                  command: str | None = None,
                  callbacks: list[Callback] | tuple = (), device: str = "cpu") -> dict:
    """Rebuild bundled model ``name`` from scratch and write ``<out>/<name>.safetensors`` + ``.json``.

    Returns the model card. ``limit`` trains on the first ``limit`` training images and
    ``test_limit`` measures on the first ``test_limit`` test images (for smoke tests; such
    weights are not worth shipping, and the card's ``test_images`` says how many were used).
    """
    from safetensors.torch import save_file

    from cnnviz.train.cards import bundled_card

    spec = BUNDLED[name]
    recipe: Recipe = spec.recipe
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)

    dataset = spec.dataset
    if dataset == "cifar10-subset":
        dataset = cdata.cifar10_name()     # the full CIFAR-10 wherever torchvision has it
    full_train = cdata.tensor_dataset(dataset, train=True, limit=limit)
    test = cdata.tensor_dataset(dataset, train=False, limit=test_limit)
    val_size = min(recipe.val_size if dataset != "cifar10" else 5000, len(full_train) // 5)
    train_set, val_set = split(full_train, val_size, seed)
    train_loader = DataLoader(train_set, batch_size=recipe.batch_size, shuffle=True,
                              generator=torch.Generator().manual_seed(seed), drop_last=False)
    val_loader = DataLoader(val_set, batch_size=512)
    test_loader = DataLoader(test, batch_size=512)

    model = ARCHITECTURES[spec.arch](num_classes=len(spec.classes))
    config = FitConfig(epochs=epochs or recipe.epochs,
                       patience=recipe.patience if patience is None else patience,
                       lr=recipe.lr, weight_decay=recipe.weight_decay,
                       label_smoothing=recipe.label_smoothing, shift=recipe.shift,
                       flip=recipe.flip, seed=seed, device=device)
    state = fit(model, train_loader, val_loader, config, [TqdmProgress(), *callbacks])

    model.cpu()   # measure and save on the CPU, where the app runs the model
    _, test_acc = evaluate(model, test_loader)
    _, test_acc_1000 = evaluate(model, DataLoader(Subset(test, range(min(1000, len(test)))),
                                                  batch_size=500))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    weights_path = out / f"{name}.safetensors"
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    # one metadata entry: safetensors writes several in a random order (a Rust HashMap),
    # which made the same weights hash differently from run to run
    save_file(tensors, str(weights_path), metadata={"model": f"{name} ({spec.arch})"})
    weights_path.chmod(0o644)   # safetensors writes 0600; the app may run as another user
    blob = weights_path.read_bytes()

    card = bundled_card(name, model, dataset=dataset, images=(len(train_set), len(val_set), len(test)),
                        config=config, state=state, batch_size=recipe.batch_size, test_acc=test_acc,
                        test_acc_1000=test_acc_1000, weights_name=weights_path.name, blob=blob,
                        threads=threads, device=device,
                        command=command or f"python -m cnnviz.train {name} --seed {seed}")
    # the headline number goes through the app's own path (PIL -> preprocess -> model); the
    # tensor-path number above is kept as metrics.test_accuracy_tensor_path
    from cnnviz.models.bundled import measure_card, write_measures
    card = write_measures(card, measure_card(name, out, dataset=dataset, test_limit=test_limit))
    (out / f"{name}.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    return card


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="python -m cnnviz.train",
                                     description="Rebuild a bundled cnnviz model from scratch (CPU, seeded).")
    parser.add_argument("name", choices=sorted(BUNDLED))
    parser.add_argument("--epochs", type=int, default=None, help="maximum epochs (default: the recipe's)")
    parser.add_argument("--patience", type=int, default=None, help="early-stopping patience in epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(REPO / "assets" / "models"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N training images")
    parser.add_argument("--test-limit", type=int, default=None,
                        help="measure on the first N test images only (a smoke test)")
    parser.add_argument("--device", default="cpu",
                        help="cpu (default: reproducible), cuda, mps or auto")
    args = parser.parse_args(argv)
    try:
        card = train_bundled(args.name, epochs=args.epochs, patience=args.patience, seed=args.seed,
                             out=args.out, threads=args.threads, limit=args.limit, test_limit=args.test_limit,
                             command="python -m cnnviz.train " + " ".join(argv),
                             device=default_device() if args.device == "auto" else args.device)
    except cdata.DataError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    m = card["metrics"]
    print(f"{args.name}: test accuracy {m['test_accuracy']:.4f} "
          f"(first 1000: {m['test_accuracy_first_1000']:.4f}), best val {m['best_val_accuracy']:.4f} "
          f"at epoch {card['training']['best_epoch']}, {card['time']['seconds_per_epoch']} s/epoch, "
          f"{card['file']['bytes'] / 1e6:.2f} MB -> {Path(args.out) / (args.name + '.safetensors')}")
    return 0

