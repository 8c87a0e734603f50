"""Rollups: the per-interval tables summed into 1-minute and 1-hour tables by
the agent (roll_up, every few minutes, minutes from the raw rows and hours
from the minutes), and the one query helper that reads whichever level covers
a time range.

Why not materialized views (as until schema 23): every insert into a table
with a view makes one more part per view, and parts are what an embedded
store spends its CPU on — the two views per table halved ingest and doubled
the cost of each flush (docs/performance.md). Ten INSERT ... SELECTs every
five minutes cost far less. The levels lag: minutes by up to the upkeep
period plus two flushes (series() reads that tail from the raw rows), hours
by up to an hour more (read only for ranges over 14 days).

Each rolled-up table keeps, per bucket and key: `samples` (raw rows),
`interval_ms` (time covered), counters summed, gauges as min, max and sum
(avg = sum / samples) and histograms summed bucket by bucket (sumForEach
states), so percentiles over any range come out of the summed histogram
exactly as from the raw rows.

Which tables are rolled up and which columns are keys, counters, gauges and
histograms comes from the column spec (pyperf.schema: rollup=STORED and each
column's kind); the rollup tables' DDL for a new table or column is generated
from it (pyperf.schema.generate), and a test keeps spec and schema equal.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
import time
from dataclasses import dataclass, replace
from itertools import zip_longest
from typing import NamedTuple

import numpy as np

from pyperf.schema import COUNTER, GAUGE, HISTOGRAM, KEY, RAW, STORED, catalog, kinds_of

LEVELS = (("1m", "toStartOfMinute", 60, "toDate", 30), ("1h", "toStartOfHour", 3600, "toYYYYMM", 365))
DEFAULT_RETENTION_DAYS = {"raw": 3, "1m": 30, "1h": 365}
# the finest level whose resolution gives at least this many points, read when its data reaches back
MAX_RAW_SPAN_S = 6 * 3600
MAX_1M_SPAN_S = 14 * 86400
# a range's whole hours are read from the 1-hour table when its minutes would be more
# rows than this: every table a query reads costs the engine ~5 ms of planning, and
# 10 000 minute rows of a host's own table (a week of one key) are summed in less
MINUTES_READ_WHOLE = 10_000


# A rollup table sorted by its keys, then time, would read every granule of its
# partition for a range that is not whole days (the minutes before a 24 h range's
# first whole hour: 37.7 against 5.2 ms on sched_process_1m, 24 h x 200 processes).
# Its sort key starts with the hour (the day for 1-hour rows): rows of one key and
# time still collapse into one, and a range reads its own granules. (Schema 28 did
# this with a projection sorted by time; an AggregatingMergeTree rebuilds such a
# projection at every merge, holding the whole merged part: sql/0029.)
TIME_BUCKET = {"1m": "toStartOfHour", "1h": "toStartOfDay"}


def bucket_filter(level: str, start: str, end: str) -> str:
    """The sort key's bucket condition for a rollup table's range [start, end)
    (query parameters): the engine does not derive it from the range of ts."""
    fn = TIME_BUCKET[level]
    return f"{fn}(ts) >= {fn}({start}) AND {fn}(ts) <= {fn}({end})"


@dataclass(frozen=True)
class Rollup:
    table: str
    keys: tuple[str, ...] = ()
    sums: tuple[str, ...] = ()
    gauges: tuple[str, ...] = ()
    hists: tuple[str, ...] = ()
    # the gauges whose _min and _max are read: a table's own Rollup has all (the
    # tables store all three), a read's plan only those it asks for (each aggregate
    # costs the engine planning time)
    extremes: tuple[str, ...] = ()


@functools.cache
def stored() -> dict[str, Rollup]:
    """The tables summed into <table>_1m and <table>_1h (rollup=STORED in their spec)."""
    return {t.name: _from_spec(t) for t in catalog.tables() if t.rollup == STORED}


@functools.cache
def raw_only() -> dict[str, Rollup]:
    """Tables read through series() at the raw level only (rollup=RAW: no rollup
    tables yet, their ranges end with the raw retention)."""
    return {t.name: _from_spec(t) for t in catalog.tables() if t.rollup == RAW}


def _from_spec(t) -> Rollup:
    gauges = kinds_of(t.columns, GAUGE)
    return Rollup(t.name, kinds_of(t.columns, KEY), kinds_of(t.columns, COUNTER), gauges,
                  kinds_of(t.columns, HISTOGRAM), gauges)


def gauge_columns(r: Rollup) -> list[str]:
    """A read's columns for its gauges, in the order series() gives them."""
    return [f"{g}_{k}" for g in r.gauges for k in (("min", "max", "avg") if g in r.extremes else ("avg",))]


RANGE_FILTER = "WHERE host = {host:String} AND ts >= {start:DateTime} AND ts < {end:DateTime}\n"


def _select(r: Rollup, bucket_fn: str, ranged: bool = False, part: str = "") -> str:
    """The buckets of a raw table's rows; `part` (with `ranged`): a further condition
    (one share of the keys)."""
    parts = [f"{bucket_fn}(ts) AS ts", "host", *r.keys, "count() AS samples", "sum(interval_ms) AS interval_ms"]
    parts += [f"sum({c}) AS {c}" for c in r.sums]
    for g in r.gauges:
        parts += [f"min(toFloat64({g})) AS {g}_min", f"max(toFloat64({g})) AS {g}_max",
                  f"sum(toFloat64({g})) AS {g}_sum"]
    parts += [f"sumForEachState({h}) AS {h}" for h in r.hists]
    group = ", ".join(("ts", "host") + r.keys)
    where = (RANGE_FILTER.replace("\n", f" AND {part}\n") if part else RANGE_FILTER) if ranged else ""
    return f"SELECT {', '.join(parts)}\nFROM {r.table}\n{where}GROUP BY {group}"


