"""Write the bundled teaching sample of each dataset: assets/data/<dataset>-sample.npz.

    python tools/make_data_sample.py            # reads the full datasets in $CNNVIZ_DATA or ../shared/data
    python tools/make_data_sample.py --check    # rebuild in memory and compare with the files on disk

On a fresh machine (a new laptop, Streamlit Community Cloud) the full datasets are
not there; ``cnnviz.data`` then falls back on these samples so that every lesson
opens, Inside's top images and Explain have real test pictures, and small trainings run.

What a sample is (one file per dataset, uncompressed arrays inside a zip with LZMA compression):

- ``images``: uint8, (N, 28, 28) for MNIST / Fashion-MNIST, (N, 32, 32, 3) for CIFAR-10,
  the layouts of torchvision's ``.data``;
- ``labels``: uint8 (N,);
- ``index``: int32 (N,), each image's position in the official test set, in increasing order.

MNIST and Fashion-MNIST: the first 100 test images of each class (1,000 images, balanced),
kept in the test set's order, so the sample starts with the test set's first images.
CIFAR-10: the offline subset's whole test split, i.e. the first 1,000 images of the official
CIFAR-10 test set (not balanced: 86 to 112 per class, see assets/data/README.md); a balanced
100 per class can't be drawn from it, and mixing in training images would make the tiny-rgb
card's test accuracy meaningless.

Deterministic: no randomness, and the zip entries carry a fixed date, so running the script
again gives the same bytes (``--check`` verifies it).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from cnnviz import data  # noqa: E402

OUT = ROOT / "assets" / "data"
PER_CLASS = 100
SAMPLED = ("mnist", "fashion", "cifar10-subset")


def choose(labels: np.ndarray, per_class: int | None) -> np.ndarray:
    """Positions of the first ``per_class`` images of each class, in increasing order
    (every position if ``per_class`` is None)."""
    if per_class is None:
        return np.arange(len(labels))
    keep = np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in np.unique(labels)])
    return np.sort(keep)


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An ``.npz`` (readable by ``np.load``) with reproducible bytes: fixed entry dates, LZMA."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for key, arr in arrays.items():
            npy = io.BytesIO()
            np.lib.format.write_array(npy, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_LZMA
            info.external_attr = 0o644 << 16
            zf.writestr(info, npy.getvalue())
    return buf.getvalue()


def build(name: str) -> tuple[bytes, dict]:
    """(file bytes, facts for the README) of dataset ``name``'s sample, from the full test set."""
    ds = data.load_dataset(name, train=False, full=True)
    images = np.asarray(ds.data, dtype=np.uint8)
    labels = np.asarray(ds.targets, dtype=np.int64)
    index = choose(labels, None if name.startswith("cifar10") else PER_CLASS)
    arrays = {"images": images[index], "labels": labels[index].astype(np.uint8),
              "index": index.astype(np.int32)}
    blob = npz_bytes(arrays)
    counts = np.bincount(arrays["labels"], minlength=10).tolist()
    return blob, {"n": len(index), "of": len(labels), "counts": counts, "bytes": len(blob),
                  "sha256": hashlib.sha256(blob).hexdigest()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="compare with the files on disk, write nothing")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    same = True
    for name in SAMPLED:
        blob, facts = build(name)
        path = args.out / f"{name}-sample.npz"
        if args.check:
            ok = path.is_file() and path.read_bytes() == blob
            same &= ok
            print(f"{path.name}: {'identical' if ok else 'DIFFERS'}")
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blob)
        print(f"{path.name}: {facts['n']} of {facts['of']} test images, per class {facts['counts']}, "
              f"{facts['bytes']:,} bytes, sha256 {facts['sha256']}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
