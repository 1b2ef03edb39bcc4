"""An own architecture trained by the Train lesson's code path, its card read back by the upload
loader (so it opens in Inside a CNN and Explain), and the full-dataset recipe's wiring on a small
part of MNIST (the accuracy claim itself is benchmarks/full_mnist.py's)."""

import json

import pytest
import torch

from cnnviz import models
from cnnviz.data import datasets, splits
from cnnviz.data.datasets import DataError
from cnnviz.models import builder
from cnnviz.train import experiment as ex
from cnnviz.train.fit import FitConfig


@pytest.fixture(scope="module")
def trained():
    torch.set_num_threads(1)
    split = splits.few_shot("fashion", 6, seed=1)     # the bundled sample is enough
    exp = ex.Experiment("fashion", 6, arch="c8k3p1m2bn-c8k3p1m2-f16-d20", epochs=1, patience=None, seed=1)
    result, model = ex.run_experiment(exp, split)
    return exp, split, result, model


@pytest.mark.slow
def test_an_own_network_trains_and_reopens_from_its_card(trained):
    exp, split, result, model = trained
    assert [p.name for p in result.plan] == [n for n, _ in model.named_children()]
    assert result.trainable == sum(p.numel() for p in model.parameters()) and result.frozen == 0
    export = ex.TrainedNetwork.from_run(result, model, split)
    card = json.loads(json.dumps(export.card))                  # as downloaded and uploaded again
    assert card["architecture"] == builder.ARCH_NAME and card["layers"] == exp.arch and card["like"] == "FashionCNN"
    loaded = models.load_user_weights(export.weights, "mine.safetensors", card=card)
    assert loaded.arch == builder.ARCH_NAME and loaded.preprocessing == "fashion"
    assert loaded.class_label(0, "pt_BR") == "Camiseta" and loaded.input_size == (28, 28)
    x = ex.prepare(exp, split.test_x[:8])
    with torch.no_grad():
        assert torch.equal(loaded.model(x), model.eval()(x))
    picture = export.example_pictures()[0][2]                   # what Inside and Explain open on
    assert loaded.preprocess(picture).shape == (1, 1, 28, 28)
    assert loaded.conv_layers() == ["conv1", "conv2"]


def test_a_damaged_card_is_a_message_not_a_traceback(trained):
    exp, split, result, model = trained
    weights = models.to_safetensors(model)
    card = ex.model_card(result, model)
    for bad, key in (({**card, "layers": "c8k3p1m2bn-c8k3p1m2-f99"}, "models.user_wrong_arch"),
                     ({**card, "layers": "rm -rf"}, "models.arch.bad_text"),
                     ({**card, "like": "Nope"}, "models.user_bad_card")):
        with pytest.raises(models.ModelError if key.startswith("models.user") else builder.ArchitectureError) as err:
            models.load_user_weights(weights, "mine.safetensors", card=bad)
        assert err.value.key == key


def test_an_own_architecture_is_from_scratch_only():
    with pytest.raises(ValueError):
        ex.Experiment("mnist", 10, "transfer", source="fashion", arch="c8k3p1").check()
    with pytest.raises(builder.ArchitectureError):
        ex.Experiment("mnist", 10, arch="c8k3p1-zzz").check()


def test_the_full_recipe():
    exp = ex.full_experiment("mnist", seed=3)
    assert exp.full and exp.arch == builder.FULL_MNIST.text() and exp.epochs == 2 and exp.batch_size == 128
    config = ex.fit_config(exp)
    assert isinstance(config, FitConfig) and config.cosine and config.optimizer == "adamw"
    assert config.weight_decay == ex.FULL_RECIPE.weight_decay > 0 and config.patience is None
    blocks = builder.FULL_MNIST.blocks
    assert len(blocks) == 3 and all(b.batch_norm and b.pool == 2 for b in blocks)
    lesson = ex.fit_config(ex.Experiment("mnist", 10))
    assert not lesson.cosine and lesson.weight_decay == 0


def test_the_whole_training_set_needs_the_full_data(monkeypatch):
    monkeypatch.setattr(splits, "source", lambda name, root=None: "sample")
    with pytest.raises(DataError) as err:
        splits.full_split("mnist")
    assert err.value.key == "data.error.full_needed" and "treino" in err.value.message("pt_BR")


@pytest.mark.slow
@pytest.mark.skipif(datasets.source("mnist") != "full", reason="needs the full MNIST (CNNVIZ_DATA)")
def test_the_full_recipe_trains_through_the_lessons_loop_on_a_small_part():
    torch.set_num_threads(1)
    split = splits.full_split("mnist", limit=1200, val_size=200, seed=0)
    assert (len(split.train_y), len(split.val_y), len(split.test_y)) == (1000, 200, 10000)
    seen = {x.numpy().tobytes() for x in split.train_x}
    assert not any(x.numpy().tobytes() in seen for x in split.val_x)    # validation held out of training
    split = splits.SmallSplit("mnist", split.train_x, split.train_y, split.val_x, split.val_y,
                              split.test_x[:500], split.test_y[:500], 10)
    batches = []
    result, model = ex.run_experiment(ex.full_experiment("mnist"), split,
                                      callbacks=[type("Seen", (ex.Callback,), {
                                          "on_batch_end": lambda self, s: batches.append(s.batch)})()])
    assert len(batches) == 2 * 8                                  # 2 epochs of ceil(1000 / 128) batches
    lrs = [h["lr"] for h in result.history]
    assert lrs[0] < ex.FULL_RECIPE.lr and lrs[1] < lrs[0] / 10     # one cycle: up, then down to ~0 at the end
    assert result.test_acc > 0.5                                   # 1,000 images, 2 epochs: far above 10 %
    card = ex.model_card(result, model)
    assert card["data"]["whole_training_set"] and card["training"]["schedule"] == "one-cycle"
    assert card["name"] == "mnist-scratch-full"
