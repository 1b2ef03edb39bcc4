"""cnnviz.analysis.confidence: the confidence levels of a prediction, and the out-of-distribution warning."""

import math

import numpy as np
import pytest

from cnnviz.analysis import confidence
from cnnviz.maths import layers


def test_softmax_always_adds_up_to_one_and_picks_a_class():
    """The point the note teaches: even meaningless outputs become percentages that sum to 100 %."""
    for z in ([0.0, 0.0, 0.0], [1000.0, -1000.0, 3.0], [-50.0, -51.0, -49.5]):
        p = layers.probabilities(z)   # the one softmax, as assess uses it
        assert p.sum() == pytest.approx(1.0)
        assert (p >= 0).all()


def test_numbers_of_a_clear_prediction():
    c = confidence.assess([0.0, 5.0, 1.0])
    p = np.exp([0.0, 5.0, 1.0]) / np.exp([0.0, 5.0, 1.0]).sum()
    assert (c.top, c.second) == (1, 2)
    assert c.top_prob == pytest.approx(p[1])
    assert c.margin == pytest.approx(p[1] - p[2])
    assert c.entropy == pytest.approx(-(p * np.log(p)).sum() / math.log(3))
    assert c.energy == pytest.approx(math.log(np.exp([0.0, 5.0, 1.0]).sum()))
    assert c.level == "confident"
    assert c.familiar is None                     # no reference: can't tell


def test_uniform_outputs_are_unsure_with_entropy_one():
    c = confidence.assess(np.zeros(10))
    assert c.top_prob == pytest.approx(0.1)
    assert c.entropy == pytest.approx(1.0)
    assert c.margin == pytest.approx(0.0)
    assert c.level == "unsure"


def test_unsure_threshold():
    # two classes: p(top) = sigmoid(d); just under / over the threshold
    d = math.log(confidence.UNSURE_BELOW / (1 - confidence.UNSURE_BELOW))
    assert confidence.assess([d - 0.01, 0.0]).level == "unsure"
    assert confidence.assess([d + 0.01, 0.0]).level == "confident"


def test_torch_and_batch_of_one_are_accepted():
    torch = pytest.importorskip("torch")
    c = confidence.assess(torch.tensor([[0.5, 2.0, -1.0]]))
    assert c.top == 1


@pytest.mark.parametrize("bad", [[], [[1.0, 2.0], [3.0, 4.0]], [1.0, float("nan")]])
def test_bad_logits_are_refused(bad):
    with pytest.raises(ValueError):
        confidence.assess(bad)


def test_reference_is_the_low_quantile_of_the_energies():
    rng = np.random.default_rng(0)
    own = rng.normal(0, 1, (200, 10))
    own[np.arange(200), rng.integers(0, 10, 200)] += rng.uniform(6, 12, 200)   # one strong class each
    ref = confidence.reference(own)
    e = confidence.energies(own)
    assert ref.n == 200
    assert ref.energy_low == pytest.approx(np.quantile(e, confidence.REFERENCE_QUANTILE))
    assert np.mean(e < ref.energy_low) == pytest.approx(confidence.REFERENCE_QUANTILE, abs=0.01)


def test_weak_evidence_is_unfamiliar_even_when_the_softmax_is_sure():
    """A picture unlike the training set: small logits, yet one class gets most of the percentage."""
    ref = confidence.Reference(energy_low=9.0, energy_median=14.0, n=500)
    weak = [4.0, 0.0, 0.0, 0.0]                       # softmax: 95 % for class 0
    c = confidence.assess(weak, ref)
    assert c.top_prob > 0.9
    assert c.level == "unfamiliar" and c.familiar is False
    strong = [14.0, 0.0, 0.0, 0.0]
    c = confidence.assess(strong, ref)
    assert c.level == "confident" and c.familiar is True


def test_unsure_but_familiar():
    ref = confidence.Reference(energy_low=1.0, energy_median=3.0, n=100)
    c = confidence.assess([3.0, 2.9, 2.8], ref)
    assert c.familiar and c.level == "unsure"


def test_reference_of_a_network():
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3)).eval()
    x = torch.randn(10, 1, 2, 2)
    ref = confidence.reference_of(model, x, batch=3)
    with torch.no_grad():
        expected = confidence.reference(model(x), features=x.reshape(10, -1))   # what the Linear reads
    assert ref == expected
    assert np.allclose(ref.features, expected.features) and ref.features.shape == (10, 4)


