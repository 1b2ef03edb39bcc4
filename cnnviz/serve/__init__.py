"""Serve the app with several Streamlit worker processes behind a reverse proxy.

    python -m cnnviz.serve --workers 2            # http://localhost:8501, one worker per core
    python -m cnnviz.serve --print-config nginx --upstream 10.0.0.5:8501 --upstream 10.0.0.6:8501

One Streamlit process runs every learner's script in a thread of its own, so its Python work holds
one GIL: a class of 30 keeps one core busy and leaves the others idle. Here each worker is a
``streamlit run app.py`` of its own (on 127.0.0.1, a free port each), and a reverse proxy in front
sends every request of one browser to the same worker: the session's websocket, its ``/media/``
pictures and its uploads all live in that worker's memory.

Stickiness is by cookie, never by client address (a school's laptops often share one public
address): nginx sends a browser without the cookie to a worker chosen by a random request id and
sets ``cnnviz_worker`` to that id; later requests carry it, and ``hash ... consistent`` maps it to
the same worker. (haproxy inserts its own cookie: ``--proxy haproxy``.) If a worker dies, its
browsers are re-hashed to a living one and start a new session; the supervisor restarts it.

All workers share one line of heavy work (``CNNVIZ_JOBS_DIR``, a folder of this run; see
``cnnviz.serve.jobs``): two workers on a 2-core laptop run one training at a time, not one each.

All workers share one file of learners' progress (``--progress-db PATH``, else ``CNNVIZ_PROGRESS_DB``,
else the app's own ``var/progress.db``, as under ``streamlit run``; see ``cnnviz.course.progress_store``): a
browser re-hashed to another worker, back after a worker restart, or in next week's class after
``serve`` itself restarted, finds its progress.

Each worker is warmed before the proxy sends it anybody (``warm``): one session opens the lessons
of the class's path and then the others, so the imports, the bundled models, their layer outputs
and the compiled convolution are ready for the first learner. Bounded in time; a failure is
logged, never fatal (``--no-warm`` skips it).

Nothing here imports streamlit or torch at import time: this module writes configuration, runs
processes and (``warm``) speaks Streamlit's websocket protocol with its protobuf messages.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from cnnviz import course

ROOT = Path(__file__).resolve().parents[2]
COOKIE = "cnnviz_worker"
MAX_BODY_MB = 60          # the largest upload: a 50 MB model file (images stop at 20 MB)
# the lessons of the class's path first (issue 11), then every other page of the navigation
WARM_FIRST = (course.url("convolution"), course.url("inside_a_cnn"), course.url("inside_a_cnn", "inside.draw=false"),
              course.url("explain"), course.url("image_as_numbers"))
WARM_BUDGET = 150.0       # seconds, at most, to warm one worker


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _writable_dir(folder: Path) -> bool:
    """Whether ``folder`` exists or can be made, and files can be written in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)


def _check_upstream(addr: str) -> str:
    host, _, port = addr.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536 or any(c in addr for c in " ;{}'\"\n"):
        raise ValueError(f"not a host:port upstream: {addr!r}")
    return addr


