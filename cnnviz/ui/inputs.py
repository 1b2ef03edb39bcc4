"""Small inputs: a decimal number typed in the learner's own format and bound to the link, and
sliders kept within a range that changed under them."""

from __future__ import annotations

import streamlit as st

from cnnviz import i18n
from cnnviz.maths import kernels
from cnnviz.base.errors import CnnvizError
from cnnviz.base.numbers import read_decimal
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


def decimal_slider(where, label: str, low: float, high: float, value: float, step: float, *, key: str,
                   help: str | None = None, digits: int | None = None) -> float:
    """A slider of decimal values written the learner's way ("20,0" in Portuguese). ``st.slider``
    formats with printf, which always writes a decimal point, and its ``format="localized"``
    follows the browser's locale, not the app's language; a select slider over the same values
    with our formatter shows the learner's number. The link carries the value with a point in
    every language (``?layers.bn_mean=-7.5``), so a link made in English opens in Portuguese; a
    value between two steps goes to the nearest one, one outside the range is reported."""
    import math

    digits = digits if digits is not None else max(0, -math.floor(math.log10(step) + 1e-9))
    count = int(round((high - low) / step)) + 1
    options = [round(low + i * step, digits) + 0.0 for i in range(count)]

    def nearest(v: float) -> float:
        return min(options, key=lambda o: abs(o - v))

    default = nearest(value)
    def from_link(raw: str) -> float:
        v = read_decimal(raw)
        if v is None or not low - step / 2 <= v <= high + step / 2:     # nan and inf fail here too
            raise ValueError(raw)
        return nearest(v)

    url_seed(key, key, from_link)
    if st.session_state.get(key, default) not in options:    # a value kept from another range
        st.session_state[key] = default
    current = lang()
    chosen = float(where.select_slider(label, options, value=None if key in st.session_state else default,
                                       key=key, help=help, format_func=lambda v: i18n.number(v, current, digits)))
    url_keep(key, chosen, default, fmt=lambda v: f"{v:g}")
    return chosen


def keep_in_range(key: str, high: int, low: int = 0) -> None:
    """Before a slider keyed ``key`` is drawn: bring a value it kept from a bigger picture (or a
    link) back into ``low``..``high``; Streamlit raises on a value outside the slider's range."""
    value = st.session_state.get(key)
    if isinstance(value, (int, float)) and not low <= value <= max(low, high):
        st.session_state[key] = int(min(max(value, low), max(low, high)))
