"""Small inputs: a decimal number typed in the learner's own format and bound to the link, and
sliders kept within a range that changed under them."""

from __future__ import annotations

import streamlit as st

from .. import kernels
from ..errors import CnnvizError
from .language import lang, num
from .links import url_keep, url_seed


def decimal_input(where, label: str, *, key: str, value: float, help: str | None = None, digits: int = 2) -> float:
    """A number the learner types in their own format ("0,5" in Portuguese; "0.5" works too),
    instead of ``st.number_input``, which always writes a decimal point. A value that isn't a
    number gets a message in the learner's language, and the last good value is kept."""
    good = f"{key}.value"
    if key not in st.session_state:
        st.session_state[key] = num(value, digits)
        st.session_state[good] = float(value)
    url_seed(key, key, lambda raw: num(kernels.parse_value(raw, label), digits))   # ?conv.bias=-0.5
    text = where.text_input(label, key=key, help=help)
    try:
        st.session_state[good] = kernels.parse_value(text, label)
    except CnnvizError as err:
        where.error(err.message(lang()), icon=":material/warning:")
    url_keep(key, st.session_state[good], float(value), fmt=lambda v: f"{v:g}")
    return st.session_state[good]


def keep_in_range(key: str, high: int, low: int = 0) -> None:
    """Before a slider keyed ``key`` is drawn: bring a value it kept from a bigger picture (or a
    link) back into ``low``..``high``; Streamlit raises on a value outside the slider's range."""
    value = st.session_state.get(key)
    if isinstance(value, (int, float)) and not low <= value <= max(low, high):
        st.session_state[key] = int(min(max(value, low), max(low, high)))
