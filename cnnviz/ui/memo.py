"""Values shared between learners or kept per learner: layer outputs of a shared network per
picture, per-session memos and per-class memos of a network."""

from __future__ import annotations

import streamlit as st

from cnnviz.base.kept import Kept


# ---------------------------------------------------------------- inside a network
SHARED_OUTPUTS = 8          # pictures whose layer outputs the server keeps for the class...
SHARED_OUTPUTS_MB = 256     # ...and at most this many MB of them (VGG-16: 110 MB a picture)


def _outputs_bytes(outputs) -> int:
    return sum(t.element_size() * t.nelement() for t in outputs.values())


# the server-wide memo of ``layer_outputs``: the oldest go first; the newest stays even alone over
# the budget (its learner uses it)
_OUTPUTS = Kept(max_items=SHARED_OUTPUTS, max_bytes=SHARED_OUTPUTS_MB * 2 ** 20, size=_outputs_bytes)


def layer_outputs(loaded, x):
    """Every layer's output for ``x`` (``cnnviz.analysis.inspect.activations``), computed once.

    A bundled or ImageNet model is the same object for every learner, so its outputs for
    a picture are shared too: a class looking at the same sample costs one copy (VGG-16:
    110 MB), and the server keeps at most ``SHARED_OUTPUTS`` pictures and ``SHARED_OUTPUTS_MB``
    MB of them. A learner's own or trained network stays in their session. Callers must not
    modify the tensors.
    """
    import hashlib

    from cnnviz.analysis import inspect as insp

    picture = hashlib.sha256(x.numpy().tobytes()).hexdigest() + str(tuple(x.shape))
    if loaded.source in ("bundled", "zoo"):
        pretrained = bool((loaded.card or {}).get("pretrained", True))
        return _OUTPUTS.get_or_make((loaded.name, loaded.source, pretrained, picture),
                                    lambda: insp.activations(loaded.model, x))
    return session_memo("own.outputs", (id(loaded.model), picture), lambda: insp.activations(loaded.model, x))


def session_memo(key: str, ident, compute):
    """``compute()`` once per ``ident`` for this learner (kept in their session only)."""
    memo = st.session_state.get(key)
    if memo is None or memo[0] != ident:
        memo = (ident, compute())
        st.session_state[key] = memo
    return memo[1]


CLASS_MEMO_ENTRIES = 64
_CLASS = Kept(max_items=CLASS_MEMO_ENTRIES)    # the server-wide memo of ``model_memo``


def model_memo(loaded, key: str, ident, compute):
    """``compute()`` once per ``ident`` for the whole class when ``loaded`` is a bundled or ImageNet
    model (the same weights for everyone: 30 learners on the same picture cost one computation,
    and the ones who arrive while it runs wait for it instead of repeating it); a learner's own or
    trained network stays in their session (``session_memo``). Kept in the session too (as
    ``session_memo`` does, ``st.session_state[key] == (ident, value)``). Callers must not modify it.
    """
    if loaded.source not in ("bundled", "zoo"):
        return session_memo(key, ident, compute)
    return session_memo(key, ident, lambda: _class_value(loaded, key, ident, compute))


def _class_value(loaded, key: str, ident, compute):
    pretrained = bool((loaded.card or {}).get("pretrained", True))
    return _CLASS.get_or_make((loaded.name, loaded.source, pretrained, key, ident), compute)
