"""The Backpropagation lesson's numbers (cnnviz.train.backprop), each recomputed here with torch: the
8-layer stack's gradients per layer and losses (a plain gradient-descent loop of our own, sigmoid's
first layer >= 10x smaller than ReLU's), both losses and their slopes (torch.nn.functional and
autograd), and one backpropagation step through the tiny conv net (torch.autograd, torch.optim.SGD)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnviz import i18n
from cnnviz.data import datasets
from cnnviz.figures import backprop_figures as bpf
from cnnviz.train import backprop

torch.set_num_threads(1)


def _own_run(activation: str, x, y):
    """The stack's training by hand: plain gradient descent on the whole batch, no cnnviz.train.fit."""
    model = backprop.stack(activation, 0)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    losses, grads = [], []
    for _ in range(backprop.STEPS):
        model.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        losses.append(loss.item())
        grads.append([m.weight.grad.abs().mean().item() for m in linears])
        with torch.no_grad():
            for p in model.parameters():
                p -= backprop.LR * p.grad
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    return np.array(losses), np.array(grads), accuracy


@pytest.fixture(scope="module")
def runs():
    return backprop.activation_runs(0)


def test_both_stacks_start_from_the_same_he_initialised_weights():
    sig, rel = backprop.stack("sigmoid", 0), backprop.stack("relu", 0)
    linears = [(a, b) for a, b in zip(sig, rel) if isinstance(a, torch.nn.Linear)]
    assert len(linears) == backprop.DEPTH == 8
    assert [a.out_features for a, _ in linears] == [32] * 7 + [10]
    for a, b in linears:
        assert torch.equal(a.weight, b.weight) and not a.bias.any()
    first = linears[0][0].weight
    assert abs(first.std().item() - math.sqrt(2 / 784)) < 0.002        # He: std sqrt(2 / inputs)
    assert sum(isinstance(m, torch.nn.Sigmoid) for m in sig) == 7 == sum(isinstance(m, torch.nn.ReLU) for m in rel)


@pytest.mark.slow
def test_the_runs_are_plain_gradient_descent_and_sigmoids_first_layer_gets_10x_less(runs):
    """The lesson's curves, bars, accuracies and ratios: recomputed by a loop of our own. The pin of
    issue 19: sigmoid's first-layer gradient is at least 10 times smaller than ReLU's."""
    x, y = datasets.first_test_images("mnist", backprop.IMAGES)
    x = x.flatten(1)
    assert len(y) == 500
    for activation in ("sigmoid", "relu"):
        losses, grads, accuracy = _own_run(activation, x, y)
        run = runs[activation]
        np.testing.assert_allclose(run.losses, losses, rtol=1e-4)
        np.testing.assert_allclose(run.grads, grads, rtol=1e-3)
        np.testing.assert_allclose(run.layer_grads, grads.mean(0), rtol=1e-3)
        assert abs(run.accuracy - accuracy) < 1e-6
    sig, rel = runs["sigmoid"].layer_grads, runs["relu"].layer_grads
    assert rel[0] >= 10 * sig[0], (sig[0], rel[0])
    assert rel[0] > 1000 * sig[0]                          # README: "over 1,000x less"
    assert int(np.argmin(sig)) == 0                        # the predict-then-reveal answer: the first layer
    assert np.all(np.diff(sig) > 0)                        # it grows layer after layer towards the output
    # what the curves show: ReLU learns, sigmoid stays near chance (ln 10, the caption's 2.30)
    assert runs["relu"].losses[-1] < 1.5 < 2.2 < runs["sigmoid"].losses[-1]
    assert abs(F.cross_entropy(torch.zeros(1, 10), torch.tensor([3])).item() - 2.30) < 0.005


def test_the_runs_report_their_progress_from_0_to_1():
    seen = []
    backprop.activation_runs(0, images=40, steps=3, progress=seen.append)
    assert len(seen) == 6 and seen[-1] == 1.0 and seen == sorted(seen)


