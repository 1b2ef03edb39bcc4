"""What the Backpropagation lesson shares between learners: the two training runs of the 8-layer stack
(sigmoid and ReLU, the same for everybody: computed once per server) and its digits."""

from __future__ import annotations

import streamlit as st

from cnnviz.base.kept import Kept
from .heavywork import heavy_memo
from .language import t

_RUNS = Kept(max_items=4)   # seed -> {"sigmoid": Run, "relu": Run} (a few KB each), read-only


def activation_runs(seed: int = 0):
    """{"sigmoid": Run, "relu": Run} of ``cnnviz.train.backprop.activation_runs``, or None after a
    Cancel. The first computation (two trainings of about a second each) takes its turn in the
    server's line with a progress bar; then every learner gets it at once. Not ``st.cache_resource``:
    the first computation draws its progress, which a cached function may not do."""
    kept = _RUNS.get(seed)
    if kept is not None:
        return kept
    from cnnviz.train import backprop

    def compute(job):
        return _RUNS.get_or_make(seed, lambda: backprop.activation_runs(
            seed, progress=lambda f: job.progress(f, text=t("bp.act_training", pct=round(100 * f)))))
    return heavy_memo("bp.runs", seed, "backprop", compute, text=t("bp.act_preparing"))


@st.cache_resource(show_spinner=False)
def first_digits(n: int):
    """The first ``n`` test digits (float (n, 28, 28) in [0, 1]) and their labels, shared read-only (the
    bundled sample on a fresh machine)."""
    from cnnviz.data import datasets

    x, y = datasets.first_test_images("mnist", n)
    return x[:, 0].numpy(), y.numpy()
