"""What the Autoencoder lesson shares between learners: the bundled VAE, its card, the test digits'
codes and the decoded plane (each loaded or computed once, read-only for every session)."""

from __future__ import annotations

import streamlit as st


# cnnviz.train.autoencoder imports torch: loaded on the first call only.
@st.cache_resource(show_spinner=False)
def vae():
    """The bundled VAE, one copy for every learner (read-only)."""
    from cnnviz.train import autoencoder as ae

    return ae.load()


@st.cache_data(show_spinner=False)
def vae_card() -> dict:
    """Its model card (read once, not at every rerun)."""
    import json

    from cnnviz.train import autoencoder as ae

    return json.loads(ae.WEIGHTS.with_suffix(".json").read_text())


@st.cache_resource(show_spinner=False)
def vae_test_codes(shown: int):
    """The first ``shown`` test digits, their labels and their latent means (shared, read-only)."""
    from cnnviz.data import datasets
    from cnnviz.train import autoencoder as ae

    x, y = datasets.as_tensors(datasets.load_dataset("mnist", train=False), shown)
    mean, _ = ae.encode(vae(), x)
    return x, y, mean


@st.cache_data(show_spinner=False)
def vae_manifold(tiles: int, span: float):
    """The plane of ``tiles`` × ``tiles`` digits decoded from -span .. +span on both axes (the same
    for every learner: computed once)."""
    from cnnviz.train import autoencoder as ae

    return ae.manifold(vae(), tiles, span)
