"""The agent's own counters, stored next to the data they qualify: what each
probe lost in the kernel (full ring buffers and maps), what happened to each
table's rows (inserted, spooled, replayed, dropped by a full spool, rejected,
dropped from a full buffer), drain errors and containers left unattributed.
Cumulative since the agent started (`started` tells runs apart), so a loss
shows as a step between two rows."""

from __future__ import annotations

from collections import defaultdict

from pyperf.probes.base import Batch
from pyperf.schema import AGENT_HOST, EVENT, KEY, Column, Table

TABLES = (
    Table("agent_counters",
          "The agent's own counters every flush interval, cumulative since it started: probe totals (`lost`: "
          "events the kernel side could not hand over — full ring buffer or map), rows per table by outcome, "
          "drain errors. Loss over a window: max(value) - min(value) per (host, started, source, name, "
          "counter).",
          order_by=("host", "source", "name", "counter", "ts"), retention_days=30, columns=(
        Column("ts", "DateTime64(3, 'UTC')", KEY, "time", "when counted (UTC)", codec="DoubleDelta, ZSTD(1)"),
        AGENT_HOST,
        Column("started", "DateTime64(3, 'UTC')", EVENT, "time", "when this agent run started (tells runs apart)"),
        Column("source", "LowCardinality(String)", KEY, "", "probe name, `store` (rows by table) or `agent`"),
        Column("name", "LowCardinality(String)", KEY, "", "table name for `store` counters, else empty"),
        Column("counter", "LowCardinality(String)", KEY, "",
               "probe totals (lost, ios, samples, ...; missed_runs: kernel runs of the probe's programs skipped "
               "because one was already running on that CPU); store outcomes: inserted, spooled, replayed, "
               "spool_dropped, spool_pending, failed, dropped, sampled_out (thinned by the governor); agent: "
               "drain_errors, intervals, unattributed_container_keys, cost_pct, process_pct, bpf_pct, "
               "budget_pct (% of host CPUs), governor_level (steps in force)"),
        Column("value", "Float64", EVENT, "",
               "the counter's value (rows, events, count)", codec="Gorilla(8), ZSTD(1)"),
      )),
)

STORE_OUTCOMES = ("inserted", "spooled", "replayed", "spool_dropped", "failed", "dropped")


def counters_batch(collector, now: float) -> Batch:
    rows = defaultdict(list)

    def add(source: str, name: str, counter: str, value) -> None:
        rows["ts"].append(now)
        rows["started"].append(collector.started_at)
        rows["source"].append(source)
        rows["name"].append(name)
        rows["counter"].append(counter)
        rows["value"].append(float(value))

    for probe in collector.probes:
        for counter, value in probe.all_totals().items():
            add(probe.name, "", counter, value)
    stats_of = getattr(collector.writer, "stats", None)
    if stats_of is not None:
        stats = stats_of()
        for outcome in STORE_OUTCOMES:
            for table, n in stats.get(outcome, {}).items():
                add("store", table, outcome, n)
        pending = stats.get("spool_pending_rows", {})
        for table in set(pending) | set(stats.get("spooled", {})):   # 0 once replayed
            add("store", table, "spool_pending", pending.get(table, 0))
    add("agent", "", "intervals", collector.intervals)
    for probe, n in collector.drain_errors.items():
        add("agent", probe, "drain_errors", n)
    if collector.enricher is not None:
        add("agent", "", "unattributed_container_keys", collector.enricher.unresolved)
    governor = collector.governor
    if governor is not None and governor.periods:
        for counter in ("cost_pct", "process_pct", "bpf_pct", "budget_pct"):
            add("agent", "", counter, getattr(governor, counter))
        add("agent", "", "governor_level", len(governor.steps))
        for table, n in governor.sampled_out.items():
            add("store", table, "sampled_out", n)
    return {"agent_counters": dict(rows)}
