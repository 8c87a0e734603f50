"""TCP: retransmitted segments, SYN-ACK retransmits, resets, connection opens,
closes, failed connects and lifetimes (in-kernel, bpf/tcp.bpf.c); each
retransmit and reset as an event row; smoothed RTT of established connections
from socket diagnostics (netlink, pyroute2) and packet loss as retransmitted /
sent segments from /proc/net/snmp, both read once per interval in the host's
network namespace."""

from __future__ import annotations

import ctypes
import ipaddress
import socket
import threading
from collections import defaultdict

import numpy as np

from pyperf.analysis.histogram import HIST_SLOTS, quantile_us
from pyperf.probes.base import Batch, monotonic_to_epoch_offset
from pyperf.probes.bpf_probe import BPFProbe
from pyperf.probes.process_table import ProcessTable, sum_percpu
from pyperf.system.procfs import ProcFS, parse_snmp
from pyperf.schema import (AGENT_HOST, COUNTER, EVENT, GAUGE, INTERVAL_END, INTERVAL_MS, KEY, STORED, Column, Table,
                           log2_histogram)

BTF_OFFSETS = {
    "OFF_SKB_CB": ("sk_buff", "cb"),
    "OFF_TCP_CB_GSO_SEGS": ("tcp_skb_cb", "tcp_gso_segs"),
    "OFF_SKB_HEAD": ("sk_buff", "head"),
    "OFF_SKB_DATA": ("sk_buff", "data"),
    "OFF_SKB_NETWORK_HEADER": ("sk_buff", "network_header"),
    "OFF_SK_NET": ("sock", "__sk_common.skc_net"),
    "OFF_NET_NS_INUM": ("net", "ns.inum"),
    "OFF_SK_PROTOCOL": ("sock", "sk_protocol"),
    "OFF_INET_SPORT": ("inet_sock", "inet_sport"),
    "OFF_SKC_FAMILY": ("sock_common", "skc_family"),
    "OFF_SKC_STATE": ("sock_common", "skc_state"),
    "OFF_SKC_NUM": ("sock_common", "skc_num"),
    "OFF_SKC_DPORT": ("sock_common", "skc_dport"),
    "OFF_SKC_RCV_SADDR": ("sock_common", "skc_rcv_saddr"),
    "OFF_SKC_DADDR": ("sock_common", "skc_daddr"),
    "OFF_SKC_V6_RCV_SADDR": ("sock_common", "skc_v6_rcv_saddr"),
    "OFF_SKC_V6_DADDR": ("sock_common", "skc_v6_daddr"),
}
EVENT_KINDS = ("retransmit", "synack_retransmit", "reset_sent", "reset_received")
TCP_STATES = {1: "ESTABLISHED", 2: "SYN_SENT", 3: "SYN_RECV", 4: "FIN_WAIT1", 5: "FIN_WAIT2",
              6: "TIME_WAIT", 7: "CLOSE", 8: "CLOSE_WAIT", 9: "LAST_ACK", 10: "LISTEN",
              11: "CLOSING", 12: "NEW_SYN_RECV"}
HOST_COUNTERS = ("retransmit_segments", "retransmits", "retransmits_failed", "synack_retransmits",
                 "resets_sent", "resets_received", "active_opens", "passive_opens",
                 "failed_connects", "closes", "lifetime_sum_ns")
MAX_RTT_ROWS = 200   # per sample: the connections with the highest RTT
RTT_EVERY = 5        # intervals between RTT samples: a socket-diagnostics dump costs milliseconds
PROCESS_COUNTERS = ("active_opens", "failed_connects", "closes", "retransmit_segments", "lifetime_sum_ns")


class TcpEvent(ctypes.Structure):
    """struct tcp_event in bpf/tcp.h."""

    _fields_ = [
        ("ts_ns", ctypes.c_uint64), ("pid", ctypes.c_uint32), ("segs", ctypes.c_uint32),
        ("kind", ctypes.c_uint16), ("family", ctypes.c_uint16), ("sport", ctypes.c_uint16),
        ("dport", ctypes.c_uint16), ("state", ctypes.c_int32), ("err", ctypes.c_int32),
        ("saddr", ctypes.c_uint8 * 16), ("daddr", ctypes.c_uint8 * 16), ("comm", ctypes.c_char * 16),
        ("net_ns", ctypes.c_uint64),
    ]


