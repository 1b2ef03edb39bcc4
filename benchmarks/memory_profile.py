"""What holds a server's memory, step by step along the classroom path (issue 11).

Starts ``streamlit run app.py`` with a small reporter inside the server process, drives students
through ``classroom.lesson_path()`` over the real protocol, one after the other, and after each
step asks the server (SIGUSR1) what its memory is made of:

- RSS by kind of mapping (``memory_map.py``: anonymous, torch's CUDA libraries, ...);
- glibc's heap (``mallinfo2``): bytes in use, bytes free inside the heap (what ``malloc_trim``
  could give back), bytes in mmapped blocks (big tensors and arrays);
- the holders we know, sized by walking them (tensor storages and numpy buffers counted once,
  first holder wins, in this order): the shared models, captum's private copies
  (``cnnviz.analysis.private_copies._private``), every ``st.cache_resource`` function's entries, the
  top-images memo (``cnnviz.ui.inside._TOP``) and its panels, the layer outputs and per-class memos
  (``cnnviz.ui.memo``), the pictures and heatmaps shared
  by everybody (``cnnviz.figures``), Streamlit's in-memory media files, each session's state;
- with ``--trace N``: the N biggest Python allocation sites (``tracemalloc``; tensors are not
  seen by it, numpy arrays and Python objects are). Tracing costs CPU: not for timings.

    python benchmarks/memory_profile.py                      # one student, the path once
    python benchmarks/memory_profile.py --students 3         # then two more (each a new session)
    python benchmarks/memory_profile.py --trace 15 --only explain
    python benchmarks/memory_profile.py --env MALLOC_ARENA_MAX=2 --students 2
    python benchmarks/memory_profile.py --resnet             # the path, then Inside with ResNet-18
    python benchmarks/memory_profile.py --resnet --then "python benchmarks/classroom.py --url {url} \\
        --server-pid {pid} --sessions 30"                    # then a class of 30 on the same server

Only 127.0.0.1. Bounded: each step times out after 180 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

# Runs inside the server: on SIGUSR1, write a JSON report to $CNNVIZ_MEMPROFILE_OUT.
SERVER = r'''
import os, signal, sys, threading
sys.path.insert(0, os.environ["CNNVIZ_MEMPROFILE_BENCH"])
trace = int(os.environ.get("CNNVIZ_MEMPROFILE_TRACE", "0"))
if trace:
    import tracemalloc
    tracemalloc.start(1)
def dump(*_):
    import memory_profile
    threading.Thread(target=memory_profile.write_report, args=(os.environ["CNNVIZ_MEMPROFILE_OUT"], trace)).start()
signal.signal(signal.SIGUSR1, dump)
who = os.environ.get("CNNVIZ_MEMPROFILE_WHO")
if who:                          # print the stack of the first import of this module (--who)
    import traceback
    class Who:
        def find_spec(self, name, path=None, target=None):
            if name == who:
                sys.meta_path.remove(self)
                print("=== first import of " + who + ":\n" + "".join(traceback.format_stack()), file=sys.stderr)
            return None
    sys.meta_path.insert(0, Who())
from streamlit.web import cli
sys.argv = ["streamlit", "run", "app.py"] + sys.argv[1:]
sys.exit(cli.main())
'''

MB = 2 ** 20


# ---------------------------------------------------------------- inside the server
def mallinfo() -> dict:
    """glibc's ``mallinfo2()`` in MB: in use, free inside the heap, in mmapped blocks."""
    import ctypes

    class Mallinfo2(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in
                    ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                     "uordblks", "fordblks", "keepcost")]
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = Mallinfo2
    m = libc.mallinfo2()
    arenas = None
    try:                                     # malloc_info's XML has one <heap nr=...> per arena
        import tempfile

        libc.fopen.restype = ctypes.c_void_p
        libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
        libc.fclose.argtypes = [ctypes.c_void_p]
        with tempfile.NamedTemporaryFile("r", suffix=".xml") as f:
            fp = libc.fopen(f.name.encode(), b"w")
            libc.malloc_info(0, fp)
            libc.fclose(fp)
            arenas = f.read().count("<heap nr=")
    except (OSError, AttributeError):
        pass
    return {"arenas": arenas, "heap": m.arena / MB, "in use": m.uordblks / MB, "free in heap": m.fordblks / MB,
            "mmapped blocks": m.hblkhd / MB, "mmapped count": m.hblks}


