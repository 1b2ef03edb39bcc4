"""Autoencoders (seed 002, section 6): an encoder squeezes an image into a few numbers,
the *latent space*, and a decoder rebuilds the image from them, trained without labels.

``DigitVAE`` is the variational kind: for each image the encoder gives a *mean* and a
*variance* per latent number; training decodes a random point drawn around the mean
(the reparameterization trick) and adds the KL divergence to the reconstruction error,
which keeps the latent space smooth enough to *generate* new digits from any point.
Two latent numbers, so the whole latent space is a plane a learner can look at.

    python -m cnnviz.train.autoencoder          # rebuilds assets/models/vae-digits.safetensors + .json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

REPO = Path(__file__).resolve().parents[2]
WEIGHTS = REPO / "assets" / "models" / "vae-digits.safetensors"
LATENT = 2


class DigitVAE(nn.Module):
    """1x28x28 -> conv 32x14x14 -> conv 64x7x7 -> 128 -> (mean, log-variance) of 2 numbers;
    2 numbers -> 128 -> 64x7x7 -> transposed conv 32x14x14 -> transposed conv 1x28x28."""

    def __init__(self, latent: int = LATENT):
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 32, 3, stride=2, padding=1), nn.ReLU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU())
        self.mean = nn.Linear(128, latent)
        self.log_var = nn.Linear(128, latent)
        self.decoder = nn.Sequential(
            nn.Linear(latent, 128), nn.ReLU(), nn.Linear(128, 64 * 7 * 7), nn.ReLU(),
            nn.Unflatten(1, (64, 7, 7)),
            nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),
            nn.ConvTranspose2d(32, 1, 3, stride=2, padding=1, output_padding=1), nn.Sigmoid())

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.encoder(x)
        return self.mean(h), self.log_var(h).clamp(-10, 10)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)

    def forward(self, x: torch.Tensor):
        mean, log_var = self.encode(x)
        z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean)   # the reparameterization trick
        return self.decode(z), mean, log_var


def loss_terms(x, rebuilt, mean, log_var) -> tuple[torch.Tensor, torch.Tensor]:
    """(reconstruction, KL) per image: binary cross-entropy summed over the 784 pixels, and the
    KL divergence of N(mean, var) from N(0, 1) summed over the latent numbers."""
    recon = F.binary_cross_entropy(rebuilt, x, reduction="none").flatten(1).sum(1).mean()
    kl = (-0.5 * (1 + log_var - mean.pow(2) - log_var.exp()).sum(1)).mean()
    return recon, kl


@torch.no_grad()
def encode(model: DigitVAE, x: torch.Tensor, batch: int = 1000) -> tuple[torch.Tensor, torch.Tensor]:
    """(mean, standard deviation) of every image of ``x`` (N, 1, 28, 28) in [0, 1]."""
    means, stds = [], []
    for i in range(0, len(x), batch):
        m, lv = model.encode(x[i:i + batch])
        means.append(m)
        stds.append(torch.exp(0.5 * lv))
    return torch.cat(means), torch.cat(stds)


@torch.no_grad()
def decode(model: DigitVAE, z) -> torch.Tensor:
    """Images (N, 28, 28) in [0, 1] for latent points ``z`` (N, 2)."""
    return model.decode(torch.as_tensor(z, dtype=torch.float32).reshape(-1, LATENT))[:, 0]


@torch.no_grad()
def samples(model: DigitVAE, x: torch.Tensor, n: int = 8, seed: int = 0) -> torch.Tensor:
    """``n`` decodings of points drawn around the image's mean (what the VAE trains on)."""
    mean, log_var = model.encode(x[:1])
    g = torch.Generator().manual_seed(seed)
    eps = torch.randn(n, mean.shape[1], generator=g)
    return model.decode(mean + torch.exp(0.5 * log_var) * eps)[:, 0]


def manifold(model: DigitVAE, n: int = 15, span: float = 2.5):
    """An (n*28, n*28) picture: the decoded digit at every point of an n x n grid of the latent
    plane from -span to +span (top row = high z2), numpy in [0, 1]."""
    values = torch.linspace(-span, span, n)
    z = torch.stack(torch.meshgrid(values, values.flip(0), indexing="xy"), -1).reshape(-1, LATENT)
    tiles = decode(model, z).reshape(n, n, 28, 28)
    return tiles.permute(0, 2, 1, 3).reshape(n * 28, n * 28).numpy()


def manifold_position(z, n: int = 15, span: float = 2.5) -> tuple[float, float]:
    """Where latent point ``z`` = (z1, z2) lies on ``manifold(model, n, span)``, in tiles:
    (row, col) of the tile centres, 0 .. n-1 (row 0 = top = z2 = +span; fractions between
    tiles). The tile at integer (row, col) is the decoding of that grid point."""
    z1, z2 = float(z[0]), float(z[1])
    step = 2 * span / (n - 1)
    return (span - z2) / step, (z1 + span) / step


INPUT_NUMBERS = 28 * 28                 # what goes in: 784 pixel values
COMPRESSION = INPUT_NUMBERS / LATENT    # 392: the code is that many times smaller than the picture


@dataclass
class RoundTrip:
    """One picture through the VAE and back: its code (the mean of each latent number and its
    spread) and the picture decoded from that mean, with its mean squared pixel error."""

    mean: tuple[float, ...]   # (z1, z2)
    std: tuple[float, ...]
    rebuilt: torch.Tensor     # (28, 28) in [0, 1]
    error: float


