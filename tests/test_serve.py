"""Several Streamlit workers behind nginx (python -m cnnviz.serve): sticky by cookie, websockets proxied."""

import base64
import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from cnnviz import course, serve



def test_nginx_config_is_sticky_by_cookie_not_by_address():
    conf = serve.nginx_config(["10.0.0.5:8501", "10.0.0.6:8501"], listen="0.0.0.0:80", prefix=Path("/srv/x"))
    assert "hash $cnnviz_sticky consistent;" in conf
    assert "ip_hash" not in conf and "$remote_addr" not in conf.split("upstream")[1]
    assert "server 10.0.0.5:8501" in conf and "server 10.0.0.6:8501" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf          # websockets
    assert f"Set-Cookie \"{serve.COOKIE}=$cnnviz_sticky" in conf
    assert "X-Cnnviz-Upstream" not in conf                             # only on request (tests)


def test_haproxy_config_inserts_its_cookie():
    conf = serve.haproxy_config(["a:1", "b:2"], listen="*:8501")
    assert f"cookie {serve.COOKIE} insert" in conf
    assert "server w1 a:1 cookie w1" in conf and "server w2 b:2 cookie w2" in conf


@pytest.mark.parametrize("bad", ["nohost", "h:0", "h:99999", "h:80; evil", "h:80}\nserver x:1"])
def test_a_tampered_upstream_is_refused(bad):
    with pytest.raises(ValueError):
        serve.nginx_config([bad], listen="127.0.0.1:1", prefix=Path("/tmp"))


def test_print_config_for_remote_workers():
    out = subprocess.run([sys.executable, "-m", "cnnviz.serve", "--print-config", "nginx", "--upstream",
                          "10.1.1.1:8501", "--port", "80"], capture_output=True, text=True, check=True).stdout
    assert "server 10.1.1.1:8501" in out and "listen 0.0.0.0:80;" in out


def get(url: str, cookie: str | None = None) -> tuple[str, str, str]:
    """(worker address, cookie set, body) of one GET through the proxy."""
    req = urllib.request.Request(url, headers={"Cookie": f"{serve.COOKIE}={cookie}"} if cookie else {})
    with urllib.request.urlopen(req, timeout=30) as r:
        set_cookie = r.headers.get("Set-Cookie", "")
        value = set_cookie.split(";")[0].split("=", 1)[1] if set_cookie else ""
        return r.headers["X-Cnnviz-Upstream"], value, r.read().decode("utf-8", "replace")


def test_every_request_of_a_browser_reaches_its_worker(cluster):
    base = f"http://127.0.0.1:{cluster.port}"
    workers_seen = set()
    for _ in range(12):                       # 12 new browsers
        worker, cookie, _ = get(base + "/")
        assert cookie
        workers_seen.add(worker)
        for path in ("/_stcore/health", "/_stcore/host-config", "/" + course.url("convolution"), "/"):
            assert get(base + path, cookie)[0] == worker, path     # same browser, same worker
    assert len(workers_seen) == 2             # and the class is spread over both workers


def test_the_websocket_goes_through_to_the_same_worker(cluster):
    worker, cookie, _ = get(f"http://127.0.0.1:{cluster.port}/")
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection(("127.0.0.1", cluster.port), timeout=30) as s:
        s.sendall((f"GET /_stcore/stream HTTP/1.1\r\nHost: 127.0.0.1:{cluster.port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                   f"Sec-WebSocket-Protocol: streamlit\r\nOrigin: http://127.0.0.1:{cluster.port}\r\n"
                   f"Cookie: {serve.COOKIE}={cookie}\r\n\r\n").encode())
        head = s.recv(4096).decode("latin-1")
    assert head.startswith("HTTP/1.1 101"), head
    assert f"X-Cnnviz-Upstream: {worker}" in head


def test_a_dead_worker_is_restarted_and_its_browsers_keep_being_served(cluster):
    base = f"http://127.0.0.1:{cluster.port}"
    victim = cluster._workers[0]
    victim.proc.kill()
    victim.proc.wait(10)
    for _ in range(6):                         # meanwhile, everyone is served by the living worker
        assert get(base + "/_stcore/health")[2] == "ok"
    assert cluster.supervise_once() == [victim.port]
    cluster._wait_healthy(victim)
    assert victim.restarts == 1


# ------------------------------------------------------------------ warm workers, one line of heavy work
PATH = tuple(course.url(n) for n in ("convolution", "inside_a_cnn", "explain", "image_as_numbers"))   # issue 11's path


def test_every_worker_is_warmed_on_the_class_path_before_the_proxy_starts(cluster):
    assert sorted(cluster.warmed) == sorted(w.port for w in cluster._workers)
    for port, result in cluster.warmed.items():
        for lesson in PATH:                    # each lesson's page ran to its end on this worker
            assert lesson in result.pages, (port, result.summary())
            assert not [p for p in result.problems if p.startswith(f"/{lesson}:")], result.summary()
        assert "" in result.pages and course.url("inside_a_cnn", "inside.draw=false") in result.pages
    log = (cluster.run_dir / "warm.log").read_text()
    assert all(f"worker on port {w.port} warmed" in log for w in cluster._workers)


def test_the_workers_share_one_line_of_heavy_work(cluster):
    """Every worker gets the same CNNVIZ_JOBS_DIR (cnnviz.serve.jobs: the machine's slots and order)."""
    dirs = set()
    for pid in cluster.worker_pids():
        env = dict(kv.split("=", 1) for kv in Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0") if "=" in kv)
        dirs.add(env.get("CNNVIZ_JOBS_DIR"))
    assert dirs == {str(cluster.run_dir / "jobs")}


def test_a_failed_warm_up_is_reported_not_raised():
    port = serve.free_port()                  # nobody listens there
    result = serve.warm(port, budget=20)
    assert not result.ok and result.pages == {}
    assert result.problems and all("ConnectionRefused" in p or "Errno" in p for p in result.problems), result.problems
    assert f"worker on port {port} warmed" in result.summary()


def test_no_warm_skips_the_warm_up(monkeypatch):
    made = []

    class Fake:
        def __init__(self, **kw):
            made.append(kw)
            self.warmed = {}

        def start(self):
            raise RuntimeError("not in this test")

        def stop(self):
            pass

    monkeypatch.setattr(serve, "Cluster", Fake)
    monkeypatch.setattr(serve.signal, "signal", lambda *a: None)     # keep pytest's Ctrl+C
    assert serve.main(["--workers", "2", "--no-warm"]) == 1
    assert serve.main(["--workers", "2"]) == 1
    assert [kw["warm"] for kw in made] == [False, True]
