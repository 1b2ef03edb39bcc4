"""What the Fool-the-network lesson shares between learners: a network's accuracy against epsilon
over its first test pictures (FGSM, PGD and the random baseline), computed once per network and
server through the line of heavy work, then the same for everybody."""

from __future__ import annotations

from cnnviz.base.kept import Kept
from .heavywork import heavy_memo
from .language import num, t

CURVE_PICTURES = 200                                            # the first test pictures of the network's dataset
CURVE_GRID = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)      # epsilons of the curve
_CURVES = Kept(max_items=6)   # (network, dataset, source) -> adversarial.Robustness (a few numbers), read-only


def robustness_curve(loaded, dataset: str):
    """``cnnviz.analysis.adversarial.robustness`` of a bundled network on the first ``CURVE_PICTURES``
    test pictures of ``dataset`` (the bundled sample without the full data), or None after a Cancel.
    The first computation takes its turn in the server's line with a progress bar; then every learner
    gets it at once. Not ``st.cache_resource``: the first computation draws its progress."""
    from cnnviz.data import datasets

    key = (loaded.name, dataset, datasets.source(dataset))
    kept = _CURVES.get(key)
    if kept is not None:
        return kept
    text = t("fool.curve_computing", n=num(CURVE_PICTURES))

    def make(job):
        from cnnviz.analysis import adversarial

        x, y = datasets.first_test_images(dataset, CURVE_PICTURES)
        return adversarial.robustness(loaded, x, y, dataset=dataset, epsilons=CURVE_GRID,
                                      progress=lambda done, total: job.progress(done / max(total, 1), text=text))
    return heavy_memo("fool.curve", key, "adversarial", lambda job: _CURVES.get_or_make(key, lambda: make(job)),
                      text=text)
