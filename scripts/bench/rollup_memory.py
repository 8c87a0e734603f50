"""Peak memory of the agent's rollups on a host that starts many processes: a
fresh embedded store gets `--minutes` of sched_process rows (50 steady processes
and `--new-per-s` new ones a second, each with its two histograms), then the
minute rollup runs as the agent runs it (at most rollups.MAX_ROWS_PER_ROLLUP rows
an INSERT ... SELECT) and, as the baseline in the same invocation, as one
INSERT; with `--hour`, the hourly rollup of a whole such hour; with `--merge`, a
merge of `--minutes` one-minute parts of sched_process_1m into one (OPTIMIZE
FINAL) in a plain MergeTree (the rollup tables since schema 30) against the
same parts in an AggregatingMergeTree (before), alternating, `--rounds` times;
with `--merge-hour`, the hourly rollup of a churn hour with merges held (as the
agent does), then the background merges of the 1-hour tables' shares that
follow, merging at most 20 parts at once (sql/embedded_engine.xml) against the
engine's default of 100 (a table setting), alternating, `--rounds` times.
Prints the rise of the process's anonymous memory (sampled every 10 ms) over
what it was after the allocator was purged.

    sudo .venv/bin/python scripts/bench/rollup_memory.py [--minutes 5] [--new-per-s 450] [--hour]
    sudo .venv/bin/python scripts/bench/rollup_memory.py --merge --minutes 30 --new-per-s 250
    sudo .venv/bin/python scripts/bench/rollup_memory.py --merge-hour --new-per-s 250
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import threading
import time

from common import ROOT, anon_mib  # noqa: F401  (sys.path set up there)
from pyperf.store import rollups
from pyperf.store.dsn import parse_dsn
from pyperf.store.store import Store

UTC = dt.timezone.utc


def fill(store, start: int, seconds: int, new_per_s: int) -> int:
    per_s = 50 + new_per_s
    store.command(
        "INSERT INTO sched_process (ts, host, interval_ms, pid, comm, mnt_ns, voluntary_switches, oncpu_us, "
        "runq_latency_sum_us, runq_waits, runq_latency_hist, offcpu_hist) "
        f"SELECT toDateTime64({start}, 3, 'UTC') + toIntervalSecond(intDiv(number, {per_s})), 'bench', 1000, "
        f"if(number % {per_s} < 50, number % 50, 100000 + number), 'proc', 4026531840, 3, 100, 50, 2, "
        "arrayMap(i -> toUInt32(rand(i) % 3), range(27)), arrayMap(i -> toUInt32(rand(i + 99) % 3), range(27)) "
        f"FROM numbers({seconds * per_s})")
    return seconds * per_s


def peak_rise(store, before: dt.datetime) -> tuple[float, float]:
    """(MiB the anonymous memory rose at most, seconds) for one roll_up()."""
    return peak_rise_of(store, lambda: rollups.roll_up(store, before))


def peak_rise_of(store, work) -> tuple[float, float]:
    """(MiB the anonymous memory rose at most, seconds) while work() runs."""
    store.release_memory()
    base, peak, stop = anon_mib(), [0.0], threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], anon_mib())
            time.sleep(0.01)
    sampler = threading.Thread(target=sample)
    sampler.start()
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    return peak[0] - base, elapsed


def minutes_case(minutes: int, new_per_s: int, max_rows: int) -> tuple[float, float, int]:
    rollups.MAX_ROWS_PER_ROLLUP = max_rows
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(parse_dsn(f"chdb://{tmp}/store"), host_name="bench").open()
        start = (int(time.time()) // 60 - minutes - 2) * 60
        rows = fill(store, start, minutes * 60, new_per_s)
        rise, elapsed = peak_rise(store, dt.datetime.fromtimestamp(start + minutes * 60, UTC))
        store.close()
    return rise, elapsed, rows


def merge_case(minutes: int, new_per_s: int, rounds: int) -> None:
    from pyperf.schema import catalog
    from pyperf.schema.generate import _create_rollup

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(parse_dsn(f"chdb://{tmp}/store"), host_name="bench").open()
        start = (int(time.time()) // 60 - minutes - 2) * 60
        fill(store, start, minutes * 60, new_per_s)
        rollups.roll_up(store, dt.datetime.fromtimestamp(start + minutes * 60, UTC))
        rows = store.query("SELECT count() FROM sched_process_1m").rows[0][0]
        spec = catalog.table("sched_process")
        results: dict[str, list[float]] = {"AggregatingMergeTree": [], "MergeTree": []}
        for r in range(rounds):
            for engine in (("AggregatingMergeTree", "MergeTree") if r % 2 == 0 else ("MergeTree", "AggregatingMergeTree")):
                table = f"merge_{engine.lower()}"
                store.command(f"DROP TABLE IF EXISTS {table}")
                store.command(_create_rollup(spec, "1m", table, engine).rstrip(";"))
                store.command(f"SYSTEM STOP MERGES {table}")
                for m in range(minutes):      # one part a minute, as rolled up
                    t = start + 60 * m
                    store.command(f"INSERT INTO {table} SELECT * FROM sched_process_1m "
                                  f"WHERE ts = toDateTime({t}, 'UTC')")
                store.command(f"SYSTEM START MERGES {table}")
                rise, elapsed = peak_rise_of(store, lambda: store.command(f"OPTIMIZE TABLE {table} FINAL"))
                results[engine].append(rise)
                print(f"  round {r + 1}, {engine}: {minutes} parts, {rows} rows merged: +{rise:.0f} MiB, {elapsed:.2f} s")
                store.command(f"DROP TABLE {table}")
        store.close()
    agg, plain = (min(results[e]) for e in ("AggregatingMergeTree", "MergeTree"))
    print(f"merge of {rows} rows: AggregatingMergeTree +{agg:.0f} MiB, plain MergeTree +{plain:.0f} MiB "
          f"(lowest of {rounds}); ratio {plain / agg:.2f}; {agg * 2**20 / rows:.0f} against "
          f"{plain * 2**20 / rows:.0f} bytes a merged row")


def merge_hour_case(new_per_s: int, max_parts: int | None) -> tuple[float, float, float, int, str]:
    """(MiB the merges after an hourly rollup rose, their seconds, the process's CPU
    seconds meanwhile, the parts they started from, the merged part's name) with the
    1-hour tables' max_parts_to_merge_at_once set to `max_parts` (None: the
    embedded engine's)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(parse_dsn(f"chdb://{tmp}/store"), host_name="bench").open()
        hour = (int(time.time()) // 3600 - 2) * 3600
        fill(store, hour, 3600, new_per_s)
        rollups.roll_up(store, dt.datetime.fromtimestamp(hour + 3570, UTC))        # the minutes only
        hourly = [name for (name,) in store.query("SELECT name FROM system.tables WHERE database = "
                                                 "currentDatabase() AND name LIKE '%\\_1h'").rows]
        if max_parts is not None:
            for table in hourly:
                store.command(f"ALTER TABLE {table} MODIFY SETTING max_parts_to_merge_at_once = {max_parts}")
        with store.merges_held():
            rollups.roll_up(store, dt.datetime.fromtimestamp(hour + 3630, UTC))

        def parts() -> list[str]:
            return [name for (name,) in store.query(
                "SELECT name FROM system.parts WHERE database = currentDatabase() AND table = 'sched_process_1h' "
                "AND active").rows]
        before = len(parts())

        def merged() -> None:
            # the engine merges a round, then its merge task sleeps a while before the
            # next: until two parts are left (or 5 min), then 3 s for the last to end
            deadline = time.time() + 300
            while len(parts()) > 2 and time.time() < deadline:
                time.sleep(1)
            time.sleep(3)
        cpu = time.process_time()
        rise, elapsed = peak_rise_of(store, merged)
        cpu = time.process_time() - cpu
        names = parts()
        store.close()
    return rise, elapsed, cpu, before, ", ".join(sorted(names))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=int, default=5, help="minutes of rows one minute rollup sums (the agent's cadence)")
    ap.add_argument("--new-per-s", type=int, default=450, help="new processes a second")
    ap.add_argument("--hour", action="store_true", help="also the hourly rollup of a whole hour")
    ap.add_argument("--merge", action="store_true", help="only the merge of one-minute parts, both engines")
    ap.add_argument("--merge-hour", action="store_true",
                    help="only the merges after the hourly rollup of a churn hour, 20 against 100 parts at once")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    if args.merge_hour:
        print(f"merges after the hourly rollup of one hour, 50 steady + {args.new_per_s} new processes a second:")
        cases = [("20 (engine config)", None), ("100 (engine default)", 100)]
        results: dict[str, list[float]] = {label: [] for label, _ in cases}
        for r in range(args.rounds):
            for label, max_parts in (cases if r % 2 == 0 else cases[::-1]):
                rise, elapsed, cpu, before, after = merge_hour_case(args.new_per_s, max_parts)
                results[label].append(rise)
                print(f"  round {r + 1}, at most {label}: sched_process_1h {before} parts -> {after}: "
                      f"+{rise:.0f} MiB, {elapsed:.0f} s, {cpu:.1f} s CPU (one poll a second included)")
        low, high = (max(results[k]) for k in results)
        print(f"highest rise: at most 20 parts +{low:.0f} MiB, 100 parts +{high:.0f} MiB; ratio {low / high:.2f}")
        return 0
    if args.merge:
        print(f"merging {args.minutes} one-minute parts of sched_process_1m, 50 steady + {args.new_per_s} "
              f"new processes a second:")
        merge_case(args.minutes, args.new_per_s, args.rounds)
        return 0
    chunked = rollups.MAX_ROWS_PER_ROLLUP
    print(f"minute rollup of {args.minutes} min, 50 steady + {args.new_per_s} new processes a second:")
    one, t_one, rows = minutes_case(args.minutes, args.new_per_s, sys.maxsize)
    parts, t_parts, _ = minutes_case(args.minutes, args.new_per_s, chunked)
    print(f"  {rows} raw rows in one INSERT ... SELECT: +{one:.0f} MiB anonymous at the peak, {t_one:.1f} s")
    print(f"  at most {chunked} rows an INSERT (the agent): +{parts:.0f} MiB, {t_parts:.1f} s; "
          f"ratio {parts / one:.2f}")
    if args.hour:
        rollups.MAX_ROWS_PER_ROLLUP = chunked
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(parse_dsn(f"chdb://{tmp}/store"), host_name="bench").open()
            hour = (int(time.time()) // 3600 - 2) * 3600
            rows = fill(store, hour, 3600, args.new_per_s)
            rollups.roll_up(store, dt.datetime.fromtimestamp(hour + 3570, UTC))        # the minutes only
            rise, elapsed = peak_rise(store, dt.datetime.fromtimestamp(hour + 3630, UTC))
            keys = store.query("SELECT count() FROM sched_process_1h").rows[0][0]
            store.close()
        print(f"hourly rollup of one hour ({rows} raw rows, {keys} process keys): +{rise:.0f} MiB, {elapsed:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
