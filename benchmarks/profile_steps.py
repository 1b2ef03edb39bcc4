"""Where the server's CPU goes, step by step along the classroom path (issue 11).

Starts ``streamlit run app.py`` inside a yappi profiler (CPU clock, every thread), drives one
student through ``classroom.lesson_path()`` over the real protocol, and after each step asks
the server (SIGUSR1) to write that step's profile and clear it. Prints, per step, the server's
CPU and the functions that took it (inclusive time, "ttot", and own time, "tsub").

    pip install yappi          # a tool for you, not a dependency of the project
    python benchmarks/profile_steps.py --top 25 [--warm] [--step "open explain"]
    python benchmarks/profile_steps.py --only explain --warm --summary    # one lesson's steps, CPU only

``--warm`` goes through the path once first (what the class sees after the teacher's try).
``--only WORD`` keeps the steps whose name contains WORD (e.g. ``explain``: open it, change the
class); ``--summary`` runs the server without the profiler and prints each step's server CPU only
(``--passes N``: go through the steps N times, each pass a new session).
Only 127.0.0.1. Bounded: each step times out after 180 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

SERVER = r'''
import os, signal, sys, threading, yappi
out = os.environ["CNNVIZ_PROFILE_OUT"]
yappi.set_clock_type("cpu")
yappi.start(builtins=True, profile_threads=True)
def dump(*_):
    def work():
        yappi.stop()
        stats = yappi.get_func_stats()
        stats.save(out + ".tmp", type="pstat")
        os.replace(out + ".tmp", out)
        yappi.clear_stats()
        yappi.start(builtins=True, profile_threads=True)
    threading.Thread(target=work).start()
signal.signal(signal.SIGUSR1, dump)
from streamlit.web import cli
sys.argv = ["streamlit", "run", "app.py"] + sys.argv[1:]
sys.exit(cli.main())
'''


def dump(proc, out: Path) -> None:
    if out.exists():
        out.unlink()
    proc.send_signal(signal.SIGUSR1)
    for _ in range(300):
        if out.exists():
            return
        time.sleep(0.1)
    raise SystemExit("the server wrote no profile")


def show(out: Path, top: int, title: str, cpu: float) -> None:
    import pstats

    print(f"\n=== {title}: server CPU {cpu:.2f} s " + "=" * 30)
    st = pstats.Stats(str(out))
    st.sort_stats("cumulative").print_stats(top)
    st.sort_stats("tottime").print_stats(top)


async def main(args) -> None:
    import classroom as cr

    tmp = Path(tempfile.mkdtemp(prefix="cnnviz-prof-"))
    out = tmp / "step.pstat"
    port = cr.free_port()
    env = {**os.environ, "CNNVIZ_PROFILE_OUT": str(out)}
    log = open(tmp / "server.log", "w")
    # --summary: the plain server, no profiler (yappi's hooks would double the CPU it measures)
    sys.path.insert(0, str(ROOT))
    from cnnviz.serve import stop_processes, streamlit_command, wait_for_health

    cmd = streamlit_command("app.py", port, launch=None if args.summary else ["-c", SERVER])
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_for_health(port, proc, 120):
            raise SystemExit(f"streamlit did not start; see {tmp / 'server.log'}")
        passes = (2 if args.warm else 1) if args.passes is None else args.passes
        profile = not args.summary
        for p in range(passes):
            s = cr.Student(0, base, "en", 180, True)
            await s.connect()
            if profile:
                dump(proc, out)
            for step in [st for st in cr.lesson_path() if not args.only or args.only in st.name]:
                cpu0 = cr.server_usage([proc.pid])[0]
                try:
                    secs = await step.run(s)
                except cr.StepFailed as e:
                    print(f"{step.name}: {e}")
                    continue
                if s.media:
                    await s.fetch_media()
                cpu = cr.server_usage([proc.pid])[0] - cpu0
                if profile:
                    dump(proc, out)
                if secs is None:
                    continue
                label = f"{step.name} (pass {p + 1}, {secs:.2f} s wall)"
                if p == passes - 1 and not args.summary and (not args.step or args.step == step.name):
                    show(out, args.top, label, cpu)
                else:
                    print(f"{label}: server CPU {cpu:.2f} s")
            await s.close()
    finally:
        stop_processes([proc], 15)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--warm", action="store_true", help="go through the path once first")
    ap.add_argument("--step", help="print the profile of this step only")
    ap.add_argument("--only", help="run only the steps whose name contains this (e.g. explain)")
    ap.add_argument("--summary", action="store_true", help="server CPU per step, no profiler, no tables")
    ap.add_argument("--passes", type=int, help="go through the steps this many times (default 1, 2 with --warm)")
    asyncio.run(main(ap.parse_args()))
