"""The Network page's data: TCP retransmits, resets, connections and RTT over
time (tcp_host), and who they were with (tcp_event, tcp_process)."""

from __future__ import annotations

import ipaddress

from pyperf.store import rollups
from pyperf.web import chart_data
from pyperf.web.timerange import TimeRange

PEERS = """
SELECT e.kind, e.daddr, e.dport, e.comm, c.name, c.id, count() AS events, sum(e.segs) AS segments
FROM tcp_event AS e
LEFT JOIN container_by_netns AS c ON c.host = e.host AND c.net_ns = e.net_ns
WHERE e.host = {host:String} AND e.ts >= {start:DateTime64(3)} AND e.ts < {end:DateTime64(3)}
  AND (empty({net_ns:Array(UInt64)}) OR has({net_ns:Array(UInt64)}, e.net_ns))
GROUP BY e.kind, e.daddr, e.dport, e.comm, c.name, c.id
ORDER BY events DESC, e.kind, e.dport
LIMIT {limit:UInt32}
"""

FAILED = """
SELECT pid, comm, sum(failed_connects) AS failed, sum(active_opens) AS opened, sum(retransmit_segments) AS retransmits
FROM tcp_process
WHERE host = {host:String} AND ts >= {start:DateTime64(3)} AND ts < {end:DateTime64(3)}
GROUP BY pid, comm
HAVING failed > 0 OR retransmits > 0
ORDER BY failed DESC, retransmits DESC
LIMIT {limit:UInt32}
"""


def tcp_charts(store, tr: TimeRange, host=None, window=None) -> dict:
    s = rollups.series(store, "tcp_host", tr.start, tr.end, host=host, window=window)
    per_s = lambda column: chart_data.rate("tcp_host", column, s.step_s)        # noqa: E731
    return {
        "retransmits": chart_data.lines(s, {"segments retransmitted": per_s("retransmit_segments"),
                                            "SYN-ACK retransmits": per_s("synack_retransmits")}),
        "resets": chart_data.lines(s, {"sent": per_s("resets_sent"), "received": per_s("resets_received")}),
        "connections": chart_data.lines(s, {"opened (active)": per_s("active_opens"),
                                            "accepted (passive)": per_s("passive_opens"),
                                            "failed": per_s("failed_connects")}),
        "established": chart_data.lines(s, {"established": chart_data.average("tcp_host", "established")}),
        "rtt": chart_data.heatmap(s, "tcp_host", "rtt_hist"),
    }


def address(value) -> str:
    """An address as people write it: IPv4-mapped IPv6 addresses as IPv4."""
    try:
        parsed = ipaddress.ip_address(value)
    except ValueError:
        return str(value)
    mapped = getattr(parsed, "ipv4_mapped", None)
    return str(mapped or parsed)


def _params(store, tr: TimeRange, host, limit: int) -> dict:
    return {"host": host or store.host_name, "start": tr.start, "end": tr.end, "limit": limit}


def peers(store, tr: TimeRange, host=None, limit: int = 20, net_ns: list[int] | None = None) -> list[dict]:
    """Retransmits and resets by peer, port, command and container (by network
    namespace; none for the host's own), most first; of these namespaces if given."""
    rows = store.query(PEERS, {**_params(store, tr, host, limit), "net_ns": list(net_ns or [])}).rows
    return [{"kind": kind, "peer": address(daddr), "port": dport, "comm": comm, "container": name,
             "container_id": cid, "events": events, "segments": segments}
            for kind, daddr, dport, comm, name, cid, events, segments in rows]


def failing_processes(store, tr: TimeRange, host=None, limit: int = 20) -> list[dict]:
    """Processes with failed connections or retransmits, most failures first."""
    rows = store.query(FAILED, _params(store, tr, host, limit)).rows
    return [{"pid": pid, "comm": comm, "failed": failed, "opened": opened, "retransmits": retransmits}
            for pid, comm, failed, opened, retransmits in rows]
