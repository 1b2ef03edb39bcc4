"""What a running server's memory (RSS) is made of, from /proc/PID/smaps (issue 11).

    python benchmarks/memory_map.py PID [PID...]      # e.g. the pid classroom.py prints

Groups the resident memory of each mapping: the CUDA libraries torch's default (CUDA) wheel
maps even on a machine without a GPU (libtorch_cuda, cuDNN, cuBLAS, NCCL, ... : what a CPU-only
torch build would not map), torch's CPU library, numba/LLVM, other shared libraries, and
anonymous memory (Python objects, tensors, model weights, session state). Linux only.
What the anonymous memory is made of (glibc's heap, our caches, sessions, step by step along the
class path): ``benchmarks/memory_profile.py``; the numbers: docs/PERFORMANCE.md, "Memory".
"""

from __future__ import annotations

import re
import sys
from collections import defaultdict

GROUPS = [
    ("torch CUDA libraries (not in a CPU-only build)",
     re.compile(r"(nvidia/|libtorch_cuda|libc10_cuda|libcudnn|libcublas|libcufft|libcurand|libcusparse|"
                r"libcusolver|libnccl|libnvrtc|libnvJitLink|libcupti|libcudart|libnvToolsExt|libcufile|triton)")),
    ("torch CPU libraries", re.compile(r"(libtorch|libc10|libgomp|libshm|torch/_C)")),
    ("numba / LLVM", re.compile(r"(llvmlite|libLLVM|numba)")),
    ("numpy / scipy / OpenBLAS", re.compile(r"(numpy|scipy|openblas|libgfortran)")),
    ("other shared libraries and files", re.compile(r"/")),
]


def rss_by_group(pid: int) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    name = "anonymous (Python heap, tensors, weights, sessions)"
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                path = head[5] if len(head) > 5 else ""
                name = next((g for g, rx in GROUPS if path.startswith("/") and rx.search(path)),
                            "anonymous (Python heap, tensors, weights, sessions)")
            elif head and head[0] == "Rss:":
                out[name] += int(head[1]) / 1024
    return out


def main(pids: list[int]) -> None:
    for pid in pids:
        groups = rss_by_group(pid)
        print(f"pid {pid}: RSS {sum(groups.values()):.0f} MB")
        for g, mb in sorted(groups.items(), key=lambda kv: -kv[1]):
            print(f"  {mb:8.1f} MB  {g}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    main([int(p) for p in sys.argv[1:]])
