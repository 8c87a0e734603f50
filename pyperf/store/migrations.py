"""Versioned schema migrations from sql/NNNN_name.sql, applied in order, once each.

Applied versions are recorded in `schema_migrations`; every statement is
written to be idempotent (IF NOT EXISTS), so a migration interrupted half-way
is simply applied again. A statement that cannot be (EXCHANGE TABLES) is
preceded by a `-- when: SELECT ...` line and runs only while that query's first
value is not 0. Such a guard does not make it safe for several agents
migrating one server at once, so a statement whose first line is
`-- embedded store only` runs only on the embedded store (one process at a
time holds it: pyperf/store/lock.py).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from pyperf.resources import data_dir
from pyperf.schema import EVENT, KEY, Column, Table

MIGRATION_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

TABLES = (
    Table("schema_migrations",
          "Which schema migrations (sql/NNNN_name.sql) this store has had applied.",
          order_by=("version",), engine="ReplacingMergeTree", partition_by="", retention_days=None, dedup=False, columns=(
        Column("version", "UInt32", KEY, "", "migration number, NNNN of the file name"),
        Column("name", "String", EVENT, "", "migration name from the file name"),
        Column("checksum", "String", EVENT, "", "first 16 hex digits of the file's SHA-256 when applied"),
        Column("applied_at", "DateTime('UTC')", EVENT, "time", "when it was applied (UTC)", default="DEFAULT now()"),
      )),
)

CREATE_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations
(
    version     UInt32,
    name        String,
    checksum    String,
    applied_at  DateTime('UTC') DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY version
"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    def statements(self) -> list[str]:
        return split_statements(self.path.read_text())

    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()[:16]


GUARD = "-- when: "
EMBEDDED_ONLY = "-- embedded store only"


def split_statements(sql: str) -> list[str]:
    """Statements separated by ';' at the end of a line; '--' comment lines dropped
    except `-- embedded store only` and a `-- when:` guard, which stay the first
    lines of their statement."""
    lines = [line for line in sql.splitlines()
             if line.startswith((GUARD, EMBEDDED_ONLY)) or not line.strip().startswith("--")]
    return [s.strip() for s in re.split(r";\s*$", "\n".join(lines), flags=re.M) if s.strip()]


def execute(client, statement: str, embedded: bool) -> bool:
    """Run one statement of a migration, unless it is for the embedded store only
    and this is a server, or its guard says no; True when it ran."""
    if statement.startswith(EMBEDDED_ONLY):
        if not embedded:
            return False
        statement = statement.partition("\n")[2]
    if statement.startswith(GUARD):
        guard, _, statement = statement.partition("\n")
        rows = client.query(guard[len(GUARD):]).result_rows
        if not rows or not rows[0][0]:
            return False
    client.command(statement)
    return True


def available(folder: Path | None = None) -> list[Migration]:
    folder = folder or data_dir("sql")
    found = []
    for path in sorted(folder.iterdir()):
        m = MIGRATION_FILE.match(path.name)
        if m:
            found.append(Migration(int(m.group(1)), m.group(2), path))
    versions = [m.version for m in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"duplicate migration versions in {folder}")
    return found


def apply_pending(client, folder: Path | None = None, upto: int | None = None,
                  embedded: bool = True) -> list[Migration]:
    """Apply the migrations not yet recorded, in order (up to version `upto`)."""
    client.command(CREATE_LEDGER)
    done = {row[0] for row in client.query("SELECT version FROM schema_migrations").result_rows}
    applied = []
    for migration in available(folder):
        if migration.version in done or (upto is not None and migration.version > upto):
            continue
        for statement in migration.statements():
            execute(client, statement, embedded)
        client.insert(
            "schema_migrations",
            [[migration.version, migration.name, migration.checksum()]],
            column_names=["version", "name", "checksum"],
        )
        applied.append(migration)
    return applied
