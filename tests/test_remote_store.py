"""A ClickHouse server as the store (the chDB-backed HTTP test server): secrets
from a file or the environment and never echoed, TLS with a private CA, and
every misconfiguration as one line with exit code 3."""

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ClickHouseTestServer, run_pyperf, unused_port

PASSWORD = "s3cret-pw"
ROOT = Path(__file__).resolve().parents[1]


def _bare(server) -> str:
    scheme = "https" if server.tls else "http"
    return f"{scheme}://default@127.0.0.1:{server.port}/pyperf"


@pytest.fixture
def server(tmp_path, free_port):
    s = ClickHouseTestServer(tmp_path / "data", free_port, password=PASSWORD).start()
    yield s
    s.stop()


@pytest.fixture
def tls_server(tmp_path, free_port):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                    "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key),
                    "-out", str(cert)], check=True, capture_output=True)
    s = ClickHouseTestServer(tmp_path / "data", free_port, password=PASSWORD, tls=(cert, key)).start()
    yield s, cert
    s.stop()


def test_password_from_a_file_or_the_environment(server, tmp_path):
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    out = run_pyperf("--store-password-file", str(secret), "sql", "SELECT 40 + 2", "--format", "csv",
                     store=_bare(server), check=True)
    assert out.stdout.split()[-1] == "42"
    out = run_pyperf("sql", "SELECT 1", store=_bare(server), env={"PYPERF_STORE_PASSWORD": PASSWORD}, check=True)
    assert out.returncode == 0


def test_wrong_password_is_one_line_and_never_echoed(server, tmp_path):
    secret = tmp_path / "password"
    secret.write_text("not-the-password\n")
    for args, env in ((("--store-password-file", str(secret)), None),
                      ((), {"PYPERF_STORE_PASSWORD": "not-the-password"})):
        result = run_pyperf(*args, "-v", "record", "--probes", "system", "--duration", "1s",
                            store=_bare(server), env=env)
        assert result.returncode == 3, result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("pyperf: cannot open store") and "Authentication failed" in last
        assert "not-the-password" not in result.stderr + result.stdout
    result = run_pyperf("sql", "SELECT 1", store=server.dsn.replace(PASSWORD, "wrong-one"))
    assert result.returncode == 3 and "wrong-one" not in result.stderr and "default:***@" in result.stderr


def test_missing_password_file_is_a_usage_error(server, tmp_path):
    result = run_pyperf("--store-password-file", str(tmp_path / "nope"), "sql", "SELECT 1", store=_bare(server))
    assert result.returncode == 2 and "cannot read the store password file" in result.stderr


def test_database_that_is_missing_and_cannot_be_created(tmp_path, free_port):
    s = ClickHouseTestServer(tmp_path / "data", free_port, password=PASSWORD, create_database=False).start()
    try:
        result = run_pyperf("sql", "SELECT 1", store=s.dsn.replace("/pyperf", "/nosuch"))
    finally:
        s.stop()
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1 and "database 'nosuch' is missing and cannot be created" in result.stderr
    assert "Not enough privileges" in result.stderr


def test_tls_store_with_a_private_ca(tls_server):
    server, cert = tls_server
    result = run_pyperf("sql", "SELECT 1", store=server.dsn)
    assert result.returncode == 3 and result.stderr.count("\n") == 1
    assert "certificate verify failed" in result.stderr
    out = run_pyperf("--store-ca", str(cert), "sql", "SELECT 7", "--format", "csv", store=server.dsn, check=True)
    assert out.stdout.split()[-1] == "7"
    out = run_pyperf("--store-insecure", "sql", "SELECT 8", "--format", "csv", store=server.dsn, check=True)
    assert out.stdout.split()[-1] == "8"


