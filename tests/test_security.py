"""The lock-down (docs/security.md): user SQL cannot read or write files, reach the
network, change the store or run forever; off loopback nobody gets in without the
token; a request for another Host or from another Origin is refused; SIGTERM
stops the agent whatever user queries run; a dropped table comes back."""

import json
import os
import signal
import stat
import threading
import time
import urllib.error
import urllib.request

import psutil
import pytest
from conftest import PyperfProcess, require_root, run_pyperf
from conftest import CHROMIUM, CHROMIUM_ARGS

ATTACKS = [
    ("SELECT * FROM file('/etc/shadow', 'LineAsString')", "table function file()"),
    ("SELECT file('/etc/shadow')", "function file()"),
    ("SELECT 1 INTO OUTFILE '{outfile}'", "INTO OUTFILE"),
    ("SELECT 1 INTO OUTFILE '{outfile}' AND STDOUT", "INTO OUTFILE"),
    ("SELECT * FROM url('http://127.0.0.1:{port}/healthz', 'LineAsString')", "table function url()"),
    ("SELECT * FROM remote('127.0.0.1:9000', system.one)", "table function remote()"),
    ("SELECT * FROM executable('id', 'TSV', 'x String')", "table function executable()"),
    ("SELECT * FROM view(SELECT * FROM file('/etc/shadow', 'LineAsString'))", "table function file()"),
    ("WITH 1 AS x SELECT x; DROP TABLE disk_io", "Multi-statements are not allowed"),
    ("SELECT 1 /* a comment */; DROP TABLE disk_io", "Multi-statements are not allowed"),
    ("SELECT 1 SETTINGS readonly = 1; DROP TABLE disk_io", "Multi-statements are not allowed"),
    ("DROP TABLE disk_io", "only SELECT, SHOW TABLES and EXPLAIN"),
    ("INSERT INTO disk_io (device) VALUES ('x')", "only SELECT, SHOW TABLES and EXPLAIN"),
    ("SELECT 1 SETTINGS readonly = 0", "readonly"),
    ("SELECT count() FROM disk_io SETTINGS max_execution_time = 0", "readonly"),
]


def post_sql(base: str, sql: str, parameters=None, headers=None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{base}/api/sql", data=json.dumps({"sql": sql, "parameters": parameters or {}}).encode(),
        headers={"Content-Type": "application/json", **(headers or {})}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=120) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def get(url: str, headers=None) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def cpu_seconds(pid: int, over_s: float) -> float:
    process = psutil.Process(pid)
    before = sum(process.cpu_times()[:2])
    time.sleep(over_s)
    return sum(process.cpu_times()[:2]) - before


@pytest.fixture
def agent(tmp_path, store_dsn, free_port):
    """`pyperf up` (disk probe) on loopback, user SQL cut at 3 s."""
    require_root()
    up = PyperfProcess("up", "--probes", "disk,system", "--listen", f"127.0.0.1:{free_port}",
                       "--sql-timeout", "3s", store=store_dsn)
    try:
        up.wait_for("web UI on")
        yield {"up": up, "base": f"http://127.0.0.1:{free_port}", "store": store_dsn, "port": free_port}
    finally:
        up.kill()


