"""From scratch, transfer learning, fine-tuning (cnnviz.train.transfer, cnnviz.train.experiment) and the few-images splits
(cnnviz.data)."""

import copy

import numpy as np
import pytest
import torch

from cnnviz.train import cards, experiment, fit, transfer
from cnnviz import data, models

needs = {name: pytest.mark.skipif(not data.is_available(name), reason=f"{name} not in {data.data_root()}")
         for name in ("mnist", "fashion", "cifar10-subset")}


@pytest.fixture(scope="module")
def digits():
    return models.load("digits").model


@pytest.fixture(scope="module")
def fashion_net():
    return models.load("fashion").model


# ------------------------------------------------------------------ data
@needs["fashion"]
def test_few_shot_is_balanced_seeded_and_holds_out_validation():
    split = data.few_shot("fashion", 10, seed=3, test_limit=300)
    assert split.num_classes == 10
    assert torch.bincount(split.train_y, minlength=10).tolist() == [8] * 10
    assert torch.bincount(split.val_y, minlength=10).tolist() == [2] * 10
    assert split.train_x.shape == (80, 1, 28, 28) and split.test_x.shape == (300, 1, 28, 28)
    assert 0 <= float(split.train_x.min()) and float(split.train_x.max()) <= 1
    again = data.few_shot("fashion", 10, seed=3, test_limit=300)
    assert torch.equal(split.train_x, again.train_x) and torch.equal(split.val_y, again.val_y)
    other = data.few_shot("fashion", 10, seed=4, test_limit=300)
    assert not torch.equal(split.train_x, other.train_x)
    # no image is both a training and a validation image
    flat_t, flat_v = split.train_x.flatten(1), split.val_x.flatten(1)
    assert not any(bool((flat_t == v).all(1).any()) for v in flat_v)


@needs["mnist"]
def test_few_shot_refuses_impossible_requests():
    with pytest.raises(data.DataError) as err:
        data.few_shot("mnist", 1)
    assert "2" in err.value.message("pt_BR")
    with pytest.raises(data.DataError) as err:
        data.few_shot("mnist", 100_000)
    assert err.value.key == "data.error.not_enough"


def test_adapt_changes_channels_and_size():
    grey = torch.rand(4, 1, 28, 28)
    rgb = data.adapt(grey, 3, (32, 32))
    assert rgb.shape == (4, 3, 32, 32)
    assert torch.allclose(rgb[:, 0], rgb[:, 1]) and torch.allclose(rgb[:, 1], rgb[:, 2])
    back = data.adapt(torch.ones(2, 3, 8, 8) * torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1), 1, (8, 8))
    assert torch.allclose(back, torch.full((2, 1, 8, 8), 0.299))
    assert data.adapt(grey, 1, (28, 28)) is grey
    with pytest.raises(data.DataError):
        data.adapt(torch.rand(1, 2, 4, 4), 3, (4, 4))


# ------------------------------------------------------------------ building the networks
def test_transfer_freezes_features_and_renews_the_decision_layers(digits):
    before = copy.deepcopy(digits.state_dict())
    model, plan = transfer.transfer_model(digits, 5, seed=1)
    status = {p.name: p.status for p in plan}
    assert status["conv1"] == status["conv2"] == "frozen"
    assert status["fc1"] == status["fc2"] == "new" and status["relu1"] == "no_weights"
    assert model.fc2.out_features == 5
    assert torch.equal(model.conv2.weight, digits.conv2.weight)          # features copied...
    assert not torch.equal(model.fc1.weight, digits.fc1.weight)          # ...decision layers new
    trainable, frozen = transfer.param_split(model)
    assert frozen == 320 + 18_496 and trainable == 401_536 + 128 * 5 + 5
    assert all(torch.equal(v, digits.state_dict()[k]) for k, v in before.items())   # source untouched
    assert all(p.requires_grad for p in digits.parameters())


def test_fine_tuning_unfreezes_from_the_chosen_layer(fashion_net):
    assert transfer.trainable_from_choices(fashion_net) == ["conv1", "conv2", "conv3"]
    model, plan = transfer.transfer_model(fashion_net, 10, train_from="conv3")
    status = {p.name: p.status for p in plan}
    assert status["conv2"] == status["bn2"] == "frozen"
    assert status["conv3"] == status["bn3"] == "pretrained"
    assert status["fc2"] == "new"
    with pytest.raises(ValueError):
        transfer.transfer_model(fashion_net, 10, train_from="fc1")