class Sizer:
    """Bytes reachable from an object: tensor storages and numpy buffers (each counted once over
    every holder sized by this Sizer), PIL images, bytes and str; Python containers walked."""

    def __init__(self):
        self.seen_ids: set[int] = set()
        self.seen_buffers: set[int] = set()

    def size(self, root, limit: int = 200_000) -> dict:
        import sys as _sys
        import types

        # never import what the server has not imported: the report must not change what it measures
        np, torch = sys.modules.get("numpy"), sys.modules.get("torch")
        tensor = torch.Tensor if torch is not None else ()
        module = torch.nn.Module if torch is not None else ()
        array = np.ndarray if np is not None else ()

        out = {"tensors": 0, "numpy": 0, "images": 0, "bytes/str": 0, "objects": 0}
        stack, steps = [root], 0
        skip = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType)
        while stack and steps < limit:
            o = stack.pop()
            if id(o) in self.seen_ids or isinstance(o, skip):
                continue
            self.seen_ids.add(id(o))
            steps += 1
            if isinstance(o, tensor):
                try:
                    s = o.untyped_storage()
                    if s.data_ptr() not in self.seen_buffers:
                        self.seen_buffers.add(s.data_ptr())
                        out["tensors"] += s.nbytes()
                except (RuntimeError, NotImplementedError):
                    pass
                if o.grad is not None:
                    stack.append(o.grad)
                continue
            if isinstance(o, array):
                base = o
                while isinstance(base.base, array):
                    base = base.base
                ptr = base.__array_interface__["data"][0]
                if ptr not in self.seen_buffers:
                    self.seen_buffers.add(ptr)
                    out["numpy"] += base.nbytes
                if o.dtype == object:
                    stack.extend(o.ravel().tolist())
                continue
            if isinstance(o, module):
                stack.extend(o.parameters())
                stack.extend(o.buffers())
                stack.extend(v for k, v in vars(o).items() if k not in ("_parameters", "_buffers", "_modules"))
                stack.extend(o.children())
                continue
            if type(o).__module__.startswith("PIL.") and hasattr(o, "im"):
                out["images"] += o.width * o.height * len(o.getbands())
                continue
            if isinstance(o, (bytes, bytearray, str, memoryview)):
                out["bytes/str"] += len(o)
                continue
            out["objects"] += _sys.getsizeof(o, 0)
            if isinstance(o, dict):
                stack.extend(o.keys())
                stack.extend(o.values())
            elif isinstance(o, (list, tuple, set, frozenset)):
                stack.extend(o)
            else:
                d = getattr(o, "__dict__", None)
                if isinstance(d, dict):
                    stack.append(d)
                for slot in getattr(type(o), "__slots__", ()):
                    if isinstance(slot, str) and hasattr(o, slot):
                        stack.append(getattr(o, slot))
        out["total"] = sum(out.values())
        return {k: v / MB for k, v in out.items()}


