"""The one timing helper the benchmark scripts share."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere: import cnnviz


def median_ms(fn, repeat: int) -> float:
    """Median wall time of ``fn()`` in milliseconds, after one warm-up call."""
    fn()  # warm up: allocations, caches, lazy imports
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)
