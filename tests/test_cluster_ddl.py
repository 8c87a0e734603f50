"""sql/cluster/schema.sql is generated from the embedded schema, current, and
every statement parses in the ClickHouse engine. (No cluster can run here: what
was and was not tested against real servers is in docs/deploy.md.)"""

import tempfile
from pathlib import Path

from pyperf.schema import generate
from pyperf.store.dsn import parse_dsn
from pyperf.store.migrations import split_statements
from pyperf.store.store import Store

SCHEMA = Path(__file__).parent.parent / "sql" / "cluster" / "schema.sql"


def test_cluster_schema_is_current_and_parses():
    with tempfile.TemporaryDirectory() as scratch:
        store = Store(parse_dsn(f"chdb://{scratch}/store")).open()
        try:
            generated = generate.cluster_sql(store)
            assert generated == SCHEMA.read_text(), "run: python -m pyperf.schema.generate"
            statements = split_statements(generated)
            for statement in statements:
                store.query("SELECT formatQuery({q:String})", {"q": statement})
            tables = [r[0] for r in store.query("SELECT name FROM system.tables WHERE database = currentDatabase() "
                                                "AND engine LIKE '%MergeTree' AND name != 'schema_migrations'").rows]
        finally:
            store.close()
    text = SCHEMA.read_text()
    for table in tables:
        assert f"CREATE TABLE IF NOT EXISTS {table}_local ON CLUSTER" in text
        assert f"ENGINE = Distributed('{{cluster}}', currentDatabase(), {table}_local, cityHash64(host))" in text
    assert "non_replicated_deduplication_window" not in text
    assert "INSERT INTO schema_migrations (version, name, checksum) VALUES (1, 'disk'" in text
    assert len(statements) > 2 * len(tables)
