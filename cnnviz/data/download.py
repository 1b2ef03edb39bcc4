"""Optional download of MNIST and Fashion-MNIST, for a server with internet (the hosted demo)
whose data folder is empty. Offline, unwritable and damaged cases raise a ``DataError`` the
learner can read.
"""

from __future__ import annotations

from pathlib import Path

from cnnviz.data.datasets import DATASETS, DataError, data_root


# ------------------------------------------------------------------ optional download (MNIST, Fashion-MNIST)
# For a server with internet (the hosted demo) whose data folder is empty. The files are
# the official gzip archives; we check the *unpacked* files against the MD5 of the
# official files, so a mirror can't hand us something else.
DOWNLOADS: dict[str, tuple[tuple[str, ...], dict[str, str], float]] = {
    # name: (mirrors, {file: md5 of the unpacked file}, download size in MB)
    "mnist": (("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://yann.lecun.com/exdb/mnist/"),
              {"train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
               "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
               "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
               "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637"}, 11.6),
    "fashion": (("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
                {"train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
                 "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
                 "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
                 "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965"}, 30.2),
}


def download_dataset(name: str, *, root: Path | None = None, progress=None,
                     mirrors: tuple[str, ...] | None = None, timeout: float = 30) -> Path:
    """Download dataset ``name`` (``DOWNLOADS``) into the data folder; return its folder.

    progress(file, done_bytes, total_bytes) is called as bytes arrive. Files already
    there are kept. Each file is written under a temporary name and renamed once
    complete and checked, so a cut connection never leaves a half file behind.
    Raises ``DataError`` (offline, unwritable folder, damaged download).
    """
    import gzip
    import hashlib
    import tempfile
    import urllib.error
    import urllib.request

    if name not in DOWNLOADS:
        raise DataError("data.error.not_downloadable", dataset=name, known=", ".join(DOWNLOADS))
    default_mirrors, files, _ = DOWNLOADS[name]
    folder = Path(root or data_root()) / DATASETS[name].folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=folder, prefix=".probe-")
        probe.close()
    except OSError as err:
        raise DataError("data.error.not_writable", folder=str(folder), detail=err.strerror or str(err)) from None
    for file, md5 in files.items():
        target = folder / file
        if target.is_file():
            continue
        last = None
        for mirror in mirrors or default_mirrors:
            url = f"{mirror}{file}.gz"
            try:
                chunks, done = [], 0
                with urllib.request.urlopen(url, timeout=timeout) as resp:
                    total = int(getattr(resp, "headers", {}).get("Content-Length") or 0)
                    while block := resp.read(1 << 16):
                        chunks.append(block)
                        done += len(block)
                        if progress:
                            progress(file, done, total)
                content = gzip.decompress(b"".join(chunks))
            except (urllib.error.URLError, OSError, ValueError, EOFError) as err:
                last = (url, str(getattr(err, "reason", err)))
                continue
            if hashlib.md5(content).hexdigest() != md5:
                last = (url, "checksum")
                continue
            with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{file}-", delete=False) as part:
                part.write(content)
            Path(part.name).chmod(0o644)
            Path(part.name).replace(target)
            break
        else:
            url, detail = last
            if detail == "checksum":
                raise DataError("data.error.download_corrupt", file=file, url=url)
            raise DataError("data.error.download_failed", dataset=name, url=url, folder=str(folder), detail=detail)
    return folder