def holders() -> list[tuple[str, object]]:
    """(name, object) of what we know holds memory, in attribution order."""
    from streamlit.runtime import Runtime
    from streamlit.runtime.caching.cache_resource_api import _resource_caches

    found: list[tuple[str, object]] = []
    caches = [c for per in _resource_caches._function_caches.values() for c in per.values()]
    models = [c for c in caches if c.display_name.endswith("shared_model")]
    for c in models:                              # the models first: everything else refers to them
        found.append((f"cache {c.display_name} ({len(c._mem_cache)})", dict(c._mem_cache)))
    if "cnnviz.analysis.private_copies" in sys.modules:
        priv = sys.modules["cnnviz.analysis.private_copies"]._private
        found.append((f"captum private copies ({len(priv)})", [v for v in priv.values()]))
    for c in caches:
        if c not in models:
            found.append((f"cache {c.display_name} ({len(c._mem_cache)})", dict(c._mem_cache)))
    if "cnnviz.ui.inside" in sys.modules:
        top = sys.modules["cnnviz.ui.inside"]._TOP.entries
        found.append((f"top images memo ({len(top)})", dict(top)))
        panels = sys.modules["cnnviz.ui.inside"]._PANELS.entries
        found.append((f"top image panels ({len(panels)})", dict(panels)))
    if "cnnviz.ui.memo" in sys.modules:
        memo = sys.modules["cnnviz.ui.memo"]
        for label, store in (("layer outputs kept for the class", memo._OUTPUTS), ("per-class memos", memo._CLASS)):
            found.append((f"{label} ({len(store)})", dict(store.entries)))
    if "cnnviz.figures.pictures" in sys.modules:
        kept = sys.modules["cnnviz.figures.pictures"]._PNG.entries
        found.append((f"shared PNG pictures ({len(kept)})", dict(kept)))
    if "cnnviz.figures.plots" in sys.modules:
        maps = sys.modules["cnnviz.figures.plots"]._HEATMAPS.entries
        found.append((f"shared heatmaps ({len(maps)})", dict(maps)))
    rt = Runtime.instance()
    try:
        storage = rt.media_file_mgr._storage
        files = getattr(storage, "_files_by_id", {})
        found.append((f"media files ({len(files)})", files))
    except AttributeError:
        pass
    try:
        cache = rt._message_cache
        found.append(("forward message cache", cache))
    except AttributeError:
        pass
    for info in rt._session_mgr.list_sessions():
        state = info.session.session_state
        found.append((f"session {info.session.id[:8]}", state))
    return found


def write_report(out: str, trace: int = 0) -> None:
    """The report (see the module's doc) as JSON in ``out``; imports nothing the server has not."""
    import gc

    import memory_map

    report = {"rss": memory_map.rss_by_group(os.getpid()), "malloc": mallinfo(), "holders": {}}
    if os.environ.get("CNNVIZ_MEMPROFILE_TRIM"):      # what malloc_trim(0) gives back, and its cost
        import ctypes

        t0 = time.perf_counter()
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        report["trim"] = {"seconds": time.perf_counter() - t0,
                          "rss after": sum(memory_map.rss_by_group(os.getpid()).values())}
    sizer = Sizer()
    import warnings

    gc.disable()                 # the walk must not race a collection that frees what it visits
    try:
        warnings.simplefilter("ignore", FutureWarning)   # isinstance() on torch's deprecated aliases
        for name, obj in holders():
            try:
                report["holders"][name] = sizer.size(obj)
            except Exception as err:  # noqa: BLE001 - a report, never a crash of the server
                report["holders"][name] = {"error": repr(err)[:200]}
        torch = sys.modules.get("torch")
        total = 0
        for o in gc.get_objects() if torch is not None else ():
            if isinstance(o, torch.Tensor):
                try:
                    s = o.untyped_storage()
                    if s.data_ptr() not in sizer.seen_buffers:
                        sizer.seen_buffers.add(s.data_ptr())
                        total += s.nbytes()
                except (RuntimeError, NotImplementedError):
                    pass
        report["holders"]["other tensors (gc-tracked)"] = {"tensors": total / MB, "total": total / MB}
    finally:
        gc.enable()
    if trace:
        import tracemalloc

        snap = tracemalloc.take_snapshot()
        report["trace"] = [(str(s.traceback[0]), s.size / MB, s.count)
                           for s in snap.statistics("lineno")[:trace]]
        report["traced MB"] = tracemalloc.get_traced_memory()[0] / MB
    tops: dict[str, int] = {}
    names = list(sys.modules)
    for name in names:
        tops[name.split(".")[0]] = tops.get(name.split(".")[0], 0) + 1
    report["modules"] = dict(sorted(tops.items(), key=lambda kv: -kv[1])[:25])
    for sub in ("torch._dynamo", "torch._inductor", "torch.fx", "torch.onnx", "torch.distributed", "scipy",
                "matplotlib", "pandas", "pyarrow", "altair", "torchvision", "captum", "numba", "sympy"):
        report["modules"][f"loaded {sub}"] = sum(1 for n in names if n == sub or n.startswith(sub + "."))
    with open(out + ".tmp", "w") as f:
        json.dump(report, f)
    os.replace(out + ".tmp", out)


