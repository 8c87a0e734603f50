#!/usr/bin/env python3
"""Regenerate the pictures of docs/dashboard_user_guide.md: `pyperf up` on a
scratch store with a small, known workload (two containers, one spinning and
one reading its image, a host process spinning in a named function, direct
I/O on a loop device, a TCP server answering in 5–150 ms), then one screenshot
per page in headless Chromium.

    sudo .venv/bin/python scripts/screenshots.py [--settle 60]

Needs root (BPF), Docker (started here if it is not running, stopped after) and
Debian's chromium (scripts/install.sh --test)."""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from docker_env import ensure_base_image, remove, run_container  # noqa: E402
from workloads import direct_io, loop_device  # noqa: E402

IMAGES = ROOT / "docs" / "images"
CHROMIUM = "/usr/bin/chromium"

# page, URL (after the host), what to wait for before the picture
SHOTS = (
    ("overview", "/overview?range=5m", "table.top-containers tbody tr[data-container]"),
    ("containers", "/containers?range=5m", "table.containers tbody tr[data-container]"),
    ("container", None, "table.processes tbody tr[data-pid]"),
    ("cpu", "/cpu?range=5m", "table.waiters tbody tr"),
    ("memory", "/memory?range=5m", "#chart-memory canvas"),
    ("disk", "/disk?range=5m", "table.devices tbody tr[data-device]"),
    ("network", "/network?range=5m", "#chart-retransmits canvas"),
    ("response", "/response?range=5m", "table.servers tbody tr"),
    ("layers", None, "table.layers tbody tr"),
    ("flame", None, "#flame .d3-flame-graph-label"),
    ("flame_diff", None, "#flame[data-diff='1'] .d3-flame-graph-label"),
    ("alerts", "/alerts?range=5m", "table.findings tbody tr"),
    ("compare", "/compare?a_range=custom&a_from={a_from}&a_to={a_to}&b_range=5m", "table"),
    ("sql", "/sql", "#sql-text"),
    ("settings", "/settings", "form.settings"),
)


@contextlib.contextmanager
def dockerd():
    """A running Docker daemon: the one there is, or one started for the run."""
    if subprocess.run(["docker", "info"], capture_output=True).returncode == 0:
        yield
        return
    proc = subprocess.Popen(["dockerd", "--log-level=warn"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(60):
            if subprocess.run(["docker", "info"], capture_output=True).returncode == 0:
                break
            time.sleep(0.5)
        else:
            raise SystemExit("dockerd did not start")
        yield
    finally:
        proc.terminate()
        proc.wait(30)


def serve_slowly(stop: threading.Event) -> int:
    """A TCP server answering each line after 5–150 ms (the response probe's view),
    and a client asking all the time; returns the port."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    server.settimeout(0.5)

    def accept():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                while not stop.is_set() and conn.recv(64):
                    time.sleep(random.choice((0.005, 0.01, 0.02, 0.15)))
                    conn.sendall(b"ok\n")

    def ask():
        while not stop.is_set():
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)) as c:
                for _ in range(20):
                    c.sendall(b"get\n")
                    c.recv(16)

    for target in (accept, ask):
        threading.Thread(target=target, daemon=True).start()
    return port


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settle", type=float, default=60.0, help="seconds of workload before the pictures")
    ap.add_argument("--port", type=int, default=18080)
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("screenshots.py loads BPF programs through pyperf up: run it as root")
    if not os.path.exists(CHROMIUM):
        raise SystemExit("Debian chromium is missing: scripts/install.sh --test")
    from playwright.sync_api import sync_playwright

    IMAGES.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    with tempfile.TemporaryDirectory() as scratch, dockerd(), loop_device(Path(scratch)) as dev:
        ensure_base_image()
        up = subprocess.Popen([sys.executable, "-m", "pyperf", "--store", f"chdb://{scratch}/store", "up",
                               "--listen", f"127.0.0.1:{args.port}", "--flush-interval", "5s", "--cpu-budget", "0",
                               "--offcpu-stacks", "--slow-io-ms", "1"], cwd=ROOT,
                              stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        try:
            for line in up.stderr:
                if "web UI on" in line:
                    break
            else:
                raise SystemExit(f"pyperf up exited {up.wait()}")
            threading.Thread(target=lambda: [None for _ in up.stderr], daemon=True).start()
            started = time.time()
            time.sleep(15)                             # a quiet baseline for the flame graph diff
            baseline_end = time.time()
            spin = Path(scratch) / "checkout-service"         # a host process with symbols to profile
            subprocess.run(["gcc", "-O1", "-g", "-fno-omit-frame-pointer", "-o", str(spin),
                            str(ROOT / "tests" / "programs" / "spin.c")], check=True)
            spinning = subprocess.Popen([str(spin), "600"])
            spinner = run_container("shop-worker", "sh", "-c", "while true; do :; done")
            reader = run_container("shop-files", "sh", "-c",
                                   "while true; do cat /bin/busybox > /dev/null; sleep 1; done")
            serve_slowly(stop)
            threading.Thread(target=lambda: [direct_io(dev, 200, 50) or time.sleep(0.2)
                                             for _ in iter(stop.is_set, True)], daemon=True).start()
            time.sleep(args.settle)
            iso = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))   # noqa: E731
            base = f"http://127.0.0.1:{args.port}"
            urls = {
                "container": f"/containers/{spinner}?range=5m",
                "layers": f"/layers?container={reader}",
                "flame": f"/flame?range=5m&pid={spinning.pid}",
                "flame_diff": f"/flame?range=custom&from={iso(baseline_end)}&to={iso(time.time())}"
                              f"&base=custom&base_from={iso(started)}&base_to={iso(baseline_end)}",
            }
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                            args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                for name, url, ready in SHOTS:
                    url = (url or urls[name]).format(a_from=iso(started), a_to=iso(baseline_end))
                    page.goto(base + url)
                    page.wait_for_selector(ready, state="attached", timeout=60000)
                    page.wait_for_timeout(1500)            # charts drawn, a live refresh done
                    page.screenshot(path=str(IMAGES / f"{name}.png"))
                    print(f"docs/images/{name}.png  {url}")
                browser.close()
        finally:
            stop.set()
            if "spinning" in locals():
                spinning.kill()
            remove("shop-worker")
            remove("shop-files")
            up.terminate()
            up.wait(60)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