def test_scratch_model_learns_everything():
    model, plan = transfer.scratch_model("cifar10-subset", 10)
    assert transfer.param_split(model) == (142_250, 0)
    assert {p.status for p in plan} == {"new", "no_weights"}


def test_frozen_layers_and_their_batch_norm_statistics_do_not_move(fashion_net):
    model, _ = transfer.transfer_model(fashion_net, 2, train_from="conv3", seed=0)
    frozen_before = {k: v.clone() for k, v in model.state_dict().items() if k.startswith(("conv1", "bn1", "conv2", "bn2"))}
    learning_before = model.conv3.weight.clone()
    ds = data.synthetic_dataset(64, size=28)
    loader = torch.utils.data.DataLoader(ds, batch_size=16)
    fit.fit(model, loader, loader, fit.FitConfig(epochs=2, patience=None, restore_best=False))
    after = model.state_dict()
    for k, v in frozen_before.items():   # weights *and* running_mean/var of frozen BN
        assert torch.equal(after[k], v), k
    assert not torch.equal(model.conv3.weight, learning_before)
    fit.train_mode(model)
    assert not model.bn1.training and model.bn3.training and model.dropout1.training


def test_everything_frozen_is_refused():
    net = torch.nn.Linear(2, 2).requires_grad_(False)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.rand(4, 2), torch.tensor([0, 1, 0, 1])))
    with pytest.raises(ValueError):
        fit.fit(net, loader, loader, fit.FitConfig(epochs=1))


def test_confusion_matrix_counts():
    counts = experiment.confusion_matrix(torch.tensor([0, 0, 1, 2, 2, 2]), torch.tensor([0, 1, 1, 2, 0, 2]), 3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]
    assert counts.sum() == 6 and np.trace(counts) == 4


def test_input_format_follows_the_source_network():
    scratch = experiment.Experiment("mnist", 10)
    assert experiment.input_format(scratch)[:2] == (1, (28, 28))
    moved = experiment.Experiment("mnist", 10, "transfer", "tiny-rgb")
    channels, size, mean, _ = experiment.input_format(moved)
    assert (channels, size, mean) == (3, (32, 32), (0.4914, 0.4822, 0.4465))
    x = experiment.prepare(moved, torch.rand(2, 1, 28, 28))
    assert x.shape == (2, 3, 32, 32)
    with pytest.raises(ValueError):
        experiment.Experiment("mnist", 10, "transfer", "nope").check()
    with pytest.raises(ValueError):
        experiment.Experiment("mnist", 10, "guess").check()


# ------------------------------------------------------------------ whole experiments
@pytest.mark.slow
@needs["fashion"]
def test_three_strategies_learn_far_above_chance(digits):
    split = data.few_shot("fashion", 20, seed=0, test_limit=500)
    results = {}
    for strategy, train_from in (("scratch", None), ("transfer", None), ("fine_tune", "conv2")):
        exp = experiment.Experiment("fashion", 20, strategy, "digits", train_from, epochs=8, patience=5)
        result, model = experiment.run_experiment(exp, split, digits)
        results[strategy] = result
        assert result.test_acc > 0.5, (strategy, result.test_acc)          # chance is 10 %
        assert result.confusion.sum() == 500 and result.test_images == 500
        assert abs(np.trace(result.confusion) / 500 - result.test_acc) < 1e-6
        assert 1 <= result.best_epoch <= len(result.history) <= 8
        assert all(y != p for _, y, p in result.wrong)
        assert not model.training
    assert results["transfer"].frozen == 18_816 and results["scratch"].frozen == 0
    assert results["fine_tune"].frozen == 320


@needs["mnist"]
def test_transfer_from_a_colour_network_to_grey_digits():
    split = data.few_shot("mnist", 10, seed=1, test_limit=200)
    tiny = models.load("tiny-rgb").model
    exp = experiment.Experiment("mnist", 10, "transfer", "tiny-rgb", epochs=3, patience=None)
    result, model = experiment.run_experiment(exp, split, tiny)
    assert len(result.history) == 3 and result.stop_reason == "completed"
    assert result.frozen == sum(p.numel() for n, p in tiny.named_parameters() if not n.startswith("fc"))


@pytest.mark.parametrize("name, last_choice, head", [("resnet18", "layer4", "fc"),
                                                      ("mobilenet_v3_large", "features.16", "classifier.3")])
