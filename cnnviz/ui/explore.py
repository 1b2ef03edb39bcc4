"""What the Datasets lesson shares between learners: a dataset's pictures and their histogram,
read and counted once per server (a class opening MNIST shares one copy of its 47 MB)."""

from __future__ import annotations

import streamlit as st


# Where the pictures come from is part of the key: once the full dataset arrives (or the data folder
# changes), the bundled sample's collection is not served any more.
@st.cache_resource(show_spinner=False, max_entries=4)
def dataset_collection(name: str, source: str | None, root: str):
    """The dataset's whole training set, or its bundled sample (shared, read-only)."""
    from pathlib import Path

    from cnnviz.data import explore

    return explore.collection(name, Path(root))


@st.cache_data(show_spinner=False, max_entries=8)
def dataset_histogram(name: str, source: str | None, root: str):
    """(C, 256) pixel counts of ``dataset_collection``'s pictures, streamed once per server."""
    from cnnviz.data import explore

    return explore.histogram(dataset_collection(name, source, root).images)
