"""A server gives freed memory back (issue 11: <= 1.0 GB per worker): cnnviz.base.memory.

The malloc checks run in a fresh Python process each (malloc's settings are per process) and read
that process's resident memory (RSS) from /proc: Linux with glibc only.
"""

import platform
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent

glibc = pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
                           reason="glibc's malloc on Linux")

# glibc's malloc and free, and the process's resident memory (MB), for the scripts below
LIBC = textwrap.dedent("""
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
""").strip()

# Allocates and frees like a server's page run: one big block (a layer's output) first, then 100
# blocks of 2 MB touched and freed, all but the last (still in use, as something always is).
# Prints the RSS (MB) kept after the frees, in a new thread like a Streamlit script run.
PATTERN = textwrap.dedent("""
    import ctypes, os, sys, threading
    sys.path.insert(0, {root!r})
    {libc}
    {setup}
    def run(out):
        big = libc.malloc(8 << 20); libc.memset(big, 1, 8 << 20); libc.free(big)
        before = rss()
        blocks = [libc.malloc({block}) for _ in range({count})]
        for b in blocks:
            libc.memset(b, 1, {block})
        for b in blocks[:-1]:
            libc.free(b)
        out.append(rss() - before)
        {after}
    out = []
    th = threading.Thread(target=run, args=(out,)); th.start(); th.join()
    print("KEPT", *(round(v) for v in out))
""")


def kept(setup: str = "", after: str = "", block: int = 2 << 20, count: int = 100) -> list[int]:
    code = PATTERN.format(root=str(ROOT), libc=LIBC, setup=setup, after=after, block=block, count=count)
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}   # no MALLOC_* from the caller's environment
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith("KEPT"))
    return [int(v) for v in line.split()[1:]]


@glibc
def test_glibcs_defaults_keep_freed_blocks_in_the_heap():
    """What the tuning is for (and that this machine shows it): ~200 MB freed, still resident."""
    assert kept()[0] > 150


@glibc
def test_a_tuned_process_gives_freed_big_blocks_back_at_once():
    assert kept(setup="from cnnviz import memory; print(memory.tune_malloc())")[0] < 20


@glibc
def test_the_app_tunes_malloc_when_it_starts():
    """``streamlit run app.py`` imports cnnviz.ui: that is enough, no environment variable needed."""
    assert kept(setup="import cnnviz.ui")[0] < 20


@glibc
def test_give_back_returns_the_free_pages_left_in_the_heap():
    """Small blocks (under the mmap threshold: Python objects, small tensors) freed in the middle
    of the heap stay resident until ``give_back``."""
    first, then = kept(setup="from cnnviz import memory; memory.tune_malloc()",
                       after="memory.give_back(); out.append(rss() - before)", block=100 << 10, count=2000)
    assert first > 150 and then < 30


@glibc
def test_the_environment_wins():
    code = ("import os; os.environ['MALLOC_ARENA_MAX'] = '4'; os.environ['MALLOC_MMAP_THRESHOLD_'] = '65536'\n"
            "from cnnviz import memory; print(memory.tune_malloc())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.stdout.strip() == "{}", out.stdout + out.stderr


@pytest.mark.slow
@glibc
def test_heavy_work_gives_its_memory_back_when_it_ends():
    """A heavy job (top images, occlusion, training...) frees hundreds of MB of small blocks when it
    ends: ``ui.heavy`` gives them back, the server does not keep them."""
    page = textwrap.dedent("""
        import ctypes, os
        import streamlit as st
        import torch                 # (the line runs jobs on torch threads: imported before we measure)
        from cnnviz import ui
        LIBC_PRELUDE
        before = rss()
        with ui.heavy("occlusion", cancel_key="go.cancel"):
            blocks = [libc.malloc(100 << 10) for _ in range(2000)]
            for b in blocks:
                libc.memset(b, 1, 100 << 10)
            for b in blocks[:-1]:
                libc.free(b)
            st.session_state["during"] = rss() - before
        st.session_state["after"] = rss() - before
    """).replace("LIBC_PRELUDE", LIBC)
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT)!r})
        from streamlit.testing.v1 import AppTest

        at = AppTest.from_string({page!r}, default_timeout=60).run()
        assert not at.exception, at.exception
        print("KEPT", round(at.session_state["during"]), round(at.session_state["after"]))
    """)
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    during, after = (int(v) for v in next(x for x in out.stdout.splitlines() if x.startswith("KEPT")).split()[1:])
    assert during > 150 and after < 30, (during, after)


def test_the_bundled_sample_loads_without_torchvision():
    """On a machine without the datasets (a fresh laptop, Community Cloud), Inside's top images and
    the confidence references read the bundled sample: torchvision's import (with torch._dynamo and
    sympy: ~150 MB of RSS, CUDA build) is not paid for it."""
    code = ("import sys\nfrom cnnviz import data\n"
            "ds = data.load_dataset('mnist', train=False)\n"
            "x, y = data.as_tensors(ds, 300)\n"
            "print(type(ds).__name__, tuple(x.shape), 'torchvision' in sys.modules)")
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "CNNVIZ_DATA": "/nonexistent"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "SampleDataset (300, 1, 28, 28) False", out.stdout


@pytest.mark.slow
def test_torchvisions_networks_and_datasets_come_without_torch_dynamo():
    """ResNet-18 (Inside, Explain) and the full datasets need torchvision; its plain import also
    imports torch._dynamo and sympy (~150 MB of RSS with the CUDA build) for a function only
    roi_align calls. Through cnnviz they come without it; roi_align, an optimizer and
    torch.compile still find the real torch._dynamo afterwards."""
    code = textwrap.dedent("""
        import sys, torch
        from cnnviz.models import zoo
        net = zoo.build_zoo("resnet18").eval()
        with torch.no_grad():
            out = net(torch.rand(1, 3, 64, 64))
        print("NET", tuple(out.shape), "torch._dynamo" in sys.modules)
        from torchvision.ops import roi_align
        boxes = [torch.tensor([[0.0, 0.0, 4.0, 4.0]])]
        print("ROI", tuple(roi_align(torch.rand(1, 2, 8, 8), boxes, 2).shape))
        asked = sys.modules["torchvision.ops.roi_align"].is_compile_supported("cpu")
        print("ASKED", asked, "torch._dynamo" in sys.modules)
        import torch._dynamo
        torch.optim.Adam(net.parameters())
        print("REAL", type(torch._dynamo).__name__, callable(torch.compile(lambda x: x)),
              hasattr(torch._dynamo, "reset"))
    """)
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "CNNVIZ_DATA": "/nonexistent"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.splitlines()
    assert "NET (1, 1000) False" in lines, out.stdout
    assert "ROI (1, 2, 2, 2)" in lines, out.stdout
    assert "ASKED True True" in lines, out.stdout
    assert "REAL module True True" in lines, out.stdout


def test_a_thread_asking_for_torch_dynamo_meanwhile_gets_the_real_one():
    """While torchvision is being imported, another learner's thread may need torch._dynamo
    (an optimizer): what it reads from the stand-in is the real module's."""
    code = textwrap.dedent("""
        import sys, torch
        from cnnviz import memory
        sys.modules.update(memory._STAND_INS)
        import torch._dynamo as seen
        print("SEEN", callable(seen.disable), "torch._dynamo" in sys.modules,
              sys.modules["torch._dynamo"] is not memory._STAND_INS["torch._dynamo"])
        memory._drop_stand_ins()
        print("TV", memory.torchvision().__name__)
    """)
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, env=env, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "SEEN True True True" in out.stdout.splitlines(), out.stdout
    assert "TV torchvision" in out.stdout.splitlines(), out.stdout


