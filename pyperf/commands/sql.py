"""`pyperf sql`: run SQL against the store. When a `pyperf up` holds the embedded
store, the query goes through its web API, since only one process may open it."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from pyperf.commands.output import render
from pyperf.errors import StoreBusyError, StoreError
from pyperf.store.dsn import resolve_address
from pyperf.store.lock import StoreLock, holder
from pyperf.store.store import READ_ONLY_STATEMENT, Store


def run(args) -> int:
    columns, rows = run_query(args.store, args.query, dict(args.param) or None)
    if READ_ONLY_STATEMENT.match(args.query):
        print(render(columns, rows, args.format))
    return 0


def run_query(store_dsn: str | None, sql: str, parameters: dict | None = None) -> tuple[list[str], list]:
    """Run SQL against the store: through a running `pyperf up` when it holds the
    embedded store, else by opening the store for this one query."""
    address = resolve_address(store_dsn)
    lock = None
    if address.embedded:
        owner = holder(address.path)
        if owner is not None:
            if owner.get("listen"):
                return query_running(owner["listen"], sql, parameters)
            raise StoreBusyError(
                f"store {address.path} is in use by pyperf {owner.get('command', '?')} "
                f"(pid {owner.get('pid', '?')}); wait for it to finish"
            )
        lock = StoreLock(address.path, "sql")
        lock.acquire()
    store = Store(address)
    try:
        store.open()
        result = store.query(sql, parameters)
    finally:
        store.close()
        if lock:
            lock.release()
    return result.column_names, result.rows


def query_running(listen: str, sql: str, parameters: dict | None = None) -> tuple[list[str], list]:
    request = urllib.request.Request(
        f"http://{listen}/api/sql", data=json.dumps({"sql": sql, "parameters": parameters or {}}).encode(),
        headers={"Content-Type": "application/json"}, method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
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
