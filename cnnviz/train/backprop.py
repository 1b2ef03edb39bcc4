"""How a network learns (the Backpropagation lesson, issue 19): activation functions, losses and one
backpropagation step, computed here and drawn by the lesson.

- **Activations**: the same 8-layer stack (``DEPTH`` linear layers of width ``WIDTH``, the same seed and
  He initialisation) with sigmoid or with ReLU between its layers, trained by plain gradient descent
  (``cnnviz.train.fit``, ``optimizer="sgd"``, the whole batch at each step) on the first ``IMAGES``
  test digits (the bundled MNIST sample on a fresh machine): the loss at each step and the mean
  size of dL/dW of each layer (``activation_runs``). Sigmoid's slope is at most 1/4, so the gradient
  shrinks layer after layer on its way back: the first layers hardly learn (vanishing gradient).
- **Losses**: cross-entropy and mean squared error of the same softmax outputs, their gradients with
  respect to the scores (``losses``, ``outputs_for``): cross-entropy grows without bound on a confident
  mistake, MSE stays under 2/C and its gradient fades.
- **One step through a tiny conv net** on one picture (``conv_step``): 3 × 3 convolution -> ReLU -> 2 × 2
  max pooling -> linear -> softmax cross-entropy, forward and backward by hand with numpy (the chain
  rule, layer by layer), and the kernel after one step (``update``). ``tests/test_backprop.py`` checks
  every gradient against ``torch.autograd``.

No torch at import time: the numpy parts serve the lesson and the self-check without it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.maths import conv, layers

# ---------------------------------------------------------------- activations: the 8-layer stack
ACTIVATIONS = ("sigmoid", "relu")
DEPTH = 8          # linear layers
WIDTH = 32         # units of each hidden layer
IMAGES = 500       # the first test digits (the bundled sample has 1,000)
STEPS = 150        # gradient-descent steps, each on all IMAGES digits
LR = 0.02          # the learning rate of those steps
CLASSES = 10


def sigmoid(x):
    """1 / (1 + e^-x), for numbers or numpy arrays."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


def sigmoid_slope(x):
    """σ'(x) = σ(x) (1 - σ(x)): at most 1/4, at x = 0."""
    s = sigmoid(x)
    return s * (1.0 - s)


def stack(activation: str, seed: int = 0):
    """``DEPTH`` linear layers (784 -> 32 -> ... -> 32 -> 10) with ``activation`` between them; the
    weights drawn from ``seed`` with He's initialisation (normal, std sqrt(2 / inputs)) and zero
    biases, so both activations start from the same weights."""
    import torch
    from torch import nn

    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, not {activation!r}")
    g = torch.Generator().manual_seed(seed)
    sizes = [28 * 28] + [WIDTH] * (DEPTH - 1) + [CLASSES]
    modules = []
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        linear = nn.Linear(n_in, n_out)
        with torch.no_grad():
            linear.weight.copy_(torch.randn(n_out, n_in, generator=g) * (2.0 / n_in) ** 0.5)
            linear.bias.zero_()
        modules.append(linear)
        if i < DEPTH - 1:
            modules.append(nn.Sigmoid() if activation == "sigmoid" else nn.ReLU())
    return nn.Sequential(*modules)


@dataclass(frozen=True)
class Run:
    """One training run of the stack: ``losses[s]`` the cross-entropy before step s, ``grads[s, l]``
    the mean |dL/dW| of layer l's weights at step s (layer 0 is the first, next to the picture)."""
    activation: str
    losses: np.ndarray       # (steps,)
    grads: np.ndarray        # (steps, DEPTH)
    accuracy: float          # on the training digits, after the last step

    @property
    def layer_grads(self) -> np.ndarray:
        """The mean |dL/dW| of each layer over the run (DEPTH,)."""
        return self.grads.mean(axis=0)


def training_digits(images: int = IMAGES):
    """The first ``images`` test digits, flattened (N, 784) in [0, 1], and their labels: the same on
    every machine (the bundled sample starts with the test set's first images)."""
    from cnnviz.data import datasets

    x, y = datasets.first_test_images("mnist", images)
    return x.flatten(1), y


