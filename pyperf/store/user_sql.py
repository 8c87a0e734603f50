"""SQL typed by users (the web console, POST /api/sql, `pyperf sql`), which runs
inside an agent that is root. Read-only by construction, not by string matching:

1. The engine parses the text (`parseQueryToJSON`, the text passed as a bound
   parameter): anything but exactly one statement is a syntax error there.
2. The parsed tree must be a SELECT, SHOW TABLES or EXPLAIN, with no INTO
   OUTFILE, no FORMAT clause, no table function outside a short allow list
   (deny by default: file, url, remote, s3, executable, python, ... all fail)
   and no scalar function that reads files.
3. What runs is the engine's own single-line rendering of that tree, so the
   statement checked is the statement executed.
4. It runs on a dedicated session whose limits (time, result rows and bytes,
   memory) and then `readonly = 1` were set before any user text arrived;
   readonly = 1 also forbids changing any setting afterwards, so a query's
   `SETTINGS readonly = 0` or `max_execution_time = 0` is refused by the engine.
5. Each query carries a marker comment, so shutdown can KILL it in the engine
   instead of waiting for it (SIGTERM must stop `pyperf up` within seconds).

Measured on chDB 26.9 (docs/security.md): readonly = 1 alone refuses file(),
url(), remote(), executable() as table functions but lets INTO OUTFILE write
and lets the scalar function file('/etc/shadow') read: hence the parse."""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass
from typing import NamedTuple

from pyperf.errors import StoreError
from pyperf.store.clients import ClientPool
from pyperf.store.store import QueryResult, Store, _one_line

log = logging.getLogger("pyperf.sql")

STATEMENTS = {"SelectWithUnionQuery", "SelectIntersectExceptQuery", "ShowTablesQuery", "ExplainQuery"}
# Table functions that read nothing but the store or generate rows; every other
# one (file, url, s3, remote, executable, python, mysql, dictionary, ...) is refused.
TABLE_FUNCTIONS = {"numbers", "numbers_mt", "zeros", "zeros_mt", "generate_series", "generateseries",
                   "values", "view", "merge", "null", "generaterandom", "primes"}
# Scalar functions that reach outside the engine: file() reads any path as root
# in an embedded engine (clickhouse-local has no user_files_path jail).
DENIED_FUNCTIONS = {"file", "catboostevaluate", "naivebayesclassifier", "naivebayesclassifierwithprob",
                    "naivebayesclassifierwithallprobs"}
MARKER = "/* pyperf-user-sql "


class QueryRefused(StoreError):
    """A user statement that is not a single read-only query."""


class SqlBusy(StoreError):
    """Every read-only session is busy with another query."""


@dataclass(frozen=True)
class SqlLimits:
    timeout_s: float = 30.0
    max_result_rows: int = 100_000
    max_result_bytes: int = 64 << 20
    max_memory_bytes: int = 512 << 20

    def session_settings(self) -> dict[str, object]:
        """In the order they are set: readonly last, since it freezes the others."""
        return {
            "max_execution_time": self.timeout_s,
            "timeout_overflow_mode": "throw",
            "max_result_rows": self.max_result_rows,
            "max_result_bytes": self.max_result_bytes,
            "result_overflow_mode": "throw",
            "max_memory_usage": self.max_memory_bytes,
            "readonly": 1,
        }


def check_tree(tree: dict) -> None:
    """Refuse what a read-only console must not run; `tree` is parseQueryToJSON's output."""
    kind = tree.get("type")
    if kind not in STATEMENTS:
        raise QueryRefused(f"query refused: only SELECT, SHOW TABLES and EXPLAIN are accepted "
                           f"(this is a {kind or 'statement of another kind'})")
    for node in _walk(tree):
        if "out_file" in node or node.get("is_into_outfile_with_stdout"):
            raise QueryRefused("query refused: INTO OUTFILE is not accepted (download results from the API)")
        if "format_ast" in node:
            raise QueryRefused("query refused: FORMAT is chosen by the caller (--format, or the API's format)")
        table_function = node.get("table_function")
        if isinstance(table_function, dict):
            name = str(table_function.get("name", ""))
            if name.lower() not in TABLE_FUNCTIONS:
                raise QueryRefused(f"query refused: table function {name}() is not accepted "
                                   f"(allowed: {', '.join(sorted(TABLE_FUNCTIONS))})")
        if node.get("type") == "Function":
            name = str(node.get("name", ""))
            if name.lower() in DENIED_FUNCTIONS:
                raise QueryRefused(f"query refused: function {name}() reads outside the store")


