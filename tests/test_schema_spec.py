"""The column spec (pyperf.schema) against the real ClickHouse engine (chDB):
the schema the migrations build is what the spec declares, both ways, every
generated file is current, and a change of the spec becomes a migration that
builds it (a new column on a rolled-up table reaches its rollups and
series())."""

import dataclasses
import datetime as dt
import json
import re
import shutil

import pytest

from pyperf.schema import (AS_STORED, COUNTER, GAUGE, HISTOGRAM, KEY, PER_SECOND, QUANTILE, STORED, Column, Table,
                           catalog, generate, shown_unit)
from pyperf.store import migrations, rollups, schema_check
from pyperf.store.dsn import parse_dsn
from pyperf.store.store import Store


def _schema(store) -> dict:
    return {t: s for t, s in store.describe().items() if s["engine"] != "View"}


def test_the_schema_the_migrations_build_is_the_spec_both_ways():
    want = generate.expected_tables()
    with generate.scratch_store() as store:
        have = _schema(store)
        keys = {r[0]: r[1:] for r in store.query(
            "SELECT name, engine, sorting_key, partition_key, create_table_query FROM system.tables "
            "WHERE database = currentDatabase()").rows}
    assert sorted(have) == sorted(want)
    for name in want:
        assert have[name] == want[name], name           # types, defaults, codecs, in column order
    for t in catalog.tables():
        engine, sorting_key, partition_key, create = keys[t.name]
        assert (engine, sorting_key, partition_key) == (t.engine, ", ".join(t.order_by), t.partition_by), t.name
        ttl = re.search(r"TTL toDateTime\(ts\) \+ toIntervalDay\((\d+)\)", create)
        assert (int(ttl.group(1)) if ttl else None) == t.retention_days, t.name
        assert ("non_replicated_deduplication_window = 1000" in create) == t.dedup, t.name


def test_every_column_says_what_it_is():
    for t in catalog.tables():
        assert t.doc, t.name
        for c in t.columns:
            assert c.doc, f"{t.name}.{c.name} has no meaning"


def test_generated_files_are_current():
    for path, text in generate.generated_files().items():
        assert path.read_text() == text, f"{path.name} is stale: python -m pyperf.schema.generate"


def _with_changes(tables):
    """The spec with a counter added to a rolled-up table, a gauge to a raw-only one
    (whose other two columns change and lose their codec) and a new rolled-up table."""
    out = []
    for t in tables:
        if t.name == "disk_io":
            t = dataclasses.replace(t, columns=(*t.columns[:7], Column(
                "merged_ios", "UInt64", COUNTER, "count", "requests merged", codec="T64, ZSTD(1)"), *t.columns[7:]))
        elif t.name == "disk_queue":
            avg, most = t.columns[-2:]
            t = dataclasses.replace(t, columns=(
                *t.columns[:-2], dataclasses.replace(avg, codec="ZSTD(3)"), dataclasses.replace(most, codec=""),
                Column("queue_depth_p99", "Float32", GAUGE, "", "queue depth p99", default="DEFAULT 0")))
        out.append(t)
    out.append(Table("gpu_usage", "Per interval and GPU.", order_by=("host", "gpu", "ts"), rollup=STORED, columns=(
        Column("ts", "DateTime64(3, 'UTC')", KEY, "time", "end of the interval"),
        Column("host", "LowCardinality(String)", KEY, "", "host"),
        Column("interval_ms", "UInt32", COUNTER, "ms", "length of the interval"),
        Column("gpu", "UInt8", KEY, "", "GPU index"),
        Column("busy_pct", "Float32", GAUGE, "%", "busy", codec="Gorilla(4), ZSTD(1)"),
        Column("kernels", "UInt64", COUNTER, "count", "kernels launched"))))
    return tuple(out)


@pytest.fixture
def changed_spec(monkeypatch):
    changed = _with_changes(catalog.tables())
    monkeypatch.setattr(catalog, "tables", lambda: changed)
    rollups.stored.cache_clear()
    rollups.raw_only.cache_clear()
    yield changed
    rollups.stored.cache_clear()
    rollups.raw_only.cache_clear()


