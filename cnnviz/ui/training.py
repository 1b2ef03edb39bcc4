"""What the Train lesson shares between learners: its small training sets and the plan of the
network about to be trained (both cached: the page reruns at every widget change)."""

from __future__ import annotations

import streamlit as st

from .models import shared_model


# cnnviz.data.splits and cnnviz.train.transfer import torch: loaded on the first call only.
@st.cache_resource(show_spinner=False, max_entries=6)
def small_split(name: str, per_class: int, seed: int, source: str | None, root: str):
    """The balanced few-images training set (shared, read-only: nobody changes its tensors).
    Where the images come from is part of the key: once the full dataset is downloaded (or the
    data folder changes), the bundled sample's split is not served any more."""
    from cnnviz.data import splits

    return splits.few_shot(name, per_class, seed=seed)


@st.cache_data(show_spinner=False, max_entries=64)
def layer_plan(dataset: str, num_classes: int, strategy: str, source: str | None, train_from: str | None):
    """(plan, trainable, frozen) of the network about to be trained. Cached: building it copies the
    source network (ResNet-18: 45 MB), and the page reruns at every widget change."""
    from cnnviz.train import transfer

    if strategy == "scratch":
        net, plan = transfer.scratch_model(dataset, num_classes)
    else:
        net, plan = transfer.transfer_model(shared_model(source).model, num_classes, train_from)
    return (plan, *transfer.param_split(net))