def _walk(node):
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


class ReadOnlySQL:
    """A small pool of read-only sessions on the store, for user SQL."""

    def __init__(self, store: Store, limits: SqlLimits | None = None, sessions: int = 2):
        self.store = store
        self.limits = limits or SqlLimits()
        self._sessions: ClientPool[_Session] = ClientPool(
            self._open_session, lambda session: session.client.close(), max_idle=sessions, max_open=sessions,
            busy=lambda: SqlBusy(f"all {sessions} SQL sessions are busy; try again when a query finishes"))
        self._closed = False

    # -- sessions ---------------------------------------------------------
    def _open_session(self) -> "_Session":
        client = self.store._connect(self.store.address.database)
        settings = self.limits.session_settings()
        if self.store.address.embedded:
            # a chDB handle keeps SET for its life: the session is read-only from here on
            for name, value in settings.items():
                client.command(f"SET {name} = {_literal(value)}")
            session = _Session(client, None)
        else:
            # over HTTP every request carries them as URL parameters, ahead of the query text
            session = _Session(client, settings)
        readonly = session.query("SELECT getSetting('readonly')").result_rows
        if not readonly or int(readonly[0][0]) != 1:
            client.close()
            raise StoreError("the store did not accept a read-only session; user SQL is disabled")
        return session

    # -- queries ----------------------------------------------------------
    def prepare(self, session: "_Session", sql: str) -> str:
        """The engine's rendering of the one read-only statement in `sql`, or QueryRefused."""
        try:
            tree_json, canonical = session.query(
                "SELECT parseQueryToJSON({q:String}), formatQuerySingleLine({q:String})", {"q": sql}).result_rows[0]
        except Exception as e:
            text = _one_line(e)
            if "does not support JSON serialization" in text or "not supported by parseQueryToJSON" in text:
                raise QueryRefused("query refused: only SELECT, SHOW TABLES and EXPLAIN are accepted") from None
            # the engine's reason, without our wrapper query that it quotes
            text = re.sub(r"^Code: \d+\. DB::Exception: ", "", text.split(": In scope SELECT parseQueryToJSON")[0])
            raise QueryRefused(f"query refused: {text}") from None
        check_tree(json.loads(tree_json))
        return canonical

    def query(self, sql: str, parameters: dict | None = None, wait_s: float = 5.0) -> QueryResult:
        if self._closed:
            raise StoreError("pyperf is stopping")
        if not isinstance(sql, str) or not sql.strip():
            raise QueryRefused("query refused: empty query")
        session = self._sessions.acquire(wait_s)
        healthy = False
        try:
            statement = f"{MARKER}{uuid.uuid4().hex} */ {self.prepare(session, sql)}"
            try:
                result = session.query(statement, parameters or None)
            except Exception as e:
                raise StoreError(f"query failed: {_one_line(e)}") from None
            healthy = True
            return QueryResult(list(result.column_names), [tuple(r) for r in result.result_rows])
        except QueryRefused:
            healthy = True
            raise
        finally:
            self._release(session, healthy)

    def _release(self, session: "_Session", healthy: bool) -> None:
        # a chDB handle whose query failed half-way (limit hit, killed) can answer the
        # next query with an empty result: a failed session is closed, never reused
        self._sessions.release(session, reuse=healthy and not self._closed)

    def cancel_all(self) -> None:
        """KILL every user query still running (from a session that may)."""
        try:
            self.store.command(f"KILL QUERY WHERE startsWith(query, '{MARKER}') ASYNC")
        except StoreError as e:
            log.warning("could not cancel running user queries: %s", _one_line(e))

    def close(self) -> None:
        """Cancel what runs (its sessions close as the queries end) and close the idle sessions."""
        self._closed = True
        self.cancel_all()
        self._sessions.close()

    def __enter__(self) -> "ReadOnlySQL":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class _Session(NamedTuple):
    """A read-only client and the settings each of its requests carries (None when
    the engine session itself holds them)."""

    client: object
    settings: dict | None

    def query(self, sql: str, parameters: dict | None = None):
        return self.client.query(sql, parameters=parameters, settings=self.settings)


def _literal(value) -> str:
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return repr(value)

