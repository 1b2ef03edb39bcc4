"""Numbers in the learner's format for matrix cells, legends and LaTeX formulas."""

from __future__ import annotations

import numpy as np

from .. import i18n


def fmt(value: float, digits: int = 2, lang: str | None = None) -> str:
    """Short, exact-looking numbers for matrix cells and cards: 30, -2, 0.11, 6600, 12,288
    (``i18n.number``: up to ``digits`` decimals, no trailing zeros; the learner's format)."""
    return i18n.number(value, lang, digits, trim=True)


def fmt_tex(value: float, digits: int = 2, *, fixed: bool = True, lang: str | None = None) -> str:
    """A number for a LaTeX formula (``st.latex``) in the learner's format.

    ``fixed``: always ``digits`` decimals (``1.0000`` / ``1{,}0000``), else ``fmt``'s short
    form. A decimal comma is written ``{,}``: a bare comma in maths mode is punctuation, and
    KaTeX would put a space after it. Huge numbers become ``1{,}2 \\times 10^{5}``.
    """
    v = float(value)
    if not np.isfinite(v):
        return r"\infty" if v > 0 else (r"-\infty" if v < 0 else r"\text{NaN}")
    if abs(v) >= 1e5 and not (v == int(v) and abs(v) < 1e7):
        mantissa, exponent = f"{v:.{max(digits, 1)}e}".split("e")
        text = f"{fmt(float(mantissa), max(digits, 1), 'en')} \\times 10^{{{int(exponent)}}}"
    else:
        text = f"{v:.{digits}f}" if fixed else fmt(v, digits, "en")
    return text.replace(".", "{,}") if (lang or i18n.current()) == "pt_BR" else text


def significant_tex(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` significant digits for a LaTeX formula, in the learner's format;
    powers of ten for the very large or small (``1{,}23 \\times 10^{7}``). The softmax's
    exponentials span many orders of magnitude: e^19 and e^-14 side by side."""
    import math

    v = float(value)
    if v == 0 or not np.isfinite(v):
        return fmt_tex(v, 0)
    e = math.floor(math.log10(abs(v)))
    if -3 <= e < 5:
        return fmt_tex(v, max(0, digits - 1 - e))
    return rf"{fmt_tex(v / 10 ** e, digits - 1)} \times 10^{{{e}}}"


def latex_text(text: str) -> str:
    """A class name made safe for \\text{...} in st.latex (T-shirt/top, jack-o'-lantern, R&D...)."""
    out = text
    for ch, rep in (("\\", r"\backslash "), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"), ("#", r"\#"),
                    ("_", r"\_"), ("{", r"\{"), ("}", r"\}"), ("~", r"\sim "), ("^", r"\hat{}")):
        out = out.replace(ch, rep)
    return out
