"""The only code that talks to ClickHouse (embedded chDB or a server), through
clickhouse-connect. Every failure becomes a one-line StoreError."""

from __future__ import annotations

import importlib
import logging
import os
import re
import socket
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass

from pyperf.errors import StoreError
from pyperf.kernel.resident import release_library_pages, trim_heap
from pyperf.resources import data_dir
from pyperf.store import migrations, schema_check
from pyperf.store.clients import ClientPool
from pyperf.store.dsn import StoreAddress
from pyperf.store.insert_columns import for_insert

log = logging.getLogger("pyperf.store")

@dataclass
class QueryResult:
    column_names: list[str]
    rows: list[tuple]


# a name that does not resolve at all is more likely a typo than an outage: not in here
UNREACHABLE = ("Connection refused", "timed out", "No route to host", "Temporary failure in name resolution",
               "Connection aborted", "Connection reset")
NETWORK_ERRORS = ("Connection refused", "Name or service not known", "timed out",
                  "No route to host", "Temporary failure in name resolution", "certificate verify failed")


# ClickHouse error codes after which the same insert may well succeed later.
TRANSIENT_CODES = {
    81,    # UNKNOWN_DATABASE (a server being rebuilt)
    159,   # TIMEOUT_EXCEEDED
    202,   # TOO_MANY_SIMULTANEOUS_QUERIES
    203,   # NO_FREE_CONNECTION
    209,   # SOCKET_TIMEOUT
    210,   # NETWORK_ERROR
    236,   # ABORTED
    241,   # MEMORY_LIMIT_EXCEEDED
    242,   # TABLE_IS_READ_ONLY
    252,   # TOO_MANY_PARTS
    285,   # TOO_FEW_LIVE_REPLICAS
    319,   # UNKNOWN_STATUS_OF_INSERT
    425,   # SYSTEM_ERROR
    516,   # AUTHENTICATION_FAILED (a password being rotated)
    999,   # KEEPER_EXCEPTION
}


def is_transient(e: Exception) -> bool:
    """Whether an insert that failed so may succeed later: network failures, HTTP
    errors without a ClickHouse exception, and the codes above. Anything else (a
    type mismatch, a missing column, a client-side data error) would fail again."""
    text = str(e)
    code = re.search(r"Code: (\d+)\. DB::Exception", text)
    if code is not None:
        return int(code.group(1)) in TRANSIENT_CODES
    try:
        from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError
    except ImportError:
        return isinstance(e, OSError)
    if isinstance(e, OperationalError) or isinstance(e, OSError):
        return True
    if isinstance(e, DatabaseError):
        return bool(re.search(r"HTTP status 5\d\d", text))
    return not isinstance(e, (ValueError, TypeError, KeyError, IndexError, AttributeError))


def is_unreachable(e: Exception) -> bool:
    """Nothing answered: connection refused, timed out, no route, name not resolved."""
    text = " ".join(str(e).split())
    return "DB::Exception" not in text and any(reason in text for reason in UNREACHABLE)


def _one_line(e: Exception) -> str:
    text = " ".join(str(e).split())
    for reason in NETWORK_ERRORS:
        if reason in text:
            return reason.lower()
    status = re.search(r"received HTTP status (\d+)", text)
    if status and "DB::Exception" not in text:
        return f"HTTP {status.group(1)} from the server: is it ClickHouse's HTTP interface?"
    # ClickHouse messages carry a stack trace and version noise after the reason.
    text = re.sub(r"\s*\(version [^)]*\)\s*$", "", text)
    text = re.split(r"\.? Stack trace", text)[0]
    m = re.search(r"(Code: \d+\. DB::Exception: .*?)(?: \(\w+\))?(?:$|\. \()", text)
    if m:
        text = m.group(1)
    return text[:400]


class SchemaMissing(Exception):
    """A table or column an insert names is not in the store (worded as the server would)."""


# UNKNOWN_TABLE, NO_SUCH_COLUMN_IN_TABLE, THERE_IS_NO_COLUMN, UNKNOWN_IDENTIFIER
MISSING_SCHEMA_CODES = {60, 16, 8, 47}


def _missing_schema(e: Exception) -> bool:
    code = re.search(r"Code: (\d+)\. DB::Exception", str(e))
    return code is not None and int(code.group(1)) in MISSING_SCHEMA_CODES