def test_features_far_from_every_reference_picture_are_unfamiliar_even_with_strong_evidence():
    """The energy alone misses pictures whose outputs happen to be strong (Tiny VGG gave the
    checkerboard 'frog 89.9 %' with ordinary energy): what the last layer reads is compared too."""
    rng = np.random.default_rng(1)
    centres = np.eye(8)[:4] * 5                                       # four classes, four directions
    feats = np.repeat(centres, 50, axis=0) + rng.normal(0, 0.5, (200, 8))
    logits = np.zeros((200, 4))
    logits[np.arange(200), np.repeat(np.arange(4), 50)] = 12.0
    ref = confidence.reference(logits, features=np.abs(feats))
    assert ref.features.shape == (200, 8) and 0 < ref.distance_high < 0.2
    strong = [12.0, 0.0, 0.0, 0.0]
    near = confidence.assess(strong, ref, features=np.abs(centres[0] + rng.normal(0, 0.5, 8)))
    assert near.level == "confident" and near.familiar and near.distance < ref.distance_high
    far = confidence.assess(strong, ref, features=np.eye(8)[6] * 5)   # a direction no class uses
    assert far.level == "unfamiliar" and far.familiar is False and far.far_features and not far.weak_evidence
    assert confidence.assess(strong, ref).level == "confident"       # no features given: the energy only


def test_the_feature_threshold_is_a_quantile_of_each_pictures_nearest_other():
    rng = np.random.default_rng(2)
    feats = np.abs(rng.normal(0, 1, (100, 6)))
    ref = confidence.reference(rng.normal(0, 1, (100, 3)), features=feats)
    unit = feats / np.linalg.norm(feats, axis=1, keepdims=True)
    cos = unit @ unit.T
    np.fill_diagonal(cos, -np.inf)
    assert ref.distance_high == pytest.approx(np.quantile(1 - cos.max(axis=1), confidence.FEATURE_QUANTILE), abs=1e-5)


@pytest.mark.parametrize("name, sample, level", [("tiny-rgb", "checkerboard", "unfamiliar"),
                                                  ("tiny-rgb", "letters", "unfamiliar"),
                                                  ("digits", "letters", "unfamiliar"),
                                                  ("fashion", "checkerboard", "unfamiliar")])
def test_the_apps_foreign_samples_are_called_unfamiliar(name, sample, level):
    """Measured on the bundled test sample (as a fresh machine has it): the references of the
    lessons (300 test pictures), then an app sample the network never saw the like of."""
    torch = pytest.importorskip("torch")
    from cnnviz import data, models
    from cnnviz.maths import images
    from cnnviz.analysis import inspect

    loaded = models.load(name)
    ref = confidence.dataset_reference(loaded, data.dataset_for_model(name), 300, native=True)
    out, f = inspect.with_features(loaded.model, loaded.preprocess(images.load_sample(sample)))
    assert confidence.assess(out[0], ref, features=f[0]).level == level


@pytest.mark.parametrize("name", ["digits", "fashion", "tiny-rgb"])
def test_few_of_a_networks_own_held_out_pictures_are_called_unfamiliar(name):
    """The price of the two checks: some of the network's own pictures are flagged too (about
    5 % by the energy, 1 % by the features, more than that on held-out pictures): about 1 in 10."""
    torch = pytest.importorskip("torch")
    from cnnviz import data, models
    from cnnviz.analysis import inspect

    loaded = models.load(name)
    x, _ = data.first_test_images(data.dataset_for_model(name), 800)
    x = data.normalize(x, loaded.mean, loaded.std)
    ref = confidence.reference_of(loaded.model, x[:300])
    out, f = inspect.with_features(loaded.model, x[300:])
    flagged = np.mean([confidence.assess(o, ref, features=v).level == "unfamiliar" for o, v in zip(out, f)])
    assert 0.01 < flagged <= 0.12, flagged


@pytest.mark.parametrize("name", ["digits", "fashion", "tiny-rgb"])
def test_a_bundled_networks_reference_on_its_test_pictures_as_a_batch_or_one_by_one(name):
    """ui measures a bundled network's reference on a normalized batch of its test pictures (fast):
    that must be what measuring each picture the way a learner's goes (``preprocess``) gives, or the
    threshold would be off."""
    from cnnviz import data, models

    loaded = models.load(name)
    dataset = data.dataset_for_model(name)
    batch = confidence.dataset_reference(loaded, dataset, 40, native=True)
    one_by_one = confidence.dataset_reference(loaded, dataset, 40, native=False)
    assert batch.n == one_by_one.n == 40
    assert batch.energy_low == pytest.approx(one_by_one.energy_low, abs=1e-4)
    assert batch.energy_median == pytest.approx(one_by_one.energy_median, abs=1e-4)
    assert batch.distance_high == pytest.approx(one_by_one.distance_high, abs=1e-4)
    np.testing.assert_allclose(batch.features, one_by_one.features, atol=1e-5)
    pictures = data.first_test_pictures(dataset, 40)
    assert confidence.reference_of_pictures(loaded, pictures) == one_by_one


def test_a_dataset_that_cannot_be_read_gives_no_reference(monkeypatch, caplog):
    from cnnviz import models
    from cnnviz.data import datasets

    def missing(name, *, train, **kw):
        raise datasets.DataError("data.error.missing", dataset=name, files="t10k-images-idx3-ubyte",
                                 folder="/nowhere", url="https://example.org")

    monkeypatch.setattr(datasets, "load_dataset", missing)
    loaded = models.load("digits")
    for native in (True, False):
        assert confidence.dataset_reference(loaded, "mnist", 10, native=native) is None
    assert "no reference for digits on mnist" in caplog.text
