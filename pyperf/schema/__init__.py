"""The column spec: every stored table is declared once, as a Table of Columns
(name, type, codec, kind, unit, meaning), next to the code that fills it. The
rollup definitions (pyperf.store.rollups), docs/schema.md, the expected schema
the agent heals to, the cluster DDL and the migration for a change are all
generated from it (pyperf.schema.generate); tests/test_schema_spec.py keeps the
spec and the schema the migrations build equal, both ways. /metrics families
(pyperf.pipeline.prometheus_totals) and the dashboard's chart units
(shown_unit, through pyperf.web.chart_data) are derived from it at run time.

A new column: add it to its Table, run `python -m pyperf.schema.generate
migration NAME` (writes sql/NNNN_NAME.sql and every generated file), fill it
in the code, test it."""

from __future__ import annotations

from dataclasses import dataclass

KEY, COUNTER, GAUGE, HISTOGRAM, EVENT = "key", "counter", "gauge", "histogram", "event"
KINDS = (KEY, COUNTER, GAUGE, HISTOGRAM, EVENT)

# Uncompressed bytes of a granule (the rows a read or a merge decodes at a time
# from each part) at most, 10 MiB by default: a merge holds one granule of every
# part it reads, and the granules of a per-process table's 400-byte rows are the
# 8 192-row limit, 3.2 MiB each. Ten parts of sched_process merged: +43 MiB
# with the default, +20 with 512 KiB (narrow tables keep 8 192-row granules;
# sql/0031, docs/performance.md).
GRANULE_BYTES = 512 * 1024

# rollup: the per-interval tables summed into <table>_1m and <table>_1h, and
# RAW: series() reads them at the raw level only
STORED, RAW = "stored", "raw"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    kind: str           # key: identifies a row; counter: summed; gauge: min/max/avg; histogram: summed
                        # bucket by bucket; event: a value of one event or record
    unit: str = ""
    doc: str = ""
    codec: str = ""     # what goes inside CODEC(...)
    default: str = ""   # e.g. "DEFAULT now()"
    rollup: bool = True     # in the rollups (a table with rollups: ratios and percentiles of an
                            # interval are not, they do not add up)

    def __post_init__(self):
        assert self.kind in KINDS, (self.name, self.kind)

    def ddl(self) -> str:
        return " ".join(p for p in (f"`{self.name}`", self.type, self.default,
                                    f"CODEC({self.codec})" if self.codec else "") if p)


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    order_by: tuple[str, ...]
    engine: str = "MergeTree"
    partition_by: str = "toDate(ts)"
    retention_days: int | None = 3
    dedup: bool = True          # keeps the last 1000 insert tokens: a replayed batch adds nothing
    rollup: str = ""            # STORED, RAW or ""
    metrics: bool = False       # on /metrics (pyperf.pipeline.prometheus_totals): keys that stay few
    # on /metrics, label its series with these keys only (default: every key): a key that
    # does not stay few (a server's pid: a server forking per connection makes one a
    # connection) is summed away, and gauges, one row's value, are then not exported
    metric_labels: tuple[str, ...] = ()

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def create_sql(self) -> str:
        """CREATE TABLE for a table new in a migration."""
        cols = ",\n".join(f"    {c.ddl()}" for c in self.columns)
        parts = [f"CREATE TABLE IF NOT EXISTS {self.name}\n(\n{cols}\n)", f"ENGINE = {self.engine}"]
        if self.partition_by:
            parts.append(f"PARTITION BY {self.partition_by}")
        parts.append(f"ORDER BY ({', '.join(self.order_by)})")
        if self.retention_days:
            parts.append(f"TTL toDateTime(ts) + INTERVAL {self.retention_days} DAY")
        parts.append(settings_clause(self.dedup))
        return "\n".join(parts)


def settings_clause(dedup: bool = True) -> str:
    """The SETTINGS of a table the spec creates (a raw table, or a rollup: dedup)."""
    settings = [f"index_granularity_bytes = {GRANULE_BYTES}"]
    if dedup:
        settings.append("non_replicated_deduplication_window = 1000")
    return f"SETTINGS {', '.join(settings)}"


# the columns every per-interval table starts with
AGENT_HOST = Column("host", "LowCardinality(String)", KEY, "", "host name of the collecting agent")
INTERVAL_END = Column("ts", "DateTime64(3, 'UTC')", KEY, "time", "end of the interval (UTC)", codec="DoubleDelta, ZSTD(1)")
INTERVAL_MS = Column("interval_ms", "UInt32", COUNTER, "ms", "length of the interval", codec="T64, ZSTD(1)")


def log2_histogram(name: str, doc: str) -> Column:
    """A 32-slot log2 histogram (slot i counts values in [2^i, 2^(i+1)) µs).

    T64 before ZSTD: a slot's counts use few of their 32 bits, and T64 packs them
    before ZSTD sees them. A merge writes granules of 1 024 rows (sql/
    embedded_engine.xml), so a histogram's compressed blocks are ~140 KiB instead
    of 1 MiB and ZSTD alone lost 2.6 % of sched_process's bytes; with T64 the
    histograms are 5 % smaller than with ZSTD(3) alone (the table 3 %) for 6 % more
    CPU in a merge (scripts/bench/histogram_codec.py, docs/performance.md)."""
    return Column(name, "Array(UInt32)", HISTOGRAM, "count per log2 µs slot", doc, codec="T64, ZSTD(3)")


def kinds_of(columns: tuple[Column, ...], kind: str) -> tuple[str, ...]:
    """The rolled-up columns of one kind, in table order (ts, host and interval_ms
    are every rollup's own)."""
    return tuple(c.name for c in columns
                 if c.kind == kind and c.rollup and c.name not in ("ts", "host", "interval_ms"))


# How a chart shows a stored column, and so its unit (shown_unit): a gauge as
# stored (its average over a bucket), a counter per second, a histogram's quantile.
AS_STORED, PER_SECOND, QUANTILE = "as stored", "per second", "quantile"
_SHORT_UNITS = {"bytes": "B", "count": ""}


def shown_unit(column: Column, how: str) -> str:
    """The unit of a chart drawn from `column` shown `how`: bytes per second are
    "B/s", a count per second "/s", a quantile of a log2 µs histogram "µs"."""
    if how == QUANTILE:
        if column.kind != HISTOGRAM or not column.unit.startswith("count per log2 "):
            raise ValueError(f"{column.name}: a quantile needs a log2 histogram, not a {column.kind}")
        return column.unit.removeprefix("count per log2 ").removesuffix(" slot")
    if how == PER_SECOND:
        if column.kind != COUNTER:
            raise ValueError(f"{column.name}: only a counter has a rate, not a {column.kind}")
        return f"{_SHORT_UNITS.get(column.unit, column.unit)}/s"
    if how == AS_STORED and column.kind in (GAUGE, EVENT):
        return _SHORT_UNITS.get(column.unit, column.unit)
    raise ValueError(f"{column.name}: a {column.kind} is not shown {how}")