def test_every_attack_is_refused_through_the_api_and_the_cli(agent, tmp_path):
    base, store = agent["base"], agent["store"]
    outfile = tmp_path / "written-as-root.txt"
    for template, reason in ATTACKS:
        sql = template.format(outfile=outfile, port=agent["port"])
        status, body = post_sql(base, sql)
        assert status == 400 and reason in body["error"], (sql, status, body)
        cli = run_pyperf("sql", sql, store=store)
        lines = cli.stderr.strip().splitlines()
        assert cli.returncode == 3 and len(lines) == 1 and reason in lines[0], (sql, cli.stderr)
        assert lines[0].startswith("pyperf: ") and "Traceback" not in cli.stderr
    assert not outfile.exists()
    # the store is intact and still collecting: disk_io is there and the system table grows
    tables = {r[0] for r in post_sql(base, "SHOW TABLES")[1]["rows"]}
    assert {"disk_io", "system_host", "schema_migrations"} <= tables
    status, body = post_sql(base, "SELECT count() FROM system_host WHERE host = {h:String}", {"h": os.uname().nodename})
    assert status == 200 and body["rows"][0][0] >= 1
    # what users legitimately do still works: system tables, parameters, EXPLAIN
    status, body = post_sql(base, "SELECT name FROM system.tables WHERE database = currentDatabase() "
                                  "AND name = {t:String}", {"t": "disk_io"})
    assert status == 200 and body["rows"] == [["disk_io"]]
    assert post_sql(base, "EXPLAIN SELECT count() FROM disk_io")[0] == 200
    cli = run_pyperf("sql", "SELECT {n:UInt32} * 2 AS twice", "--param", "n=21", "--format", "csv", store=store)
    assert cli.returncode == 0 and cli.stdout.splitlines() == ["twice", "42"], cli.stderr


def test_a_runaway_query_is_cancelled_in_the_engine(agent):
    status, body = post_sql(agent["base"], "SELECT count() FROM system.numbers_mt")
    assert status == 400 and "Timeout exceeded" in body["error"], body
    # cancelled, not abandoned: the agent is back to its own small cost (a runaway
    # query keeps both CPUs busy, 2 CPU-seconds a second)
    assert cpu_seconds(agent["up"].proc.pid, 2.0) < 1.0
    status, body = post_sql(agent["base"], "SELECT number FROM numbers(1000000)")
    assert status == 400 and "Limit for result exceeded" in body["error"], body
    assert post_sql(agent["base"], "SELECT 1")[1]["rows"] == [[1]]


def test_sigterm_stops_up_while_user_queries_run(store_dsn, free_port):
    require_root()
    up = PyperfProcess("up", "--probes", "system", "--listen", f"127.0.0.1:{free_port}",
                       "--sql-timeout", "10m", store=store_dsn)
    try:
        up.wait_for("web UI on")
        base = f"http://127.0.0.1:{free_port}"
        answers = []
        workers = [threading.Thread(target=lambda: answers.append(
            post_sql(base, "SELECT count() FROM system.numbers_mt"))) for _ in range(2)]
        for w in workers:
            w.start()
        time.sleep(2)
        up.proc.send_signal(signal.SIGTERM)
        # the queries could run for 10 minutes: the stop must not wait for them
        code, _, stderr = up.finish(timeout=60)
        assert code == 0, stderr
        for w in workers:
            w.join(30)
        assert all(status != 200 for status, _ in answers), answers
    finally:
        up.kill()


@pytest.fixture
def exposed_agent(tmp_path, free_port):
    """`pyperf up` listening on every address (not loopback), so a token is required.
    Test traffic goes to 127.0.0.1 only."""
    require_root()
    store = f"chdb://{tmp_path}/store"
    up = PyperfProcess("up", "--probes", "disk", "--listen", f"0.0.0.0:{free_port}", store=store)
    try:
        up.wait_for("web UI on")
        yield {"up": up, "base": f"http://127.0.0.1:{free_port}", "store": store,
               "token_file": tmp_path / "web-token"}
    finally:
        up.kill()


