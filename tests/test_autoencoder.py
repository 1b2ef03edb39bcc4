"""The digits VAE (cnnviz.train.autoencoder): shapes, loss, training, the bundled weights."""

import json

import pytest
import torch

from cnnviz.train import autoencoder as ae
from cnnviz import data


def blobs(n=256, seed=0):
    """Bright discs at random places on black: learnable in seconds."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    cy, cx = torch.randint(7, 21, (2, n), generator=g).float()
    return ((yy - cy.view(-1, 1, 1)) ** 2 + (xx - cx.view(-1, 1, 1)) ** 2 < 25).float()[:, None]


def test_shapes_and_ranges():
    model = ae.DigitVAE().eval()
    x = torch.rand(5, 1, 28, 28)
    mean, std = ae.encode(model, x)
    assert mean.shape == std.shape == (5, 2) and bool((std > 0).all())
    out = ae.decode(model, mean)
    assert out.shape == (5, 28, 28) and 0 <= float(out.min()) and float(out.max()) <= 1
    assert ae.manifold(model, 6, 2.0).shape == (6 * 28, 6 * 28)
    draws = ae.samples(model, x, 8, seed=3)
    assert draws.shape == (8, 28, 28)
    assert torch.equal(draws, ae.samples(model, x, 8, seed=3))          # seeded
    assert not torch.equal(draws[0], draws[1])                           # random draws differ


def test_kl_is_zero_for_the_standard_normal_and_positive_otherwise():
    x = torch.rand(4, 1, 28, 28)
    zero = torch.zeros(4, 2)
    _, kl = ae.loss_terms(x, torch.full_like(x, 0.5), zero, zero)
    assert float(kl) == pytest.approx(0.0, abs=1e-6)
    _, kl = ae.loss_terms(x, torch.full_like(x, 0.5), torch.ones(4, 2), zero)
    assert float(kl) == pytest.approx(1.0)                               # 0.5 * (1 + 1) per image


@pytest.mark.slow
def test_training_without_labels_learns_to_rebuild():
    x = blobs()
    before = ae.evaluate(ae.DigitVAE().eval(), x)
    model = ae.train(x, epochs=15, batch=32, lr=3e-3)
    after = ae.evaluate(model, x)
    assert after.recon < 0.6 * before.recon and after.mse < 0.5 * before.mse


def test_bundled_weights_load_and_their_card_is_true():
    model = ae.load()
    card = json.loads(ae.WEIGHTS.with_suffix(".json").read_text())
    assert card["params"] == sum(p.numel() for p in model.parameters())
    assert card["data"]["labels_used"] is False
    if not data.is_available("mnist"):
        pytest.skip("MNIST not available: the card's metric can't be checked")
    test, labels = data.as_tensors(data.load_dataset("mnist", train=False))
    report = ae.evaluate(model, test)
    assert report.recon == pytest.approx(card["metrics"]["test_reconstruction_bce"], abs=0.05)


@pytest.mark.skipif(not data.is_available("mnist"), reason="MNIST not available")
def test_the_latent_plane_groups_digits_it_never_saw_labels_for():
    model = ae.load()
    x, y = data.as_tensors(data.load_dataset("mnist", train=False), 2000)
    mean, _ = ae.encode(model, x)
    # leave-one-out 5-nearest-neighbour vote in the 2D latent plane: far above chance (10 %)
    d = torch.cdist(mean, mean)
    d.fill_diagonal_(float("inf"))
    votes = y[d.topk(5, largest=False).indices]
    pred = torch.mode(votes, dim=1).values
    assert float((pred == y).float().mean()) > 0.5        # measured: 63 %


def test_the_vae_trains_through_the_one_loop_exactly_as_its_own_loop_did():
    # the bundled weights came from this loop (Adam, a new seeded order every epoch, reconstruction + KL):
    # going through cnnviz.train.fit.fit must not change a single weight
    x = blobs(96, seed=1)
    model = ae.train(x, epochs=2, batch=32, lr=3e-3, seed=4)
    torch.manual_seed(4)
    ref = ae.DigitVAE()
    opt = torch.optim.Adam(ref.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(4)
    for _ in range(2):
        ref.train()
        for idx in torch.randperm(len(x), generator=g).split(32):
            rebuilt, mean, log_var = ref(x[idx])
            recon, kl = ae.loss_terms(x[idx], rebuilt, mean, log_var)
            opt.zero_grad()
            (recon + kl).backward()
            opt.step()
    assert not model.training
    for (name, a), b in zip(model.state_dict().items(), ref.state_dict().values()):
        assert torch.equal(a, b), name


def test_vae_training_reports_both_terms_of_its_loss_every_epoch():
    from cnnviz.train.fit import Progress

    epochs = []
    ae.train(blobs(64), epochs=3, batch=32, callbacks=[Progress(on_epoch=lambda s: epochs.append(s.history[-1]))])
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    for e in epochs:
        assert e["recon"] > 0 and e["kl"] >= 0
        assert e["loss"] == pytest.approx(e["recon"] + e["kl"], rel=1e-4)
        assert "val_acc" not in e                      # no labels, no accuracy


def test_a_round_trip_gives_the_code_its_spread_and_the_rebuilt_picture():
    torch.manual_seed(0)
    model = ae.DigitVAE().eval()
    x = blobs(1)
    trip = ae.round_trip(model, x)
    mean, std = ae.encode(model, x)
    assert trip.mean == tuple(mean[0].tolist()) and trip.std == tuple(std[0].tolist())
    assert torch.equal(trip.rebuilt, ae.decode(model, mean)[0])
    assert trip.error == pytest.approx(float(((trip.rebuilt - x[0, 0]) ** 2).mean()))
    assert ae.round_trip(model, x).mean == trip.mean                 # decoded from the mean: no random draw
    assert ae.INPUT_NUMBERS == 784 and ae.COMPRESSION == 392         # 784 pixels into 2 numbers
