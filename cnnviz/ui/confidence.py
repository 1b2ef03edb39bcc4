"""How sure a prediction is: the note beside every prediction (cnnviz.analysis.confidence does the
maths; this draws it, with the network's reference evidence shared per server)."""

from __future__ import annotations

import streamlit as st

from .language import t
from .memo import model_memo, session_memo
from .pictures import _own_pictures, model_dataset


# ---------------------------------------------------------------- confidence of a prediction
REFERENCE_PICTURES = 300   # test pictures a network's usual evidence is measured on
LEARNER_REFERENCE_PICTURES = 200   # for a learner's network, each through its own preprocess


@st.cache_resource(show_spinner=False, max_entries=8)
def _shared_reference(name: str, dataset: str, _loaded):
    """A bundled network on its own test pictures, measured once per server."""
    from cnnviz.analysis import confidence

    return confidence.dataset_reference(_loaded, dataset, REFERENCE_PICTURES, native=True)


def model_reference(loaded):
    """The usual evidence of ``loaded`` on its own test pictures (``cnnviz.analysis.confidence.Reference``),
    measured once (per server for a bundled network, per session for a learner's), or None when
    its dataset is unknown or absent (ImageNet networks)."""
    dataset = model_dataset(loaded)
    if dataset is None:
        return None
    if loaded.source == "bundled":
        return _shared_reference(loaded.name, dataset, loaded)
    from cnnviz.analysis import confidence

    if dataset == "own":
        pictures = [img for _, _, img in _own_pictures(loaded)]
        return session_memo("own.reference", id(loaded.model), lambda: confidence.reference_of_pictures(
            loaded, pictures) if len(pictures) >= 5 else None)
    return session_memo("own.reference", id(loaded.model), lambda: confidence.dataset_reference(
        loaded, dataset, LEARNER_REFERENCE_PICTURES, native=False))


def _picture_features(loaded, x):
    """What the network's last layer reads for the picture ``x``: one forward pass per picture,
    for the whole class on a bundled network (``model_memo``), kept while the picture stays."""
    import hashlib

    from cnnviz.analysis import inspect as insp

    picture = hashlib.blake2b(x.numpy().tobytes(), digest_size=12).hexdigest() + str(tuple(x.shape))
    return model_memo(loaded, "confidence.features", (id(loaded.model), picture),
                      lambda: insp.with_features(loaded.model, x)[1])


def confidence_note(logits, classes, *, loaded=None, x=None, where=None):
    """Beside a prediction: how sure the network is, whether the picture looks like anything it
    learned from, and one sentence on why a softmax always picks a class -> ``Confidence``.

    ``logits``: the outputs of one picture before softmax ((classes,) or (1, classes)), ``classes``:
    the class names shown to the learner. With ``loaded`` (the ``LoadedModel``), the network's usual
    evidence on its own test pictures is measured (``model_reference``) and a picture from another
    world is called "unfamiliar"; with ``x`` too (the preprocessed picture), what the network's last
    layer reads of it is compared with its test pictures' as well. Without ``loaded`` the note only
    says "confident" or "unsure".
    """
    from cnnviz.analysis import confidence

    ref = model_reference(loaded) if loaded is not None else None
    features = _picture_features(loaded, x) if ref is not None and ref.features is not None and x is not None \
        else None
    c = confidence.assess(logits, ref, features=None if features is None else features[0])
    box = where or st
    kw = {"c": classes[c.top], "p": 100 * c.top_prob, "c2": classes[c.second], "p2": 100 * c.second_prob}
    if c.level == "unfamiliar":
        data = t(f"picker.world.{model_dataset(loaded)}")
        if c.weak_evidence:
            box.warning(t("confidence.unfamiliar", share=100 * (1 - confidence.REFERENCE_QUANTILE), data=data, **kw),
                        icon=":material/explore_off:")
        else:
            box.warning(t("confidence.unfamiliar_features", share=100 * confidence.FEATURE_QUANTILE, data=data,
                          n=ref.n, **kw), icon=":material/explore_off:")
    elif c.level == "unsure":
        box.warning(t("confidence.unsure", **kw), icon=":material/help:")
    else:
        box.success(t("confidence.confident", **kw), icon=":material/check_circle:")
    details = t("confidence.details", h=c.entropy, e=c.energy) if ref is None else \
        t("confidence.details_ref", h=c.entropy, e=c.energy, median=ref.energy_median, low=ref.energy_low,
          q=100 * confidence.REFERENCE_QUANTILE)
    if c.distance is not None:
        details += " " + t("confidence.details_features", dist=c.distance, high=ref.distance_high,
                           q=100 * (1 - confidence.FEATURE_QUANTILE))
    box.caption(t("confidence.why", n=len(classes)), help=details)
    return c