# the embedded engine's server settings: its idle background work (sql/embedded_engine.xml)
# max_threads: the embedded engine shares the host it watches, so its queries and
# rollups run on one thread, which on the 2-vCPU hosts measured was also faster
# (the dashboard's 24 h pages 5-20 % at p50, and no 100 ms stalls from two threads
# contending with the agent's own; docs/performance.md); a server sizes its own.
# A session default, not a per-call setting: the client applies a command's
# settings with four statements (read, SET, the command, SET back), ~5 ms each.
EMBEDDED_OPTIONS = {"config-file": str(data_dir("sql") / "embedded_engine.xml"), "max_threads": "1"}
# the embedded engine's code: pages only a start-up or a rollup ran are given back (kernel/resident.py)
CHDB_LIBRARIES = ("_chdb.abi3", "libchdb")


def _no_dataframes() -> None:
    """pyperf hands the client lists, never DataFrames; left alone, the client
    imports pandas on the first insert only to ask whether the data is one
    (75 MB resident for an agent that never uses it)."""
    from clickhouse_connect.driver import options

    for name in ("pd", "pl"):
        if name not in vars(options):
            setattr(options, name, None)


def _chdb_without_arrow() -> None:
    """chDB imports pyarrow as it is imported, for its Arrow APIs, which pyperf
    does not call (the client reads and writes Native): ~40 MB resident (Arrow's
    libraries and modules) in every agent. chDB is imported with pyarrow hidden
    and falls back as it does without it; pyarrow itself stays importable, and
    a Parquet export loads it when one is asked for."""
    if "chdb" in sys.modules or "pyarrow" in sys.modules:
        return
    sys.modules["pyarrow"] = None       # makes `import pyarrow` raise ImportError
    try:
        importlib.import_module("chdb.state.sqlitelike")     # the module that asks for pyarrow
    finally:
        if "pyarrow" in sys.modules and sys.modules["pyarrow"] is None:
            del sys.modules["pyarrow"]


