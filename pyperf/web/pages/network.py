"""Network: TCP retransmits, resets, connections and RTT over time; the peers,
ports and processes they involve."""

from __future__ import annotations

from pyperf.web import network_queries


def charts(store, time_range, host, window) -> dict:
    return network_queries.tcp_charts(store, time_range, host, window)


def tables(store, time_range, host, window) -> dict:
    return {"peers": network_queries.peers(store, time_range, host),
            "failing": network_queries.failing_processes(store, time_range, host)}