def test_a_change_of_the_spec_becomes_a_migration_that_builds_it(tmp_path, changed_spec):
    folder = tmp_path / "sql"
    folder.mkdir()
    for m in migrations.available():
        shutil.copy(m.path, folder)
    shutil.copy(schema_check.snapshot_path(), folder)
    path = generate.write_migration("gpu_and_merges", folder)
    assert path.name == f"{migrations.available()[-1].version + 1:04d}_gpu_and_merges.sql"
    sql = path.read_text()
    assert "ALTER TABLE disk_io ADD COLUMN IF NOT EXISTS `merged_ios` UInt64 CODEC(T64, ZSTD(1)) AFTER `bytes`" in sql
    assert "ALTER TABLE disk_io_1m ADD COLUMN IF NOT EXISTS `merged_ios` SimpleAggregateFunction(sum, UInt64)" in sql
    assert "`queue_depth_p99` Float32 DEFAULT 0" in sql
    assert "ALTER TABLE disk_queue MODIFY COLUMN `queue_depth_avg` Float32 CODEC(ZSTD(3));" in sql
    assert "ALTER TABLE disk_queue MODIFY COLUMN `queue_depth_max` REMOVE CODEC;" in sql

    store = Store(parse_dsn(f"chdb://{tmp_path}/store"), host_name="h").open(migrate=False)
    try:
        with store.connection() as client:
            migrations.apply_pending(client, folder)
        assert _schema(store) == generate.expected_tables()      # the new spec, both ways
        assert generate.migration_sql(generate.expected_tables(), _schema(store)) == ""     # nothing left
        # the new column is rolled up and read like every other
        # on a 2-minute boundary: the series below is one 120 s bucket
        start = dt.datetime.fromtimestamp(int(dt.datetime.now().timestamp()) // 120 * 120 - 600, dt.timezone.utc)
        store.insert("disk_io", {"ts": [start.timestamp() + i for i in range(120)], "interval_ms": [1000] * 120,
                                 "device": ["vda"] * 120, "op": ["read"] * 120, "ios": [2] * 120,
                                 "bytes": [8192] * 120, "merged_ios": [3] * 120, "latency_sum_us": [10] * 120,
                                 "latency_hist": [[0] * 32] * 120})
        store.insert("gpu_usage", {"ts": [start.timestamp() + i for i in range(60)], "interval_ms": [1000] * 60,
                                   "gpu": [0] * 60, "busy_pct": [50.0] * 60, "kernels": [7] * 60})
        rollups.roll_up(store, start + dt.timedelta(minutes=3))
        end = start + dt.timedelta(minutes=2)
        for source in ("raw", "1m"):
            s = rollups.series(store, "disk_io", start, end, step_s=120, source=source)
            assert [dict(zip(s.columns, r))["merged_ios"] for r in s.rows] == [360], source
            g = rollups.series(store, "gpu_usage", start, end, step_s=120, source=source)
            assert [(dict(zip(g.columns, r))["kernels"], dict(zip(g.columns, r))["busy_pct_avg"])
                    for r in g.rows] == [(420, 50.0)], source
    finally:
        store.close()


def test_dropping_or_retyping_a_column_needs_a_migration_by_hand(monkeypatch):
    have = json.loads(schema_check.snapshot_path().read_text())
    spec = catalog.tables()
    dropped = tuple(dataclasses.replace(t, columns=t.columns[:-1]) if t.name == "disk_queue" else t for t in spec)
    monkeypatch.setattr(catalog, "tables", lambda: dropped)
    with pytest.raises(generate.SpecError, match="disk_queue.queue_depth_max is in the schema but not in the spec"):
        generate.migration_sql(generate.expected_tables(), have)
    retyped = tuple(dataclasses.replace(t, columns=(*t.columns[:-1], dataclasses.replace(t.columns[-1], type="UInt64")))
                    if t.name == "disk_queue" else t for t in spec)
    monkeypatch.setattr(catalog, "tables", lambda: retyped)
    with pytest.raises(generate.SpecError, match="a type change"):
        generate.migration_sql(generate.expected_tables(), have)
    with pytest.raises(generate.SpecError, match="lower-case"):
        generate.write_migration("Bad Name")


def test_a_charts_unit_follows_from_the_column_and_how_it_is_shown():
    """Charts take their units from the spec: a counter of bytes per second is
    B/s, a count per second /s, a histogram's quantile its slots' unit; showing
    a column in a way it has no unit for is a programming error, not a label."""
    def column(kind, unit):
        return Column("x", "UInt64", kind, unit)
    assert shown_unit(column(COUNTER, "bytes"), PER_SECOND) == "B/s"
    assert shown_unit(column(COUNTER, "count"), PER_SECOND) == "/s"
    assert shown_unit(column(COUNTER, "pages"), PER_SECOND) == "pages/s"
    assert shown_unit(column(GAUGE, "bytes"), AS_STORED) == "B"
    assert shown_unit(column(GAUGE, "%"), AS_STORED) == "%"
    assert shown_unit(column(HISTOGRAM, "count per log2 µs slot"), QUANTILE) == "µs"
    for kind, unit, how in ((GAUGE, "bytes", PER_SECOND), (COUNTER, "bytes", AS_STORED), (GAUGE, "µs", QUANTILE),
                            (HISTOGRAM, "", QUANTILE)):
        with pytest.raises(ValueError):
            shown_unit(column(kind, unit), how)
    for table in catalog.tables():           # every histogram stored can be shown as a quantile
        for c in table.columns:
            if c.kind == HISTOGRAM and c.unit:
                assert shown_unit(c, QUANTILE) == "µs", (table.name, c.name)