class TcpCounters(ctypes.Structure):
    """struct tcp_counters in bpf/tcp.h."""

    _fields_ = [(name, ctypes.c_uint64) for name in HOST_COUNTERS] + [
        ("lifetime_hist", ctypes.c_uint64 * HIST_SLOTS)]


class TcpProcess(ctypes.Structure):
    """struct tcp_process in bpf/tcp.h."""

    _fields_ = [(name, ctypes.c_uint64) for name in PROCESS_COUNTERS] + [
        ("comm", ctypes.c_char * 16), ("lifetime_hist", ctypes.c_uint64 * HIST_SLOTS)]


_COMMON = {
    "ts": ("time", "end of the interval (UTC)"),
    "host": ("", "host name of the collecting agent"),
    "interval_ms": ("ms", "length of the interval"),
}
TABLES = (
    Table("tcp_host",
          "Per interval, host-wide TCP (all network namespaces for the in-kernel counters; RTT and OutSegs from "
          "the host's namespace).",
          order_by=("host", "ts"), metrics=True, rollup=STORED, columns=(
        INTERVAL_END,
        AGENT_HOST,
        INTERVAL_MS,
        Column("retransmit_segments", "UInt64", COUNTER, "segments",
               "segments retransmitted (as /proc/net/snmp RetransSegs), SYN-ACK retransmits included", codec="T64, ZSTD(1)"),
        Column("retransmits", "UInt64", COUNTER, "count", "retransmitted skbs", codec="T64, ZSTD(1)"),
        Column("retransmits_failed", "UInt64", COUNTER, "count",
               "retransmit attempts that failed to send", codec="T64, ZSTD(1)"),
        Column("synack_retransmits", "UInt64", COUNTER, "segments", "SYN-ACK retransmits", codec="T64, ZSTD(1)"),
        Column("resets_sent", "UInt64", COUNTER, "segments", "RST segments sent", codec="T64, ZSTD(1)"),
        Column("resets_received", "UInt64", COUNTER, "segments", "RST segments received", codec="T64, ZSTD(1)"),
        Column("active_opens", "UInt64", COUNTER, "count",
               "connections established by connect()", codec="T64, ZSTD(1)"),
        Column("passive_opens", "UInt64", COUNTER, "count",
               "connections established by accepting", codec="T64, ZSTD(1)"),
        Column("failed_connects", "UInt64", COUNTER, "count",
               "connect() attempts that ended before ESTABLISHED", codec="T64, ZSTD(1)"),
        Column("closes", "UInt64", COUNTER, "count", "established connections that closed", codec="T64, ZSTD(1)"),
        Column("lifetime_sum_us", "UInt64", COUNTER, "µs",
               "summed lifetime of the connections that closed", codec="T64, ZSTD(1)"),
        log2_histogram("lifetime_hist", "connection lifetime histogram"),
        Column("out_segments", "UInt64", COUNTER, "segments",
               "segments sent (/proc/net/snmp OutSegs, host namespace)", codec="T64, ZSTD(1)"),
        Column("loss_ratio", "Float32", GAUGE, "ratio",
               "retransmitted / sent segments in the host namespace (NaN when none sent)", codec="Gorilla(4), ZSTD(1)", rollup=False),
        Column("established", "UInt32", GAUGE, "connections",
               "established connections (/proc/net/snmp CurrEstab, host namespace)", codec="T64, ZSTD(1)"),
        Column("rtt_p50_us", "Float32", GAUGE, "µs",
               "median smoothed RTT of established connections; sampled every 5th interval, NaN in between", codec="Gorilla(4), ZSTD(1)", rollup=False),
        Column("rtt_p99_us", "Float32", GAUGE, "µs",
               "99th percentile smoothed RTT (same sampling)", codec="Gorilla(4), ZSTD(1)", rollup=False),
        log2_histogram("rtt_hist", "smoothed RTT histogram (same sampling; empty in between)"),
      )),
    Table("tcp_process",
          "Per interval and process that opened connections with connect().",
          order_by=("host", "pid", "ts"), columns=(
        INTERVAL_END,
        AGENT_HOST,
        INTERVAL_MS,
        Column("pid", "UInt32", KEY, "", "process id (thread group id)"),
        Column("comm", "LowCardinality(String)", KEY, "", "command name"),
        Column("active_opens", "UInt64", COUNTER, "count", "connections it established", codec="T64, ZSTD(1)"),
        Column("failed_connects", "UInt64", COUNTER, "count", "connects that failed", codec="T64, ZSTD(1)"),
        Column("closes", "UInt64", COUNTER, "count", "of its connections, those that closed", codec="T64, ZSTD(1)"),
        Column("retransmit_segments", "UInt64", COUNTER, "segments",
               "segments retransmitted on its connections", codec="T64, ZSTD(1)"),
        Column("lifetime_sum_us", "UInt64", COUNTER, "µs",
               "summed lifetime of its connections that closed", codec="T64, ZSTD(1)"),
        log2_histogram("lifetime_hist", "lifetime histogram"),
      )),
    Table("tcp_connection_rtt",
          "Every 5th interval, the established connections with the highest smoothed RTT (at most 200), from "
          "socket diagnostics in the host's network namespace.",
          order_by=("host", "ts"), columns=(
        INTERVAL_END,
        AGENT_HOST,
        Column("saddr", "IPv6", EVENT, "", "local address (IPv4 as ::ffff:a.b.c.d)"),
        Column("sport", "UInt16", EVENT, "", "local port"),
        Column("daddr", "IPv6", EVENT, "", "remote address"),
        Column("dport", "UInt16", EVENT, "", "remote port"),
        Column("rtt_us", "UInt32", EVENT, "µs", "smoothed round-trip time (tcpi_rtt)", codec="T64, ZSTD(1)"),
        Column("rttvar_us", "UInt32", EVENT, "µs", "round-trip time variation (tcpi_rttvar)", codec="T64, ZSTD(1)"),
        Column("total_retrans", "UInt32", EVENT, "segments",
               "retransmits over the connection's life (tcpi_total_retrans)", codec="T64, ZSTD(1)"),
      )),
    Table("tcp_event",
          "One row per retransmit, SYN-ACK retransmit or reset.",
          order_by=("host", "ts"), retention_days=30, columns=(
        Column("ts", "DateTime64(6, 'UTC')", KEY, "time", "when it happened (UTC, µs)", codec="Delta(8), ZSTD(1)"),
        AGENT_HOST,
        Column("kind", "LowCardinality(String)", EVENT, "",
               "retransmit, synack_retransmit, reset_sent or reset_received"),
        Column("pid", "UInt32", EVENT, "",
               "process that opened the connection (0 when unknown, e.g. accepted connections)"),
        Column("comm", "LowCardinality(String)", EVENT, "", "its command name"),
        Column("saddr", "IPv6", EVENT, "", "local address (IPv4 as ::ffff:a.b.c.d)"),
        Column("sport", "UInt16", EVENT, "", "local port"),
        Column("daddr", "IPv6", EVENT, "", "remote address"),
        Column("dport", "UInt16", EVENT, "", "remote port"),
        Column("state", "LowCardinality(String)", EVENT, "", "TCP state of the socket"),
        Column("segs", "UInt32", EVENT, "segments", "segments retransmitted (retransmits only)"),
        Column("err", "Int32", EVENT, "", "retransmit result: 0 sent, else the negative errno"),
        Column("net_ns", "UInt64", EVENT, "",
               "the socket's network namespace inode (container key: `LEFT JOIN container_by_netns USING (host, "
               "net_ns)`, no match: the host network; 0 when unknown)", codec="T64, ZSTD(1)"),
      )),
)