class Store:
    def __init__(self, address: StoreAddress, host_name: str | None = None):
        self.address = address
        # PYPERF_HOST_NAME (--host-name): agents in containers or with unhelpful host names
        self.host_name = host_name or os.environ.get("PYPERF_HOST_NAME") or socket.gethostname()
        self.clients = ClientPool(lambda: self._connect(self.address.database), _close_quietly,
                                  max_idle=self.IDLE_CLIENTS)
        self._merge_holds = 0             # merges_held blocks running now
        self._merge_holds_lock = threading.Lock()
        self.ready = False            # database created and migrated
        self._heal_tried: dict[str, float] = {}
        self._types: dict[str, dict[str, str]] | None = None    # {table: {column: type}}, for inserts

    # -- connecting ------------------------------------------------------
    def open(self, migrate: bool = True, upto: int | None = None, heal: bool = True) -> "Store":
        if self.address.embedded:
            self._prepare_embedded_path()
        bootstrap = self._connect(database=None)
        try:
            bootstrap.command(f"CREATE DATABASE IF NOT EXISTS `{self.address.database}`")
        except Exception as e:
            raise StoreError(
                f"store {self.address.redacted()}: database '{self.address.database}' is missing "
                f"and cannot be created: {_one_line(e)}"
            ) from None
        finally:
            bootstrap.close()
        if migrate:
            try:
                with self.connection() as client:
                    migrations.apply_pending(client, upto=upto, embedded=self.address.embedded)
            except StoreError:
                raise
            except Exception as e:
                raise StoreError(f"store {self.address.redacted()}: migration failed: {_one_line(e)}",
                                 transient=is_transient(e)) from None
            if heal and upto is None:
                self.heal()
        if self.address.embedded:
            # the engine's initialisation and the schema check ran code that will not run again:
            # its pages, given back before anything else maps its own (an agent's compiles next)
            release_library_pages(CHDB_LIBRARIES)
        self.ready = True
        return self

    def _prepare_embedded_path(self) -> None:
        path = self.address.path
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create store folder {path}: {e.strerror}") from None
        if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
            raise StoreError(f"store folder {path} is not readable and writable by this user (try sudo)")

    def _connect(self, database: str | None):
        try:
            import clickhouse_connect
        except ImportError as e:
            raise StoreError(f"clickhouse-connect is not installed: {e}; run scripts/install.sh") from None
        _no_dataframes()
        a = self.address
        try:
            if a.embedded:
                _chdb_without_arrow()
                kwargs = {"database": database} if database else {}
                client = clickhouse_connect.get_client(dsn=f"chdb://{a.path}", chdb_options=EMBEDDED_OPTIONS,
                                                       **kwargs)
            else:
                client = clickhouse_connect.get_client(
                    host=a.host, port=a.port, username=a.username, password=a.password,
                    database=database or "", secure=a.scheme == "https",
                    verify=a.verify, ca_cert=a.ca_file or None,
                    connect_timeout=5, send_receive_timeout=30,
                )
        except Exception as e:  # the HTTP layer raises plain exceptions for non-ClickHouse peers
            raise StoreError(f"cannot open store {a.redacted()}: {_one_line(e)}",
                             transient=is_transient(e), unreachable=is_unreachable(e)) from None
        return client

    IDLE_CLIENTS = 4

    def connection(self):
        """A client for the block, no other thread's meanwhile (pyperf.store.clients)."""
        return self.clients.lent()

    def close(self) -> None:
        self.clients.close()

    def heal(self) -> list[str]:
        """Recreate tables, views and columns that went missing (schema_check)."""
        try:
            with self.connection() as client:
                repaired = schema_check.check_and_heal(client, self.address.embedded)
        except Exception as e:
            raise StoreError(f"store {self.address.redacted()}: schema repair failed: {_one_line(e)}",
                             transient=is_transient(e)) from None
        for line in repaired:
            log.warning("store %s repaired: %s", self.address.redacted(), line)
        return repaired

    def describe(self) -> dict[str, dict]:
        """The live schema, as schema_check.describe() reads it."""
        with self.connection() as client:
            return schema_check.describe(client)

    # -- reading and writing ----------------------------------------------
    def insert(self, table: str, columns: dict[str, list], token: str | None = None) -> int:
        """Insert one columnar batch; the store adds the host column. With a
        token, a repeat of the same batch is dropped by the server (tables keep
        a deduplication window, sql/0018)."""
        if not columns:
            return 0
        n = len(next(iter(columns.values())))
        if n == 0:
            return 0
        if not self.ready:
            # an agent started while the server was unreachable: set it up now (or fail again, transiently)
            self.open()
        names = list(columns) + ["host"]
        settings = {"insert_deduplication_token": token} if token else None
        for attempt in (1, 2):
            try:
                # the column types are known, so the client asks no DESCRIBE per insert
                types = self._column_types(table, names)
                data = [for_insert(columns[name], types[i]) for i, name in enumerate(names[:-1])]
                data.append([self.host_name] * n)
                with self.connection() as client:
                    context = client.create_insert_context(table, names, column_type_names=types,
                                                           column_oriented=True, settings=settings)
                    try:
                        client.insert(data=data, context=context)
                    finally:
                        # the client's InsertContext refers to itself (a bound method of its own):
                        # the batch it holds would wait for Python's cyclic collector, in its oldest
                        # generation by then; a flush's slices piled up until it ran and a minute
                        # of rows stayed after it (scripts/bench/writer_memory.py)
                        vars(context).clear()
                return n
            except StoreError:
                raise
            except Exception as e:
                error = e
            self._types = None   # the schema may have changed under us
            if attempt == 1 and _missing_schema(error) and self._may_heal(table):
                # a table or column dropped under us: repair once, then this batch goes in
                try:
                    if self.heal():
                        continue
                except StoreError as heal_error:
                    log.error("%s", heal_error)
            break
        raise StoreError(f"insert into {table} failed: {_one_line(error)}", transient=is_transient(error)) from None

    HEAL_EVERY_S = 60.0

    def _may_heal(self, table: str) -> bool:
        """At most one repair attempt per table a minute: a table that cannot be
        repaired must not cost a schema check on every batch."""
        now = time.monotonic()
        if now - self._heal_tried.get(table, -self.HEAL_EVERY_S) < self.HEAL_EVERY_S:
            return False
        self._heal_tried[table] = now
        return True

    def _column_types(self, table: str, names: list[str]) -> list[str]:
        """Types of `names` in `table`, from one read of system.columns kept until an
        insert fails (read again when a name is not in it); a table or column
        that is not there raises what the server would (and so may be healed)."""
        if self._types is None or not set(names) <= self._types.get(table, {}).keys():
            types: dict[str, dict[str, str]] = {}
            with self.connection() as client:
                rows = client.query("SELECT table, name, type FROM system.columns "
                                    "WHERE database = currentDatabase()").result_rows
            for t, name, col_type in rows:
                types.setdefault(t, {})[name] = col_type
            self._types = types
        known = self._types.get(table)
        if not known:
            raise SchemaMissing(f"Code: 60. DB::Exception: Unknown table expression identifier '{table}'")
        missing = [name for name in names if name not in known]
        if missing:
            raise SchemaMissing(f"Code: 16. DB::Exception: No such column {missing[0]} in table {table}")
        return [known[name] for name in names]

    def query(self, sql: str, parameters: dict | None = None) -> QueryResult:
        """pyperf's own queries, with the agent's full rights: never user text
        (that goes through pyperf.store.user_sql)."""
        try:
            with self.connection() as client:
                result = client.query(sql, parameters=parameters)
            return QueryResult(list(result.column_names), [tuple(r) for r in result.result_rows])
        except Exception as e:
            raise StoreError(f"query failed: {_one_line(e)}") from None

    def query_columns(self, sql: str, parameters: dict | None = None) -> QueryResult:
        """query(), with `rows` holding one sequence per column: what the engine sends,
        without turning 70 000 rows into tuples for a caller that works on columns."""
        try:
            with self.connection() as client:
                result = client.query(sql, parameters=parameters)
            return QueryResult(list(result.column_names), list(result.result_columns))
        except Exception as e:
            raise StoreError(f"query failed: {_one_line(e)}") from None

    def command(self, sql: str, parameters: dict | None = None) -> None:
        """pyperf's own DDL and writes (and `pyperf sql --write` on a stopped store)."""
        try:
            with self.connection() as client:
                client.command(sql, parameters=parameters)
        except Exception as e:
            raise StoreError(f"statement failed: {_one_line(e)}") from None

    def release_memory(self, code_pages: bool = False) -> None:
        """After a flush: give freed memory back to the system. The C heap keeps
        what the minute's columns used; the embedded engine's allocator (jemalloc)
        keeps what a flush or a rollup used: ~70 MB after the first rollup on an
        idle host, ~100 MB after a large GROUP BY; the purge is an engine
        statement, ~5 ms (most of it any statement's cost in chDB: SELECT 1 too).
        `code_pages` (after the rollups, every few minutes): also the engine's
        code pages, ~40 MB that only a rollup runs, faulted back in from the page
        cache when one runs again. A server's memory is the server's business."""
        trim_heap()
        if not self.address.embedded:
            return
        try:
            self.command("SYSTEM JEMALLOC PURGE")
        except StoreError as e:
            log.debug("no allocator purge: %s", e)
        if code_pages:
            release_library_pages(CHDB_LIBRARIES)

    @contextmanager
    def merges_held(self):
        """No background merge in the embedded engine while the block runs: the ones
        running are cancelled (within ~50 ms; the engine redoes them later) and none
        starts. A flush's inserts and a merge of the parts the flush before made
        came at the same moment, each +40-60 MiB for a few tenths of a second: the
        agent's memory peaks over the level (docs/performance.md). Merges resume
        when the last hold ends (holds nest, from any thread: the engine's switch does
        not count), even when the block fails; a resume that failed is retried by
        the next hold. A server's merges are the server's business."""
        if not self.address.embedded:
            yield
            return
        with self._merge_holds_lock:
            self._merge_holds += 1
            if self._merge_holds == 1:
                try:
                    self.command("SYSTEM STOP MERGES")
                except StoreError as e:
                    log.debug("merges not held: %s", e)
        try:
            yield
        finally:
            with self._merge_holds_lock:
                self._merge_holds -= 1
                if self._merge_holds == 0:
                    try:
                        self.command("SYSTEM START MERGES")
                    except StoreError as e:
                        log.warning("merges not resumed (retried after the next flush): %s", e)

    def tables(self) -> dict[str, list[tuple[str, str, str]]]:
        """{table: [(column, type, comment)]} of our database (materialized views left out:
        they write into tables listed here)."""
        result = self.query(
            "SELECT table, name, type, comment FROM system.columns "
            "WHERE database = currentDatabase() AND table NOT IN (SELECT name FROM system.tables "
            "WHERE database = currentDatabase() AND engine = 'MaterializedView') ORDER BY table, position"
        )
        out: dict[str, list] = {}
        for table, name, col_type, comment in result.rows:
            out.setdefault(table, []).append((name, col_type, comment))
        return out


def _close_quietly(client) -> None:
    try:
        client.close()
    except Exception:
        pass
