"""Activations of shared models are shared between learners: one copy per picture (cnnviz.ui.layer_outputs)."""

import torch

from cnnviz.analysis import inspect as insp
from cnnviz import models, ui


def test_same_model_and_picture_share_one_copy_and_match_a_fresh_pass():
    loaded = models.load("digits")
    x = torch.rand(1, 1, 28, 28)
    first = ui.layer_outputs(loaded, x)
    again = ui.layer_outputs(models.load("digits"), x.clone())     # another learner, same sample
    assert again is first
    fresh = insp.activations(loaded.model, x)
    assert list(first) == list(fresh)
    assert all(torch.equal(first[k], fresh[k]) for k in fresh)
    other = ui.layer_outputs(loaded, x + 0.5)
    assert other is not first and not torch.equal(other["output"], first["output"])


def test_random_and_pretrained_weights_are_not_confused():
    random = models.load("resnet18", pretrained=False)
    x = torch.rand(1, 3, 64, 64)
    a = ui.layer_outputs(random, x)
    # the same name with other weights (a learner who downloaded the real ones) must not hit a's entry
    other = models.load("resnet18", pretrained=False)
    torch.manual_seed(1)
    for p in other.model.parameters():
        p.data.normal_()
    other.card = {**other.card, "pretrained": True}
    b = ui.layer_outputs(other, x)
    assert b is not a
    # b holds what *these* weights compute, not a's numbers
    with torch.no_grad():
        assert torch.equal(b["output"], other.model(x)) and not torch.equal(b["output"], a["output"])