def nginx_config(upstreams: list[str], *, listen: str, prefix: Path, debug_header: bool = False) -> str:
    """An nginx configuration that proxies ``listen`` (host:port) to ``upstreams``, sticky by cookie,
    websockets included. ``prefix``: a writable folder for nginx's pid, logs and temporary files.
    ``debug_header`` adds ``X-Cnnviz-Upstream`` (the worker's address) to responses, for tests."""
    servers = "\n".join(f"        server {_check_upstream(u)} max_fails=0;" for u in upstreams)
    temp = "\n".join(f"    {kind}_temp_path {prefix}/tmp/{kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    debug = '            add_header X-Cnnviz-Upstream $upstream_addr always;\n' if debug_header else ""
    return f"""# cnnviz: {len(upstreams)} Streamlit worker(s) behind nginx, sticky by the {COOKIE} cookie.
# Written by `python -m cnnviz.serve`; see docs/DEPLOY.md.
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}

http {{
    access_log off;
{temp}
    client_max_body_size {MAX_BODY_MB}m;

    # websockets: pass the upgrade through
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}
    # a browser's worker: its cookie, or a new random id for a browser that has none yet
    map $cookie_{COOKIE} $cnnviz_sticky {{
        ''      $request_id;
        default $cookie_{COOKIE};
    }}

    upstream cnnviz_workers {{
        hash $cnnviz_sticky consistent;
{servers}
    }}

    server {{
        listen {listen};
        location / {{
            proxy_pass http://cnnviz_workers;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 1d;
            proxy_send_timeout 1d;
            proxy_buffering off;
            add_header Set-Cookie "{COOKIE}=$cnnviz_sticky; Path=/; HttpOnly; SameSite=Lax" always;
{debug}        }}
    }}
}}
"""


def haproxy_config(upstreams: list[str], *, listen: str) -> str:
    """The same with haproxy, which inserts the sticky cookie itself (``cookie ... insert``)."""
    servers = "\n".join(f"    server w{i} {_check_upstream(u)} cookie w{i} check"
                        for i, u in enumerate(upstreams, 1))
    return f"""# cnnviz: {len(upstreams)} Streamlit worker(s) behind haproxy, sticky by the {COOKIE} cookie.
global
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 1d
    timeout server 1d
    timeout tunnel 1d
    option http-server-close
frontend cnnviz
    bind {listen}
    default_backend cnnviz_workers
backend cnnviz_workers
    balance roundrobin
    cookie {COOKIE} insert indirect nocache httponly
    option httpchk GET /_stcore/health
{servers}
"""


def streamlit_command(app, port: int, *extra: str, launch: list[str] | None = None) -> list[str]:
    """The command of one local Streamlit server of ``app`` on 127.0.0.1:``port``: headless, no
    usage statistics, no file watcher (``launch``: another way to start it, e.g. under a profiler)."""
    return [sys.executable, *(launch or ["-m", "streamlit", "run", str(app)]),
            "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
            "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *extra]


def stop_processes(procs: list[subprocess.Popen], timeout: float = 10) -> None:
    """Ask every process to end (SIGTERM), then kill the ones still running after ``timeout`` s."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def wait_for_health(port: int, proc: subprocess.Popen, timeout: float) -> bool:
    """Whether Streamlit's health check on 127.0.0.1:``port`` answers "ok" within ``timeout``
    seconds (False at once if ``proc``, the process that should answer, has exited). Never through
    an HTTP proxy of the environment: the server is on this machine."""
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with opener.open(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.read() == b"ok":
                    return True
        except OSError:
            time.sleep(0.2)
    return False


@dataclass
class Warmed:
    """What warming one worker did: seconds per page opened (url path, "" = home), the problems."""

    port: int
    pages: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return bool(self.pages) and not self.problems

    def summary(self) -> str:
        opened = ", ".join(f"/{p} {s:.1f} s" for p, s in self.pages.items())
        return (f"worker on port {self.port} warmed in {self.seconds:.1f} s ({opened})"
                + (f"; problems: {'; '.join(self.problems)}" if self.problems else ""))


def warm(port: int, *, first: tuple[str, ...] = WARM_FIRST, budget: float = WARM_BUDGET,
         every_page: bool = True) -> Warmed:
    """Warm the worker on 127.0.0.1:``port``: open the home page, the lessons in ``first``, then
    (``every_page``) the app's other pages, one session each, until ``budget`` seconds are spent.
    The pages are opened by ``cnnviz.ui.session_client`` (it speaks Streamlit's protocol) in a
    process of its own: the library never imports the UI or streamlit. Never raises: what went
    wrong is in ``Warmed.problems``."""
    import json

    out, t0 = Warmed(port), time.monotonic()
    cmd = [sys.executable, "-m", "cnnviz.ui.session_client", str(port), str(budget),
           *([] if every_page else ["--only"]), *first]
    try:
        done = subprocess.run(cmd, cwd=Path(__file__).resolve().parents[2], capture_output=True,
                              text=True, timeout=budget + 60)
        result = json.loads(done.stdout.strip().splitlines()[-1]) if done.returncode == 0 else None
        if result is None:
            out.problems.append(f"warm-up client failed ({done.returncode}): {done.stderr.strip()[-300:]}")
        else:
            out.pages, out.problems = result["pages"], result["problems"]
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError) as err:
        out.problems.append(f"warm-up client: {type(err).__name__}: {err}"[:300])
    out.seconds = time.monotonic() - t0
    return out


@dataclass
class Worker:
    port: int
    proc: subprocess.Popen | None = None
    restarts: int = 0
    log: Path | None = None


@dataclass
class Cluster:
    """Workers + proxy, started by ``start`` and stopped by ``stop`` (also on Ctrl+C)."""

    workers: int = 2
    host: str = "127.0.0.1"
    port: int = 8501
    proxy: str = "nginx"
    app: Path = ROOT / "app.py"
    debug_header: bool = False
    warm: bool = True                 # open the lessons once on each worker before the proxy starts
    warm_budget: float = WARM_BUDGET
    streamlit_args: list[str] = field(default_factory=list)
    progress_db: Path | None = None   # learners' progress: this file, else CNNVIZ_PROGRESS_DB, else the app's default
    run_dir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cnnviz-serve-")))
    _workers: list[Worker] = field(default_factory=list)
    _proxy: subprocess.Popen | None = None
    _secret: str = field(default_factory=lambda: secrets.token_hex(16))
    warmed: dict = field(default_factory=dict)        # port -> Warmed (the last warm-up of that worker)

    @property
    def progress_path(self) -> Path:
        """The file of learners' progress every worker uses (the same after a restart of ``serve``)."""
        from cnnviz.course import progress_store

        given = self.progress_db or os.environ.get(progress_store.ENV, "").strip()
        if given:
            return Path(given).expanduser().resolve()
        return progress_store.DEFAULT_PATH if _writable_dir(progress_store.DEFAULT_PATH.parent) \
            else progress_store.fallback_path()

    @property
    def url(self) -> str:
        return f"http://{'localhost' if self.host in ('0.0.0.0', '127.0.0.1') else self.host}:{self.port}"

    def _start_worker(self, w: Worker) -> None:
        w.log = self.run_dir / f"worker-{w.port}.log"
        cmd = streamlit_command(self.app, w.port, *self.streamlit_args)
        # one secret for all workers: the XSRF cookie of an upload is valid on any of them
        env = {**os.environ, "STREAMLIT_SERVER_COOKIE_SECRET": self._secret}
        # glibc gives each of the ~30 script threads its own malloc arena: 2 arenas keep a worker with
        # 30 sessions at +3 MB instead of +90 MB (peak -60 MB), at no measured latency cost (docs/PERFORMANCE.md)
        env.setdefault("MALLOC_ARENA_MAX", "2")
        # one line of heavy work for the machine, not one per worker (cnnviz.serve.jobs); a folder given
        # in the environment is kept (several `serve`s on one machine can share it)
        env.setdefault("CNNVIZ_JOBS_DIR", str(self.run_dir / "jobs"))
        # one progress file for all workers (cnnviz.course.progress_store): a browser keeps its progress
        # whichever worker serves it, and when its worker restarts
        env["CNNVIZ_PROGRESS_DB"] = str(self.progress_path)
        w.proc = subprocess.Popen(cmd, cwd=self.app.parent, stdout=w.log.open("ab"), stderr=subprocess.STDOUT,
                                  start_new_session=True, env=env)

    def _wait_healthy(self, w: Worker, timeout: float = 180) -> None:
        if not wait_for_health(w.port, w.proc, timeout):
            why = f"exited ({w.proc.returncode})" if w.proc.poll() is not None else f"not healthy after {timeout:.0f} s"
            raise RuntimeError(f"worker on port {w.port} {why}; see {w.log}")

    def start(self) -> "Cluster":
        self._workers = [Worker(free_port()) for _ in range(self.workers)]
        for w in self._workers:
            self._start_worker(w)
        for w in self._workers:
            self._wait_healthy(w)
        if self.warm:
            self.warm_workers()
        upstreams = [f"127.0.0.1:{w.port}" for w in self._workers]
        listen = f"{self.host}:{self.port}"
        if self.proxy == "nginx":
            exe = shutil.which("nginx") or "/usr/sbin/nginx"
            if not Path(exe).exists():
                raise RuntimeError("nginx is not installed (Debian: apt-get install nginx)")
            # nginx's workers drop root for an unprivileged user: they must reach the temporary
            # folders (a large upload is buffered there)
            self.run_dir.chmod(0o755)
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
                (self.run_dir / "tmp" / kind).mkdir(parents=True, exist_ok=True)
                (self.run_dir / "tmp" / kind).chmod(0o1777)
            (self.run_dir / "tmp").chmod(0o755)
            conf = self.run_dir / "nginx.conf"
            conf.write_text(nginx_config(upstreams, listen=listen, prefix=self.run_dir,
                                         debug_header=self.debug_header))
            cmd = [exe, "-p", str(self.run_dir), "-c", str(conf), "-g", "daemon off;"]
        else:
            exe = shutil.which("haproxy") or "/usr/sbin/haproxy"
            if not Path(exe).exists():
                raise RuntimeError("haproxy is not installed (Debian: apt-get install haproxy)")
            conf = self.run_dir / "haproxy.cfg"
            conf.write_text(haproxy_config(upstreams, listen=listen))
            cmd = [exe, "-db", "-f", str(conf)]
        log = (self.run_dir / "proxy.log").open("ab")
        self._proxy = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        if wait_for_health(self.port, self._proxy, 20):
            return self
        if self._proxy.poll() is not None:
            raise RuntimeError(f"{self.proxy} exited: {(self.run_dir / 'proxy.log').read_text()[-800:]}")
        raise RuntimeError(f"{self.proxy} did not answer on port {self.port}; see {self.run_dir}")

    def _warm_one(self, w: Worker) -> Warmed:
        result = warm(w.port, budget=self.warm_budget)
        self.warmed[w.port] = result
        with (self.run_dir / "warm.log").open("a") as log:
            log.write(time.strftime("%H:%M:%S ") + result.summary() + "\n")
        return result

    def warm_workers(self) -> list[Warmed]:
        """Warm every worker at once (each in a thread, each within ``warm_budget`` seconds)."""
        threads = [threading.Thread(target=self._warm_one, args=(w,), daemon=True) for w in self._workers]
        for th in threads:
            th.start()
        for th in threads:
            th.join(self.warm_budget + 30)
        return [self.warmed[w.port] for w in self._workers if w.port in self.warmed]

    def _rewarm(self, w: Worker) -> None:
        """A restarted worker: warm it once it answers (in the background; the proxy already
        sends it the browsers that come)."""
        if wait_for_health(w.port, w.proc, 180):
            self._warm_one(w)

    def worker_pids(self) -> list[int]:
        return [w.proc.pid for w in self._workers if w.proc]

    def supervise_once(self) -> list[int]:
        """Restart any worker that has exited; the ports restarted."""
        restarted = []
        for w in self._workers:
            if w.proc and w.proc.poll() is not None:
                w.restarts += 1
                self._start_worker(w)
                restarted.append(w.port)
                if self.warm:
                    threading.Thread(target=self._rewarm, args=(w,), daemon=True).start()
        return restarted

    def stop(self) -> None:
        stop_processes(([self._proxy] if self._proxy else []) + [w.proc for w in self._workers if w.proc])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m cnnviz.serve", description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                    help="Streamlit processes (default: one per core)")
    ap.add_argument("--host", default="0.0.0.0", help="address the proxy listens on (default: all)")
    ap.add_argument("--port", type=int, default=8501, help="port the proxy listens on (default 8501)")
    ap.add_argument("--proxy", choices=["nginx", "haproxy"], default="nginx")
    ap.add_argument("--print-config", choices=["nginx", "haproxy"],
                    help="print the proxy configuration for --upstream servers and exit")
    ap.add_argument("--upstream", action="append", default=[],
                    help="host:port of a worker on another machine (with --print-config)")
    ap.add_argument("--no-warm", action="store_true",
                    help="do not open the lessons once on each worker before the proxy starts")
    ap.add_argument("--progress-db", type=Path, metavar="PATH",
                    help="SQLite file of learners' progress (default: CNNVIZ_PROGRESS_DB, else var/progress.db "
                         "beside the app, as under streamlit run: kept from one run to the next)")
    ap.add_argument("--debug-header", action="store_true",
                    help="add X-Cnnviz-Upstream (the worker's address) to every response")
    args = ap.parse_args(argv)
    if args.print_config:
        if not args.upstream:
            ap.error("--print-config needs at least one --upstream host:port")
        listen = f"{args.host}:{args.port}"
        try:
            print(nginx_config(args.upstream, listen=listen, prefix=Path("/var/lib/cnnviz-nginx"),
                               debug_header=args.debug_header)
                  if args.print_config == "nginx" else haproxy_config(args.upstream, listen=listen))
        except ValueError as err:
            ap.error(str(err))
        return 0
    if args.workers < 1:
        ap.error("--workers must be at least 1")
    cluster = Cluster(workers=args.workers, host=args.host, port=args.port, proxy=args.proxy,
                      debug_header=args.debug_header, warm=not args.no_warm, progress_db=args.progress_db)
    stopping = False

    def on_signal(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        cluster.start()
        for result in cluster.warmed.values():
            print(f"cnnviz: {result.summary()}", flush=True)
        print(f"cnnviz: {args.workers} workers behind {args.proxy} at {cluster.url} "
              f"(worker pids {', '.join(map(str, cluster.worker_pids()))}; logs in {cluster.run_dir})", flush=True)
        print(f"cnnviz: learners' progress in {cluster.progress_path}", flush=True)
        while not stopping:
            time.sleep(1)
            for port in cluster.supervise_once():
                print(f"cnnviz: worker on port {port} had stopped; restarted", flush=True)
    except RuntimeError as err:
        print(f"cnnviz: {err}", file=sys.stderr)
        return 1
    finally:
        cluster.stop()
    return 0

