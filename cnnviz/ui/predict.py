"""Predict, then reveal: the learner's guess before the answer is shown, and the clickable picture."""

from __future__ import annotations


import numpy as np
import streamlit as st

from .language import t




# ------------------------------------------------------------------ predict, then reveal (issue 13)
# A guess is kept per lesson part (``prefix``) with the ``context`` it was made for (a digest of the
# picture and kernel, or of the network, picture and class): a new picture or kernel asks again.
# "Skip" is kept for the session (a teacher skips once); "Try again" asks again with a fresh picture.
def predict_context(*parts) -> str:
    """A short digest of what a guess is about (arrays, strings, numbers)."""
    import hashlib

    h = hashlib.blake2b(digest_size=8)
    for p in parts:
        h.update(np.ascontiguousarray(p).tobytes() if isinstance(p, np.ndarray) else repr(p).encode())
    return h.hexdigest()


def predict_state(prefix: str, context: str) -> tuple[str, object]:
    """("ask", None), ("guessed", the guess) or ("skipped", None) for this part of the lesson."""
    if st.session_state.get(f"{prefix}.predict.skip"):
        return "skipped", None
    kept = st.session_state.get(f"{prefix}.predict.guess")
    if kept is not None and kept[0] == context:
        return "guessed", kept[1]
    return "ask", None


def predict_set(prefix: str, context: str, guess) -> None:
    st.session_state[f"{prefix}.predict.guess"] = (context, guess)


def predict_skip(prefix: str) -> None:
    st.session_state[f"{prefix}.predict.skip"] = True


def predict_again(prefix: str) -> None:
    """Forget the guess (and a skip): the question is asked again, with a fresh clickable picture."""
    st.session_state[f"{prefix}.predict.skip"] = False
    st.session_state.pop(f"{prefix}.predict.guess", None)
    st.session_state[f"{prefix}.predict.round"] = st.session_state.get(f"{prefix}.predict.round", 0) + 1


def predict_buttons(prefix: str, state: str, *, where=None, key_suffix: str = "") -> None:
    """"Skip: show it" while asking; "Try again" once revealed; "Predict first" after a skip
    (``key_suffix``: a second set of them elsewhere on the page)."""
    where = where or st
    if state == "ask":
        where.button(t(f"exercises.predict.skip.{prefix}"), key=f"{prefix}.predict.skip_button{key_suffix}",
                     on_click=predict_skip, args=(prefix,), icon=":material/visibility:", help=t("exercises.predict.skip_help"))
    else:
        where.button(t("exercises.predict.again" if state == "guessed" else "exercises.predict.first"),
                     key=f"{prefix}.predict.again_button{key_suffix}", on_click=predict_again, args=(prefix,),
                     icon=":material/replay:")


def predict_choice(prefix: str, about: str, options: list[str], *, ask: str, pick: str, reveal: str) -> None:
    """While asking: the question (``ask``), a box of ``options`` (labelled ``pick``) and a Reveal
    button that keeps the guess (its index) for ``about``, beside "Skip" (keys ``<prefix>.predict.pick.<about>``
    and ``<prefix>.predict.reveal``)."""
    st.markdown(ask)
    p1, p2, p3 = st.columns([3, 1, 2], vertical_alignment="bottom")
    chosen = p1.selectbox(pick, range(len(options)), index=None, format_func=options.__getitem__,
                          key=f"{prefix}.predict.pick.{about}", placeholder=t("exercises.predict.placeholder"))
    if p2.button(reveal, key=f"{prefix}.predict.reveal", type="primary", disabled=chosen is None,
                 icon=":material/visibility:"):
        predict_set(prefix, about, int(chosen))
        st.rerun()
    predict_buttons(prefix, "ask", where=p3)


def click_on(img, key: str, width: int | None = None) -> tuple[float, float] | None:
    """Show ``img`` (PIL) ``width`` px wide (default: its own width) and return where the learner
    clicked: (row, col) in ``img``'s own pixels, (0, 0) being the centre of its top-left pixel;
    None before a click. The component (streamlit-image-coordinates, MIT)
    ships its JavaScript: nothing is fetched at run time."""
    from PIL import Image
    from streamlit_image_coordinates import streamlit_image_coordinates

    w, h = img.size
    width = int(width or w)
    s = max(1, -(-width // w))              # enlarged (nearest) so every pixel stays a crisp square
    big = img.convert("RGB").resize((w * s, h * s), Image.Resampling.NEAREST)
    value = streamlit_image_coordinates(big, key=key, width=width, cursor="crosshair")
    if not value or not value.get("width") or not value.get("height"):
        return None
    return (value["y"] * h / value["height"] - 0.5, value["x"] * w / value["width"] - 0.5)


def mark_guess(img, target: int, *, click=None, best=None, box=None):
    """``img`` enlarged (nearest) to about ``target`` px with the learner's ``click`` (row, col: a
    cyan ring with a cross) and the true answer: ``box`` (top, left, h, w: an orange outline) and
    ``best`` (row, col: an orange ring), all in ``img``'s pixels."""
    from PIL import Image, ImageDraw

    rgb = img.convert("RGB")
    w, h = rgb.size
    s = max(1, target // max(w, h))
    out = rgb.resize((w * s, h * s), Image.Resampling.NEAREST)
    d = ImageDraw.Draw(out)
    ring = max(7, round(s * 1.2))
    line = max(2, out.size[0] // 140)
    if box is not None:
        top, left, bh, bw = box
        d.rectangle([left * s, top * s, (left + bw) * s - 1, (top + bh) * s - 1], outline=(255, 160, 0), width=line)
    if best is not None:
        cy, cx = (best[0] + 0.5) * s, (best[1] + 0.5) * s
        d.ellipse([cx - ring, cy - ring, cx + ring, cy + ring], outline=(255, 160, 0), width=line)
    if click is not None:
        cy, cx = (click[0] + 0.5) * s, (click[1] + 0.5) * s
        d.ellipse([cx - ring, cy - ring, cx + ring, cy + ring], outline=(0, 230, 255), width=line)
        d.line([cx - ring - 4, cy, cx + ring + 4, cy], fill=(0, 230, 255), width=max(1, line // 2))
        d.line([cx, cy - ring - 4, cx, cy + ring + 4], fill=(0, 230, 255), width=max(1, line // 2))
    return out
