"""Response time of TCP servers per process and local port, protocol-agnostic:
first byte of a request received to first byte of the response sent, per
request on keep-alive connections. Kernel side: bpf/response.bpf.c."""

from __future__ import annotations

import ctypes
from collections import defaultdict

import numpy as np

from pyperf.analysis.histogram import HIST_SLOTS, quantiles_us
from pyperf.probes.base import Batch
from pyperf.probes.bpf_probe import BPFProbe
from pyperf.probes.keyed_counters import KeyedCounters
from pyperf.probes.map_drain import delete_keys
from pyperf.probes.process_table import ExitScan, live_tgids
from pyperf.schema import (AGENT_HOST, COUNTER, GAUGE, INTERVAL_END, INTERVAL_MS, KEY, STORED, Column, Table,
                           log2_histogram)

TABLES = (
    Table("response_time",
          "Per interval, server process and local port: requests answered and their response time (first "
          "request byte received to first response byte sent).",
          order_by=("host", "pid", "port", "ts"), metrics=True, metric_labels=("comm", "port"),
          rollup=STORED, columns=(
        INTERVAL_END,
        AGENT_HOST,
        INTERVAL_MS,
        Column("pid", "UInt32", KEY, "", "server process id (thread group id)"),
        Column("comm", "LowCardinality(String)", KEY, "", "its command name"),
        Column("port", "UInt16", KEY, "", "local TCP port of the server connections"),
        Column("requests", "UInt64", COUNTER, "count", "requests answered in the interval", codec="T64, ZSTD(1)"),
        Column("latency_sum_us", "UInt64", COUNTER, "µs",
               "summed response time; divide by requests for the mean", codec="T64, ZSTD(1)"),
        log2_histogram("latency_hist", "response time histogram, slot i = [2^i, 2^(i+1)) µs"),
        Column("p50_us", "Float32", GAUGE, "µs",
               "median response time (from the histogram)", codec="Gorilla(4), ZSTD(1)", rollup=False),
        Column("p99_us", "Float32", GAUGE, "µs",
               "99th percentile response time (from the histogram)", codec="Gorilla(4), ZSTD(1)", rollup=False),
      )),
)


class ResponseKey(ctypes.Structure):
    """struct response_key in bpf/response.h."""

    _fields_ = [("tgid", ctypes.c_uint32), ("port", ctypes.c_uint16), ("pad", ctypes.c_uint16)]


class ResponseStats(ctypes.Structure):
    """struct response_stats in bpf/response.h."""

    _fields_ = [("requests", ctypes.c_uint64), ("latency_sum_ns", ctypes.c_uint64),
                ("latency_max_ns", ctypes.c_uint64), ("hist", ctypes.c_uint64 * HIST_SLOTS),
                ("comm", ctypes.c_char * 16)]


RESPONSE_KEY = np.dtype(ResponseKey)
COUNTER_WORDS = ResponseStats.comm.offset // 8        # the u64 words before the name


class ResponseProbe(BPFProbe):
    name = "response"
    description = "TCP server response time per process and port, any protocol"
    schema = TABLES
    btf_offsets = {"OFF_SK_PROTOCOL": ("sock", "sk_protocol"), "OFF_SKC_NUM": ("sock_common", "skc_num")}

    def __init__(self, options=None):
        super().__init__(options)
        self._counters = KeyedCounters()
        self._totals = {"requests": 0, "lost": 0}
        self._live: dict = {}
        self._scan = ExitScan()

    def chosen_path(self) -> str:
        return "raw tracepoints inet_sock_set_state, sock_recv_length, sock_send_length"

    def attach(self) -> None:
        self.load()
        self._counters.advance(*self._read()[:2])

    def _read(self):
        """(keys, counters: requests, latency sum, latency max, histogram; names) of every entry."""
        keys, values = self.drainer(b"response_stats").read_arrays(np.dtype("V8"), np.dtype(np.uint64))
        return keys, values[:, :COUNTER_WORDS], values[:, COUNTER_WORDS:]

    def drain(self, now: float) -> Batch:
        if self.bpf is None:
            return {}
        interval_ms = round(self.interval_s() * 1000)
        keys, counters, names = self._read()
        order = np.argsort(keys, kind="stable")
        keys, current, diff, _ = self._counters.deltas(keys, counters)
        names = names[order]
        rows = defaultdict(list)
        live = {}
        served = keys.view(RESPONSE_KEY)
        moved = np.flatnonzero(diff[:, 0] > 0)
        p50, p99 = ((quantiles_us(diff[moved, 3:], q).tolist() for q in (0.5, 0.99))   # every row at once
                    if len(moved) else ([], []))
        for j, i in enumerate(moved.tolist()):
            n, d_hist = int(diff[i, 0]), diff[i, 3:]
            pid, port = int(served["tgid"][i]), int(served["port"][i])
            comm = names[i].tobytes().split(b"\0", 1)[0].decode("utf-8", "replace")
            rows["ts"].append(now)
            rows["interval_ms"].append(interval_ms)
            rows["pid"].append(pid)
            rows["comm"].append(comm)
            rows["port"].append(port)
            rows["requests"].append(n)
            rows["latency_sum_us"].append(int(diff[i, 1]) // 1000)
            rows["latency_hist"].append(d_hist.tolist())
            rows["p50_us"].append(p50[j])
            rows["p99_us"].append(p99[j])
            live[f"{comm}:{port}"] = {"requests": n, "p50_us": rows["p50_us"][-1], "p99_us": rows["p99_us"][-1]}
            self._totals["requests"] += n
        gone = np.zeros(len(keys), bool)
        if self._scan.due(len(keys)):
            gone = self._scan.settled(served["tgid"], live_tgids())
            delete_keys(self.bpf[b"response_stats"], keys[gone])
            self._scan.kept(len(keys) - int(gone.sum()))
        self._counters.remember(keys[~gone], current[~gone])
        self._live = live
        self._totals["lost"] = self.bpf[b"response_lost"][0].value
        return {"response_time": dict(rows)} if rows else {}

    def totals(self) -> dict[str, int]:
        return dict(self._totals)

    def live(self) -> dict:
        return self._live
