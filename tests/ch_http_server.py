"""A ClickHouse-HTTP-compatible test server backed by chDB (the ClickHouse engine
in-process), for the remote-store paths: no modern ClickHouse server can be
installed on our machines (design.md). It speaks what clickhouse-connect uses:
queries in the URL or body, `database`, `param_*` query parameters, settings as
URL parameters, inserts as `INSERT ... FORMAT <fmt>` with the data as the body
(lz4/zstd/gzip/deflate/br content encodings), Basic or X-ClickHouse-User/Key
authentication, and ClickHouse's error format and headers.

A request carrying `readonly` runs on a handle of its own with that setting, as
a server applies URL settings to one request. What it does not do, so tests
cannot rely on it: sessions (settings do not persist between requests),
progress headers, query cancellation,
HTTP compression of responses.

Run: python tests/ch_http_server.py --port P --path DIR [--user U --password PW]
[--no-create-database] [--tls-cert PEM --tls-key PEM]. It prints "ready" on stdout when listening."""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import sys
import tempfile
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

TRANSPORT_PARAMS = {"query", "database", "session_id", "session_timeout", "session_check", "query_id",
                    "default_format", "compress", "decompress", "enable_http_compression", "wait_end_of_query",
                    "user", "password", "quota_key", "buffer_size", "send_progress_in_http_headers",
                    "http_headers_progress_interval_ms", "role", "client_protocol_version"}
INSERT = re.compile(r"^\s*INSERT\s+INTO\s+(?P<target>.+?)\s+FORMAT\s+(?P<fmt>\w+)\s*$", re.I | re.S)
INSERT_IN_BODY = re.compile(rb"^(\s*INSERT\s+INTO\s+.+?\s+FORMAT\s+\w+)[ \t]*\r?\n?", re.I | re.S)
FORMAT_CLAUSE = re.compile(r"\bFORMAT\s+(\w+)\s*;?\s*$", re.I)
CREATE_DATABASE = re.compile(r"^\s*CREATE\s+DATABASE\b", re.I)
SETTING_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _decompress(data: bytes, encoding: str) -> bytes:
    encoding = (encoding or "").lower()
    if encoding in ("", "identity"):
        return data
    if encoding == "gzip":
        import gzip
        return gzip.decompress(data)
    if encoding == "deflate":
        import zlib
        return zlib.decompress(data)
    if encoding == "zstd":
        import zstandard
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    if encoding == "lz4":
        import lz4.frame
        return lz4.frame.decompress(data)
    if encoding == "br":
        import brotli
        return brotli.decompress(data)
    raise ValueError(f"unsupported content encoding {encoding}")


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Engine:
    """One chDB connection; ClickHouse sessions are emulated by applying each
    request's settings around its statement, under one lock."""

    def __init__(self, path: str, allow_create_database: bool):
        import chdb
        self.conn = chdb.connect(path)
        self.path = path
        self.lock = threading.Lock()
        self.allow_create_database = allow_create_database
        self.inserts = 0

    def run(self, sql: str, fmt: str, database: str, settings: dict[str, str], params: dict[str, str],
            data: bytes | None) -> bytes:
        with self.lock:
            if database:
                self.conn.query(f"USE `{database}`")
            if data is not None:
                return self._insert(sql, data, settings)
            if CREATE_DATABASE.match(sql) and not self.allow_create_database:
                raise PermissionError("Code: 497. DB::Exception: test: Not enough privileges. To execute this "
                                      "query, it's necessary to have the grant CREATE DATABASE ON *.*. "
                                      "(ACCESS_DENIED)")
            if "readonly" in settings:
                return self._run_read_only(sql, fmt, database, settings, params)
            applied = []
            try:
                for name, value in settings.items():
                    self.conn.query(f"SET {name} = {_quote(value)}")
                    applied.append(name)
                result = self.conn.query(sql, fmt, params=params)
                return result.bytes() if hasattr(result, "bytes") else bytes(result)
            finally:
                for name in applied:
                    self.conn.query(f"SET {name} = DEFAULT")

    def _run_read_only(self, sql, fmt, database, settings, params) -> bytes:
        """A server applies a request's readonly with its other settings, for that
        request only: here, a fresh handle with readonly set last (it freezes the rest)."""
        import chdb
        conn = chdb.connect(self.path)
        try:
            if database:
                conn.query(f"USE `{database}`")
            for name, value in sorted(settings.items(), key=lambda item: item[0] == "readonly"):
                conn.query(f"SET {name} = {_quote(value)}")
            result = conn.query(sql, fmt, params=params)
            return result.bytes() if hasattr(result, "bytes") else bytes(result)
        finally:
            conn.close()

    def _insert(self, sql: str, data: bytes, settings: dict[str, str]) -> bytes:
        m = INSERT.match(sql)
        if not m:
            raise ValueError("Code: 62. DB::Exception: the test server takes data only for INSERT ... FORMAT "
                             "(SYNTAX_ERROR)")
        with tempfile.NamedTemporaryFile(suffix=".data", delete=False) as f:
            f.write(data)
        try:
            clause = ", ".join(f"{k} = {_quote(v)}" for k, v in settings.items())
            self.conn.query(f"INSERT INTO {m.group('target')} FROM INFILE {_quote(f.name)}"
                            f"{' SETTINGS ' + clause if clause else ''} FORMAT {m.group('fmt')}")
            self.inserts += 1
        finally:
            os.unlink(f.name)
        return b""


