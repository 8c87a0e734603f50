"""A chart's or a table's data as a file: CSV, JSON or Parquet, from the same
data the page shows (pyperf/web/pages)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json",
           "parquet": "application/vnd.apache.parquet"}


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.timezone.utc).isoformat(timespec="milliseconds")


def records(shown: dict, part: str) -> list[dict]:
    """The rows of one part of a page's data: a chart (by its name in "charts")
    or a table (a list of rows). KeyError for a part the page does not have."""
    chart = shown.get("charts", {}).get(part)
    if chart is not None:
        if "counts" in chart:      # a heatmap: one row per time and slot with waits in it
            return [{"time": _iso(t), "slot_upper_us": upper, "count": row[i]}
                    for slot, (upper, row) in enumerate(zip(chart["slots_us"], chart["counts"]))
                    for i, t in enumerate(chart["t"]) if row[i]]
        names = list(chart["series"])
        unit = chart.get("unit", "")
        headers = [f"{n} [{unit}]" if unit else n for n in names]      # the file says what the numbers are
        return [{"time": _iso(t), **{h: chart["series"][n][i] for n, h in zip(names, headers)}}
                for i, t in enumerate(chart["t"])]
    table = shown.get(part)
    if isinstance(table, list) and part != "charts":
        return [dict(row) for row in table]
    raise KeyError(part)


def download(shown, part: str, fmt: str, what: str, name: str):
    """The Flask response for ?part=&format= of a page's data; `shown()` computes
    it. 400 for a bad format or part, 503 when the store does not answer."""
    from flask import Response, abort

    from pyperf.errors import StoreError

    if fmt not in FORMATS:
        abort(400, f"unknown format {fmt[:20]!r} (csv, json or parquet)")
    try:
        rows = records(shown(), part)
    except KeyError:
        abort(400, f"{what} has no chart or table {part[:40]!r}")
    except StoreError as e:
        return Response(str(e), status=503, mimetype="text/plain")
    return Response(render(rows, fmt), mimetype=FORMATS[fmt],
                    headers={"Content-Disposition": f'attachment; filename="{name}.{fmt}"'})


def render(rows: list[dict], fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps(rows, default=str).encode()
    if fmt == "csv":
        out = io.StringIO()
        columns = list(dict.fromkeys(k for row in rows for k in row))
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            # a value a spreadsheet would run as a formula (=, +, -, @) is quoted as text
            writer.writerow({k: ("'" + v if isinstance(v, str) and v[:1] in "=+-@\t\r" else v)
                             for k, v in row.items()})
        return out.getvalue().encode()
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        sink = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(rows), sink)
        return sink.getvalue()
    raise ValueError(f"unknown format {fmt[:20]!r} (csv, json or parquet)")