def test_several_hosts_write_into_one_store_and_are_told_apart(server):
    import json
    import time
    import urllib.request

    from conftest import PyperfProcess, require_root

    from pyperf.store.dsn import parse_dsn
    from pyperf.store.store import Store

    require_root()
    agents = [PyperfProcess("--host-name", name, "record", "--probes", "system", "--duration", "3s",
                            "--flush-interval", "1s", store=server.dsn) for name in ("alpha", "beta")]
    for agent in agents:
        code, _, stderr = agent.finish(timeout=120)
        assert code == 0, stderr
    out = run_pyperf("sql", "SELECT count() FROM system_host WHERE host = {host:String}", "--param", "host=alpha",
                     "--format", "csv", store=server.dsn, check=True)
    assert 2 <= int(out.stdout.split()[-1]) <= 4
    hosts = run_pyperf("sql", "SELECT DISTINCT host FROM system_host ORDER BY host", "--format", "csv",
                       store=server.dsn, check=True)
    assert hosts.stdout.split()[1:] == ["alpha", "beta"]
    status = json.loads(run_pyperf("status", "--json", store=server.dsn, check=True).stdout)
    assert set(status) == {"alpha", "beta"}

    # the web UI of one agent shows another host's rows when asked
    alpha = Store(parse_dsn(server.dsn), host_name="alpha").open()
    now = time.time()
    alpha.insert("disk_io", {"ts": [now - 5], "interval_ms": [1000], "device": ["alpha-disk"], "op": ["read"],
                             "ios": [100], "bytes": [409600], "latency_sum_us": [5000], "latency_hist": [[0] * 32]})
    alpha.close()
    port = unused_port()
    up = PyperfProcess("--host-name", "beta", "up", "--listen", f"127.0.0.1:{port}", "--probes", "system",
                       store=server.dsn)
    try:
        up.wait_for("web UI on")
        def get(path):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
                return r.read().decode()
        assert "alpha-disk" in json.loads(get("/api/disk/series?seconds=120&host=alpha"))["devices"]
        assert "alpha-disk" not in json.loads(get("/api/disk/series?seconds=120"))["devices"]
        page = get("/")
        assert '<option value="alpha"' in page and '<option value="beta" selected' in page
    finally:
        up.stop()


def test_user_sql_on_a_server_is_read_only(server, tmp_path):
    """The same checks run on the server's parser, and readonly with the limits rides on
    every request: a query cannot lower them."""
    outfile = tmp_path / "written.txt"
    for sql, reason in (("DROP TABLE disk_io", "only SELECT"),
                        ("SELECT 1; DROP TABLE disk_io", "Multi-statements"),
                        ("SELECT file('/etc/shadow')", "function file()"),
                        (f"SELECT 1 INTO OUTFILE '{outfile}'", "INTO OUTFILE"),
                        ("SELECT 1 SETTINGS readonly = 0", "readonly")):
        result = run_pyperf("sql", sql, store=server.dsn)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 3 and len(lines) == 1 and reason in lines[0], (sql, result.stderr)
    assert not outfile.exists()
    out = run_pyperf("sql", "SELECT getSetting('readonly') AS ro, count() AS n FROM system.tables "
                            "WHERE database = currentDatabase() AND name = 'disk_io'", "--format", "csv",
                     store=server.dsn, check=True)
    assert out.stdout.splitlines()[1] == "1,1"
    assert run_pyperf("sql", "--write", "DROP TABLE disk_io", store=server.dsn).returncode == 2


def test_storing_rows_does_not_load_pandas(server):
    """The client would import pandas (75 MB resident) on the first insert only to
    ask whether the rows are a DataFrame; an agent on a remote store never needs it."""
    code = ("import sys, time\n"
            "from pyperf.store.dsn import parse_dsn\n"
            "from pyperf.store.store import Store\n"
            f"store = Store(parse_dsn({server.dsn!r})).open()\n"
            "store.insert('system_host', {'ts': [time.time()], 'interval_ms': [1000]})\n"
            "store.query('SELECT count() FROM system_host')\n"
            "print('pandas' in sys.modules, 'polars' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "False"]