# ---------------------------------------------------------------- the driver
def ask(proc, out: Path, timeout: float = 120) -> dict:
    if out.exists():
        out.unlink()
    proc.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if out.exists():
            return json.loads(out.read_text())
        time.sleep(0.1)
    raise SystemExit("the server wrote no memory report")


def show(title: str, r: dict, prev: dict | None, *, detail: bool) -> None:
    rss = sum(r["rss"].values())
    delta = "" if prev is None else f" ({rss - sum(prev['rss'].values()):+.0f})"
    m = r["malloc"]
    print(f"\n=== {title}: RSS {rss:.0f} MB{delta}; anonymous {r['rss'].get(ANON, 0):.0f}; "
          f"malloc: in use {m['in use']:.0f}, free in heap {m['free in heap']:.0f}, "
          f"mmapped {m['mmapped blocks']:.0f} MB; {m.get('arenas')} arenas")
    if "trim" in r:
        print(f"    malloc_trim(0): RSS {r['trim']['rss after']:.0f} MB after it, "
              f"{1000 * r['trim']['seconds']:.1f} ms")
    if not detail:
        return
    for g, mb in sorted(r["rss"].items(), key=lambda kv: -kv[1]):
        print(f"    rss {mb:7.1f} MB  {g}")
    sessions = {k: v for k, v in r["holders"].items() if k.startswith("session ")}
    for name, s in r["holders"].items():
        if name in sessions or "error" in s:
            if "error" in s:
                print(f"    {name}: {s['error']}")
            continue
        if s["total"] >= 0.05:
            parts = ", ".join(f"{k} {v:.1f}" for k, v in s.items() if k != "total" and v >= 0.05)
            print(f"    {s['total']:7.1f} MB  {name}  [{parts}]")
    if sessions:
        totals = [s.get("total", 0) for s in sessions.values()]
        print(f"    {sum(totals):7.1f} MB  {len(totals)} sessions' state (largest {max(totals):.1f})")
    for where, mb, n in r.get("trace", []):
        print(f"    traced {mb:6.1f} MB {n:7d} blocks  {where}")
    if "modules" in r:
        print("    modules: " + ", ".join(f"{k} {v}" for k, v in r["modules"].items()))
    if "traced MB" in r:
        print(f"    traced in all: {r['traced MB']:.0f} MB")


ANON = "anonymous (Python heap, tensors, weights, sessions)"