# -- reading ---------------------------------------------------------------

class Series(NamedTuple):
    level: str          # raw, 1m or 1h: what was read
    step_s: int         # bucket length
    columns: list[str]
    rows: list[tuple]

def merge_buckets(r: Rollup, keys: int, stored: list[tuple], live: list[tuple]) -> list[tuple]:
    """The store's rows of series() columns, then the live window's, with the rows
    of a bucket and keys both hold (the bucket the window's start cuts in two)
    combined as one bucket over both parts would be. The window's buckets come out
    naive UTC, as the store's: a list of both kinds of time cannot be sorted. Only
    the store's rows from the window's first bucket on are looked at: a 24 h range
    holds thousands before it."""
    width = 1 + keys
    live = [(_naive_utc(row[0]), *row[1:]) for row in live]
    if not live or not stored:
        return list(stored) + live
    first = min(row[0] for row in live)
    out = list(stored)
    index = {tuple(row[:width]): i for i, row in enumerate(out) if row[0] >= first}
    sums = range(width, width + 2 + len(r.sums))                          # samples, interval_ms, sums
    layout = []                 # per gauge: its first column, and whether that is _min (then _max, _avg)
    hists = width + 2 + len(r.sums)         # (once past the gauges)
    for g in r.gauges:
        layout.append((hists, g in r.extremes))
        hists += 3 if g in r.extremes else 1
    for row in live:
        at = index.get(tuple(row[:width]))
        if at is None:
            out.append(row)
            continue
        merged = list(out[at])
        n_a, n_b = merged[width], row[width]
        for i in sums:
            merged[i] += row[i]
        for g, extremes in layout:
            if extremes:
                merged[g] = min(merged[g], row[g])
                merged[g + 1] = max(merged[g + 1], row[g + 1])
                g += 2
            merged[g] = (merged[g] * n_a + row[g] * n_b) / (n_a + n_b)
        for h in range(hists, len(row)):
            merged[h] = [a + b for a, b in zip_longest(merged[h], row[h], fillvalue=0)]   # as sumForEach
        out[at] = tuple(merged)
    return out


def _epoch_of(t: dt.datetime) -> float:
    return (t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)).timestamp()


def clock() -> dt.datetime:
    """Now, against which a range's age picks the level read (tests set a fixed one)."""
    return dt.datetime.now(dt.timezone.utc)


def source_for(span_s: float, age_s: float, retention_days: dict[str, int] | None = None) -> str:
    """Which level to read for a range `span_s` long that starts `age_s` ago:
    raw for short recent ranges, then 1 minute, then 1 hour."""
    keep = retention_days or DEFAULT_RETENTION_DAYS
    if span_s <= MAX_RAW_SPAN_S and age_s <= keep["raw"] * 86400:
        return "raw"
    if span_s <= MAX_1M_SPAN_S and age_s <= keep["1m"] * 86400:
        return "1m"
    return "1h"


def series(store, table: str, start: dt.datetime, end: dt.datetime, step_s: int | None = None,
           where: dict[str, object] | None = None, by: tuple[str, ...] = (), source: str | None = None,
           host: str | None = None, window=None, columns: tuple[str, ...] | None = None,
           ordered: bool = True, extremes: tuple[str, ...] | bool = False) -> Series:
    """Buckets of `step_s` seconds over [start, end) of a rolled-up table, grouped
    by `by` (key columns), filtered by `where` (key = value), for one host (the
    store's own by default; "*" for all). Columns: bucket, *by, samples,
    interval_ms, each counter summed, each gauge as _avg (and _min, _max for the
    gauges in `extremes`, or all with True), each histogram summed — the same
    whichever level is read. With a LiveWindow
    (pyperf.pipeline.live_window), the part of a raw range it holds is read from
    memory and only the part before it from the store. `columns` (counters, gauges,
    histograms by name) limits the aggregates to those: histograms cost the most.
    `ordered=False` leaves the rows in no order (a caller that groups them itself:
    sorting 67 000 rows by bucket and string keys took 20 ms of a 49 ms query).

    A range is read in pieces — whole hours from the 1-hour table, the minutes
    around them from the 1-minute table, the minutes not rolled up yet from the
    raw rows — and the pieces the store holds are summed in one query."""
    plan = _plan(store, table, start, end, step_s, where, by, source, host, window, columns, extremes)
    r, level, step, live = plan.rollup, plan.level, plan.step, plan.live
    stored = _read_pieces(store, r, plan.pieces, step, by, where, host, ordered) if plan.pieces else None
    if live is None:
        return Series(level, step, stored.columns, stored.rows)
    if stored is None:
        return Series(level, step, live.columns, live.rows)
    return Series(level, step, live.columns, merge_buckets(r, len(by), stored.rows, live.rows))


class _Plan(NamedTuple):
    rollup: Rollup          # with only the asked-for columns
    level: str
    step: int
    pieces: list            # [(level, start, end)] read from the store
    live: Series | None     # the part the live window holds


