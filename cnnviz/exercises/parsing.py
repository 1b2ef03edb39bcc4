"""Reading what a learner typed: a number, a vector or a small matrix, in either language's
format; an ``ExerciseError`` (with a catalog key) says why an answer cannot be read."""

from __future__ import annotations

import math
import re

import numpy as np

from cnnviz.base.errors import CnnvizError
from cnnviz.base.numbers import MINUSES


class ExerciseError(CnnvizError):
    """An answer we cannot read (letters, a wrong number of values...); the message says why."""


_SPACES = "\u0020\u00a0\u202f\u2009\u2007"





MAX_TEXT = 80


def _thousands_mark(lang: str | None) -> str | None:
    return {"en": ",", "pt_BR": "."}.get(lang or "")


def parse_number(text, lang: str | None = None) -> float:
    """What a learner typed -> a float, or an ``ExerciseError`` saying why not (never another error).

    Accepts ``1,5`` and ``1.5``, ``-0,25``, ``1e3``, ``4.294.967.296``, ``4,294,967,296``,
    ``4 294 967 296``, ``1.234,5`` and ``1,234.5``. A lone mark followed by exactly three
    digits (``1,234``) is a thousands separator in the language that uses it that way
    (``,`` in English, ``.`` in Portuguese) and a decimal mark otherwise; with no language
    it is a decimal mark.
    """
    if isinstance(text, bool):
        raise ExerciseError("exercises.error.not_a_number", value=str(text))
    if isinstance(text, (int, float, np.integer, np.floating)):
        value = float(text)
        if not math.isfinite(value):
            raise ExerciseError("exercises.error.not_finite", value=str(text))
        return value
    if text is None:
        raise ExerciseError("exercises.error.empty")
    s = str(text).translate(MINUSES).strip()
    if not s:
        raise ExerciseError("exercises.error.empty")
    if len(s) > MAX_TEXT:
        raise ExerciseError("exercises.error.too_long", max=MAX_TEXT)
    shown = s[:20]
    if any(ch in s for ch in _SPACES):
        # Spaces only as thousands separators: "4 294 967 296" (never "1 5")
        sp = "[" + _SPACES + "]"
        if not re.fullmatch(r"[+-]?\d{1,3}(" + sp + r"\d{3})+([.,]\d+)?([eE][+-]?\d+)?", s):
            raise ExerciseError("exercises.error.not_a_number", value=shown)
        s = re.sub(sp, "", s)
    m = re.fullmatch(r"([+-]?)([\d.,]+)(?:[eE]([+-]?\d{1,3}))?", s)
    if not m or not re.search(r"\d", m.group(2)):
        raise ExerciseError("exercises.error.not_a_number", value=shown)
    sign, body, exp = m.group(1), m.group(2), m.group(3)
    dots, commas = body.count("."), body.count(",")

    def grouped(part: str, mark: str) -> str:
        if not re.fullmatch(r"\d{1,3}(" + re.escape(mark) + r"\d{3})*", part):
            raise ExerciseError("exercises.error.grouping", value=shown)
        return part.replace(mark, "")

    if dots and commas:
        dec = "." if body.rfind(".") > body.rfind(",") else ","
        sep = "," if dec == "." else "."
        if body.count(dec) != 1:
            raise ExerciseError("exercises.error.grouping", value=shown)
        whole, frac = body.split(dec)
        if not frac.isdigit():
            raise ExerciseError("exercises.error.not_a_number", value=shown)
        number = grouped(whole, sep) + "." + frac
    elif dots + commas > 1:
        mark = "." if dots else ","
        number = grouped(body, mark)
    elif dots + commas == 1:
        mark = "." if dots else ","
        whole, frac = body.split(mark)
        if not (whole.isdigit() or frac.isdigit()):
            raise ExerciseError("exercises.error.not_a_number", value=shown)
        thousands = (len(frac) == 3 and whole.isdigit() and len(whole) <= 3 and whole[0] != "0"
                     and _thousands_mark(lang) == mark)
        number = whole + frac if thousands else (whole or "0") + "." + (frac or "0")
    else:
        number = body
    try:
        value = float(sign + number + (f"e{exp}" if exp else ""))
    except ValueError:
        raise ExerciseError("exercises.error.not_a_number", value=shown) from None
    if not math.isfinite(value) or abs(value) > 1e15:
        raise ExerciseError("exercises.error.not_finite", value=shown)
    return value


def _split_values(text: str, length: int | None) -> list[str]:
    """One row of values: separated by ';', by spaces, or by commas when they can't be decimals."""
    s = text.strip().strip("[]()").strip()
    if ";" in s:
        parts = s.split(";")
    elif re.search(r",\s", s):               # "0.66, 0.24, 0.1"
        parts = s.split(",")
    elif re.search(r"\s", s):                # "0,66 0,24 0,1"
        parts = s.split()
    elif "," in s and ("." in s or (length is not None and length > 1 and s.count(",") == length - 1)):
        parts = s.split(",")                 # "0.5,0.25" or "1,2,3" when 3 values are expected
    else:
        parts = [s]
    return [p.strip() for p in parts if p.strip()]


def _typed_text(text) -> str:
    """What a learner typed for several values, as text: an error when it is empty or too long."""
    if text is None or not str(text).strip():
        raise ExerciseError("exercises.error.empty")
    s = str(text)
    if len(s) > 40 * MAX_TEXT:
        raise ExerciseError("exercises.error.too_long", max=40 * MAX_TEXT)
    return s


def parse_vector(text, length: int | None = None, lang: str | None = None) -> np.ndarray:
    """Values on one line ("0,66; 0,24; 0,10", "0.66, 0.24, 0.1", "1 0 3") or one per line."""
    if isinstance(text, (list, tuple, np.ndarray)):
        values = [parse_number(v, lang) for v in np.asarray(text, dtype=object).ravel()]
    else:
        s = _typed_text(text)
        lines = [ln for ln in s.splitlines() if ln.strip()]
        parts = (lines if len(lines) > 1 else _split_values(lines[0], length))
        values = [parse_number(p, lang) for p in parts]
    if length is not None and len(values) != length:
        raise ExerciseError("exercises.error.length", want=length, got=len(values))
    return np.array(values, dtype=np.float64)


def parse_matrix(text, shape: tuple[int, int] | None = None, lang: str | None = None) -> np.ndarray:
    """A small matrix: rows on lines or separated by ';' ("1 2; 3 4"), values by spaces
    (or commas when the decimals are points: "0.5, 1\\n2, 3")."""
    if isinstance(text, (list, tuple, np.ndarray)):
        rows = [parse_vector(r, None, lang) if isinstance(r, (list, tuple, np.ndarray)) else
                np.array([parse_number(r, lang)]) for r in (text if len(np.shape(text)) > 1 else [text])]
    else:
        s = _typed_text(text)
        lines = [ln for ln in re.split(r"[;\n]", s) if ln.strip()]
        width = shape[1] if shape else None
        rows = [parse_vector(_split_values(ln, width) or ln, None, lang) for ln in lines]
    if not rows:
        raise ExerciseError("exercises.error.empty")
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        bad = next(i for i, r in enumerate(rows) if len(r) != len(rows[0]))
        raise ExerciseError("exercises.error.ragged", row=bad + 1, got=len(rows[bad]), want=len(rows[0]))
    out = np.vstack(rows)
    if shape is not None and out.shape != tuple(shape):
        raise ExerciseError("exercises.error.shape", want_rows=shape[0], want_cols=shape[1],
                            got_rows=out.shape[0], got_cols=out.shape[1])
    return out