@pytest.mark.slow
def test_imagenet_networks_as_sources_with_random_weights(name, last_choice, head):
    # offline there are no ImageNet weights: weights=None exercises the same surgery and training
    from cnnviz.models import to_safetensors, zoo

    net = zoo.build_zoo(name)
    features, decision = transfer.units(net)
    assert decision == [head.split(".")[0]]
    choices = transfer.trainable_from_choices(net)
    assert choices[-1] == last_choice and set(choices) <= set(features)
    model, plan = transfer.transfer_model(net, 10, train_from=last_choice)
    assert model.get_submodule(head).out_features == 10
    status = {p.name: p.status for p in plan}
    assert status[features[0]] == "frozen" and status[last_choice] == "pretrained" and status[decision[0]] == "new"
    trainable, frozen = transfer.param_split(model)
    assert frozen > 0 and trainable > 0
    assert net.get_submodule(head).out_features == 1000          # the source is untouched

    split = data.SmallSplit("fashion", torch.rand(20, 1, 28, 28), torch.arange(20) % 10,
                            torch.rand(10, 1, 28, 28), torch.arange(10), torch.rand(30, 1, 28, 28),
                            torch.arange(30) % 10, 10)
    exp = experiment.Experiment("fashion", 3, "fine_tune", name, last_choice, epochs=1, patience=None)
    assert experiment.input_format(exp)[:2] == (3, (transfer.ZOO_INPUT, transfer.ZOO_INPUT))
    result, trained = experiment.run_experiment(exp, split, net)
    assert result.confusion.sum() == 30 and len(result.history) == 1
    card = cards.model_card(result, trained)
    assert card["architecture"] == name
    loaded = models.load_user_weights(to_safetensors(trained), "mine.safetensors", card=card)
    assert loaded.in_channels == 3 and loaded.input_size == (64, 64) and len(loaded.classes) == 10


# ------------------------------------------------------------------ the learner's own pictures
def _pictures(colour, n, seed=0):
    g = torch.Generator().manual_seed(seed)
    base = torch.tensor(colour, dtype=torch.float32).view(3, 1, 1)
    return [(base * 0.8 + 0.2 * torch.rand(3, 64, 64, generator=g)).clamp(0, 1) for _ in range(n)]


def test_own_pictures_are_split_per_class_with_names():
    split = data.from_pictures([("red", _pictures((1, 0, 0), 10)), ("blue", _pictures((0, 0, 1), 5))], seed=2)
    assert split.classes == ["red", "blue"] and split.num_classes == 2 and split.dataset == "own"
    assert torch.bincount(split.val_y).tolist() == [2, 1] and torch.bincount(split.test_y).tolist() == [2, 1]
    assert torch.bincount(split.train_y).tolist() == [6, 3]
    assert split.train_x.shape[1:] == (3, 64, 64)


@pytest.mark.parametrize("groups, key", [
    ([("a", _pictures((1, 0, 0), 5))], "data.error.own_classes"),
    ([("a", _pictures((1, 0, 0), 5)), ("  ", _pictures((0, 1, 0), 5))], "data.error.own_names"),
    ([("cat", _pictures((1, 0, 0), 5)), ("Cat", _pictures((0, 1, 0), 5))], "data.error.own_names"),
    ([("a", _pictures((1, 0, 0), 5)), ("b", _pictures((0, 1, 0), 2))], "data.error.own_too_few"),
])
def test_own_pictures_refused_with_a_reason(groups, key):
    with pytest.raises(data.DataError) as err:
        data.from_pictures(groups)
    assert err.value.key == key and err.value.message("pt_BR") != str(err.value)     # said in Portuguese too


def test_a_picture_becomes_its_centred_square():
    from PIL import Image

    img = Image.new("RGB", (300, 100), (0, 0, 255))
    img.paste((255, 0, 0), (100, 0, 200, 100))          # the centred square is red
    x = data.picture_tensor(img)
    assert x.shape == (3, 64, 64)
    assert float(x[0].mean()) > 0.95 and float(x[2].mean()) < 0.05


