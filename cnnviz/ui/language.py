"""The learner's language and number format, messages, errors shown in that language, and
small number inputs that read both formats."""

from __future__ import annotations

import logging

import streamlit as st

from .. import i18n
from cnnviz.base.errors import CnnvizError

log = logging.getLogger("cnnviz")


# ---------------------------------------------------------------- language
def lang() -> str:
    """The learner's language: ?lang= in the URL, else their choice, else the browser's."""
    if "lang" not in st.session_state:
        wanted = st.query_params.get("lang")
        st.session_state["lang"] = wanted if wanted in i18n.LANGUAGES else i18n.detect_language(
            getattr(st.context, "locale", None))
    return st.session_state["lang"]


def _session_language() -> str | None:
    """The language of the session whose script (or fragment) runs in this thread, else None.

    Registered as ``i18n.current()``'s source: ``figures.fmt``, ``matrix_html``, ``fmt_tex``
    write numbers the learner's way without a ``lang`` argument. Streamlit runs every rerun and
    every fragment rerun of a session in a script thread that carries the session's context.
    """
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is None:
        return None
    return lang()


i18n.set_language_source(_session_language)


def t(key: str, **kw) -> str:
    return i18n.t(key, lang(), **kw)


def num(value: float, digits: int = 0, *, trim: bool = False) -> str:
    """A number in the learner's language (``i18n.number``: 12,288 / 12.288; 6600 stays whole)."""
    return i18n.number(value, lang(), digits, trim=trim)


def number_format():
    """``fmt(value, digits)`` bound to the learner's language, for ``format_func`` lambdas
    (they run outside the session, so they can't call ``num``)."""
    current = lang()
    return lambda value, digits=0, *, trim=False: i18n.number(value, current, digits, trim=trim)


def plot(fig, *, key: str, where=None) -> None:
    """A plotly chart in the learner's language: 12.288,5 in Portuguese, 12,288.5 in English,
    without plotly's toolbar (a class doesn't need the zoom buttons)."""
    from ..figures import plots

    if fig.layout.separators != plots.separators(lang()):   # a shared (cached) figure comes localized: not modified
        plots.localize(fig, lang())
    (where or st).plotly_chart(fig, config={"displayModeBar": False}, key=key)


def labels(prefix: str):
    """``format_func`` for options whose labels are catalog keys ``prefix + option``.

    The language is read now, not when the label is drawn: the function must
    not depend on session state (AppTest and fragments call it elsewhere).
    """
    current = lang()
    return lambda option: i18n.t(f"{prefix}{option}", current)


def message(key: str):
    """``message(key)(**kw)``: a catalog message bound to the current language, for ``format_func``
    lambdas that need numbers filled in (they run outside the session)."""
    current = lang()
    return lambda **kw: i18n.t(key, current, **kw)


def language_picker() -> str:
    """Sidebar switch between English and Portuguese (remembered for the session)."""
    current = lang()
    codes = list(i18n.LANGUAGES)
    choice = st.sidebar.selectbox(":material/translate: " + t("app.language"), codes, index=codes.index(current),
                                  format_func=i18n.LANGUAGES.get, key="lang_picker")
    if choice != current:
        st.session_state["lang"] = choice
        st.query_params["lang"] = choice      # the address says the language too (links)
        st.rerun()
    if st.query_params.get("lang") != choice:
        st.query_params["lang"] = choice      # so that a copied address opens in the same language
    return choice


def show_error(err: Exception) -> None:
    """A learner-friendly message in their language; unexpected errors are logged, not shown raw."""
    if isinstance(err, CnnvizError):
        st.error(err.message(lang()), icon=":material/warning:")
    else:
        log.exception("unexpected error", exc_info=err)
        st.error(t("app.unexpected_error", detail=type(err).__name__), icon=":material/warning:")
