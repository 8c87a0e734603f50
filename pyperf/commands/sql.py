"""`pyperf sql`: run SQL against the store. When a `pyperf up` holds the embedded
store, the query goes through its web API, since only one process may open it.
Read-only everywhere (pyperf.store.user_sql); `--write` opens a store that no
agent holds with full rights, for an administrator who means it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from pyperf.commands.output import render
from pyperf.errors import StoreBusyError, StoreError, UsageError
from pyperf.store.dsn import resolve_address
from pyperf.store.lock import StoreLock, holder
from pyperf.store.store import Store
from pyperf.store.user_sql import ReadOnlySQL
from pyperf.web.auth import token_for_store


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
    lock = None
    if address.embedded:
        owner = holder(address.path)
        if owner is not None:
            if owner.get("listen"):
                return query_running(owner["listen"], sql, parameters, token_for_store(address))
            raise StoreBusyError(
                f"store {address.path} is in use by pyperf {owner.get('command', '?')} "
                f"(pid {owner.get('pid', '?')}); wait for it to finish"
            )
        lock = StoreLock(address.path, "sql")
        lock.acquire()
    store = Store(address)
    try:
        store.open()
        result = ReadOnlySQL(store, sessions=1).query(sql, parameters)
    finally:
        store.close()
        if lock:
            lock.release()
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


def query_running(listen: str, sql: str, parameters: dict | None = None,
                  token: str | None = None) -> tuple[list[str], list]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    host, _, port = listen.rpartition(":")
    if host in ("0.0.0.0", "::", "[::]", ""):
        host = "127.0.0.1"
    request = urllib.request.Request(
        f"http://{host}:{port}/api/sql", data=json.dumps({"sql": sql, "parameters": parameters or {}}).encode(),
        headers=headers, method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            body = json.load(response)
    except urllib.error.HTTPError as e:
        try:
            message = json.load(e).get("error", str(e))
        except ValueError:
            message = str(e)
        raise StoreError(message) from None
    except (urllib.error.URLError, OSError) as e:
        raise StoreError(f"the running pyperf up at {listen} did not answer: {e}") from None
    return body["columns"], body["rows"]