def test_off_loopback_a_token_is_required(exposed_agent):
    token_file, base = exposed_agent["token_file"], exposed_agent["base"]
    mode = token_file.stat().st_mode
    assert stat.S_IMODE(mode) == 0o600
    token = token_file.read_text().strip()
    # never in a log line (journald keeps them); the line says where it is and how to see it
    assert not any(token in line for line in exposed_agent["up"].stderr_lines)
    assert any("needs a token; made one in" in line and "sudo pyperf token" in line
               for line in exposed_agent["up"].stderr_lines)

    assert get(f"{base}/api/status")[0] == 401
    assert get(f"{base}/api/status", {"Authorization": "Bearer wrong"})[0] == 401
    assert get(f"{base}/api/status", {"Authorization": f"Bearer {token}"})[0] == 200
    assert post_sql(base, "SELECT 1")[0] == 401
    assert post_sql(base, "SELECT 1", headers={"Authorization": f"Bearer {token}"})[1]["rows"] == [[1]]
    # `pyperf sql` (root) reads the token itself
    cli = run_pyperf("sql", "SELECT 7", "--format", "csv", store=exposed_agent["store"])
    assert cli.returncode == 0 and cli.stdout.splitlines()[1] == "7", cli.stderr
    # DNS rebinding and cross-site posts
    assert get(f"{base}/api/status", {"Authorization": f"Bearer {token}", "Host": "attacker.example"})[0] == 421
    status, _ = post_sql(base, "SELECT 1", headers={"Authorization": f"Bearer {token}",
                                                    "Origin": "http://attacker.example"})
    assert status == 403

    # rotation: the running agent takes the new token, the old one stops working
    rotated = run_pyperf("token", "--rotate", store=exposed_agent["store"], check=True)
    new_token = rotated.stdout.strip()
    assert new_token and new_token != token
    assert get(f"{base}/api/status", {"Authorization": f"Bearer {token}"})[0] == 401
    assert get(f"{base}/api/status", {"Authorization": f"Bearer {new_token}"})[0] == 200


def test_browser_login(exposed_agent, tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian chromium is not installed (scripts/install.sh --test)")
    from playwright.sync_api import sync_playwright

    token = exposed_agent["token_file"].read_text().strip()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(exposed_agent["base"] + "/")
            assert "/login" in page.url
            page.fill("#token", "not-the-token")
            page.click("button[type=submit]")
            assert page.locator("[role=alert]").count() == 1
            page.fill("#token", token)
            page.click("button[type=submit]")
            page.wait_for_url(exposed_agent["base"] + "/overview")    # "/" is the Overview
            assert page.title().startswith("Overview")
            cookie = next(c for c in page.context.cookies() if c["name"] == "pyperf_session")
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
            assert token not in cookie["value"]
            # the page's own API calls carry the session
            assert page.evaluate("fetch('/api/status').then(r => r.status)") == 200
        finally:
            browser.close()


def test_up_refuses_a_token_file_others_can_read(tmp_path, free_port):
    require_root()
    token_file = tmp_path / "web-token"
    token_file.write_text("a-token-everyone-can-read\n")
    token_file.chmod(0o644)
    result = run_pyperf("up", "--probes", "disk", "--listen", f"0.0.0.0:{free_port}",
                        store=f"chdb://{tmp_path}/store")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and "may be read by other users" in lines[0], result.stderr


def test_a_dropped_table_comes_back(store_dsn):
    require_root()
    run_pyperf("sql", "SELECT 1", store=store_dsn, check=True)   # creates the store
    refused = run_pyperf("sql", "DROP TABLE system_host", store=store_dsn)
    assert refused.returncode == 3 and "query refused" in refused.stderr
    run_pyperf("sql", "--write", "DROP TABLE system_host", store=store_dsn, check=True)
    record = run_pyperf("record", "--probes", "system", "--duration", "2s", "--json", store=store_dsn, check=True)
    assert "repaired: recreated table system_host" in record.stderr
    assert json.loads(record.stdout)["rows"]["system_host"] >= 1
    rows = run_pyperf("sql", "SELECT count() FROM system_host", "--format", "csv", store=store_dsn, check=True)
    assert int(rows.stdout.splitlines()[1]) >= 1
    # --write is for a store no agent holds, and only for embedded stores
    assert run_pyperf("sql", "--write", "SELECT 1", store="http://127.0.0.1:1/db").returncode == 2
