"""Values shared between learners or kept per learner: layer outputs of a shared network per
picture, per-session memos and per-class memos of a network."""

from __future__ import annotations


import streamlit as st





# ---------------------------------------------------------------- inside a network
@st.cache_resource(show_spinner=False, max_entries=8)
def _shared_outputs(name: str, source: str, pretrained: bool, picture: str, _model, _x):
    from .. import inspect as insp

    return insp.activations(_model, _x)


def layer_outputs(loaded, x):
    """Every layer's output for ``x`` (``cnnviz.inspect.activations``), computed once.

    A bundled or ImageNet model is the same object for every learner, so its outputs for
    a picture are shared too: a class looking at the same sample costs one copy (VGG-16:
    110 MB), and at most 8 pictures are kept. A learner's own or trained network stays
    in their session. Callers must not modify the tensors.
    """
    import hashlib

    from .. import inspect as insp

    picture = hashlib.sha256(x.numpy().tobytes()).hexdigest() + str(tuple(x.shape))
    if loaded.source in ("bundled", "zoo"):
        pretrained = bool((loaded.card or {}).get("pretrained", True))
        return _shared_outputs(loaded.name, loaded.source, pretrained, picture, loaded.model, x)
    return session_memo("own.outputs", (id(loaded.model), picture), lambda: insp.activations(loaded.model, x))


def session_memo(key: str, ident, compute):
    """``compute()`` once per ``ident`` for this learner (kept in their session only)."""
    memo = st.session_state.get(key)
    if memo is None or memo[0] != ident:
        memo = (ident, compute())
        st.session_state[key] = memo
    return memo[1]


@st.cache_resource(show_spinner=False)
def _class_memo():
    """The server-wide memo of ``model_memo``: {key: value} (LRU order) and a lock per key."""
    import collections
    import threading

    return collections.OrderedDict(), {}, threading.Lock()


CLASS_MEMO_ENTRIES = 64


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
    import threading

    pretrained = bool((loaded.card or {}).get("pretrained", True))
    full = (loaded.name, loaded.source, pretrained, key, ident)
    values, locks, guard = _class_memo()
    with guard:
        if full in values:
            values.move_to_end(full)
            return values[full]
        lock = locks.setdefault(full, threading.Lock())
    with lock:                                   # one learner computes, the others wait for it
        with guard:
            if full in values:
                return values[full]
        value = compute()
        with guard:
            values[full] = value
            while len(values) > CLASS_MEMO_ENTRIES:
                values.popitem(last=False)
            locks.pop(full, None)
    return value
