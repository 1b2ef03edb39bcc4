"""A server's heap, kept small (issue 11: <= 1.0 GB per worker with a class of 30).

Streamlit runs every page run in a thread of its own, and torch allocates its tensors with
glibc's ``malloc``. Two defaults of glibc then keep memory the server no longer uses:

- one malloc arena per thread, up to 8 per core: 30 learners' script threads each leave free
  memory in their own arena (measured: +3 MB RSS per extra session, 0.1 MB with 2 arenas);
- a *dynamic* mmap threshold: a big block (say a 4 MB layer output) is first given by ``mmap``
  and returned to the system when freed, but that free raises the threshold, so every later
  block up to that size comes from the heap, and once freed it stays in the heap (measured:
  150-220 MB free inside the heap after Inside's top images, on a server of ~1 GB).

``tune_malloc()`` fixes both at run time (``mallopt``: at most 2 arenas, blocks of 1 MB and more
always mmapped), unless the environment already says otherwise (``MALLOC_ARENA_MAX``,
``MALLOC_MMAP_THRESHOLD_``), so plain ``streamlit run app.py`` gets it too; ``give_back()``
(``malloc_trim(0)``) returns the free pages left inside the heap after heavy work.
Both do nothing where the C library is not glibc (macOS, Windows, musl).

``torchvision()`` imports torchvision without importing ``torch._dynamo`` (torch.compile's
machinery, with sympy): one line of torchvision (``ops.roi_align`` reads
``torch._dynamo.utils.is_compile_supported`` when it is imported, to call it when a box is
aligned) pulls in ~75 MB of Python objects and, with the CUDA build, ~70 MB more of CUDA
library pages, for a function the app never calls. torchvision's own authors meant it to be
lazy (``lazy_compile``: "this avoids eagerly importing dynamo").
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import sys
import threading
import types

ARENAS = 2                    # malloc arenas for all threads (glibc's default: 8 per core)
MMAP_THRESHOLD = 1 << 20      # blocks of this size and more: mmapped, returned to the system when freed

_M_MMAP_THRESHOLD = -3        # mallopt parameters (malloc.h)
_M_ARENA_MAX = -8

_lock = threading.Lock()
_tuned: dict | None = None


@functools.lru_cache(maxsize=1)
def _glibc():
    """glibc, or None when the C library is another one."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version        # glibc only
        libc.mallopt
        libc.malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    return libc


def tune_malloc() -> dict:
    """Set glibc's arena count and mmap threshold for this process (once; later calls return
    what the first one did) -> {"arena_max": n, "mmap_threshold": bytes} of what was set
    (empty: not glibc, or the environment chose both). Call it before the server's threads
    allocate much: arenas already made stay."""
    global _tuned
    with _lock:
        if _tuned is None:
            _tuned = {}
            libc = _glibc()
            if libc is not None:
                if "MALLOC_ARENA_MAX" not in os.environ and libc.mallopt(_M_ARENA_MAX, ARENAS) == 1:
                    _tuned["arena_max"] = ARENAS
                if "MALLOC_MMAP_THRESHOLD_" not in os.environ and \
                        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1:
                    _tuned["mmap_threshold"] = MMAP_THRESHOLD
        return dict(_tuned)


def give_back() -> bool:
    """Return the free pages inside the heap to the system (``malloc_trim(0)``: ~1 ms, up to
    ~20 ms after a run that freed hundreds of MB). True if glibc gave any back."""
    libc = _glibc()
    return bool(libc.malloc_trim(0)) if libc is not None else False


class _StandIn(types.ModuleType):
    """``torch._dynamo`` (or ``.utils``) while torchvision is imported: any name asked of it
    is the real module's (imported then), so another thread that imports torch._dynamo in
    that fraction of a second still gets what it asks for."""

    def __getattr__(self, name):
        import importlib

        if name.startswith("__"):   # the import system's own questions (__path__, __spec__...)
            raise AttributeError(name)
        _drop_stand_ins()
        return getattr(importlib.import_module(self.__name__), name)


def _is_compile_supported(device_type):
    """torchvision's roi_align asks this only when it runs: then torch._dynamo is imported."""
    from torch._dynamo.utils import is_compile_supported

    return is_compile_supported(device_type)


_STAND_INS = {"torch._dynamo": _StandIn("torch._dynamo"), "torch._dynamo.utils": _StandIn("torch._dynamo.utils")}
_STAND_INS["torch._dynamo.utils"].is_compile_supported = _is_compile_supported
_torchvision_lock = threading.Lock()


def _drop_stand_ins() -> None:
    for name, module in _STAND_INS.items():
        if sys.modules.get(name) is module:
            del sys.modules[name]


def torchvision():
    """``import torchvision``, without importing ``torch._dynamo`` if it isn't yet (see above).

    Measured (CUDA build, one process): torch 532 MB; + torchvision 550 MB here, 700 MB with
    its plain import; + a ResNet-18 forward pass 627 MB. torch._dynamo is imported for real the
    first time something needs it (an optimizer, ``torch.compile``, roi_align).
    """
    with _torchvision_lock:
        if "torchvision" not in sys.modules and "torch._dynamo" not in sys.modules:
            import torch  # noqa: F401  (its own import must not see the stand-ins)

            sys.modules.update(_STAND_INS)
            try:
                import torchvision as tv
            finally:
                _drop_stand_ins()
            return tv
    import torchvision as tv

    return tv
