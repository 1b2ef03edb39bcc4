"""ui.model_memo: a class on a bundled model computes an explanation once, a learner's own model in their session."""

from streamlit.testing.v1 import AppTest


def _script():
    import sys
    import types

    import streamlit as st

    from cnnviz import ui

    calls = sys.modules.setdefault("_model_memo_calls", types.ModuleType("_model_memo_calls"))
    calls.__dict__.setdefault("n", [])
    source = st.session_state.get("source", "bundled")
    loaded = types.SimpleNamespace(name="digits", source=source, card={}, model=None)
    ident = (source, "picture-7", 3)

    def compute():
        calls.n.append(source)
        return {"map": [len(calls.n)]}

    value = ui.model_memo(loaded, "test.memo", ident, compute)
    st.session_state["value"] = value
    st.session_state["same_object"] = value is ui.model_memo(loaded, "test.memo", ident, compute)


def _session(source):
    at = AppTest.from_function(_script)
    at.session_state["source"] = source
    at.run()
    assert not at.exception
    return at


def test_a_bundled_model_computes_once_for_the_whole_class():
    import sys

    first, second = _session("bundled"), _session("bundled")
    calls = sys.modules["_model_memo_calls"].n
    assert calls.count("bundled") == 1                    # the second learner got the first one's result
    assert first.session_state["value"] == second.session_state["value"]
    assert first.session_state["same_object"] and second.session_state["same_object"]
    # kept in the session as session_memo keeps it (tests and reruns read it there)
    assert second.session_state["test.memo"] == (("bundled", "picture-7", 3), second.session_state["value"])


def test_a_learners_own_model_stays_in_their_session():
    import sys

    _session("own")
    _session("own")
    assert sys.modules["_model_memo_calls"].n.count("own") == 2