def train_stack(activation: str, x, y, *, seed: int = 0, steps: int = STEPS, lr: float = LR,
                progress=None) -> Run:
    """Train ``stack(activation, seed)`` on (x, y) with ``steps`` steps of plain gradient descent on the
    whole batch, through ``cnnviz.train.fit``; ``progress(step, steps)`` after each one (it may raise
    to stop)."""
    import torch

    from cnnviz.train import fit

    model = stack(activation, seed)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    grads, losses = [], []

    class Record(fit.Callback):
        def on_batch_end(self, state):   # after the step: .grad still holds this step's dL/dW
            grads.append([float(m.weight.grad.abs().mean()) for m in linears])
            losses.append(state.loss)
            if progress is not None:
                progress(state.epoch, steps)

    config = fit.FitConfig(epochs=steps, lr=lr, optimizer="sgd", cosine=False, patience=None,
                           restore_best=False, seed=seed)
    fit.fit(model, [(x, y)], None, config, [Record()])
    with torch.no_grad():
        accuracy = float((model(x).argmax(1) == y).float().mean())
    return Run(activation, np.asarray(losses), np.asarray(grads), accuracy)


def activation_runs(seed: int = 0, *, images: int = IMAGES, steps: int = STEPS, lr: float = LR,
                    progress=None) -> dict[str, Run]:
    """Both activations on the same digits, weights and steps: {"sigmoid": Run, "relu": Run}.
    ``progress(fraction)`` from 0 to 1 over both runs."""
    x, y = training_digits(images)
    runs = {}
    for i, name in enumerate(ACTIVATIONS):
        report = None if progress is None else \
            (lambda step, total, i=i: progress((i + step / total) / len(ACTIVATIONS)))
        runs[name] = train_stack(name, x, y, seed=seed, steps=steps, lr=lr, progress=report)
    return runs


# ---------------------------------------------------------------- losses: cross-entropy and MSE
def outputs_for(p_true: float, classes: int = CLASSES, true: int = 0) -> np.ndarray:
    """Softmax outputs giving ``p_true`` to class ``true`` and sharing the rest equally among the
    others (0 < p_true < 1)."""
    if not 0.0 < float(p_true) < 1.0:
        raise ValueError(f"p_true must be between 0 and 1 (both excluded), not {p_true}")
    p = np.full(classes, (1.0 - p_true) / (classes - 1))
    p[true] = p_true
    return p


@dataclass(frozen=True)
class Losses:
    """Both losses of the softmax outputs ``probs`` for the true class ``true``, and their gradients with
    respect to the scores (logits) z that gave those outputs."""
    probs: np.ndarray
    true: int
    cross_entropy: float     # -ln p_true
    mse: float               # mean over the classes of (p_k - y_k)^2, y one-hot
    ce_grad: np.ndarray      # dCE/dz = p - y
    mse_grad: np.ndarray     # dMSE/dz = J^T dMSE/dp, J the softmax's Jacobian diag(p) - p p^T


def losses(probs, true: int) -> Losses:
    """Cross-entropy and MSE of ``probs`` (softmax outputs) for the true class ``true``."""
    p = np.asarray(probs, dtype=float)
    y = np.zeros_like(p)
    y[true] = 1.0
    d_p = 2.0 * (p - y) / p.size                       # dMSE/dp
    mse_grad = p * (d_p - float(np.dot(p, d_p)))       # the softmax's Jacobian, transposed, times dMSE/dp
    return Losses(p, true, float(-np.log(p[true])), float(np.mean((p - y) ** 2)), p - y, mse_grad)


def mse_bound(classes: int = CLASSES) -> float:
    """The largest MSE softmax outputs can reach: all the probability on one wrong class, 2 / C."""
    return 2.0 / classes


# ---------------------------------------------------------------- one step through a tiny conv net
KERNEL = 3
POOL = 2


@dataclass(frozen=True)
class TinyNet:
    """A 3 × 3 kernel and its bias, then a linear layer from the pooled map to the 10 classes."""
    kernel: np.ndarray       # (3, 3)
    bias: float
    fc_w: np.ndarray         # (10, pooled cells)
    fc_b: np.ndarray         # (10,)


