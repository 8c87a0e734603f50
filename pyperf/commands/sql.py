"""`pyperf sql`: run SQL against the store. When a `pyperf up` holds the embedded
store, the query goes through its web API, since only one process may open it.
Read-only everywhere (pyperf.store.user_sql); `--write` opens a store that no
agent holds with full rights, for an administrator who means it."""

from __future__ import annotations

from pyperf.commands import running_agent
from pyperf.commands.output import render
from pyperf.errors import StoreBusyError, UsageError
from pyperf.store.dsn import resolve_address
from pyperf.store.lock import StoreLock, holder
from pyperf.store.store import Store
from pyperf.store.user_sql import ReadOnlySQL


def run(args) -> int:
    if args.write:
        execute_write(args.store, args.query, dict(args.param) or None)
        return 0
    columns, rows = run_query(args.store, args.query, dict(args.param) or None)
    print(render(columns, rows, args.format))
    return 0


def run_query(store_dsn: str | None, sql: str, parameters: dict | None = None) -> tuple[list[str], list]:
    """Run read-only SQL against the store: through a running `pyperf up` when it
    holds the embedded store, else by opening the store for this one query."""
    address = resolve_address(store_dsn)
    agent = running_agent.agent_for(address, "sql")
    if agent is not None:
        body = running_agent.call(agent, "/api/sql", {"sql": sql, "parameters": parameters or {}})
        return body["columns"], body["rows"]
    with running_agent.store_of_my_own(address, "sql") as store:
        result = ReadOnlySQL(store, sessions=1).query(sql, parameters)
    return result.column_names, result.rows


def execute_write(store_dsn: str | None, sql: str, parameters: dict | None = None) -> None:
    address = resolve_address(store_dsn)
    if not address.embedded:
        raise UsageError("--write is for an embedded store; use the server's own client for a ClickHouse server")
    owner = holder(address.path)
    if owner is not None:
        raise StoreBusyError(f"--write needs the store to itself: stop pyperf {owner.get('command', '?')} "
                             f"(pid {owner.get('pid', '?')}) first")
    with StoreLock(address.path, "sql --write"):
        store = Store(address)
        try:
            store.open()
            store.command(sql, parameters)
        finally:
            store.close()
