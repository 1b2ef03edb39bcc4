"""The compiled inner loop of ``cnnviz.maths.conv`` (numba), imported only on demand.

``conv`` describes a convolution as a list of *taps* (one per non-zero kernel
weight: which input plane, which row and column offset, which weight) over
contiguous planes. This module adds those taps up for a range of output rows.
It is compiled with ``nogil=True`` so several threads (and several Streamlit
sessions) can run it at once without numba's parallel threading layer, which
is not safe to call from many Python threads.

Importing this module imports numba (~0.3 s) and compiles or loads the
function from numba's on-disk cache; ``conv`` does that in a background
thread and uses its numpy loop until the compiled one is ready.
"""

from __future__ import annotations

import numba
import numpy as np


def _add_taps(planes, tap_plane, tap_row, tap_col, tap_weight, out, r0, r1, bias):
    """out[r, :] = bias + sum over taps of weight * planes[plane, r + row, col : col + W_out]."""
    w_out = out.shape[1]
    for r in range(r0, r1):
        acc = out[r]
        for q in range(w_out):
            acc[q] = bias
        for t in range(tap_weight.shape[0]):
            src = planes[tap_plane[t], r + tap_row[t], tap_col[t]:tap_col[t] + w_out]
            weight = tap_weight[t]
            # No branch in here: a plain multiply-add over a contiguous row is what
            # the compiler turns into SIMD instructions.
            for q in range(w_out):
                acc[q] += weight * src[q]


def _compile(cache: bool):
    return numba.njit(nogil=True, fastmath=True, cache=cache)(_add_taps)


try:
    add_taps = _compile(cache=True)
except RuntimeError:  # no writable cache directory anywhere: compile on every start instead
    add_taps = _compile(cache=False)


def warm_up() -> None:
    """Compile (or load from the cache) the one signature ``conv`` calls."""
    planes = np.zeros((1, 2, 2), np.float32)
    taps = np.zeros(1, np.int64)
    add_taps(planes, taps, taps, taps, np.ones(1, np.float32), np.empty((1, 1), np.float32), 0, 1,
             np.float32(0))
