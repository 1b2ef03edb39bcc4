"""The engine of ``cnnviz.maths.conv``: how the whole activation map is computed, fast.

Moving the window H_out*W_out times in Python would be slow, so we move the *image* instead:
each kernel weight (a "tap": which input plane, which row and column offset, which weight)
multiplies, in one pass, the grid of pixels it meets at every position, and we add those grids
up. Same sums as the step-by-step view (``conv.Convolution.step``). Two loops add the taps: a
numba-compiled one (~4x faster on dense kernels) once it is compiled, and numpy until then or
without numba.

numba is imported only by the compiling thread that ``warm_up`` starts (importing it costs
~0.3 s, compiling ~2 s once per machine, then the function is loaded from numba's on-disk
cache), so importing this module (and ``conv``) imports neither numba nor torch. The loop is
compiled with ``nogil=True`` so several threads (and several Streamlit sessions) can run it at
once without numba's parallel threading layer, which is not safe to call from many Python
threads. ``CNNVIZ_JIT=0`` (or numba missing) leaves the numpy loop.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

_JIT_OFF = os.environ.get("CNNVIZ_JIT", "1").strip().lower() in ("0", "false", "no", "off")
_jit_lock = threading.Lock()
_jit_state = "off" if _JIT_OFF else "idle"     # idle -> compiling -> ready | failed
_jit_thread: threading.Thread | None = None
_jit_add_taps = None
_pool: ThreadPoolExecutor | None = None
_WORKERS = max(1, min(4, os.cpu_count() or 1))


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


def _compile_jit() -> None:
    global _jit_state, _jit_add_taps
    try:
        _jit_add_taps, _jit_state = _compiled(), "ready"
    except Exception:  # numba missing or unable to compile here: numpy keeps working
        _jit_state = "failed"


def _compiled():
    """``_add_taps`` compiled by numba, its one signature (the one ``slide`` calls) compiled or
    loaded from the cache."""
    import numba

    def compile_(cache: bool):
        return numba.njit(nogil=True, fastmath=True, cache=cache)(_add_taps)

    try:
        add_taps = compile_(cache=True)
    except RuntimeError:  # no writable cache directory anywhere: compile on every start instead
        add_taps = compile_(cache=False)
    planes = np.zeros((1, 2, 2), np.float32)
    taps = np.zeros(1, np.int64)
    add_taps(planes, taps, taps, taps, np.ones(1, np.float32), np.empty((1, 1), np.float32), 0, 1,
             np.float32(0))
    return add_taps


def warm_up(wait: bool = False) -> str:
    """Start compiling the fast engine in the background (once); return its state.

    States: "ready", "compiling", "failed" (numba missing or broken), "off"
    (``CNNVIZ_JIT=0``). ``wait=True`` blocks until compiling is over.
    """
    global _jit_state, _jit_thread
    with _jit_lock:
        if _jit_state == "idle":
            _jit_state = "compiling"
            _jit_thread = threading.Thread(target=_compile_jit, name="cnnviz-jit", daemon=True)
            _jit_thread.start()
    if wait and _jit_thread is not None:
        _jit_thread.join()
    return _jit_state


def _phases(planes: np.ndarray, padding: int, stride: int, add_channels: bool = False) -> np.ndarray:
    """Pad the planes with zeros and split them into their stride x stride phases.

    A phase holds every s-th row and column of the padded input starting at one
    offset; with the phases stacked as planes, every tap reads a contiguous slice
    even with a stride. Returns (C*s*s, Hq, Wq) float32: plane c*s*s + a*s + b holds
    padded rows a, a+s, ... and columns b, b+s, ... of channel c. ``add_channels``
    first adds the channels up (C becomes 1). Each pixel is copied once.
    """
    c, h, w = planes.shape
    s, p = stride, padding
    hq, wq = -(-(h + 2 * p) // s), -(-(w + 2 * p) // s)
    out_c = 1 if add_channels else c
    phases = np.zeros((out_c, s, s, hq, wq), np.float32)  # zeros = the padding (and a little more)
    for a in range(s):
        y0 = -(-(p - a) // s) if p > a else 0          # first phase row that lands inside the image
        r0 = a + s * y0 - p                            # ...and the image row it holds
        if r0 >= h:
            continue
        for b in range(s):
            x0 = -(-(p - b) // s) if p > b else 0
            c0 = b + s * x0 - p
            if c0 >= w:
                continue
            src = planes[:, r0::s, c0::s]
            dst = phases[:, a, b, y0:y0 + src.shape[1], x0:x0 + src.shape[2]]
            if add_channels:
                np.sum(src, axis=0, out=dst[0], dtype=np.float32)
            else:
                dst[...] = src
    return phases.reshape(out_c * s * s, hq, wq)


def _taps(weights: np.ndarray, stride: int, dilation: int):
    """One tap per non-zero weight: (plane, row offset, column offset, weight) arrays.

    Sparse kernels (the curve detector) cost only their non-zeros.
    """
    s = stride
    ch, i, j = np.nonzero(weights)
    row, col = i * dilation, j * dilation               # offsets in the padded input
    plane = ch * s * s + (row % s) * s + col % s
    return (plane.astype(np.int64), (row // s).astype(np.int64), (col // s).astype(np.int64),
            weights[ch, i, j].astype(np.float32))


def _add_taps_numpy(planes, plane, row, col, weight, out, bias) -> None:
    h_out, w_out = out.shape
    band = max(1, 32768 // w_out)        # a band of output rows at a time stays in the CPU cache
    tmp = np.empty((band, w_out), np.float32)
    for r0 in range(0, h_out, band):
        n = min(band, h_out - r0)
        acc, t = out[r0:r0 + n], tmp[:n]
        acc.fill(bias)
        for p, dr, dc, w in zip(plane, row, col, weight):
            np.multiply(planes[p, r0 + dr:r0 + dr + n, dc:dc + w_out], w, out=t)
            acc += t


def _add_taps_jit(planes, plane, row, col, weight, out, bias) -> None:
    global _pool
    h_out = out.shape[0]
    args = (planes, plane, row, col, weight, out)
    chunks = _WORKERS if len(weight) * out.size >= 2_000_000 and h_out >= 2 * _WORKERS else 1
    if chunks == 1:
        _jit_add_taps(*args, 0, h_out, np.float32(bias))
        return
    with _jit_lock:     # two sessions arriving at once must not make two pools
        if _pool is None:
            _pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="cnnviz-conv")
    edges = np.linspace(0, h_out, chunks + 1).astype(int)
    jobs = [_pool.submit(_jit_add_taps, *args, int(a), int(b), np.float32(bias))
            for a, b in zip(edges[1:-1], edges[2:])]
    _jit_add_taps(*args, 0, int(edges[1]), np.float32(bias))   # this thread does the first chunk
    for job in jobs:
        job.result()


def slide(planes, weights, h_out, w_out, stride, padding, dilation, bias, engine="auto",
          add_channels=False) -> np.ndarray:
    """The (h_out, w_out) activation map of ``weights`` (C, kh, kw) over ``planes`` (C, H, W): the
    sum of the taps over the phases. ``engine``: "auto" (the fastest available), "jit" or "numpy"."""
    if engine == "auto":
        engine = "jit" if warm_up() == "ready" else "numpy"
    elif engine == "jit" and warm_up(wait=True) != "ready":
        raise RuntimeError(f"the compiled engine is {_jit_state}")
    phases = _phases(planes, padding, stride, add_channels)
    taps = _taps(weights, stride, dilation)
    out = np.empty((h_out, w_out), np.float32)
    (_add_taps_jit if engine == "jit" else _add_taps_numpy)(phases, *taps, out, bias)
    return out