def _address(family: int, raw) -> ipaddress.IPv6Address:
    data = bytes(raw)
    if family == socket.AF_INET6:
        return ipaddress.IPv6Address(data)
    return ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + data[:4])


def established_connections(diag) -> list[dict]:
    """Every established TCP connection in this network namespace with its smoothed
    RTT, RTT variance (µs) and retransmits, from socket diagnostics (a bound
    pyroute2 DiagSocket)."""
    found = []
    for family in (socket.AF_INET, socket.AF_INET6):
        for sock in diag.get_sock_stats(family=family, states=1 << 1, extensions=1 << 1):
            info = sock.get_attr("INET_DIAG_INFO")
            if info is None or not info.get("tcpi_rtt"):
                continue
            found.append({
                "saddr": ipaddress.ip_address(sock.get("idiag_src")),
                "sport": int(sock.get("idiag_sport")),
                "daddr": ipaddress.ip_address(sock.get("idiag_dst")),
                "dport": int(sock.get("idiag_dport")),
                "rtt_us": int(info.get("tcpi_rtt")),
                "rttvar_us": int(info.get("tcpi_rttvar") or 0),
                "total_retrans": int(info.get("tcpi_total_retrans") or 0),
            })
    return found


def as_ipv6(address) -> ipaddress.IPv6Address:
    if address.version == 6:
        return address
    return ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + address.packed)