def _plan(store, table: str, start: dt.datetime, end: dt.datetime, step_s, where, by, source, host, window,
          columns, extremes: tuple[str, ...] | bool = False) -> _Plan:
    r = stored().get(table) or raw_only()[table]
    if columns is not None:
        unknown = set(columns) - set(r.sums + r.gauges + r.hists)
        if unknown:
            raise ValueError(f"{table} has no counter, gauge or histogram {sorted(unknown)[0]}")
        r = replace(r, sums=tuple(c for c in r.sums if c in columns),
                    gauges=tuple(c for c in r.gauges if c in columns), hists=tuple(c for c in r.hists if c in columns))
    wanted = r.gauges if extremes is True else tuple(extremes or ())
    if set(wanted) - set(r.gauges):
        raise ValueError(f"{table} reads no gauge {sorted(set(wanted) - set(r.gauges))[0]}")
    r = replace(r, extremes=tuple(g for g in r.gauges if g in wanted))
    if table in raw_only():
        source = "raw"
    for column in (*by, *(where or {})):
        if column not in r.keys:
            raise ValueError(f"{table} has no key column {column}")
    now = clock()
    span_s = (end - start).total_seconds()
    level = source or source_for(span_s, (now - start).total_seconds())
    resolution = {"raw": 1, "1m": 60, "1h": 3600}[level]
    step = max(resolution, step_s or max(1, int(span_s // 300)))
    step = -(-step // resolution) * resolution
    pieces = _pieces(store, table, start, end, level, step, source, host)
    level = "1h" if any(p[0] == "1h" for p in pieces) else level
    since = window.since(table) if window is not None and host in (None, store.host_name) else None
    live = None
    if since is not None and since < end.timestamp() and any(p[0] == "raw" for p in pieces):
        # `since` stays a float: a datetime rounds it to the microsecond, which can put
        # the window's first rows (stamped with that very value) outside the range
        kept = []
        for piece_level, a, b in pieces:
            if piece_level == "raw" and b.timestamp() > since:
                if a.timestamp() < since:
                    kept.append(("raw", a, dt.datetime.fromtimestamp(since, dt.timezone.utc)))
                live = window.series(r, max(a.timestamp(), since), b.timestamp(), step, by, where)
            else:
                kept.append((piece_level, a, b))
        pieces = kept
    return _Plan(r, level, step, pieces, live)


def _pieces(store, table: str, start: dt.datetime, end: dt.datetime, level: str, step: int,
            source: str | None, host: str | None) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """[(level, start, end)] that together cover [start, end), oldest first."""
    hours_end = None
    if level in ("1m", "1h") and source is None and host != "*" and step % 3600 == 0:
        hours_end, per_hour = _bounds_of(store, f"{table}_1h", host or store.host_name)
        if level == "1m" and per_hour * 60 * (end - start).total_seconds() / 3600 <= MINUTES_READ_WHOLE:
            hours_end = None        # few keys (a host's own table): the minutes are cheaper than a second read
    if hours_end is not None:
        # buckets of whole hours: the hours rolled up come from the 1-hour table (sixty
        # times fewer rows to merge), the minutes around them from the 1-minute path
        first = _naive_utc(start).replace(minute=0, second=0, microsecond=0)
        first = first + dt.timedelta(hours=1) if first < _naive_utc(start) else first
        last = min(_naive_utc(end).replace(minute=0, second=0, microsecond=0), hours_end + dt.timedelta(hours=1))
        if last > first:
            utc = dt.timezone.utc
            first, last = first.replace(tzinfo=utc), last.replace(tzinfo=utc)
            out = []
            if first > start:
                out += _pieces(store, table, start, first, "1m", step, "1m", host)
            out.append(("1h", first, last))
            if end > last:
                out += _pieces(store, table, last, end, "1m", step, "1m", host)
            return out
    if level == "1m" and host != "*":
        # the minutes not rolled up yet (the last few) come from the raw rows
        until = rolled_up_until(store, table, host or store.host_name) or start
        if until < end:
            if until <= start:
                return [("raw", start, end)]
            return [("1m", start, until), ("raw", until, end)]
    return [(level, start, end)]


def _read_pieces(store, r: Rollup, pieces, step: int, by: tuple[str, ...], where, host,
                 ordered: bool = True, columnar: bool = False) -> Series:
    """One query over the pieces: each summed into buckets at its own level, then the
    buckets the pieces share (an hour cut at a piece's edge) summed again.
    `columnar`: the Series' rows are its columns."""
    params: dict[str, object] = {}
    conditions = []
    if host != "*":
        conditions.append("host = {host:String}")
        params["host"] = host or store.host_name
    for i, (column, value) in enumerate((where or {}).items()):
        if isinstance(value, (list, tuple, set)):        # one of these values
            kind = "String" if all(isinstance(v, str) for v in value) else "Int64"
            conditions.append(f"has({{w{i}:Array({kind})}}, {column})")
            params[f"w{i}"] = list(value)
        else:
            conditions.append(f"{column} = {{w{i}:String}}" if isinstance(value, str) else f"{column} = {{w{i}:Int64}}")
            params[f"w{i}"] = value
    group = ", ".join(("bucket",) + tuple(by))
    selects = []
    levels: dict[str, list[str]] = {}       # a level's pieces (the minutes before and after the hours) in one read
    for i, (level, a, b) in enumerate(pieces):
        params[f"s{i}"], params[f"e{i}"] = a, b
        levels.setdefault(level, []).append(" AND ".join(
            [f"ts >= {{s{i}:DateTime64(3)}}", f"ts < {{e{i}:DateTime64(3)}}"]
            + ([] if level == "raw" else [bucket_filter(level, f"{{s{i}:DateTime64(3)}}", f"{{e{i}:DateTime64(3)}}")])))
    for level, ranges in levels.items():
        raw = level == "raw"
        parts = [f"toStartOfInterval(ts, INTERVAL {step} SECOND) AS bucket", *by,
                 "count() AS samples" if raw else "sum(samples) AS samples", "sum(interval_ms) AS interval_ms"]
        parts += [f"sum({c}) AS {c}" for c in r.sums]
        for g in r.gauges:
            if g in r.extremes and raw:
                parts += [f"min(toFloat64({g})) AS {g}_min", f"max(toFloat64({g})) AS {g}_max"]
            elif g in r.extremes:
                parts += [f"min({g}_min) AS {g}_min", f"max({g}_max) AS {g}_max"]
            parts.append(f"sum(toFloat64({g})) AS {g}_sum" if raw else f"sum({g}_sum) AS {g}_sum")
        parts += [f"sumForEach({h}) AS {h}" if raw else f"sumForEachMerge({h}) AS {h}" for h in r.hists]
        where_sql = " AND ".join([ranges[0] if len(ranges) == 1 else "(" + " OR ".join(f"({one})" for one in ranges) + ")",
                                  *conditions])
        source_table = r.table if raw else f"{r.table}_{level}"
        selects.append(f"SELECT {', '.join(parts)} FROM {source_table} AS t WHERE {where_sql} GROUP BY {group}")
    outer = ["bucket", *by, "sum(p.samples) AS samples", "sum(p.interval_ms) AS interval_ms"]
    outer += [f"sum(p.{c}) AS {c}" for c in r.sums]
    for g in r.gauges:
        if g in r.extremes:
            outer += [f"min(p.{g}_min) AS {g}_min", f"max(p.{g}_max) AS {g}_max"]
        outer.append(f"sum(p.{g}_sum) / sum(p.samples) AS {g}_avg")
    outer += [f"sumForEach(p.{h}) AS {h}" for h in r.hists]
    sql = (f"SELECT {', '.join(outer)} FROM ({' UNION ALL '.join(selects)}) AS p "
           f"GROUP BY {group}" + (f" ORDER BY {group}" if ordered else ""))
    result = store.query_columns(sql, params) if columnar else store.query(sql, params)
    return Series(pieces[0][0], step, result.column_names, result.rows)


def whole_step(start: dt.datetime, end: dt.datetime) -> int:
    """A bucket length that holds [start, end): the range read as one bucket per key
    (two at most, where a bucket's edge falls inside; callers sum them). An hour
    more, so the rollups' hour level can be read for it."""
    return max(1, int((end - start).total_seconds()) + 3600)


def totals(store, table: str, start: dt.datetime, end: dt.datetime, host: str | None = None, window=None,
           **kw) -> dict:
    """[start, end) of a table as one bucket: counters summed, gauges' means
    weighted by the rows behind them, histograms summed (numpy); {} without rows."""
    from pyperf.analysis.histogram import as_hist
    s = series(store, table, start, end, step_s=whole_step(start, end), host=host,
               window=window, **kw)
    rows = [dict(zip(s.columns, r)) for r in s.rows]
    if not rows:
        return {}
    out: dict = {}
    for row in rows:
        for k, v in row.items():
            if k == "bucket" or k.endswith(("_min", "_max")):
                continue
            if isinstance(v, list):
                out[k] = out.get(k, 0) + as_hist(v)
            elif k.endswith("_avg"):
                out[k] = out.get(k, 0.0) + float(v) * int(row["samples"])
            elif isinstance(v, (int, float)):
                out[k] = out.get(k, 0) + v
    for k in [k for k in out if k.endswith("_avg")]:
        out[k] = out[k] / out["samples"] if out["samples"] else None
    return out


class _RolledMinutes:
    """The 1-minute rows minute_points() read, per series: a minute once rolled up
    never changes (each is summed once, pyperf.store.rollups.roll_up), so a range
    read again (a 24 h findings page, its baselines every refresh) asks the store
    only for the minutes after those it holds. Kept per store, host, table,
    column, filter and keys; at most MAX_ROWS rows (~30 MB), the series kept
    longest ago dropped first; a series of more than a quarter of that (a week
    of 50 containers) is not kept."""
    MAX_ROWS = 1_000_000

    def __init__(self):
        self._kept: dict[tuple, tuple[float, float, dict]] = {}     # key: (start, end, part) of the rows held
        self._lock = threading.Lock()

    def split(self, key: tuple, pieces: list) -> tuple[dict | None, list]:
        """(the part held for the first 1-minute piece's start, the pieces left to read)."""
        if not pieces or pieces[0][0] != "1m":
            return None, pieces
        _, a, b = pieces[0]
        with self._lock:
            kept = self._kept.get(key)
        if kept is None or not (kept[0] <= a.timestamp() < kept[1] <= b.timestamp()):
            return None, pieces
        held = _rows_of(kept[2], kept[2]["epoch"] >= a.timestamp())
        rest = [("1m", dt.datetime.fromtimestamp(kept[1], dt.timezone.utc), b)] if kept[1] < b.timestamp() else []
        return held, rest + pieces[1:]

    def keep(self, key: tuple, start: float, end: float, part: dict) -> None:
        if len(part["epoch"]) > self.MAX_ROWS // 4:
            return          # (what is held for the key stays right: minutes do not change)
        with self._lock:
            self._kept.pop(key, None)
            self._kept[key] = (start, end, part)
            while sum(len(p["epoch"]) for _, _, p in self._kept.values()) > self.MAX_ROWS:
                del self._kept[next(iter(self._kept))]


ROLLED_MINUTES = _RolledMinutes()


# A part (minute_points' columns) names its distinct keys once, in LABELS; its rows
# carry their key's index there ("code"). A remembered day of 50 containers is
# 72 000 rows: coded once when read, not again at every view.
LABELS = "labels"


def _rows_of(part: dict, keep) -> dict:
    return {name: values if name == LABELS else values[keep] for name, values in part.items()}


def _concat_parts(parts: list[dict]) -> dict:
    labels: dict[tuple, int] = {}
    codes = []
    for p in parts:
        remap = np.fromiter((labels.setdefault(k, len(labels)) for k in p[LABELS]), np.int64, len(p[LABELS]))
        codes.append(remap[p["code"]])
    out = {name: np.concatenate([p[name] for p in parts]) for name in parts[0] if name not in ("code", LABELS)}
    out["code"], out[LABELS] = np.concatenate(codes), list(labels)
    return out


def _as_part(columns: dict, by: tuple[str, ...], column: str) -> dict:
    """A piece's columns as numpy: bucket starts as epoch seconds (the store's are
    naive, the window's not), the keys (coded, see LABELS), the value and the samples."""
    buckets = columns["bucket"]
    epoch_of = {b: _epoch_of(b) for b in set(buckets)}
    labels: dict[tuple, int] = {(): 0} if not by else {}
    keys = zip(*(columns[k] for k in by)) if by else iter(((),) * len(buckets))
    return {"epoch": np.fromiter(map(epoch_of.__getitem__, buckets), np.float64, len(buckets)),
            "value": np.asarray(columns[column], np.float64),
            "samples": np.asarray(columns["samples"], np.float64),
            "code": np.fromiter((labels.setdefault(k, len(labels)) for k in keys), np.int64, len(buckets)),
            LABELS: list(labels)}


def minute_points(store, table: str, start: dt.datetime, end: dt.datetime, column: str, where=None,
                  by: tuple[str, ...] = (), per_second: bool = False, host: str | None = None,
                  window=None) -> dict[tuple, tuple[np.ndarray, np.ndarray]]:
    """Per key of `by`: (epoch seconds, values), oldest first, of one counter
    (`per_second`: as a rate) or gauge (`<name>_avg`) at 1-minute points, keys
    summed over the rest.

    Worked on as columns: 24 h of 50 containers is 72 000 rows but 1 440 buckets
    and 50 keys (as rows, through series(), it cost ~60 ms of Python). The rolled
    minutes read are remembered (ROLLED_MINUTES): a range read again asks the
    store for the newer minutes only."""
    plan = _plan(store, table, start, end, 60, where, by, None, host, window, (column.removesuffix("_avg"),))
    series_key = (store.address.redacted(), host or store.host_name, table, column, by,
                  tuple(sorted((k, tuple(v) if isinstance(v, (list, tuple, set)) else v)
                               for k, v in (where or {}).items())))
    held, pieces = ROLLED_MINUTES.split(series_key, plan.pieces) if host != "*" else (None, plan.pieces)
    parts = [held] if held is not None else []
    stored_from = len(parts)
    if pieces:
        stored = _read_pieces(store, plan.rollup, pieces, plan.step, by, where, host, ordered=False,
                              columnar=True)
        if stored.rows:     # no rows: no columns either
            parts.append(_as_part(dict(zip(stored.columns, stored.rows)), by, column))
    if plan.pieces and plan.pieces[0][0] == "1m" and host != "*":
        # what the store gave for the 1-minute piece, before the raw minutes after it
        a, b = plan.pieces[0][1].timestamp(), plan.pieces[0][2].timestamp()
        minutes = [p if i < stored_from else _rows_of(p, p["epoch"] < b) for i, p in enumerate(parts)]
        if minutes:
            ROLLED_MINUTES.keep(series_key, a, b, _concat_parts(minutes))
    if plan.live is not None and plan.live.rows:
        parts.append(_as_part(dict(zip(plan.live.columns, zip(*plan.live.rows))), by, column))
    if not parts:
        return {}
    whole = _concat_parts(parts)
    # a grid of key x minute (every bucket starts on a minute): no sorting of the
    # day's 72 000 rows. A bucket the live window's edge cuts in two is in both
    # parts: counters add up, gauges' means are weighted by the rows behind them
    minute = np.rint(whole["epoch"] / 60.0).astype(np.int64)
    first = int(minute.min())
    slots = int(minute.max()) - first + 1
    cell = whole["code"] * slots + (minute - first)
    cells = len(whole[LABELS]) * slots
    values = whole["value"]
    present = (np.bincount(cell, minlength=cells) > 0).reshape(-1, slots)
    if per_second:
        merged = np.bincount(cell, weights=values, minlength=cells) / 60.0
    else:
        samples = whole["samples"]
        with np.errstate(invalid="ignore"):
            merged = np.bincount(cell, weights=values * samples, minlength=cells) / np.bincount(
                cell, weights=samples, minlength=cells)
    merged = merged.reshape(-1, slots)
    epochs = (first + np.arange(slots)) * 60.0
    return {key: (epochs[present[i]], merged[i][present[i]])
            for i, key in enumerate(whole[LABELS]) if present[i].any()}      # (a remembered key may have no rows left)


def hourly_select(r: Rollup, part: str = "") -> str:
    """The 1-hour buckets of a 1-minute table's rows (states merged into states);
    `part`: a further condition (one share of the keys)."""
    parts = ["toStartOfHour(ts) AS ts", "host", *r.keys, "sum(samples) AS samples", "sum(interval_ms) AS interval_ms"]
    parts += [f"sum({c}) AS {c}" for c in r.sums]
    for g in r.gauges:
        parts += [f"min({g}_min) AS {g}_min", f"max({g}_max) AS {g}_max", f"sum({g}_sum) AS {g}_sum"]
    parts += [f"sumForEachMergeState({h}) AS {h}" for h in r.hists]
    group = ", ".join(("ts", "host") + r.keys)
    extra = " AND ".join([bucket_filter("1m", "{start:DateTime}", "{end:DateTime}"), *([part] if part else [])])
    where = RANGE_FILTER.replace("\n", f" AND {extra}\n")
    return f"SELECT {', '.join(parts)}\nFROM {r.table}_1m\n{where}GROUP BY {group}"


def roll_up(store, before: dt.datetime) -> dict[str, dict[str, int]]:
    """Sum this store's host's raw rows into 1-minute rows for every whole minute
    after the last one rolled up and before `before`, then the 1-minute rows into
    1-hour rows for every hour whose minutes are all in (the caller leaves time
    for rows still buffered or spooled). Each range is inserted with a
    deduplication token, so a repeat after a crash adds nothing. Returns
    {table: {"1m": minutes, "1h": hours}} of what was rolled up."""
    before = _naive_utc(before)
    done: dict[str, dict[str, int]] = {}
    for r in stored().values():
        minute_end = before.replace(second=0, microsecond=0)
        minutes = _roll_minutes(store, r, minute_end)
        hours = _roll_hours(store, r, minute_end.replace(minute=0))
        if minutes or hours:
            done[r.table] = {"1m": minutes, "1h": hours}
    # a bound read before the inserts is behind, never ahead (safe), but now stale
    for key in [k for k in _bounds if k[0] == store.address.redacted()]:
        del _bounds[key]
    return done


# Rows one minute-level INSERT ... SELECT sums at most: the engine's memory for it
# grows with the keys it holds (~2 kB a row for a per-process row's two histogram
# states): 5 minutes of a host starting 400 processes a second (135 000 rows)
# took +250 MB, one minute of it +60 MB. 15 000 lowers a rollup's own peak (+26 MiB
# against +40-59). It did not lower the agent's highest memory while a background
# merge could run beside a rollup; since the writer holds merges back meanwhile
# (Store.merges_held) it does: the agent's rollup minutes under churn went from
# 407.7 to at most 375.7 MiB (docs/performance.md).
MAX_ROWS_PER_ROLLUP = 15_000


MINUTE, HOUR = dt.timedelta(minutes=1), dt.timedelta(hours=1)


def _first_bucket(store, source: str, step: dt.timedelta) -> dt.datetime | None:
    first = _naive_utc(store.query(f"SELECT min(ts) FROM {source} WHERE host = {{host:String}}",
                                   {"host": store.host_name}).rows[0][0])
    if first.year <= 1970:      # min() of no rows
        return None
    return first.replace(second=0, microsecond=0) if step == MINUTE else first.replace(minute=0, second=0, microsecond=0)


def _count(store, table: str, start: dt.datetime, end: dt.datetime, condition: str = "",
           parameters: dict | None = None) -> int:
    return int(store.query(f"SELECT count() FROM {table} WHERE host = {{host:String}} AND ts >= {{start:DateTime64(3)}} "
                           f"AND ts < {{end:DateTime64(3)}}{' AND ' + condition if condition else ''}",
                           {"host": store.host_name, "start": start, "end": end, **(parameters or {})}).rows[0][0])


def _insert(store, target: str, select: str, token: str, start: dt.datetime, end: dt.datetime,
            bounds: dict | None = None) -> None:
    store.command(f"INSERT INTO {target} {select} SETTINGS insert_deduplication_token = {{token:String}}",
                  {"host": store.host_name, "start": start, "end": end, "token": token, **(bounds or {})})


def _roll_minutes(store, r: Rollup, end: dt.datetime) -> int:
    """Sum the raw rows into 1-minute rows for the minutes from the one after the
    1-minute table's last to `end` (that one again if a crash left a share of it
    out); returns minutes covered. Whole minutes go in together up to
    MAX_ROWS_PER_ROLLUP raw rows a part; each part leaves the target's last bucket
    where the next one starts, so a crash between two parts loses nothing. A
    minute of more rows than that alone (a host that started 40 000 processes in
    it) is summed a range of its first key at a time (_Shares), as a large hour is."""
    target = f"{r.table}_1m"
    host = store.host_name
    last = _last_bucket(store, target, host, fresh=True)     # a stale one would roll a range twice
    if last is not None:
        start = last if not _minute_complete(store, r, last) else last + MINUTE
    else:
        start = _first_bucket(store, r.table, MINUTE)
    if start is None or start >= end:
        return 0
    parts = list(_minute_parts(store, r, start, end))
    for part_start, part_end, rows in parts:
        shares = _shares_of(store, r, part_start, rows, MINUTE) if part_end - part_start == MINUTE else _Shares("", "", [])
        token = f"pyperf-1m-{host}-{r.table}-{part_start:%Y%m%d%H%M}-{part_end:%Y%m%d%H%M}"
        for i in range(len(shares)):
            condition, bounds = shares.condition(i)
            _insert(store, target, _select(r, "toStartOfMinute", True, condition),
                    token + (f"-{i}of{len(shares)}" if len(shares) > 1 else ""), part_start, part_end, bounds)
            if len(parts) > 1 or len(shares) > 1:
                store.release_memory()      # what one part's sums held, before the next
        _complete_minutes[(store.address.redacted(), r.table, host)] = part_end - MINUTE
    return int((end - start) / MINUTE)


def _minute_parts(store, r: Rollup, start: dt.datetime, end: dt.datetime):
    """[start, end) cut at whole minutes into (part start, part end, raw rows) of at
    most MAX_ROWS_PER_ROLLUP rows each, unless one minute alone has more."""
    counts = store.query(f"SELECT toStartOfMinute(ts) AS minute, count() FROM {r.table} WHERE host = {{host:String}} "
                         f"AND ts >= {{start:DateTime64(3)}} AND ts < {{end:DateTime64(3)}} GROUP BY minute ORDER BY minute",
                         {"host": store.host_name, "start": start, "end": end}).rows
    part_start, rows = start, 0
    for minute, n in counts:
        minute = _naive_utc(minute)
        if rows and (rows + n > MAX_ROWS_PER_ROLLUP or n > MAX_ROWS_PER_ROLLUP):
            yield part_start, minute, rows
            part_start, rows = minute, 0
        if n > MAX_ROWS_PER_ROLLUP:          # alone (the empty minutes before it have nothing to sum)
            yield minute, minute + MINUTE, n
            part_start = minute + MINUTE
            continue
        rows += n
    if part_start < end:
        yield part_start, end, rows


_complete_minutes: dict[tuple, dt.datetime] = {}   # per store, table, host: a minute known to have every share


def _minute_complete(store, r: Rollup, minute: dt.datetime) -> bool:
    """Whether every share of a minute summed in shares is in (see _complete)."""
    return _complete(store, r, "1m", minute, _count(store, r.table, minute, minute + MINUTE), _complete_minutes)


def _complete(store, r: Rollup, level: str, start: dt.datetime, rows: int, known: dict) -> bool:
    """Whether every share of a bucket summed in shares (a minute or an hour of
    `rows` source rows) is in `level`'s table: the shares go in in order, so the
    last one present means all are (a crash between two leaves it missing).
    `known` remembers the last bucket found complete, per store, table and host."""
    key = (store.address.redacted(), r.table, store.host_name)
    if known.get(key) == start:
        return True
    step = MINUTE if level == "1m" else HOUR
    shares = _shares_of(store, r, start, rows, step)
    last, values = shares.condition(len(shares) - 1)
    done = len(shares) == 1 or _count(store, f"{r.table}_{level}", start, start + step, last + " AND " + bucket_filter(
        level, "{start:DateTime64(3)}", "{end:DateTime64(3)}"), values) > 0
    if done:
        known[key] = start
    return done


class _Shares(NamedTuple):
    """An hour's minute rows cut by ranges of the table's first key: the 1-minute
    table is sorted by (host, hour, first key, ...), so a share reads only its own
    granules of the hour (a share by the keys' hash read the whole hour each time:
    a churn hour's 60 shares took ~25 s of CPU, docs/performance.md). Every row of
    a key has its first key's value, so a key is never cut in two."""
    key: str
    type: str
    bounds: list         # the values that start the shares after the first, ascending (none: one INSERT)

    def __len__(self) -> int:
        return len(self.bounds) + 1

    def condition(self, i: int) -> tuple[str, dict]:
        """Share i's condition and its parameters."""
        low = f"{self.key} >= {{share_low:{self.type}}}" if i > 0 else ""
        high = f"{self.key} < {{share_high:{self.type}}}" if i < len(self.bounds) else ""
        values = {"share_low": self.bounds[i - 1]} if i > 0 else {}
        if i < len(self.bounds):
            values["share_high"] = self.bounds[i]
        return " AND ".join(c for c in (low, high) if c), values


def _shares_of(store, r: Rollup, start: dt.datetime, rows: int, step: dt.timedelta = HOUR) -> _Shares:
    """How a bucket of `rows` rows is summed (an hour of 1-minute rows, or a minute
    of raw rows): in one INSERT, or in shares of about MAX_ROWS_PER_ROLLUP rows each
    (the same for the same rows: a crash between two shares finds them again)."""
    if not r.keys or rows <= MAX_ROWS_PER_ROLLUP:
        return _Shares("", "", [])
    key, per = r.keys[0], MAX_ROWS_PER_ROLLUP
    source, level = (f"{r.table}_1m", " AND " + bucket_filter("1m", "{start:DateTime64(3)}", "{end:DateTime64(3)}")) \
        if step == HOUR else (r.table, "")
    rows = store.query(
        f"SELECT DISTINCT {key}, toTypeName({key}) FROM (SELECT {key}, row_number() OVER (ORDER BY {key}) AS n "
        f"FROM {source} WHERE host = {{host:String}} AND ts >= {{start:DateTime64(3)}} AND ts < "
        f"{{end:DateTime64(3)}}{level}) WHERE n % {per} = 1 AND n > 1 ORDER BY {key}",
        {"host": store.host_name, "start": start, "end": start + step}).rows
    if not rows:
        return _Shares("", "", [])       # one key's rows: no range cuts them
    type_name = rows[0][1]
    if type_name.startswith("LowCardinality("):          # a parameter's type is the value's own
        type_name = type_name[len("LowCardinality("):-1]
    return _Shares(key, type_name, [row[0] for row in rows])


def _minute_rows_per_hour(store, r: Rollup, start: dt.datetime, end: dt.datetime) -> dict[dt.datetime, int]:
    """{hour (naive UTC): its rows in the 1-minute table} for the hours in [start, end) that have any."""
    rows = store.query(f"SELECT toStartOfHour(ts) AS hour, count() FROM {r.table}_1m WHERE host = {{host:String}} "
                       f"AND ts >= {{start:DateTime64(3)}} AND ts < {{end:DateTime64(3)}} AND "
                       f"{bucket_filter('1m', '{start:DateTime64(3)}', '{end:DateTime64(3)}')} GROUP BY hour",
                       {"host": store.host_name, "start": start, "end": end}).rows
    return {_naive_utc(hour): int(n) for hour, n in rows}


_complete_hours: dict[tuple, dt.datetime] = {}     # per store, table, host: an hour known to have every share


def _hour_complete(store, r: Rollup, hour: dt.datetime) -> bool:
    """Whether every share of a split hour is in (see _complete)."""
    return _complete(store, r, "1h", hour, _minute_rows_per_hour(store, r, hour, hour + HOUR).get(hour, 0),
                     _complete_hours)


def _roll_hours(store, r: Rollup, end: dt.datetime) -> int:
    """Sum the 1-minute rows into 1-hour rows for every hour before `end` after the
    last one in the 1-hour table (that one again if a crash left a share of it
    out: the shares already in are dropped by their deduplication tokens). An hour
    of more than MAX_ROWS_PER_ROLLUP minute rows is summed a range of its first
    key at a time (_Shares). Returns hours covered."""
    target = f"{r.table}_1h"
    last = _last_bucket(store, target, store.host_name, fresh=True)
    if last is not None:
        start = last if not _hour_complete(store, r, last) else last + HOUR
    else:
        start = _first_bucket(store, f"{r.table}_1m", HOUR)
    if start is None or start >= end:
        return 0
    hours = int((end - start) / HOUR)
    per_hour = _minute_rows_per_hour(store, r, start, end)
    if not r.keys or sum(per_hour.values()) <= MAX_ROWS_PER_ROLLUP:
        _insert(store, target, hourly_select(r), f"pyperf-1h-{store.host_name}-{r.table}-{start:%Y%m%d%H%M}-"
                f"{end:%Y%m%d%H%M}", start, end)
        return hours
    for hour, rows in sorted(per_hour.items()):
        shares = _shares_of(store, r, hour, rows)
        parts = len(shares)
        for i in range(parts):
            condition, bounds = shares.condition(i)
            _insert(store, target, hourly_select(r, condition),
                    f"pyperf-1h-{store.host_name}-{r.table}-{hour:%Y%m%d%H}-{i}of{parts}", hour, hour + HOUR, bounds)
            if parts > 1:
                store.release_memory()
        _complete_hours[(store.address.redacted(), r.table, store.host_name)] = hour
    return hours


BOUNDS_MAX_AGE_S = 10.0
_bounds: dict[tuple, tuple[float, dt.datetime | None, float]] = {}


def _bounds_of(store, target: str, host: str, fresh: bool = False) -> tuple[dt.datetime | None, float]:
    """The newest bucket of `host` in a rollup table (naive UTC; None: none yet) and
    its rows per bucket (the keys a bucket holds, on average). Every dashboard
    query over minutes or hours asks, and the answer moves only when roll_up()
    runs (which forgets it here) or, for another host's agent, every few minutes:
    readers get it up to BOUNDS_MAX_AGE_S old (behind, never ahead: they read more
    raw rows, never fewer); roll_up() asks `fresh`."""
    key = (store.address.redacted(), target, host)
    now = time.monotonic()
    cached = _bounds.get(key)
    if not fresh and cached is not None and now - cached[0] < BOUNDS_MAX_AGE_S:
        return cached[1], cached[2]
    first, last, kept = store.query(f"SELECT min(ts), max(ts), count() FROM {target} WHERE host = {{host:String}}",
                                    {"host": host}).rows[0]
    step = 3600 if target.endswith("_1h") else 60
    buckets = (_naive_utc(last) - _naive_utc(first)).total_seconds() // step + 1 if kept else 1
    value = (_naive_utc(last) if kept else None, kept / buckets)
    _bounds[key] = (now, *value)
    return value


def _last_bucket(store, target: str, host: str, fresh: bool = False) -> dt.datetime | None:
    return _bounds_of(store, target, host, fresh)[0]


def rolled_up_until(store, table: str, host: str) -> dt.datetime | None:
    """The end of the last minute rolled up for `host` (None: nothing yet)."""
    last = _last_bucket(store, f"{table}_1m", host)
    return (last + dt.timedelta(minutes=1)).replace(tzinfo=dt.timezone.utc) if last is not None else None


def _naive_utc(t: dt.datetime) -> dt.datetime:
    return t.astimezone(dt.timezone.utc).replace(tzinfo=None) if t.tzinfo else t




def apply_retention(store, days: dict[str, int]) -> None:
    """Set the TTL of every rolled-up raw table and its rollups (existing parts are
    not rewritten now; the new TTL applies as parts merge)."""
    for r in stored().values():
        for level, table in (("raw", r.table), ("1m", f"{r.table}_1m"), ("1h", f"{r.table}_1h")):
            ts = "toDateTime(ts)" if level == "raw" else "ts"
            store.command(f"ALTER TABLE {table} MODIFY TTL {ts} + INTERVAL {int(days[level])} DAY "
                        "SETTINGS materialize_ttl_after_modify = 0")