@pytest.mark.slow
def test_a_network_learns_the_learners_own_classes_and_keeps_their_names():
    from cnnviz.models import to_safetensors

    split = data.from_pictures([("red", _pictures((1, 0, 0), 12)), ("green", _pictures((0, 1, 0), 12, 1)),
                                ("blue", _pictures((0, 0, 1), 12, 2))])
    exp = experiment.Experiment("own", 12, "scratch", epochs=6, patience=None, lr=3e-3)
    result, model = experiment.run_experiment(exp, split)
    assert result.test_acc == 1.0                      # colours are easy
    # ...on only 6 test pictures (2 per class): 6 of 6 right says the accuracy is likely above 61 %
    assert result.test_images == 6 and result.test_correct == 6
    assert result.test_interval == fit.accuracy_interval(6, 6) == (pytest.approx(0.6097, abs=1e-4), 1.0)
    assert result.classes == ["red", "green", "blue"]
    card = cards.model_card(result, model)
    loaded = models.load_user_weights(to_safetensors(model), "mine.safetensors", card=card)
    assert loaded.classes == ["red", "green", "blue"] and loaded.arch == "TinyVGG"


# ------------------------------------------------------------------ what the lesson reads off a result
def test_the_hardest_class_and_what_it_is_mistaken_for():
    confusion = np.array([[9, 1, 0], [2, 3, 5], [0, 0, 0]])      # class 2 has no test image
    assert experiment.per_class_accuracy(confusion).tolist() == [0.9, 0.3, 0.0]
    assert experiment.hardest_class(confusion) == (2, 0.0, 0)    # no image right: the hardest, tie -> first
    confusion[2] = [1, 0, 4]
    worst, acc, other = experiment.hardest_class(confusion)
    assert (worst, other) == (1, 2) and acc == pytest.approx(0.3)   # 5 of its 10 were called class 2


def _result(history, best_epoch):
    return experiment.ExperimentResult(experiment.Experiment("mnist", 10), [], 0, 0, history, best_epoch, "completed",
                                       1.0, 0.5, np.eye(2, dtype=np.int64), 16, 4, 2)


def test_the_kept_epoch_and_the_overfitting_gap():
    history = [{"train_acc": 0.6, "val_acc": 0.5}, {"train_acc": 0.95, "val_acc": 0.7},
               {"train_acc": 1.0, "val_acc": 0.6}]
    result = _result(history, 2)
    assert result.best is history[1]
    assert result.overfit_gap == pytest.approx(25.0)               # 95 % on its training images, 70 % on new ones
    assert result.hardest == (0, 1.0, 1)
    nothing_kept = _result(history, 0)
    assert nothing_kept.best is history[-1] and nothing_kept.overfit_gap == 0.0


@pytest.mark.parametrize("dataset, strategy, source, want", [
    ("mnist", "transfer", "tiny-rgb", (1, 28, 3, 32)),     # grey 28 x 28 digits -> colour 32 x 32
    ("own", "transfer", "digits", (3, 64, 1, 28)),         # the learner's 64 x 64 colour pictures -> grey 28 x 28
    ("cifar10-subset", "fine_tune", "resnet18", (3, 32, 3, 64)),
    ("fashion", "transfer", "digits", None),                # the same format: only normalized
    ("cifar10-subset", "scratch", None, None),
])
def test_when_transfer_changes_the_pictures(dataset, strategy, source, want):
    assert experiment.adapted_format(experiment.Experiment(dataset, 10, strategy, source)) == want


def test_a_trained_network_is_handed_over_typed():
    split = data.from_pictures([("red", _pictures((1, 0, 0), 6)), ("green", _pictures((0, 1, 0), 6, 1))])
    result, model = experiment.run_experiment(experiment.Experiment("own", 6, epochs=1, patience=None), split)
    export = experiment.TrainedNetwork.from_run(result, model, split, examples=2)
    assert export.result is result and export.card == cards.model_card(result, model)
    assert export.name == export.card["name"] == "own-scratch-6"
    with pytest.raises(AttributeError):
        export.card = {}                                       # frozen: what a lesson handed over stays
    loaded = models.load_user_weights(export.weights, "trained.safetensors", card=export.card)
    assert loaded.classes == ["red", "green"]
    xs, ys = export.examples
    assert torch.equal(xs, split.test_x[:2]) and torch.equal(ys, split.test_y[:2])
    pictures = export.example_pictures()
    assert [(i, y) for i, y, _ in pictures] == [(0, int(ys[0])), (1, int(ys[1]))]
    assert all(p.mode == "RGB" and p.size == (64, 64) for _, _, p in pictures)
    red = int(ys[0] == 0)   # the first example's dominant channel: red for class 0, green for class 1
    r, g, _ = (np.asarray(pictures[0][2]).reshape(-1, 3).mean(0))
    assert (r > g) == bool(red)
