"""The store heals itself: every table, view and column the migrations create must
be there. Applied migrations are recorded, so a table dropped later (by hand, by
`pyperf sql --write`, by an accident) would otherwise never come back and every
batch for it would be rejected.

What the schema should be is `sql/expected_schema.json`, generated from the
migrations (`python -m pyperf.schema.generate`; a test keeps it fresh and equal
to the column spec), so the check at start is one query. Repair replays every migration's schema
statements (all idempotent: IF NOT EXISTS, DROP/CREATE VIEW), re-runs a
migration's back-fill only into a table that was missing, adds columns that
were dropped, and says what it did. Data that was in a dropped table is gone;
collection resumes."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from pyperf.resources import data_dir
from pyperf.store import migrations

log = logging.getLogger("pyperf.store")

SNAPSHOT_NAME = "expected_schema.json"
BACKFILL = re.compile(r"^\s*INSERT\s+INTO\s+`?(\w+)`?", re.I)

ACTUAL = """
SELECT t.name, t.engine, c.name, c.type, c.default_kind, c.default_expression, c.compression_codec
FROM system.tables AS t
LEFT JOIN (SELECT * FROM system.columns WHERE database = currentDatabase()) AS c ON c.table = t.name
WHERE t.database = currentDatabase() AND NOT t.is_temporary
ORDER BY t.name, c.position
"""


def snapshot_path() -> Path:
    return data_dir("sql") / SNAPSHOT_NAME


def describe(client) -> dict[str, dict]:
    """{table: {"engine": E, "columns": [[name, type, default_kind, default_expression, codec], ...]}}
    of the client's current database."""
    out: dict[str, dict] = {}
    for table, engine, column, col_type, default_kind, default_expr, codec in client.query(ACTUAL).result_rows:
        entry = out.setdefault(table, {"engine": engine, "columns": []})
        if column:
            entry["columns"].append([column, col_type, default_kind, default_expr, codec])
    return out


def expected() -> dict[str, dict]:
    return json.loads(snapshot_path().read_text())


def differences(want: dict[str, dict], have: dict[str, dict]) -> tuple[list[str], list[tuple[str, list]]]:
    """(missing tables and views, [(table, column spec)] missing from tables that exist)."""
    tables = [name for name in want if name not in have]
    columns = []
    for name, spec in want.items():
        if name in have and spec["engine"] not in ("View", "MaterializedView"):
            present = {c[0] for c in have[name]["columns"]}
            columns += [(name, c) for c in spec["columns"] if c[0] not in present]
    return tables, columns


def check_and_heal(client, embedded: bool = True) -> list[str]:
    """Repair what is missing; returns one line per repair (empty when the schema was whole)."""
    have = describe(client)
    if any(spec["engine"] == "Distributed" for spec in have.values()):
        return []   # a cluster schema (sql/cluster/schema.sql) is repaired by re-applying that file
    want = expected()
    tables, columns = differences(want, have)
    if not tables and not columns:
        return []
    repaired = []
    for migration in migrations.available():
        for statement in migration.statements():
            target = BACKFILL.match(statement)
            if target and target.group(1) not in tables:
                continue    # back-fill only what was recreated empty
            migrations.execute(client, statement, embedded)
    for table in tables:
        engine = want[table]["engine"]
        if engine in ("View", "MaterializedView"):
            repaired.append(f"recreated view {table}")
        else:
            repaired.append(f"recreated table {table} (the rows it held are gone; collection resumes)")
    have = describe(client)
    for table, (name, col_type, default_kind, default_expr, codec) in differences(want, have)[1]:
        default = f" {default_kind} {default_expr}" if default_kind else ""
        codec_clause = f" {codec}" if codec else ""
        client.command(f"ALTER TABLE `{table}` ADD COLUMN IF NOT EXISTS `{name}` {col_type}{default}{codec_clause}")
    for table, column in columns:
        repaired.append(f"re-added column {table}.{column[0]} (earlier rows read its default)")
    still_tables, still_columns = differences(want, describe(client))
    if still_tables or still_columns:
        raise RuntimeError(f"schema repair left missing: {', '.join(still_tables + [f'{t}.{c[0]}' for t, c in still_columns])}")
    return repaired