def test_the_explanation_copy_of_a_model_shares_its_weights():
    """captum explains on a private copy of a shared model (its own hooks and ReLUs): the copy must
    not hold a second copy of the weights (ResNet-18: 45 MB, VGG-16: 528 MB per server), and it
    explains exactly as a full copy does."""
    import copy

    import torch

    from cnnviz.analysis import attribution as A
    from cnnviz.analysis.private_copies import private_copy
    from cnnviz import models

    loaded = models.load("resnet18", pretrained=False)
    model = loaded.model
    twin, _ = private_copy(model)
    weights = {p.data_ptr() for p in model.parameters()} | {b.data_ptr() for b in model.buffers()}
    assert {p.data_ptr() for p in twin.parameters()} | {b.data_ptr() for b in twin.buffers()} <= weights
    # its own modules: hooks and ReLUs of the copy never touch the shared model
    assert not any(a is b for a, b in zip(twin.modules(), model.modules()))
    assert model.relu.inplace and not twin.relu.inplace
    # the shared model's weights still count as trainable (the lessons' weight counts read that)
    assert all(p.requires_grad for p in model.parameters())
    torch.manual_seed(0)
    x = torch.rand(1, 3, 64, 64)
    full = copy.deepcopy(model)
    for method in ("gradcam", "guided_backprop", "saliency"):
        ours = A.explain(method, model, x, target=3).raw
        theirs = A.explain(method, full, x, target=3).raw
        assert np.array_equal(ours, theirs), method


def test_layer_outputs_kept_for_the_class_stay_within_their_budget(monkeypatch):
    """Inside keeps every layer's output of the pictures a class looks at (shared by all learners).
    Kept by count alone, 8 pictures of VGG-16 would hold 880 MB: the server keeps at most
    ``SHARED_OUTPUTS_MB`` of them, the oldest going first, and a picture still kept is shared."""
    import torch

    from cnnviz.analysis import inspect as insp
    from cnnviz import models, ui
    from cnnviz.ui import memo

    loaded = models.load("resnet18", pretrained=False)
    xs = [torch.full((1, 3, 64, 64), v) for v in (0.1, 0.2, 0.3, 0.4)]
    one = sum(t.element_size() * t.nelement() for t in insp.activations(loaded.model, xs[0]).values())
    monkeypatch.setattr(memo._OUTPUTS, "max_bytes", 2.5 * one)                # room for 2 pictures
    outs = [ui.layer_outputs(loaded, x) for x in xs]
    mine = [v for k, v in memo._OUTPUTS.entries.items() if k[0] == "resnet18"]
    assert len(mine) == 2 and sum(memo._outputs_bytes(v) for v in mine) <= 2.5 * one
    assert ui.layer_outputs(loaded, xs[3].clone()) is outs[3]                 # kept: shared
    again = ui.layer_outputs(loaded, xs[0].clone())                           # gone: computed again, same numbers
    assert again is not outs[0] and all(torch.equal(again[k], outs[0][k]) for k in outs[0])
