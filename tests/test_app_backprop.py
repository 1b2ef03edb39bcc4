"""AppTest of the Backpropagation lesson in both languages: the gradient bars wait for the learner's guess,
the losses follow the slider, and the updated kernel follows the learning rate; every number checked
against torch."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from app_helpers import open_lesson

from cnnviz.data import datasets
from cnnviz.i18n import number, t
from cnnviz.train import backprop

PAGE = "lessons/backprop.py"


def plots(at) -> list[str]:
    return [el.proto.id for el in at.get("plotly_chart")]


def texts(at) -> str:
    return " ".join(m.value for m in (*at.markdown, *at.caption, *at.success, *at.warning, *at.info))


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_the_gradients_wait_for_the_guess_then_name_the_first_layer(lang):
    at = open_lesson(PAGE, lang)
    assert t("bp.predict_ask", lang) in texts(at)
    assert len(at.get("plotly_chart")) == 3                 # the loss curves and both loss charts; no bars
    assert t("bp.bars_explain", lang, sig="", relu="", ratio="", sig_last="", shrink="")[:20] not in texts(at)
    at.radio(key="bp.predict.pick").set_value(0).run()      # "layer 1"
    at.button(key="bp.predict.reveal").click().run()
    assert not at.exception
    assert at.success and at.success[0].value == t("bp.predict_right", lang, n=1, g=1)
    assert len(at.get("plotly_chart")) == 4                 # the bars are drawn
    # the ratio the page states, from the runs tests/test_backprop.py recomputes with a loop of its own
    runs = backprop.activation_runs(0)
    ratio = runs["relu"].layer_grads[0] / runs["sigmoid"].layer_grads[0]
    assert f"**{number(ratio, lang, 0)}" in texts(at) and ratio >= 10


@pytest.mark.parametrize("lang, mistake", [("pt_BR", "3,00")])
def test_a_confident_mistake_shows_both_losses_as_torch_computes_them(lang, mistake):
    at = open_lesson(PAGE, lang)
    at.select_slider(key="bp.p").set_value(0.05).run()
    assert not at.exception
    z = torch.log(torch.tensor(backprop.outputs_for(0.05)))[None].requires_grad_()
    ce = F.cross_entropy(z, torch.tensor([0]))
    (ce_slope,) = torch.autograd.grad(ce, z)
    mse = F.mse_loss(torch.softmax(z, 1), F.one_hot(torch.tensor([0]), 10).double())
    (mse_slope,) = torch.autograd.grad(mse, z)
    # cross-entropy's loss and slope, then MSE's (the slope: dL/dz of the true class's score)
    want = [v.item() for v in (ce, ce_slope[0, 0], mse, mse_slope[0, 0])]
    assert [m.value for m in at.metric] == [number(v, lang, 3) for v in want]
    assert [m.label for m in at.metric] == [t("bp.loss_metric", lang), t("bp.slope_metric", lang)] * 2
    assert at.warning and mistake in at.warning[0].value               # −ln 0.05 = 2.996


@pytest.mark.parametrize("lang", ["en"])
def test_the_new_kernel_follows_the_learning_rate(lang):
    at = open_lesson(PAGE, lang)
    at.select_slider(key="bp.lr").set_value(0.5).run()
    assert not at.exception
    # the step recomputed by autograd: the centre weight after w - 0.5 dL/dw, as the last formula writes it
    x, y = datasets.first_test_images("mnist", 1)
    net = backprop.tiny_net(0)
    kernel = torch.tensor(net.kernel, dtype=torch.float64)[None, None].requires_grad_()
    fc = torch.tensor(net.fc_w)
    logits = fc @ F.max_pool2d(F.relu(F.conv2d(x.double(), kernel)), 2).flatten()
    F.cross_entropy(logits[None], y[:1]).backward()
    new = (kernel - 0.5 * kernel.grad)[0, 0, 1, 1].item()
    comma = "{,}" if lang == "pt_BR" else "."
    last = at.latex[-1].value.strip().removesuffix("$$").strip()
    assert last.endswith(f"= {new:.4f}".replace(".", comma)), last
    assert f"{0.5:.2f}".replace(".", comma) in last
