"""cnnviz.data.explore against numpy and torchvision: histograms, per-channel statistics, the
normalization constants the networks use (recomputed from the raw files where the full datasets
are), augmentations and the DataLoader."""

import math
import pickle

import numpy as np
import pytest
from app_helpers import mean_and_std

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from cnnviz.base.memory import torchvision  # noqa: E402
from cnnviz.data import datasets, explore  # noqa: E402

TF = torchvision().transforms.functional
Normalize = torchvision().transforms.Normalize


def _random(n, shape, seed=0, high=256):
    return np.random.default_rng(seed).integers(0, high, (n, *shape), dtype=np.uint8)


@pytest.mark.parametrize("shape", [(5, 4), (3, 4, 3)])
def test_histogram_and_statistics_match_numpy_across_chunks(shape):
    images = _random(explore.CHUNK + 7, shape, high=200)          # more than one chunk
    counts = explore.histogram(images)
    pixels = images.reshape(len(images), -1, 1 if len(shape) == 2 else 3)
    for c in range(counts.shape[0]):
        assert counts[c].tolist() == np.histogram(pixels[..., c], bins=256, range=(0, 256))[0].tolist()
    stats = explore.channel_stats(counts)
    x = pixels.astype(np.float64) / 255
    np.testing.assert_allclose(stats.mean, x.mean(axis=(0, 1)), rtol=0, atol=1e-12)
    np.testing.assert_allclose(stats.std, x.std(axis=(0, 1)), rtol=0, atol=1e-12)
    assert stats.pixels == pixels.shape[0] * pixels.shape[1]


def test_normalizing_with_the_computed_constants_gives_mean_0_and_std_1():
    images = _random(64, (6, 6, 3), seed=1)
    stats = explore.channel_stats(explore.histogram(images))
    x = torch.from_numpy(images).permute(0, 3, 1, 2).double() / 255
    out = Normalize(stats.mean, stats.std)(x)                      # torchvision's own Normalize
    np.testing.assert_allclose(out.mean(dim=(0, 2, 3)).numpy(), 0, atol=1e-9)
    np.testing.assert_allclose(out.std(dim=(0, 2, 3), unbiased=False).numpy(), 1, atol=1e-9)
    # and with other constants, what the lesson says the data becomes
    mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
    out = Normalize(mean, std)(x)
    after_mean, after_std = explore.after_normalize(stats, mean, std)
    # (datasets.normalize holds the constants as float32)
    np.testing.assert_allclose(after_mean, out.mean(dim=(0, 2, 3)).numpy(), atol=1e-6)
    np.testing.assert_allclose(after_std, out.std(dim=(0, 2, 3), unbiased=False).numpy(), atol=1e-6)


def _idx(path) -> np.ndarray:
    return np.frombuffer(path.read_bytes(), np.uint8, offset=16)


@pytest.mark.parametrize("name, folder", [("mnist", "MNIST"), ("fashion", "FashionMNIST")])
def test_the_networks_constants_are_the_training_sets_mean_and_std(name, folder):
    """The constants in datasets.DATASETS, to the 4 decimals they are written with, are the mean and
    std of the 60,000 training images (read here from the idx file with numpy), and the lesson's
    streaming computation finds them too."""
    if not datasets.is_available(name):
        pytest.skip(f"the full {name} is not in the data root (CNNVIZ_DATA)")
    pixels = _idx(datasets.data_root() / folder / "raw" / "train-images-idx3-ubyte")
    assert pixels.size == 60_000 * 28 * 28 and explore.ORIGIN[name] == (name, 60_000)
    info = datasets.DATASETS[name]
    (mean,), (std,) = mean_and_std(pixels)
    assert (round(mean, 4),) == info.mean and (round(std, 4),) == info.std
    col = explore.collection(name)
    assert col.source == "full" and col.n == 60_000
    stats = explore.channel_stats(explore.histogram(col.images))
    assert tuple(round(v, 4) for v in stats.mean) == info.mean and tuple(round(v, 4) for v in stats.std) == info.std


def test_the_cifar_subset_is_close_to_but_not_the_full_cifar10_constants():
    """The lesson says the 4,000-image subset's statistics differ a little from the 50,000 images'
    constants the network uses (the full CIFAR-10 is needed to check those to 4 decimals)."""
    if not datasets.is_available("cifar10-subset"):
        pytest.skip("the CIFAR-10 subset is not in the data root (CNNVIZ_DATA)")
    with open(datasets.data_root() / "cifar-10-subset" / "data_batch_1", "rb") as f:
        batch = pickle.load(f, encoding="bytes")
    info = datasets.DATASETS["cifar10-subset"]
    mean, std = mean_and_std(np.asarray(batch[b"data"]).reshape(-1, 3, 1024).transpose(0, 2, 1), 3)
    assert np.abs(mean - info.mean).max() < 0.003 and np.abs(std - info.std).max() < 0.003
    assert tuple(np.round(mean, 4)) != info.mean
    stats = explore.channel_stats(explore.histogram(explore.collection("cifar10-subset").images))
    np.testing.assert_allclose(stats.mean, mean, atol=1e-12)
    np.testing.assert_allclose(stats.std, std, atol=1e-12)


