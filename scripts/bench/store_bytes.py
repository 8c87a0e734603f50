"""Stored bytes per sample: one hour of a busy host's rows, generated at the
rates below, inserted through the real store path (one insert per table every
60 s, as the writer does) into a scratch embedded store, merged, then measured
from system.parts. The same rows are copied into tables with ClickHouse's
default codec (LZ4, no per-column codecs) as the baseline: the ratio shows what
the chosen codecs buy.

"Busy host": 32 CPUs, 300 processes running each second, 50 containers, 4
disks, 10 interfaces, 49 Hz profiling with 2000 distinct stacks. Counters are
Poisson around a per-key rate spread log-normally across keys; gauges are
per-key levels with noise at the precision the probes produce (CPU % from
100 Hz ticks); histograms fill 3-5 neighbouring log2 slots.

A metric sample = one scalar metric value of a row (identity columns such as
ts, host, pid, device, interval are not counted; a 32-slot histogram counts
as one sample). Goal: under 2 bytes per metric sample.

    sudo .venv/bin/python scripts/bench/store_bytes.py [--minutes 60]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zlib

import numpy as np

from common import ROOT  # noqa: F401  (sys.path set up there)
from pyperf.store.dsn import parse_dsn
from pyperf.store.store import Store

# rows per second and the key columns that tell rows of one interval apart
RATES = {
    "disk_io": 8, "disk_queue": 4, "disk_slow_io": 2, "disk_container_io": 40, "system_cpu": 33,
    "system_host": 1, "system_net": 10, "system_disk": 4, "sched_process": 300, "sched_cpu": 32,
    "faults_process": 300, "tcp_host": 1, "tcp_process": 20, "tcp_event": 5, "tcp_connection_rtt": 40,
    "profile_stack": 400, "response_time": 20, "container_resources": 50, "layer_file_access": 50,
    "agent_counters": 4,
}
IDENTITY = {"ts", "host", "interval_ms", "pid", "comm", "mnt_ns", "cgroup_id", "cpu", "port", "sport", "dport",
            "dev", "inode", "net_ns", "device", "op", "interface", "container_id", "name", "runtime", "kind",
            "state", "saddr", "daddr", "hz", "stack", "folded", "started", "source", "counter", "first_access", "last_access"}
FLUSH_S = 60


class Generator:
    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.stacks = [";".join(f"fn_{rng.integers(0, 5000)} [{lib}]" for _ in range(rng.integers(8, 30)))
                       for lib in rng.choice(["python3.11", "libc.so.6", "kernel", "postgres"], 2000)]
        self.comms = [f"worker-{i}" for i in range(120)] + ["postgres", "nginx", "java", "python3"]
        self.key_level: dict[tuple, float] = {}

    def level(self, table: str, column: str, key: int, scale: float) -> float:
        k = (table, column, key)
        if k not in self.key_level:
            self.key_level[k] = float(self.rng.lognormal(np.log(scale), 1.0))
        return self.key_level[k]

    def batch(self, table: str, columns: list[tuple[str, str]], t0: float, seconds: int) -> dict[str, list]:
        rate = RATES[table]
        n = rate * seconds
        key = np.tile(np.arange(rate), seconds)                 # which key of the interval
        second = np.repeat(np.arange(seconds), rate)
        rng = self.rng
        out: dict[str, list] = {}
        for name, col_type in columns:
            if name == "host" or (name == "stack" and col_type.startswith("Array")):
                continue   # the agent never writes these (stack: rows before schema 22 only)
            if name == "ts" or name in ("first_access", "last_access"):
                values = t0 + second + 0.002 * rng.random(n)
            elif name == "interval_ms":
                values = 1000 + rng.integers(0, 3, n)
            elif name == "folded":
                values = [self.stacks[i] for i in rng.integers(0, len(self.stacks), n)]
            elif col_type.startswith("Array(UInt32)"):
                values = self._hists(table, name, key, n)
            elif col_type == "IPv6":
                values = [f"::ffff:10.0.{k % 4}.{k % 250 + 1}" for k in key]
            elif col_type.startswith("Map("):
                values = [{"ESTABLISHED": int(200 + rng.integers(0, 5)), "TIME_WAIT": int(rng.integers(0, 40))}] * n
            elif "String" in col_type:
                values = [self._label(name, k) for k in key]
            elif name in IDENTITY:
                small = col_type.startswith(("UInt16", "Int16", "UInt8", "Int8"))
                values = key + 1 if small else key * 7919 + 1000
            elif col_type.startswith("Float"):
                levels = np.array([self.level(table, name, k, 20.0) for k in range(rate)])[key]
                values = np.round(np.minimum(levels + rng.normal(0, levels * 0.1 + 0.5), 100), 0)
            elif col_type.startswith("Nullable"):
                values = [None] * n
            else:
                levels = np.array([self.level(table, name, k, 50.0) for k in range(rate)])[key]
                values = rng.poisson(levels)
            out[name] = values.tolist() if isinstance(values, np.ndarray) else list(values)
        return out

    def _hists(self, table: str, name: str, key: np.ndarray, n: int) -> list[list[int]]:
        rng = self.rng
        hists = np.zeros((n, 32), dtype=np.int64)
        # crc32, not hash(): a str's hash() changes with every interpreter (PYTHONHASHSEED),
        # and with it the rows; the same rows every run make runs comparable
        mode = (key * 3 + zlib.crc32(f"{table}.{name}".encode()) % 7) % 20 + 2
        for offset, weight in ((-1, 0.2), (0, 1.0), (1, 0.5), (2, 0.1)):
            hists[np.arange(n), mode + offset] = rng.poisson(30 * weight, n)
        return hists.tolist()

    def _label(self, name: str, k: int) -> str:
        if name == "comm":
            return self.comms[k % len(self.comms)]
        if name in ("op", "kind"):
            return ("read", "write")[k % 2]
        if name == "state":
            return "ESTABLISHED"
        return f"{name}-{k}"


def fixed_start() -> int:
    """Yesterday 00:00 UTC: inside every table's TTL, one date partition, and the
    same timestamps every run (a start from the clock moved the bytes by ~0.03)."""
    return (int(time.time()) // 86400 - 1) * 86400


def measure(store, table: str) -> tuple[int, int, int]:
    rows = store.query("SELECT sum(rows), sum(data_compressed_bytes), sum(data_uncompressed_bytes) FROM system.parts "
                       "WHERE database = currentDatabase() AND table = {t:String} AND active", {"t": table}).rows
    return tuple(int(v or 0) for v in rows[0])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=60.0)
    args = ap.parse_args()
    seconds = int(args.minutes * 60)
    gen = Generator(np.random.default_rng(42))
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(parse_dsn(f"chdb://{tmp}/store"), host_name="busy-host").open()
        schema = store.tables()
        t0 = fixed_start()
        started = time.perf_counter()
        for table in RATES:
            columns = [(c, ty) for c, ty, _ in schema[table]]
            for start in range(0, seconds, FLUSH_S):
                store.insert(table, gen.batch(table, columns, t0 + start, min(FLUSH_S, seconds - start)))
        print(f"generated and inserted {args.minutes:g} min of rows in {time.perf_counter() - started:.0f} s\n")
        print(f"{'table':<22}{'rows':>10}{'metrics/row':>12}{'bytes/row':>10}{'B/sample':>9}"
              f"{'LZ4 B/sample':>13}{'ratio':>7}")
        total = {"ours": 0, "plain": 0, "samples": 0}
        for table in RATES:
            metric_cols = [c for c, ty, _ in schema[table] if c not in IDENTITY and "String" not in ty]
            store.command(f"OPTIMIZE TABLE {table} FINAL")
            sorting = store.query("SELECT sorting_key FROM system.tables WHERE database = currentDatabase() "
                                  "AND name = {t:String}", {"t": table}).rows[0][0]
            store.command(f"CREATE TABLE {table}_plain ENGINE = MergeTree ORDER BY ({sorting}) "
                        f"AS SELECT * FROM {table}")
            store.command(f"OPTIMIZE TABLE {table}_plain FINAL")
            rows, ours, _ = measure(store, table)
            _, plain, _ = measure(store, f"{table}_plain")
            samples = rows * max(1, len(metric_cols))
            total["ours"] += ours
            total["plain"] += plain
            total["samples"] += samples
            print(f"{table:<22}{rows:>10}{len(metric_cols):>12}{ours / rows:>10.1f}{ours / samples:>9.2f}"
                  f"{plain / samples:>13.2f}{ours / plain:>7.2f}")
        store.close()
    print(f"\nall tables: {total['ours'] / total['samples']:.3f} bytes per metric sample with our codecs, "
          f"{total['plain'] / total['samples']:.2f} with the default (ratio {total['ours'] / total['plain']:.2f}); "
          f"{total['ours'] / 2**20 / (args.minutes / 60):.1f} MiB per host-hour")
    return 0


if __name__ == "__main__":
    sys.exit(main())
