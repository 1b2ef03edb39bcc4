"""Links that reproduce a view (state in the URL), Copy link, and the presentation mode."""

from __future__ import annotations


import numpy as np
import streamlit as st

from cnnviz.maths import kernels
from cnnviz.base.errors import CnnvizError
from .language import lang, t



# ---------------------------------------------------------------- links that reproduce a view
# Widgets with ``bind="query-params"`` keep their value in the URL under their key (Streamlit drops
# a default value, and ignores an invalid one). State that isn't a plain widget (a custom kernel,
# the model, the picture, a class or channel whose widget key changes with the picture) is written
# by ``url_keep`` and read back by ``url_seed``. A bad value in a link is named in one warning at
# the top of the page, in the learner's language, and the default is used instead.
_LINK_BAD = "link.bad"
_LINK_SEEDED = "link.seeded"
PRESENT_VALUES = ("1", "true", "yes", "on")


def link_start(page: str) -> None:
    """Called by app.py before ``page`` runs: a place at the top for the warning, and what the
    URL said when this page was opened (for the widgets Streamlit binds natively)."""
    st.session_state[_LINK_BAD] = []
    st.session_state["link.slot"] = st.empty()
    arrived = st.session_state.get("link.page", ()) != page
    st.session_state["link.page"] = page
    st.session_state["link.incoming"] = dict(st.query_params.to_dict()) if arrived else {}
    if arrived:
        st.session_state[_LINK_SEEDED] = {}     # a page opened by a link: its values are applied afresh


def link_opened() -> bool:
    """Whether this run opened the page through a link with settings (not the sidebar, not a click)."""
    return any(k not in ("lang", "present") for k in st.session_state.get("link.incoming") or {})


def _loosely_equal(text: str, value) -> bool:
    if isinstance(value, bool):
        return text.strip().lower() == str(value).lower()
    if isinstance(value, (int, float, np.integer, np.floating)):
        try:
            return float(text) == float(value)
        except ValueError:
            return False
    return text == str(value)


def link_end() -> None:
    """Called by app.py after the page ran: a natively bound parameter that Streamlit dropped or
    corrected (stride=abc, t=999999) is reported like the others."""
    incoming = st.session_state.get("link.incoming") or {}
    now = st.query_params.to_dict()
    for param, raw in incoming.items():
        if param in ("lang", "present") or param in (st.session_state.get(_LINK_SEEDED) or {}):
            continue
        if now.get(param) == raw or param not in st.session_state:
            continue            # kept, or not a widget of this page
        if not _loosely_equal(raw, st.session_state[param]):
            _link_bad(param, raw)


def _link_bad(param: str, raw) -> None:
    bad = st.session_state.setdefault(_LINK_BAD, [])
    entry = f"{param}={str(raw)[:40]}"
    if entry in bad:          # seen by url_seed before the page ran and by link_end after it: said once
        return
    bad.append(entry)
    slot = st.session_state.get("link.slot")
    if slot is not None:
        slot.warning(t("app.link_bad", params=", ".join(bad)), icon=":material/link_off:")


def url_seed(param: str, key: str | None, parse, valid=lambda v: True) -> bool | None:
    """Before a widget: the value the link gives ``param`` becomes the widget's (``key``), once per
    link. ``parse`` turns the text into a value (may raise); ``valid`` says whether it may be used.
    A value that can't be used is reported and removed from the URL: the widget keeps its default.
    True when the link's value was just applied."""
    raw = st.query_params.get(param)
    seeded = st.session_state.setdefault(_LINK_SEEDED, {})
    if raw is None or seeded.get(param) == raw:
        return
    seeded[param] = raw
    try:
        value = parse(raw)
        ok = bool(valid(value))
    except (ValueError, TypeError, KeyError, IndexError, CnnvizError):
        ok = False
    if ok:
        if key is not None:
            st.session_state[key] = value
        return True
    else:
        _link_bad(param, raw)
        del st.query_params[param]      # (still marked as seen: reported once)


def url_keep(param: str, value, default, fmt=str) -> None:
    """After a widget: the URL says ``param``'s value, or nothing when it is ``default``."""
    want = None if value is None or value == default else fmt(value)
    seeded = st.session_state.setdefault(_LINK_SEEDED, {})
    if st.query_params.get(param) != want:
        if want is None:
            del st.query_params[param]
        else:
            st.query_params[param] = want
    if want is None:
        seeded.pop(param, None)
    else:
        seeded[param] = want


def encode_kernel(kernel: np.ndarray) -> str:
    """A kernel in one URL parameter: rows split by ";", values by "," ("0,1,0;1,-4,1;0,1,0")."""
    return ";".join(",".join(f"{float(v):.6g}" for v in row) for row in np.asarray(kernel))


def decode_kernel(text: str) -> np.ndarray:
    """``encode_kernel``'s inverse, for text from a link: at most 31 x 31 numbers of at most 10^6
    (``kernels.parse``'s limits), square; anything else is a ``KernelError``."""
    text = str(text or "")
    if len(text) > 12 * kernels.MAX_SIZE ** 2:
        raise CnnvizError("kernels.error.too_big", h="?", w="?", max=kernels.MAX_SIZE)
    kernel = kernels.parse([row.split(",") for row in text.split(";")])
    if kernel.shape[0] != kernel.shape[1]:
        raise CnnvizError("kernels.error.ragged", row=1, got=kernel.shape[1], want=kernel.shape[0])
    return kernel


def link_url() -> str:
    """The address of this view: the page, its parameters and the learner's language."""
    from urllib.parse import urlencode

    base = str(getattr(st.context, "url", None) or "").split("?")[0]
    params = {k: v for k, v in st.query_params.to_dict().items()}
    params["lang"] = lang()
    return base + "?" + urlencode(params, safe=",;:")