async def main(args) -> None:
    import classroom as cr

    sys.path.insert(0, str(ROOT))
    from cnnviz.serve import free_port, stop_processes, streamlit_command, wait_for_health

    tmp = Path(tempfile.mkdtemp(prefix="cnnviz-mem-"))
    out = tmp / "report.json"
    port = free_port()
    env = {**os.environ, "CNNVIZ_MEMPROFILE_OUT": str(out), "CNNVIZ_MEMPROFILE_BENCH": str(ROOT / "benchmarks"),
           "CNNVIZ_MEMPROFILE_TRACE": str(args.trace), "CNNVIZ_MEMPROFILE_WHO": args.who or "", **({"CNNVIZ_MEMPROFILE_TRIM": "1"} if args.trim else {})}
    for kv in args.env:
        k, _, v = kv.partition("=")
        env[k] = v
    log = open(tmp / "server.log", "w")
    app_dir = Path(args.app_dir).resolve() if args.app_dir else ROOT
    proc = subprocess.Popen(streamlit_command("app.py", port, launch=["-c", SERVER]), cwd=app_dir, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    results = []
    try:
        if not wait_for_health(port, proc, 120):
            raise SystemExit(f"streamlit did not start; see {tmp / 'server.log'}")
        prev = ask(proc, out)
        show("server started", prev, None, detail=args.detail_all)
        results.append(("server started", prev))
        steps = [s for s in cr.lesson_path() if not args.only or args.only in s.name]
        extra = [cr.Step(f"open {p}", (lambda p: lambda s: s.open(p))(p)) for p in args.open]
        if args.resnet:          # Inside with ResNet-18 (random weights: none are downloaded here)
            from cnnviz import course, models

            extra += [cr.Step("open inside", lambda s: s.open(course.url("inside_a_cnn"))),
                      cr.Step("inside: resnet18", lambda s: s.choose("model", len(models.BUNDLED_NAMES))),
                      cr.Step("inside: random weights", lambda s: s.toggle("model.random.resnet18", True))]
        for k in range(args.students):
            s = cr.Student(k, base, "en", 180, not args.no_media)
            await s.connect()
            for step in steps + extra:
                try:
                    await step.run(s)
                except cr.StepFailed as e:
                    print(f"{step.name}: {e}")
                    continue
                if s.media:
                    await s.fetch_media()
                r = ask(proc, out)
                last = k == args.students - 1 and step is (steps + extra)[-1]
                show(f"student {k + 1}: {step.name}", r, prev, detail=args.detail_all or last)
                results.append((f"student {k + 1}: {step.name}", r))
                prev = r
            if not args.keep_open:
                await s.close()
        if args.then:            # e.g. a class of 30 (classroom.py --url {url} --server-pid {pid}), then a report
            cmd = args.then.format(url=base, pid=proc.pid)
            print(f"\n$ {cmd}", flush=True)
            subprocess.run(cmd, shell=True, cwd=ROOT, timeout=3600)
            r = ask(proc, out)
            show("after: " + cmd[:60], r, prev, detail=True)
            results.append(("after", r))
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=1))
        if args.who:
            text = (tmp / "server.log").read_text()
            print(text[text.find("=== first import"):][:6000] if "=== first import" in text else f"no import of {args.who}")
    finally:
        stop_processes([proc], 15)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--students", type=int, default=1, help="students, one after the other (default 1)")
    ap.add_argument("--only", help="the path's steps whose name contains this (e.g. explain)")
    ap.add_argument("--open", action="append", default=[], metavar="PAGE",
                    help="also open this page (url path) after the path; repeatable")
    ap.add_argument("--resnet", action="store_true", help="then Inside with ResNet-18 (random weights)")
    ap.add_argument("--trace", type=int, default=0, metavar="N", help="N biggest Python allocation sites")
    ap.add_argument("--env", action="append", default=[], metavar="K=V", help="server environment")
    ap.add_argument("--who", metavar="MODULE", help="log the stack of the first import of MODULE (server.log)")
    ap.add_argument("--trim", action="store_true", help="malloc_trim(0) after each report (its effect, its cost)")
    ap.add_argument("--keep-open", action="store_true", help="students stay connected (idle sessions)")
    ap.add_argument("--no-media", action="store_true", help="do not fetch pictures")
    ap.add_argument("--detail-all", action="store_true", help="the whole report after every step")
    ap.add_argument("--json", help="write every report here")
    ap.add_argument("--then", metavar="CMD", help="after the steps run this ({url}, {pid} filled in), then report")
    ap.add_argument("--app-dir", help="serve the app.py of this checkout (e.g. an older commit) instead")
    asyncio.run(main(ap.parse_args()))
