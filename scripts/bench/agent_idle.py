"""What `pyperf up` costs on an idle host, and what an open dashboard adds.

One invocation, same machine, one after the other:
  A. `pyperf up` with every default probe (1 s interval, 49 Hz profile,
     --cpu-budget 100 so nothing is shed), nobody looking;
  B. the same, with a client polling a live page's partials as the browser
     does (charts every second, tables every 5 s).
Each is measured after a warm-up: CPU time of the pyperf process (per thread
group: Python, chDB, the rest) plus the run time of its BPF programs in the
kernel (kernel.bpf_stats_enabled), as % of one CPU; and the steps the governor
took with the default budget (run C, nobody looking: it should take none).

    sudo .venv/bin/python scripts/bench/agent_idle.py [--seconds 120] [--warmup 30]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from common import ROOT, bpf_stats, stop, thread_cpu, vm_speed_ms

def start_up(store: str, port: int, budget: str, extra: tuple[str, ...] = ()) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "pyperf", "--store", store, "up", "--listen",
                             f"127.0.0.1:{port}", "--cpu-budget", budget, *extra],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=ROOT)
    for line in proc.stderr:
        if "web UI on" in line:
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
            return proc
    raise SystemExit(f"pyperf up did not start: exit {proc.wait()}")


def dashboard(port: int, page: str, stop_event: threading.Event, counts: list) -> None:
    """As the browser does on a live page: its charts (`only=charts`) every second,
    whole once and then only what is newer than it holds (`since`); its tables
    (`only=tables`) every 5 s with the version it shows (204 while unchanged)."""
    since, version, tick = "", "", 0
    base = f"http://127.0.0.1:{port}{page}"

    def get(url: str) -> bytes:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"HX-Request": "true"}), timeout=30) as r:
            return r.read()

    while not stop_event.wait(1.0):
        get(f"{base}&only=charts{since}")
        since = f"&since={int(time.time()) - 1}"
        if tick % 5 == 0:
            body = get(f"{base}&only=tables&version={version}").decode()
            if 'data-tables-version="' in body:
                version = body.rsplit('data-tables-version="', 1)[1].split('"', 1)[0]
        tick += 1
        counts.append(1)


def measure(store: str, port: int, seconds: float, warmup: float, with_dashboard: bool, budget: str = "100",
            page: str = "/overview/data?range=live", extra: tuple[str, ...] = ()):
    proc = start_up(store, port, budget, extra)
    stop_event, counts = threading.Event(), []
    try:
        if with_dashboard:
            threading.Thread(target=dashboard, args=(port, page, stop_event, counts), daemon=True).start()
        time.sleep(warmup)
        threads0 = thread_cpu(proc.pid)
        _, bpf0 = bpf_stats.total(bpf_stats.programs_of(proc.pid))
        wall0 = time.perf_counter()
        time.sleep(seconds)
        wall = time.perf_counter() - wall0
        threads1 = thread_cpu(proc.pid)
        _, bpf1 = bpf_stats.total(bpf_stats.programs_of(proc.pid))
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=30) as r:
            status = json.load(r)
    finally:
        stop_event.set()
        stop(proc)
    parts = {k: 100 * (threads1[k] - threads0.get(k, 0)) / wall for k in threads1}
    parts["bpf"] = 100 * (bpf1 - bpf0) / 1e9 / wall
    governor = status.get("governor") or {}
    return parts, governor.get("steps", []), len(counts)


def show(label: str, parts: dict) -> float:
    total = sum(parts.values())
    detail = ", ".join(f"{k} {v:.2f}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1]) if v >= 0.005)
    print(f"{label}: {total:.2f} % of one CPU ({detail})")
    return total


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--warmup", type=float, default=30.0)
    ap.add_argument("--port", type=int, default=18321)
    ap.add_argument("--idle-only", action="store_true", help="run A only (e.g. for a 10-minute --seconds 600)")
    ap.add_argument("--page", default="/overview/data?range=live",
                    help="the partial B polls (the Overview: the busiest page)")
    args = ap.parse_args()
    speed = vm_speed_ms()
    previous = Path("/proc/sys/kernel/bpf_stats_enabled").read_text().strip()
    Path("/proc/sys/kernel/bpf_stats_enabled").write_text("1")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            idle, _, _ = measure(f"chdb://{tmp}/a", args.port, args.seconds, args.warmup, False)
            if not args.idle_only:
                looked, _, polls = measure(f"chdb://{tmp}/b", args.port, args.seconds, args.warmup, True,
                                           page=args.page)
                _, steps, _ = measure(f"chdb://{tmp}/c", args.port, args.seconds, args.warmup, False, budget="1")
    finally:
        Path("/proc/sys/kernel/bpf_stats_enabled").write_text(previous)
    print(f"pyperf up, every default probe, 1 s interval, 49 Hz profile, idle host, "
          f"{args.seconds:.0f} s after {args.warmup:.0f} s warm-up")
    print("VM speed before and after: a fixed loop in %.0f-%.0f ms, then %.0f-%.0f ms" % (*speed, *vm_speed_ms()))
    a = show("  nobody looking", idle)
    if args.idle_only:
        return 0
    b = show(f"  dashboard refreshing every second ({polls} refreshes of {args.page})", looked)
    print(f"  the dashboard adds {b - a:.2f} % of one CPU (ratio {b / max(a, 0.01):.2f})")
    print(f"  default budget (1 % of the host): governor steps taken: {steps or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
