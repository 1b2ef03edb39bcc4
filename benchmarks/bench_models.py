"""How long loading and running each bundled model takes on this machine.

    python benchmarks/bench_models.py

Cold = first load in a fresh Python (imports torch, safetensors, the model code);
warm = a later load in the same process (what st.cache_resource saves us from
repeating anyway); predict = preprocess + forward pass of one picture.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

COLD = """
import time, sys
sys.path.insert(0, {repo!r})
import torch
t = time.perf_counter()
from cnnviz import models
models.load({name!r})
print(time.perf_counter() - t)
"""


def cold_load(name: str) -> float:
    out = subprocess.run([sys.executable, "-c", COLD.format(repo=str(REPO), name=name)],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    from PIL import Image

    from cnnviz import models

    img = Image.new("RGB", (300, 300), "white")
    print(f"{'model':10} {'params':>9} {'file MB':>8} {'cold s':>7} {'warm ms':>8} {'predict ms':>10}")
    for name in models.BUNDLED_NAMES:
        cold = cold_load(name)
        warm = []
        for _ in range(5):
            t = time.perf_counter()
            m = models.load(name)
            warm.append(time.perf_counter() - t)
        pred = []
        for _ in range(5):
            t = time.perf_counter()
            m.predict(img)
            pred.append(time.perf_counter() - t)
        size = (models.WEIGHTS_DIR / f"{name}.safetensors").stat().st_size / 1e6
        print(f"{name:10} {m.num_params:9,d} {size:8.2f} {cold:7.2f} "
              f"{1000 * statistics.median(warm):8.1f} {1000 * statistics.median(pred):10.1f}")


if __name__ == "__main__":
    main()