def tiny_net(seed: int, side: int = 28) -> TinyNet:
    """The tiny network's starting weights from ``seed``: kernel weights with two decimals (the numbers
    the lesson shows are the weights), small linear weights, zero biases."""
    rng = np.random.default_rng(seed)
    cells = ((side - KERNEL + 1) // POOL) ** 2
    kernel = np.round(rng.normal(0.0, 0.5, (KERNEL, KERNEL)), 2)
    return TinyNet(kernel, 0.0, rng.normal(0.0, 0.1, (CLASSES, cells)), np.zeros(CLASSES))


@dataclass(frozen=True)
class ConvStep:
    """The forward values and the backward gradients of ``TinyNet`` on one picture (numpy, by hand)."""
    image: np.ndarray        # (28, 28) in [0, 1]
    label: int
    net: TinyNet
    conv: np.ndarray         # (26, 26) the kernel's map, + bias
    relu: np.ndarray         # (26, 26)
    pooled: np.ndarray       # (13, 13)
    logits: np.ndarray       # (10,)
    probs: np.ndarray        # (10,)
    loss: float              # -ln probs[label]
    d_logits: np.ndarray     # dL/dz = p - y
    d_pooled: np.ndarray     # dL/d(pooled) = W^T (p - y), as a 13 x 13 map
    d_relu: np.ndarray       # dL/d(relu): each window's gradient goes to the cell that won the max
    d_conv: np.ndarray       # dL/d(conv) = d_relu where conv > 0, else 0
    d_kernel: np.ndarray     # dL/dW (3, 3): the picture correlated with d_conv
    d_bias: float            # dL/db = the sum of d_conv

    def new_kernel(self, lr: float) -> np.ndarray:
        """The kernel after one step of gradient descent with learning rate ``lr``."""
        return update(self.net.kernel, self.d_kernel, lr)

    def terms(self, i: int, j: int, top: int = 3) -> tuple[list[tuple[float, float]], float, int]:
        """The chain rule's sum for kernel weight (i, j): dL/dW_ij = Σ_pq δ_pq · x_(p+i, q+j). Returns
        its ``top`` largest terms as (δ, x) pairs (largest |δ x| first), the sum of the others, and how
        many other non-zero terms there are."""
        h, w = self.d_conv.shape
        window = self.image[i:i + h, j:j + w]
        products = (self.d_conv * window).ravel()
        order = [k for k in np.argsort(-np.abs(products)) if products[k] != 0]
        shown = order[:top]
        pairs = [(float(self.d_conv.ravel()[k]), float(window.ravel()[k])) for k in shown]
        rest = float(products[order[top:]].sum()) if len(order) > top else 0.0
        return pairs, rest, max(0, len(order) - top)


def conv_step(image, label: int, net: TinyNet) -> ConvStep:
    """Forward then backward through ``net`` for one picture (28 × 28 in [0, 1]) of class ``label``."""
    x = np.asarray(image, dtype=np.float64)
    c = conv.convolve2d(x, net.kernel, bias=net.bias, engine="numpy").output.astype(np.float64)
    r = layers.relu(c)
    pool = layers.pool2d(r, POOL, POOL, "max")
    pooled = pool.output
    logits = net.fc_w @ pooled.ravel() + net.fc_b
    probs = layers.softmax(logits).probs
    y = np.zeros(CLASSES)
    y[label] = 1.0
    d_logits = probs - y                                  # softmax + cross-entropy
    d_pooled = (net.fc_w.T @ d_logits).reshape(pooled.shape)
    d_relu = np.zeros_like(r)                             # max pooling: the winner of each window takes it all
    rows, cols = pool.argmax[..., 0].ravel(), pool.argmax[..., 1].ravel()
    np.add.at(d_relu, (rows, cols), d_pooled.ravel())
    d_conv = d_relu * (c > 0)                             # ReLU: passes where its input was positive
    d_kernel = conv.convolve2d(x, d_conv, engine="numpy").output.astype(np.float64)   # Σ δ · x shifted
    return ConvStep(x, int(label), net, c, r, pooled, logits, probs, float(-np.log(probs[label])), d_logits,
                    d_pooled, d_relu, d_conv, d_kernel, float(d_conv.sum()))


def update(weight, grad, lr: float):
    """One step of gradient descent: w - lr · dL/dw."""
    return np.asarray(weight, dtype=float) - float(lr) * np.asarray(grad, dtype=float)