def round_trip(model: DigitVAE, x: torch.Tensor) -> RoundTrip:
    """``x`` (1, 1, 28, 28) in [0, 1] -> encoded, then decoded from its mean (no random draw)."""
    mean, std = encode(model, x[:1])
    rebuilt = decode(model, mean)[0]
    return RoundTrip(tuple(mean[0].tolist()), tuple(std[0].tolist()), rebuilt,
                     float((rebuilt - x[0, 0]).pow(2).mean()))


@dataclass
class VAEReport:
    recon: float      # mean reconstruction loss per test image (BCE summed over pixels)
    kl: float
    mse: float        # mean squared pixel error of decode(mean) vs the image


@torch.no_grad()
def evaluate(model: DigitVAE, x: torch.Tensor) -> VAEReport:
    mean, log_var = model.encode(x)
    rebuilt = model.decode(mean)
    recon, kl = loss_terms(x, rebuilt, mean, log_var)
    return VAEReport(float(recon), float(kl), float((rebuilt - x).pow(2).mean()))


def load(path: Path | str = WEIGHTS) -> DigitVAE:
    """The bundled VAE (eval mode), from safetensors: no pickle, works offline."""
    from safetensors.torch import load_file

    model = DigitVAE()
    model.load_state_dict(load_file(str(path)))
    return model.eval()


class VAELoss:
    """The VAE's objective for ``cnnviz.train.fit.fit``: reconstruction + KL on batches of images alone
    (no labels); it reports both terms (``state.metrics["recon"]``, ``["kl"]``, per image)."""

    def batch_loss(self, model: DigitVAE, batch) -> tuple[torch.Tensor, int, dict[str, float]]:
        (x,) = batch
        rebuilt, mean, log_var = model(x)
        recon, kl = loss_terms(x, rebuilt, mean, log_var)
        return recon + kl, len(x), {"recon": float(recon.detach()) * len(x), "kl": float(kl.detach()) * len(x)}


def train(x: torch.Tensor, *, epochs: int = 8, batch: int = 128, lr: float = 2e-3, seed: int = 0,
          callbacks=()) -> DigitVAE:
    """Train a DigitVAE on images ``x`` (N, 1, 28, 28) in [0, 1]; labels are never used.

    Through the one training loop (``cnnviz.train.fit.fit``) with Adam, a constant learning rate and no
    validation set; ``callbacks`` (``cnnviz.train.fit.Callback``) watch it.
    """
    from cnnviz.train.fit import Batches, FitConfig, fit

    torch.manual_seed(seed)      # the weights, then every draw of the reparameterization trick
    model = DigitVAE()
    config = FitConfig(epochs=epochs, lr=lr, optimizer="adam", cosine=False, patience=None,
                       restore_best=False, seed=None)
    fit(model, Batches(x, batch_size=batch, seed=seed), None, config, callbacks, objective=VAELoss())
    return model


def main(argv: list[str] | None = None) -> int:
    from safetensors.torch import save_file

    from cnnviz.data import datasets as cdata
    from cnnviz.train.fit import Progress

    ap = argparse.ArgumentParser(prog="python -m cnnviz.train.autoencoder",
                                 description="Rebuild the bundled digits VAE (CPU, seeded).")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=str(WEIGHTS.parent))
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    x, _ = cdata.as_tensors(cdata.load_dataset("mnist", train=True))
    test, _ = cdata.as_tensors(cdata.load_dataset("mnist", train=False))
    start = time.perf_counter()
    model = train(x, epochs=a.epochs, seed=a.seed, callbacks=[Progress(on_epoch=lambda s: print(
        f"epoch {s.epoch}: reconstruction {s.metrics['recon']:.1f}, KL {s.metrics['kl']:.2f}", file=sys.stderr))])
    seconds = time.perf_counter() - start
    report = evaluate(model, test)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "vae-digits.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path),
              metadata={"model": "vae-digits (DigitVAE)"})
    path.chmod(0o644)
    blob = path.read_bytes()
    card = {
        "name": "vae-digits", "architecture": "DigitVAE", "latent": LATENT,
        "input": "1x28x28 MNIST digit, white on black, values in [0, 1]",
        "data": {"dataset": "mnist", "train_images": len(x), "test_images": len(test),
                 "labels_used": False},
        "training": {"epochs": a.epochs, "batch_size": 128, "optimizer": "Adam", "lr": 2e-3,
                     "seed": a.seed, "loss": "binary cross-entropy summed over pixels + KL divergence",
                     "seconds": round(seconds, 1), "threads": a.threads, "torch": torch.__version__},
        "metrics": {"test_reconstruction_bce": round(report.recon, 2), "test_kl": round(report.kl, 3),
                    "test_pixel_mse": round(report.mse, 5)},
        "command": "python -m cnnviz.train.autoencoder" + (" " + " ".join(argv) if argv else ""),
        "params": sum(p.numel() for p in model.parameters()),
        "file": {"name": path.name, "bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()},
        "limits": "Two latent numbers: reconstructions are blurry averages, and digits that look "
                  "alike (4/9, 3/5/8) share a region of the plane. Trained on MNIST only.",
    }
    (out / "vae-digits.json").write_text(json.dumps(card, indent=2) + "\n")
    print(f"test reconstruction {report.recon:.1f}, KL {report.kl:.2f}, pixel MSE {report.mse:.4f}, "
          f"{seconds:.0f} s -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
