"""Bad input ends in one line on stderr and a non-zero exit code, never a traceback."""

import http.server
import os
import shutil
import threading

import pytest
from conftest import require_root, run_pyperf


def assert_one_line_error(result, code: int, *fragments: str):
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert lines[0].startswith("pyperf: ") and not lines[0].startswith("pyperf: pyperf"), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize("dsn, fragment", [
    ("mysql://localhost/x", "unknown scheme mysql"),
    ("chdb://relative/path", "three slashes"),
    ("http://:8123/db", "no host name"),
    ("http://host:99999/db", "bad store address"),
    ("http://host:8123/a/b", "one database name"),
])
def test_bad_store_address(dsn, fragment):
    assert_one_line_error(run_pyperf("sql", "SELECT 1", store=dsn), 2, fragment)


def test_bad_store_address_from_environment():
    result = run_pyperf("sql", "SELECT 1", env={"PYPERF_STORE": "ftp://nowhere"})
    assert_one_line_error(result, 2, "unknown scheme ftp")


def test_unknown_probe(store_dsn):
    assert_one_line_error(run_pyperf("record", "--probes", "disk,nope", store=store_dsn), 2,
                          "unknown probe 'nope'", "available: containers, disk")


@pytest.mark.parametrize("args, fragment", [
    (["record", "--duration", "soon"], "not a duration"),
    (["record", "--interval", "10ms"], "at least 100ms"),
    (["record", "--interval", "2s", "--process-interval", "1s"], "--process-interval must be at least --interval"),
    (["up", "--listen", "localhost"], "HOST:PORT"),
    (["up", "--listen", "999.1.1.1:80"], "'999.1.1.1' is not a valid IP address"),
    (["up", "--sql-timeout", "0s"], "must be positive"),
    (["record", "--bogus"], "unrecognized arguments: --bogus"),
    (["record", "--duration"], "record: argument --duration: expected one argument"),
    (["sql", "SELECT 1", "--format", "xml"], "invalid choice"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_arguments(args, fragment, store_dsn):
    assert_one_line_error(run_pyperf(*args, store=store_dsn), 2, fragment)


def test_global_options_after_the_verb(store_dsn):
    """`pyperf sql --store X` and `pyperf --store X sql` are the same command."""
    after = run_pyperf("sql", "SELECT 41 + 1 AS answer", "--store", store_dsn, "--format", "csv")
    assert after.returncode == 0, after.stderr
    assert after.stdout.splitlines() == ["answer", "42"]
    before = run_pyperf("sql", "SELECT 1", "--format", "csv", store=store_dsn, check=True)
    assert before.stdout.splitlines() == ["1", "1"]


def test_store_path_that_cannot_be_created():
    require_root()
    result = run_pyperf("record", "--duration", "1s", store="chdb:///proc/pyperf-store")
    assert_one_line_error(result, 3, "cannot use store /proc/pyperf-store")


@pytest.fixture
def unprivileged_dir():
    """A folder the unprivileged user can reach (pytest's tmp_path is root-only)."""
    path = "/tmp/pyperf-unprivileged-test"
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    os.chmod(path, 0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_non_root_record_is_refused(unprivileged_dir):
    require_root()   # to switch to an unprivileged user
    result = run_pyperf("record", "--duration", "1s", store=f"chdb://{unprivileged_dir}/store",
                        user="65534")
    assert_one_line_error(result, 1, "needs root", "sudo")


def test_unreadable_store_folder(unprivileged_dir):
    require_root()
    store = os.path.join(unprivileged_dir, "store")
    os.makedirs(store, mode=0o700)
    result = run_pyperf("sql", "SELECT 1", store=f"chdb://{store}", user="65534")
    assert result.returncode != 0
    assert_one_line_error(result, 3, "not readable and writable")


def test_query_error_is_one_line(store_dsn):
    result = run_pyperf("sql", "SELECT no_such_column FROM disk_io", store=store_dsn)
    assert_one_line_error(result, 3, "query failed", "no_such_column")


def test_store_server_not_listening(free_port):
    result = run_pyperf("sql", "SELECT 1", store=f"http://127.0.0.1:{free_port}/pyperf")
    assert_one_line_error(result, 3, f"127.0.0.1:{free_port}")


def test_store_server_that_is_not_clickhouse():
    class NotClickHouse(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self._reply()

        def do_POST(self):
            self._reply()

        def _reply(self):
            body = b"<html><body>hello, I am a web server</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotClickHouse)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = run_pyperf("sql", "SELECT 1", store=f"http://127.0.0.1:{server.server_port}/pyperf")
    finally:
        server.shutdown()
    assert_one_line_error(result, 3, "store")
