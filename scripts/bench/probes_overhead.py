#!/usr/bin/env python3
"""Overhead of the tcp, response and profile probes, each against the bcc tool
doing the same job where Debian has one, on a workload with a high event rate.

  connections  connect/accept/close cycles over loopback  (pyperf tcp  vs tcplife-bpfcc)
  requests     request/response round trips on one TCP connection  (pyperf response)
  cpu          a busy loop  (pyperf profile at 49 Hz  vs profile-bpfcc -F 49)

Workloads run in a child pinned to CPU 1, tools on CPU 0; blocks alternate
(none, pyperf, peer) for several rounds in one invocation; the script prints
throughput ratios against the same round's baseline and the in-kernel cost per
event from kernel.bpf_stats_enabled.

    sudo .venv/bin/python scripts/bench/probes_overhead.py [--rounds 3] [--only connections]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import tempfile
import time

from common import Meter, bpf_stats, start_pyperf, start_tool, stop


def in_child(fn) -> float:
    """Run fn() pinned to CPU 1 in a child; return the rate it reports."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.sched_setaffinity(0, {1})
        os.write(write_fd, repr(fn()).encode())
        os._exit(0)
    os.close(write_fd)
    rate = float(os.read(read_fd, 64))
    os.waitpid(pid, 0)
    os.close(read_fd)
    return rate


def connections(n: int = 4000) -> float:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(128)
    addr = server.getsockname()
    start = time.perf_counter()
    for _ in range(n):
        c = socket.create_connection(addr)
        s, _ = server.accept()
        c.close()
        s.close()
    return n / (time.perf_counter() - start)


def requests(n: int = 20000) -> float:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname())
    conn, _ = server.accept()
    client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    start = time.perf_counter()
    for _ in range(n):
        client.sendall(b"q")
        conn.recv(1)
        conn.sendall(b"a")
        client.recv(1)
    return n / (time.perf_counter() - start)


def cpu(seconds: float = 2.0) -> float:
    end = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < end:
        for _ in range(1000):
            n += 1
    return n / seconds


WORKLOADS = {
    # name: (workload, pyperf probe, peer command, events per unit of work)
    "connections": (connections, "tcp", ["/usr/sbin/tcplife-bpfcc"], 1),
    "requests": (requests, "response", None, 1),
    "cpu": (cpu, "profile", ["/usr/sbin/profile-bpfcc", "-F", "49", "60"], 0),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=sorted(WORKLOADS))
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("probes_overhead.py: run as root")
        return 1
    with bpf_stats.stats_enabled(), tempfile.TemporaryDirectory() as tmp:
        for name, (work, probe, peer, _) in WORKLOADS.items():
            if args.only and name != args.only:
                continue
            in_child(work)   # warm up
            results: dict[str, list] = {"pyperf": [], "peer": []}
            print(f"\n== {name}: pyperf {probe}" + (f" vs {os.path.basename(peer[0])}" if peer else ""))
            print(f"{'round':>5} {'tool':>8} {'rate/s':>10} {'ratio':>6} {'BPF ns/unit':>12} {'tool CPU':>9}")
            for rnd in range(1, args.rounds + 1):
                base = in_child(work)
                print(f"{rnd:>5} {'none':>8} {base:>10.0f} {1:>6.3f}")
                tools = [("pyperf", lambda: start_pyperf(f"chdb://{tmp}/store-{name}", probe))]
                if peer and os.path.exists(peer[0]):
                    tools.append(("peer", lambda: start_tool(peer)))
                for label, starter in tools:
                    proc = starter()
                    try:
                        meter = Meter(proc.pid)
                        rate = in_child(work)
                        m = meter.stop()
                    finally:
                        stop(proc)
                    units = rate * m["wall_s"]
                    per_unit = m["bpf_ns"] / units if units else 0.0
                    results[label].append((rate / base, per_unit, m["cpu_share"]))
                    print(f"{rnd:>5} {label:>8} {rate:>10.0f} {rate / base:>6.3f} {per_unit:>12.0f} "
                          f"{m['cpu_share'] * 100:>8.2f}%")
            for label, rows in results.items():
                if rows:
                    print(f"  {label}: median ratio {statistics.median(r[0] for r in rows):.3f}, "
                          f"BPF {statistics.median(r[1] for r in rows):.0f} ns per unit of work, "
                          f"tool CPU {statistics.median(r[2] for r in rows) * 100:.2f}% of one CPU")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