class Handler(BaseHTTPRequestHandler):
    engine: Engine
    user = "default"
    password = ""
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):   # quiet: tests read stdout
        pass

    def do_GET(self):
        self._handle(b"")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        self._handle(body)

    def _read_chunked(self) -> bytes:
        out = bytearray()
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return bytes(out)
            out += self.rfile.read(size)
            self.rfile.readline()

    def _authorized(self, params) -> bool:
        user, password = self.headers.get("X-ClickHouse-User"), self.headers.get("X-ClickHouse-Key")
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        user = user or params.get("user") or "default"
        password = password if password is not None else params.get("password", "")
        return user == self.user and (password or "") == self.password

    def _handle(self, body: bytes):
        parts = urlsplit(self.path)
        if parts.path == "/ping":
            return self._reply(200, b"Ok.\n")
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        if not self._authorized(params):
            return self._error(516, f"Code: 516. DB::Exception: {self.headers.get('X-ClickHouse-User') or 'user'}: "
                                    "Authentication failed: password is incorrect, or there is no user with such "
                                    "name. (AUTHENTICATION_FAILED)")
        try:
            body = _decompress(body, self.headers.get("Content-Encoding", ""))
        except Exception as e:
            return self._error(400, f"Code: 1001. DB::Exception: {e}. (STD_EXCEPTION)")
        query = params.get("query")
        data = None
        if query is not None and body:
            query, data = query + " " + body.decode("utf-8", "replace"), None
            if INSERT.match(params["query"]):
                query, data = params["query"], body
        elif query is None:
            # the query text, then (for INSERT ... FORMAT) the data after one whitespace character
            m = INSERT_IN_BODY.match(body)
            if m:
                query, data = m.group(1).decode(), body[m.end():]
            else:
                query = body.decode("utf-8", "replace")
        settings = {k: v for k, v in params.items()
                    if k not in TRANSPORT_PARAMS and not k.startswith("param_") and SETTING_NAME.match(k)}
        bind = {k[6:]: v for k, v in params.items() if k.startswith("param_")}
        m = FORMAT_CLAUSE.search(query)
        fmt = m.group(1) if m else params.get("default_format", "TabSeparated")
        try:
            result = self.engine.run(query, fmt, params.get("database", ""), settings, bind, data)
        except Exception as e:
            text = " ".join(str(e).split())
            code = re.search(r"Code: (\d+)", text)
            return self._error(500 if not code or code.group(1) != "81" else 404, text,
                               code.group(1) if code else "1000")
        self._reply(200, result, {"X-ClickHouse-Format": fmt})

    def _reply(self, status: int, payload: bytes, extra: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-ClickHouse-Server-Display-Name", "pyperf-chdb-test-server")
        self.send_header("X-ClickHouse-Query-Id", str(uuid.uuid4()))
        self.send_header("X-ClickHouse-Timezone", "UTC")
        self.send_header("X-ClickHouse-Summary", json.dumps({"read_rows": "0", "written_rows": "0"}))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, text: str, code: str = "516"):
        self._reply(status, (text + "\n").encode(), {"X-ClickHouse-Exception-Code": code})


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--path", required=True)
    ap.add_argument("--user", default="default")
    ap.add_argument("--password", default="")
    ap.add_argument("--no-create-database", action="store_true")
    ap.add_argument("--tls-cert", help="serve https with this certificate (PEM) ...")
    ap.add_argument("--tls-key", help="... and key")
    args = ap.parse_args()
    Handler.engine = Engine(args.path, allow_create_database=not args.no_create_database)
    Handler.user, Handler.password = args.user, args.password
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    if args.tls_cert:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print("ready", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