class TcpProbe(BPFProbe):
    name = "tcp"
    event_tables = ("tcp_event",)
    process_tables = ("tcp_process",)
    description = "TCP retransmits, resets, connections and lifetimes; RTT and loss"
    schema = TABLES
    btf_offsets = BTF_OFFSETS

    def __init__(self, options=None):
        super().__init__(options)
        self.proc = ProcFS()
        self._events: list[TcpEvent] = []
        self._events_lock = threading.Lock()
        self._prev_host: dict | None = None
        self.processes: ProcessTable | None = None
        self._prev_snmp: dict[str, int] = {}
        self._diag = None
        self._drains = 0
        self._totals = {"retransmit_segments": 0, "resets_sent": 0, "resets_received": 0,
                        "connections_opened": 0, "lost": 0}

    def chosen_path(self) -> str:
        return "raw tracepoints tcp_retransmit_skb/synack, tcp_send/receive_reset, inet_sock_set_state; sock_diag"

    def attach(self) -> None:
        self.load()
        self.bpf[b"tcp_events"].open_ring_buffer(self._on_event)
        from pyroute2 import DiagSocket

        self._diag = DiagSocket()
        self._diag.bind()
        self._prev_host = self._read_host()
        self.processes = ProcessTable(self.bpf[b"tcp_processes"], TcpProcess)
        self.processes.baseline()
        self._prev_snmp = self._snmp()

    def detach(self) -> None:
        self.proc.close()
        if self._diag is not None:
            self._diag.close()
            self._diag = None
        super().detach()

    def _on_event(self, _ctx, data, _size) -> None:
        event = TcpEvent.from_buffer_copy(ctypes.string_at(data, ctypes.sizeof(TcpEvent)))
        with self._events_lock:
            self._events.append(event)

    def _read_host(self) -> dict:
        return sum_percpu(self.bpf[b"tcp_totals"][0], TcpCounters)

    def _snmp(self) -> dict[str, int]:
        return parse_snmp(self.proc.read_optional("net/snmp")).get("Tcp", {})

    def drain(self, now: float) -> Batch:
        if self.bpf is None:
            return {}
        self.bpf.ring_buffer_consume()
        interval_ms = round(self.interval_s() * 1000)
        batch: Batch = {}

        host, prev = self._read_host(), self._prev_host
        self._prev_host = host
        d = {k: host[k] - prev[k] for k in HOST_COUNTERS}
        snmp, prev_snmp = self._snmp(), self._prev_snmp
        self._prev_snmp = snmp
        out_segs = snmp.get("OutSegs", 0) - prev_snmp.get("OutSegs", 0)
        retrans_snmp = snmp.get("RetransSegs", 0) - prev_snmp.get("RetransSegs", 0)
        self._drains += 1
        sample_rtt = self._drains % RTT_EVERY == 1 or RTT_EVERY == 1
        # a socket-diagnostics dump walks the kernel's socket hash: not when there is nothing to find
        connections = established_connections(self._diag) if sample_rtt and snmp.get("CurrEstab", 0) else []
        rtt_hist = np.zeros(HIST_SLOTS, np.int64)
        for c in connections:
            rtt = c["rtt_us"]
            rtt_hist[min(HIST_SLOTS - 1, 0 if rtt < 2 else int(rtt).bit_length() - 1)] += 1
        no_rtt = float("nan")
        row = {"ts": now, "interval_ms": interval_ms,
               **{k: d[k] for k in HOST_COUNTERS if k != "lifetime_sum_ns"},
               "retransmit_segments": d["retransmit_segments"] + d["synack_retransmits"],
               "lifetime_sum_us": d["lifetime_sum_ns"] // 1000,
               "lifetime_hist": (host["lifetime_hist"] - prev["lifetime_hist"]).tolist(),
               "out_segments": out_segs,
               "loss_ratio": retrans_snmp / out_segs if out_segs > 0 else float("nan"),
               "established": snmp.get("CurrEstab", 0),
               "rtt_p50_us": quantile_us(rtt_hist, 0.5) if sample_rtt else no_rtt,
               "rtt_p99_us": quantile_us(rtt_hist, 0.99) if sample_rtt else no_rtt,
               "rtt_hist": rtt_hist.tolist() if sample_rtt else []}
        batch["tcp_host"] = {k: [v] for k, v in row.items()}
        self._totals["retransmit_segments"] += row["retransmit_segments"]
        self._totals["resets_sent"] += d["resets_sent"]
        self._totals["resets_received"] += d["resets_received"]
        self._totals["connections_opened"] += d["active_opens"] + d["passive_opens"]

        process_ms = self.process_interval_ms()
        moved = self.processes.deltas() if process_ms is not None else ()
        if len(moved):
            diff = moved.diff
            rows = moved.columns(now, process_ms)
            for k in ("active_opens", "failed_connects", "closes", "retransmit_segments"):
                rows[k] = diff[k]
            rows["lifetime_sum_us"] = diff["lifetime_sum_ns"] // 1000
            rows["lifetime_hist"] = diff["lifetime_hist"]
            batch["tcp_process"] = rows
        slowest = sorted(connections, key=lambda c: c["rtt_us"], reverse=True)[:MAX_RTT_ROWS]
        if slowest:
            batch["tcp_connection_rtt"] = {
                "ts": [now] * len(slowest),
                **{k: [as_ipv6(c[k]) if k.endswith("addr") else c[k] for c in slowest]
                   for k in ("saddr", "sport", "daddr", "dport", "rtt_us", "rttvar_us", "total_retrans")},
            }

        with self._events_lock:
            events, self._events = self._events, []
        if events:
            offset = monotonic_to_epoch_offset()
            ev = defaultdict(list)
            for e in events:
                ev["ts"].append(e.ts_ns / 1e9 + offset)
                ev["kind"].append(EVENT_KINDS[e.kind] if e.kind < len(EVENT_KINDS) else "unknown")
                ev["pid"].append(e.pid)
                ev["comm"].append(e.comm.decode("utf-8", "replace"))
                ev["saddr"].append(_address(e.family, e.saddr))
                ev["sport"].append(e.sport)
                ev["daddr"].append(_address(e.family, e.daddr))
                ev["dport"].append(e.dport)
                ev["state"].append(TCP_STATES.get(e.state, str(e.state)))
                ev["segs"].append(e.segs)
                ev["err"].append(e.err)
                ev["net_ns"].append(e.net_ns)
            batch["tcp_event"] = dict(ev)
        self._totals["lost"] = sum(v.value for v in self.bpf[b"tcp_lost"].values())
        return batch

    def totals(self) -> dict[str, int]:
        return dict(self._totals)
