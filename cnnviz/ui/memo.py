"""Values shared between learners or kept per learner: layer outputs of a shared network per
picture, per-session memos and per-class memos of a network."""

from __future__ import annotations

import threading

import streamlit as st





# ---------------------------------------------------------------- inside a network
SHARED_OUTPUTS = 8          # pictures whose layer outputs the server keeps for the class...
SHARED_OUTPUTS_MB = 256     # ...and at most this many MB of them (VGG-16: 110 MB a picture)


@st.cache_resource(show_spinner=False)
def _outputs_memo():
    """The server-wide memo of ``layer_outputs``: {key: (outputs, bytes)} (LRU order), a lock per key."""
    import collections
    import threading

    return collections.OrderedDict(), {}, threading.Lock()


def _shared_outputs(key, compute):
    values, locks, guard = _outputs_memo()
    with guard:
        if key in values:
            values.move_to_end(key)
            return values[key][0]
        lock = locks.setdefault(key, threading.Lock())
    with lock:                                   # one learner computes, the others wait for it
        with guard:
            if key in values:
                return values[key][0]
        outputs = compute()
        size = sum(t.element_size() * t.nelement() for t in outputs.values())
        with guard:
            values[key] = (outputs, size)
            total = sum(n for _, n in values.values())
            # the oldest go first; the newest stays even alone over the budget (its learner uses it)
            while len(values) > 1 and (len(values) > SHARED_OUTPUTS or total > SHARED_OUTPUTS_MB * 2 ** 20):
                total -= values.popitem(last=False)[1][1]
            locks.pop(key, None)
    return outputs


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
        return _shared_outputs((loaded.name, loaded.source, pretrained, picture),
                               lambda: insp.activations(loaded.model, x))
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
