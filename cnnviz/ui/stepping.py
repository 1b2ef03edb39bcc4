"""Stepping through positions: first / back / forward / last / strongest, Play and a slider."""

from __future__ import annotations


import numpy as np
import streamlit as st

from .language import t
from .links import url_keep, url_seed




PLAY_TICK = 0.5   # seconds between two steps while Play is on (x1 = 2 positions a second)


def playing(prefix: str) -> bool:
    """Whether ``{prefix}.play`` is on: read it once per page run and give the fragment its timer,
    ``@st.fragment(run_every=ui.PLAY_TICK if ticking else None)``, then pass ``ticking`` on."""
    return bool(st.session_state.get(f"{prefix}.play", False))


def step_controls(prefix: str, pos_key: str, n: int, strongest: int, *, ticking: bool,
                  speeds: list[int] | None = None, speed_label=None, on_strongest=None,
                  strongest_help: str | None = None, show_position: bool = True,
                  compact: bool = False) -> int:
    """First / back / forward / last / strongest buttons, Play and a position slider -> the position.

    Call it inside a fragment whose timer runs when ``ticking`` (see ``playing``): each timer
    tick moves ``speed`` positions. A fragment's timer is fixed when the page defines it, so
    whenever Play and the timer disagree (Play was just switched on or off, inside the fragment,
    or the end was reached) the whole page reruns and defines the fragment again. Labels:
    ``{prefix}.first``, ``.prev``, ``.next``, ``.last``, ``.goto_max``, ``.play``, ``.speed``,
    ``.position``. ``on_strongest()`` runs too when the strongest button is pressed (e.g. it
    answers a question the lesson asks below: the guess is skipped), ``strongest_help`` says so.
    ``show_position=False``: the slider is not shown (its number would say where the kernel is
    while a lesson hides it); it stays a widget, so the position and a link's value are kept. ``compact``: the speed and the slider without
    their labels above them (presentation mode: two lines of large type less on a projector).
    """
    # the position is always in the link (?conv.t=168): a lesson may start elsewhere than 0
    url_seed(pos_key, pos_key, int, lambda v: 0 <= v < n)
    st.session_state.setdefault(pos_key, 0)
    if st.session_state[pos_key] >= n:
        st.session_state[pos_key] = n - 1

    def move(delta=None, to=None):
        st.session_state[pos_key] = int(np.clip(st.session_state[pos_key] + delta if to is None else to, 0, n - 1))

    def to_strongest():
        move(to=int(strongest))
        if on_strongest is not None:
            on_strongest()
            st.session_state[f"{prefix}.max.rerun"] = True   # what it changed lies outside the fragment

    play_key, speed_key = f"{prefix}.play", f"{prefix}.speed"
    if ticking and st.session_state.get(play_key):
        if st.session_state[pos_key] < n - 1:
            move(st.session_state.get(speed_key, 1))
        else:                                   # the end: Play switches itself off
            st.session_state[play_key] = False
    b = st.columns([0.7, 0.7, 0.7, 0.7, 2.2, 1.4] + ([2] if speeds else []), vertical_alignment="bottom")
    b[0].button(":material/first_page:", key=f"{prefix}.first", on_click=move, kwargs={"to": 0},
                help=t(f"{prefix}.first"))
    b[1].button(":material/chevron_left:", key=f"{prefix}.prev", on_click=move, args=(-1,), help=t(f"{prefix}.prev"))
    b[2].button(":material/chevron_right:", key=f"{prefix}.next", on_click=move, args=(1,), help=t(f"{prefix}.next"))
    b[3].button(":material/last_page:", key=f"{prefix}.last", on_click=move, kwargs={"to": n - 1},
                help=t(f"{prefix}.last"))
    b[4].button(t(f"{prefix}.goto_max"), key=f"{prefix}.max", on_click=to_strongest, icon=":material/target:",
                help=strongest_help)
    b[5].toggle(t(f"{prefix}.play"), key=play_key)
    if speeds:
        if st.session_state.get(speed_key) not in speeds:  # the map changed size under us
            st.session_state[speed_key] = speeds[0]
        b[6].select_slider(t(f"{prefix}.speed"), speeds, key=speed_key, format_func=speed_label,
                           label_visibility="collapsed" if compact else "visible")
    if st.session_state[play_key] != ticking or st.session_state.pop(f"{prefix}.max.rerun", False):
        st.rerun()  # the whole page, so the fragment is defined again with its timer on or off
    if n > 1:
        where = st
        if not show_position:   # still a widget (a link's ?conv.t= keeps working), but not on the screen
            where = st.container(key=f"{pos_key}.hidden")
            where.html(f"<style>.st-key-{pos_key.replace('.', '-')}-hidden{{display:none !important}}</style>")
        where.slider(t(f"{prefix}.position"), 0, n - 1, key=pos_key,
                     label_visibility="collapsed" if compact else "visible")
    url_keep(pos_key, st.session_state[pos_key], None)
    return st.session_state[pos_key]