@pytest.mark.parametrize("p", [0.01, 0.05, 0.3, 0.7, 0.99])
def test_both_losses_and_their_slopes_match_torch(p):
    probs = backprop.outputs_for(p)
    assert abs(probs.sum() - 1) < 1e-12 and probs[0] == p
    z = torch.tensor(np.log(probs), dtype=torch.float64, requires_grad=True)   # scores giving those outputs
    target = torch.tensor([0])
    ce = F.cross_entropy(z[None], target)
    (ce_grad,) = torch.autograd.grad(ce, z)
    mse = F.mse_loss(torch.softmax(z, 0), F.one_hot(target[0], 10).double())
    (mse_grad,) = torch.autograd.grad(mse, z)
    out = backprop.losses(probs, 0)
    assert abs(out.cross_entropy - ce.item()) < 1e-9 and abs(out.mse - mse.item()) < 1e-12
    np.testing.assert_allclose(out.ce_grad, ce_grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(out.mse_grad, mse_grad.numpy(), atol=1e-12)


def test_cross_entropy_is_unbounded_and_mse_bounded_by_2_over_c():
    wrong = torch.zeros(10)
    wrong[1] = 1.0                                            # all the probability on a wrong class
    bound = F.mse_loss(wrong, F.one_hot(torch.tensor(0), 10).float()).item()
    assert abs(backprop.mse_bound() - bound) < 1e-7 and abs(bound - 0.2) < 1e-7
    confident = backprop.losses(backprop.outputs_for(0.001), 0)
    assert confident.cross_entropy > 6.9 and confident.mse < bound
    assert abs(confident.ce_grad[0] + 1) < 0.01 and abs(confident.mse_grad[0]) < 0.001   # MSE's slope fades


def test_sigmoids_slope_is_at_most_a_quarter():
    x = torch.linspace(-6, 6, 1201, dtype=torch.float64, requires_grad=True)
    torch.sigmoid(x).sum().backward()
    np.testing.assert_allclose(backprop.sigmoid_slope(x.detach().numpy()), x.grad.numpy(), atol=1e-12)
    assert abs(x.grad.max().item() - 0.25) < 1e-12 and abs(backprop.sigmoid(0.0) - 0.5) < 1e-12


def _torch_step(image, label, net, lr):
    """The tiny net in torch: forward, autograd's gradients, one SGD step, and the loss after it."""
    dd = torch.float64
    x = torch.tensor(image, dtype=dd)[None, None]
    kernel = torch.tensor(net.kernel, dtype=dd)[None, None].requires_grad_()
    bias = torch.tensor([net.bias], dtype=dd, requires_grad=True)
    fc = torch.nn.Linear(net.fc_w.shape[1], 10).double()
    with torch.no_grad():
        fc.weight.copy_(torch.tensor(net.fc_w))
        fc.bias.copy_(torch.tensor(net.fc_b))

    def forward():
        c = F.conv2d(x, kernel, bias)
        pooled = F.max_pool2d(F.relu(c), 2)
        logits = fc(pooled.flatten(1))
        for v in (c, pooled, logits) if torch.is_grad_enabled() else ():
            v.retain_grad()
        return c, pooled, logits, F.cross_entropy(logits, torch.tensor([label]))

    c, pooled, logits, loss = forward()
    loss.backward()
    out = {"conv": c.detach()[0, 0].numpy(), "pooled": pooled.detach()[0, 0].numpy(), "loss": loss.item(),
           "probs": torch.softmax(logits.detach()[0], 0).numpy(), "d_logits": logits.grad[0].numpy(),
           "d_pooled": pooled.grad[0, 0].numpy(), "d_conv": c.grad[0, 0].numpy(),
           "d_kernel": kernel.grad[0, 0].numpy().copy(), "d_bias": bias.grad.item()}
    opt = torch.optim.SGD([kernel], lr=lr)      # only the kernel moves, as the lesson says
    opt.step()
    out["new_kernel"] = kernel.detach()[0, 0].numpy()
    with torch.no_grad():
        out["after"] = forward()[3].item()
    return out


@pytest.mark.parametrize("seed, index, lr", [(0, 0, 0.1), (3, 4, 0.5), (11, 7, 2.0)])
def test_one_backpropagation_step_matches_autograd(seed, index, lr):
    x, y = datasets.first_test_images("mnist", 10)
    image, label = x[index, 0].numpy().astype(np.float64), int(y[index])
    net = backprop.tiny_net(seed)
    step = backprop.conv_step(image, label, net)
    want = _torch_step(image, label, net, lr)
    # cnnviz.maths.conv slides the kernel in float32: 1e-5 is far below the 4 decimals the lesson writes
    for name in ("conv", "pooled", "probs", "d_logits", "d_pooled", "d_conv", "d_kernel"):
        np.testing.assert_allclose(getattr(step, name), want[name], atol=1e-5, err_msg=name)
    assert abs(step.loss - want["loss"]) < 1e-5 and abs(step.d_bias - want["d_bias"]) < 1e-5
    np.testing.assert_allclose(step.new_kernel(lr), want["new_kernel"], atol=1e-5)
    after = backprop.conv_step(image, label, backprop.TinyNet(step.new_kernel(lr), net.bias, net.fc_w, net.fc_b))
    assert abs(after.loss - want["after"]) < 1e-5
    assert np.array_equal(net.kernel, np.round(net.kernel, 2))       # the weights shown are the weights
    # the caption's share of the map without gradient, and the chain rule's sum written out
    assert np.mean(step.d_conv == 0) == np.mean(want["d_conv"] == 0)
    pairs, rest, others = step.terms(1, 1)
    assert abs(sum(d * v for d, v in pairs) + rest - want["d_kernel"][1, 1]) < 1e-5
    assert others == int(np.count_nonzero(want["d_conv"] * image[1:27, 1:27])) - len(pairs)


def test_tiny_numbers_are_written_with_powers_of_ten_in_the_learners_format():
    with i18n.language("en"):
        assert bpf.sci_text(1.6821e-06) == "1.7 × 10⁻⁶" and bpf.sci_text(0.0043) == "4.3 × 10⁻³"
        assert bpf.sci_text(0.25) == "0.25" and bpf.sci_text(9.96e-5) == "1.0 × 10⁻⁴"
    with i18n.language("pt_BR"):
        assert bpf.sci_text(1.6821e-06) == "1,7 × 10⁻⁶"
