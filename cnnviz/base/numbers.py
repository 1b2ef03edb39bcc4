"""Numbers a learner types, in either language's format: one reader for a plain decimal.

"0,5" (Portuguese), "0.5" (English), "-1,5e3", ".5" and a typographic minus ("−2", pasted from
a document) all read; anything else is not a number. Thousands separators are not plain
decimals: the self-check answers accept them on top of this (``cnnviz.exercises.parse_number``).
Each caller turns ``None`` into its own message (which cell, which field).
"""

from __future__ import annotations

import math
import re

_DECIMAL = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")
MINUSES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2012": "-", "\uff0d": "-"})   # all mean "-"


_NOT_FINITE = re.compile(r"[+-]?(nan|inf|infinity)", re.IGNORECASE)


def read_decimal(text) -> float | None:
    """``text`` as a float when it is one plain decimal number (a comma or a point as the decimal
    mark), else None. "nan" and "inf" read as what they are, so that a caller can say "not a
    finite number" rather than "not a number"; a huge exponent gives inf too: callers bound it
    (``bounded``)."""
    s = str(text).translate(MINUSES).strip()
    if _NOT_FINITE.fullmatch(s):
        return float(s)
    if not _DECIMAL.fullmatch(s):
        return None
    return float(s.replace(",", "."))


def bounded(value: float | None, limit: float = 1e6) -> bool:
    """A value a lesson can use: finite and at most ``limit`` in size."""
    return value is not None and math.isfinite(value) and abs(value) <= limit