def test_the_full_cifar10_constants():
    if not datasets.is_available("cifar10"):
        pytest.skip("the full CIFAR-10 (50,000 training images) is not in the data root")
    col = explore.collection("cifar10")
    mean, std = mean_and_std(col.images, 3)
    info = datasets.DATASETS["cifar10"]
    assert col.n == 50_000
    assert tuple(np.round(mean, 4)) == info.mean and tuple(np.round(std, 4)) == info.std


def test_a_fresh_machine_looks_at_the_bundled_sample(tmp_path):
    for name in ("mnist", "fashion", "cifar10-subset"):
        col = explore.collection(name, tmp_path)
        sample = np.load(datasets.sample_path(name))
        assert col.source == "sample" and col.n == 1000
        assert np.array_equal(col.images, sample["images"]) and col.labels.tolist() == sample["labels"].tolist()
        assert col.values == 1000 * int(np.prod(sample["images"].shape[1:]))
        assert explore.class_counts(col.labels, 10).tolist() == np.bincount(sample["labels"], minlength=10).tolist()


def test_samples_per_class():
    labels = np.array([2, 0, 1, 0, 2, 2, 0, 1, 2, 0])
    assert explore.samples_per_class(labels, 4, 2) == [[1, 3], [2, 7], [0, 4], []]
    drawn = explore.samples_per_class(labels, 3, 2, seed=5)
    assert drawn == explore.samples_per_class(labels, 3, 2, seed=5)
    assert all(labels[i] == c for c, row in enumerate(drawn) for i in row) and [len(r) for r in drawn] == [2, 2, 2]


def test_augmentations_match_their_definitions():
    img = _random(1, (16, 16, 3), seed=2)[0]
    # a quarter turn is numpy's rot90 (counter-clockwise)
    assert np.array_equal(explore.rotate(img, 90), np.rot90(img))
    # a crop of the whole picture is the picture
    assert np.array_equal(explore.crop_resize(img, 0, 0, 16), img)
    # brightness then contrast, as torchvision's functional transforms on [0, 1] floats
    x = torch.from_numpy(img).permute(2, 0, 1).double() / 255
    want = TF.adjust_contrast(TF.adjust_brightness(x, 1.3), 0.7).permute(1, 2, 0).numpy() * 255
    assert np.abs(explore.jitter(img, 1.3, 0.7).astype(float) - want).max() <= 0.5 + 1e-6
    # noise: seeded, of the stated spread on a mid-grey picture (nothing clipped)
    grey = np.full((64, 64, 1), 128, np.uint8)
    a, b = (explore.noise(grey, 0.05, np.random.default_rng(0)) for _ in range(2))
    assert np.array_equal(a, b) and abs((a.astype(float) - 128).std() / 255 - 0.05) < 0.003
    # the previews: the same for the same seed, others for another, the picture's size kept
    for kind in explore.COMMON:
        one = explore.augmented(img, kind, 3, 4)
        assert [x.shape for x in one] == [img.shape] * 4
        assert all(np.array_equal(p, q) for p, q in zip(one, explore.augmented(img, kind, 3, 4)))
        assert not all(np.array_equal(p, q) for p, q in zip(one, explore.augmented(img, kind, 4, 4)))


def test_the_loader_serves_the_pictures_in_shuffled_batches():
    images = _random(103, (5, 5, 3), seed=3)
    col = explore.Collection("t", images, np.arange(103), 103, "own")   # the label is the picture's index
    loader = explore.loader(col, 16, seed=1)
    assert len(loader) == math.ceil(103 / 16) == 7
    batches = list(loader)
    assert [tuple(x.shape) for x, _ in batches] == [(16, 3, 5, 5)] * 6 + [(7, 3, 5, 5)]
    seen = torch.cat([y for _, y in batches])
    assert sorted(seen.tolist()) == list(range(103)) and seen.tolist() != list(range(103))
    x, y = batches[0]
    np.testing.assert_allclose(x.numpy(), images[y.numpy()].transpose(0, 3, 1, 2) / 255, atol=1e-7)


def test_own_pictures_are_kept_as_the_centred_square_at_64():
    from PIL import Image

    arr = np.zeros((40, 100, 3), np.uint8)
    arr[:, 30:70] = 255                                      # the centred 40 x 40 square is white
    kept = explore.own_picture(Image.fromarray(arr))
    assert kept.shape == (64, 64, 3) and kept.dtype == np.uint8 and kept[:, 2:-2].min() == 255
    col = explore.own_collection([kept, kept])
    assert (col.n, col.height, col.width, col.channels, col.num_classes) == (2, 64, 64, 3, 1)
    with pytest.raises(datasets.DataError):
        explore.own_collection([])


def test_which_networks_use_which_constants():
    assert explore.networks_using("mnist") == ["digits"]
    assert explore.networks_using("fashion") == ["fashion"]
    assert explore.networks_using("cifar10-subset") == ["tiny-rgb"]
    assert [explore.brightness_band(v) for v in (0.13, 0.25, 0.49, 0.5, 0.8)] == [0, 1, 1, 2, 3]


def test_a_histogram_is_drawn_on_a_log_scale_only_where_one_value_holds_most_pixels():
    dark = np.zeros((10, 4, 4), np.uint8)
    dark[:, 0, 0] = 200                                        # 15 of 16 pixels black
    assert explore.peaked(explore.histogram(dark))
    assert not explore.peaked(explore.histogram(_random(10, (4, 4, 3), seed=4)))
