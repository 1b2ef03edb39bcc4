"""cnnviz: see how a convolutional neural network sees.

The package is grouped by subject, lowest layer first (docs/ARCHITECTURE.md draws it):

- ``cnnviz.base``: errors a learner reads, numbers a learner types, a server's memory;
- ``cnnviz.i18n``: strings in two languages and numbers in the learner's format;
- ``cnnviz.maths``: one operation each: conv, kernels, layers, params, signals, images;
- ``cnnviz.figures``: matrices, maps, pictures and charts;
- ``cnnviz.data``: datasets, small splits, the download, signals from CSV;
- ``cnnviz.models``: the networks (bundled, torchvision's, a learner's own);
- ``cnnviz.analysis``: what a network does with a picture: inspect, receptive, attribution
  (with faithfulness and sanity, the checks of a map), confidence;
- ``cnnviz.train``: the training loop, experiments, cards, the VAE, the 1D CNN;
- ``cnnviz.course`` and ``cnnviz.exercises``: the lessons' registry, a learner's progress, the
  self-check questions;
- ``cnnviz.serve``: many workers behind a proxy, one line of heavy work;
- ``cnnviz.ui``: the Streamlit widgets (the only part that imports streamlit).

Notebooks and scripts may keep the short names: ``from cnnviz import conv, layers, inspect`` loads
each module from its home when it is first asked for (PEP 562), so ``import cnnviz`` itself loads
no torch and nothing else.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

#: short name -> the module's home. Subpackages (``data``, ``models``, ``figures``, ``course``,
#: ``exercises``, ``serve``, ``train``, ``ui``, ...) are imported as themselves.
HOMES = {
    "errors": "cnnviz.base.errors", "numbers": "cnnviz.base.numbers", "memory": "cnnviz.base.memory",
    "conv": "cnnviz.maths.conv", "kernels": "cnnviz.maths.kernels", "layers": "cnnviz.maths.layers",
    "params": "cnnviz.maths.params", "signals": "cnnviz.maths.signals", "images": "cnnviz.maths.images",
    "signal_figures": "cnnviz.figures.signal_figures",
    "datasets": "cnnviz.data.datasets", "splits": "cnnviz.data.splits", "download": "cnnviz.data.download",
    "signal_csv": "cnnviz.data.signal_csv",
    "inspect": "cnnviz.analysis.inspect", "receptive": "cnnviz.analysis.receptive",
    "attribution": "cnnviz.analysis.attribution", "confidence": "cnnviz.analysis.confidence",
    "faithfulness": "cnnviz.analysis.faithfulness", "sanity": "cnnviz.analysis.sanity",
    "adversarial": "cnnviz.analysis.adversarial", "featviz": "cnnviz.analysis.featviz",
    "fit": "cnnviz.train.fit", "transfer": "cnnviz.train.transfer", "experiment": "cnnviz.train.experiment",
    "cards": "cnnviz.train.cards", "autoencoder": "cnnviz.train.autoencoder",
    "signal_cnn": "cnnviz.train.signal_cnn",
    "progress_store": "cnnviz.course.progress_store", "jobs": "cnnviz.serve.jobs",
}


def __getattr__(name: str):
    home = HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'cnnviz' has no attribute {name!r}")
    module = importlib.import_module(home)
    globals()[name] = module
    return module


def __dir__():
    return sorted({*globals(), *HOMES})