def copy_link(where=None) -> None:
    """A "Copy link" button (sidebar): copies the page's current address, which holds the whole
    view; the address is also shown, to copy by hand where a browser refuses (plain http)."""
    import html as html_lib
    import json

    box = where if where is not None else st.sidebar
    url = link_url()
    label, done = t("app.copy_link"), t("app.link_copied")
    box.html(f"""
<div class="cnnviz-link">
  <button type="button" id="cnnviz-copy" title="{html_lib.escape(t('app.copy_link_help'))}"
   style="padding:.35rem .8rem;border:1px solid #bbb;border-radius:.5rem;background:#fff;cursor:pointer">
   🔗 {html_lib.escape(label)}</button>
  <input id="cnnviz-url" readonly value="{html_lib.escape(url)}" aria-label="{html_lib.escape(label)}"
   style="width:100%;margin-top:.3rem;font-size:.75rem;border:1px solid #ddd;border-radius:.3rem;padding:.2rem"/>
</div>
<script>
(function() {{
  const doc = document, btn = doc.getElementById("cnnviz-copy"), box = doc.getElementById("cnnviz-url");
  if (!btn || btn.dataset.ready) return;
  btn.dataset.ready = "1";
  const here = () => {{
    const u = new URL(window.location.href);
    if (!u.searchParams.get("lang")) u.searchParams.set("lang", {json.dumps(lang())});
    return u.toString();
  }};
  box.addEventListener("focus", () => {{ box.value = here(); box.select(); }});
  btn.addEventListener("click", () => {{
    box.value = here();
    const shown = () => {{ btn.textContent = "✓ " + {json.dumps(done)}; }};
    if (navigator.clipboard && window.isSecureContext) {{
      navigator.clipboard.writeText(box.value).then(shown, () => {{ box.select(); doc.execCommand("copy"); shown(); }});
    }} else {{ box.select(); doc.execCommand("copy"); shown(); }}
  }});
}})();
</script>""", unsafe_allow_javascript=True)


def presenting() -> bool:
    """Presentation mode (``?present=1``): remembered for the session until the learner leaves it."""
    if "present.on" not in st.session_state:
        st.session_state["present.on"] = str(st.query_params.get("present", "")).lower() in PRESENT_VALUES
    return bool(st.session_state["present.on"])


PRESENT_CSS = """
<style>
  html, body, [data-testid="stAppViewContainer"] { font-size: 20px; }
  [data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li,
  [data-testid="stCaptionContainer"], [data-testid="stWidgetLabel"] p { font-size: 1.15rem !important; }
  h1 { font-size: 3rem !important; }
  h2 { font-size: 2.3rem !important; }
  h3 { font-size: 1.8rem !important; }
  /* headline numbers (shapes, weight counts): as much larger than the text as without presentation
     mode (2.25 x the body); their markdown paragraph would otherwise take the body size */
  [data-testid="stMetricValue"], [data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] p {
    font-size: 2.25rem !important; line-height: 1.25 !important; }
  /* a long label (a toggle's, a lesson's name in the sidebar) wraps instead of ending in "..." */
  [data-testid="stWidgetLabel"] [data-testid="stMarkdownContainer"], [data-testid="stWidgetLabel"] p,
  .stMarkdownEllipsis, .stMarkdownEllipsis p, [data-testid="stSidebarNavLink"] span {
    white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
  [data-testid="stSidebarNavLink"] { height: auto !important; min-height: 2rem; }
  /* a picture's caption: 18 px, not 23 (three pictures side by side under the step controls) */
  [data-testid="stImage"] [data-testid="stCaptionContainer"], [data-testid="stImageCaption"] {
    font-size: 0.9rem !important; line-height: 1.3 !important; }
  /* numbers in the lessons' matrices, legends and cards: up to 7 x 7, 20 px digits (14 px beyond) */
  .cnnviz-matrix.cnnviz-matrix-small { font-size: 20px !important; }
  .cnnviz-matrix caption { font-size: 18px !important; }
  .cnnviz-legend { font-size: 18px !important; }
  /* a table written in markdown (a lesson's grid of numbers): 21 px, as readable as the text */
  [data-testid="stMarkdownContainer"] table { font-size: 1.05rem !important; }
  .cnnviz-card .cnnviz-card-label { font-size: 18px !important; }
  .cnnviz-card .cnnviz-card-value { font-size: 24px !important; }
  .cnnviz-card .cnnviz-card-answer { font-size: 36px !important; }
  .cnnviz-card .cnnviz-card-title { font-size: 18px !important; }
  [data-testid="stSelectbox"] input, [data-testid="stNumberInput"] input, [data-testid="stTextInput"] input,
  [data-testid="stCode"] code { font-size: 1.05rem !important; }
  .block-container, [data-testid="stMainBlockContainer"] { padding-top: 2.5rem; }
  /* the folded sidebar's header: no white band over the top 75 px of the projector's 800 */
  [data-testid="stHeader"] { background: transparent !important; }
</style>
"""


def present_mode() -> bool:
    """Larger type for a projector, and a sidebar switch to leave it (app.py calls this)."""
    on = presenting()

    def changed():
        if st.session_state["present.on"]:
            st.query_params["present"] = "1"
        elif "present" in st.query_params:
            del st.query_params["present"]

    st.sidebar.toggle(":material/co_present: " + t("app.present"), key="present.on", on_change=changed,
                      help=t("app.present_help"))
    if on:
        if st.query_params.get("present") != "1":
            st.query_params["present"] = "1"
        st.html(PRESENT_CSS)
    return on
