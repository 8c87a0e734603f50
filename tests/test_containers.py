"""Attribution to containers on real Docker, on a hand-made cgroup v2
container, and for host processes."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest
from conftest import PyperfProcess, chromium_page, require_root, run_pyperf
from docker_env import container_pid, remove, run_container

from pyperf.containers.resolver import ContainerResolver, cgroup2_mount
from pyperf.containers.watcher import NamespaceWatcher


class ProcessAlreadyGone(ContainerResolver):
    """/proc never finds the process: what the exec watcher meets when a container
    exits before its thread runs (seen under load: 1 of 200 short-lived containers)."""

    def by_pid(self, pid):
        return None


def _resolved_after_exec(start, accept, timeout_s=20.0):
    """Start the exec watcher with ProcessAlreadyGone, run `start()`, and wait until
    the resolver knows a container that `accept` takes."""
    resolver = ProcessAlreadyGone()
    watcher = NamespaceWatcher(resolver)
    watcher.start()
    try:
        start()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = [c for c in list(resolver._by_key.values()) if accept(c)]
            if found:
                return found[0]
            time.sleep(0.05)
        return None
    finally:
        watcher.stop()


def _cgroup2_root() -> str:
    """Where the cgroup v2 hierarchy is mounted (test containers are made there)."""
    require_root()
    unified = cgroup2_mount()
    if unified is None:
        pytest.skip("no cgroup v2 hierarchy mounted")
    return unified


def test_docker_container_is_resolved_with_name_and_image(docker):
    container_id = run_container("pyperf-resolve", "sleep", "60")
    try:
        resolver = ContainerResolver()
        found = resolver.by_pid(container_pid("pyperf-resolve"))
        by_ns = ContainerResolver().by_mnt_ns(os.stat(f"/proc/{container_pid('pyperf-resolve')}/ns/mnt").st_ino)
    finally:
        remove("pyperf-resolve")
    assert found.runtime == "docker" and found.id == container_id
    assert found.name == "pyperf-resolve" and found.image == "pyperf-test-base:1"
    assert by_ns == found


def test_host_processes_are_host():
    found = ContainerResolver().by_pid(os.getpid())
    assert found.runtime == "host" and found.name == "host"


def test_hand_made_cgroup_v2_container_with_its_own_mount_namespace():
    unified = _cgroup2_root()
    group = Path(unified) / f"pyperf-test-{os.getpid()}"
    group.mkdir()
    proc = subprocess.Popen(["unshare", "--mount", "sleep", "30"])   # unshare execs: same pid
    try:
        time.sleep(0.3)
        (group / "cgroup.procs").write_text(str(proc.pid))
        found = ContainerResolver().by_pid(proc.pid)
    finally:
        proc.kill()
        proc.wait()
        for _ in range(50):
            if not (group / "cgroup.procs").read_text().strip():
                break
            time.sleep(0.1)
        group.rmdir()
    assert found.runtime == "cgroup"
    assert found.id == f"/pyperf-test-{os.getpid()}" and found.name == f"pyperf-test-{os.getpid()}"


def test_a_container_gone_before_its_exec_is_read_is_named_from_the_kernels_cgroup_path(docker):
    ids = []

    def start():
        ids.append(subprocess.run(["docker", "run", "-d", "--rm", "--name", "pyperf-blink", "pyperf-test-base:1",
                                   "true"], check=True, capture_output=True, text=True).stdout.strip())
    found = _resolved_after_exec(start, lambda c: c.runtime == "docker" and ids and c.id == ids[0])
    subprocess.run(["docker", "rm", "-f", "pyperf-blink"], capture_output=True)
    assert found is not None and found.cgroup_path.endswith(ids[0]), found


def test_a_hand_made_v2_container_gone_before_its_exec_is_read_is_named_from_its_v2_path():
    unified = _cgroup2_root()
    group = Path(unified) / f"pyperf-blink-{os.getpid()}" / "inner"
    group.mkdir(parents=True)
    inode = os.stat(group).st_ino          # the cgroup v2 id
    try:
        found = _resolved_after_exec(
            lambda: subprocess.run(["unshare", "--mount", "sh", "-c", f"echo $$ > {group}/cgroup.procs; exec true"],
                                   check=True),
            lambda c: c.runtime == "cgroup")
    finally:
        group.rmdir()
        group.parent.rmdir()
    assert found is not None and found.id == f"/pyperf-blink-{os.getpid()}/inner", found
    assert found.cgroup_id == inode


def test_probe_rows_group_by_container_in_sql(docker, store_dsn):
    run_container("pyperf-busy", "sh", "-c", "while true; do :; done")
    try:
        rec = PyperfProcess("record", "--probes", "sched", "--duration", "3s", store=store_dsn)
        code, _, stderr = rec.finish(timeout=120)
    finally:
        remove("pyperf-busy")
    assert code == 0, stderr
    out = run_pyperf("sql", "SELECT c.name, c.runtime, c.image, sum(s.oncpu_us) AS cpu_us "
                            "FROM sched_process s JOIN container_of c USING (host, mnt_ns, cgroup_id) "
                            "GROUP BY c.name, c.runtime, c.image ORDER BY cpu_us DESC",
                     "--format", "csv", store=store_dsn, check=True)
    rows = [line.split(",") for line in out.stdout.strip().splitlines()[1:]]
    busy = [r for r in rows if r[0] == "pyperf-busy"]
    assert busy and busy[0][1] == "docker" and busy[0][2] == "pyperf-test-base:1"
    assert int(busy[0][3]) > 1_000_000             # over a second of CPU in 3 s
    assert any(r[1] == "host" for r in rows)


def test_containers_table_records_start_stop_and_layers(docker, store_dsn):
    rec = PyperfProcess("record", "--probes", "sched,containers", "--duration", "6s", store=store_dsn)
    try:
        rec.wait_for("probe containers attached")
        container_id = run_container("pyperf-lifecycle", "sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done")
        time.sleep(2.5)
        remove("pyperf-lifecycle")
        code, _, stderr = rec.finish(timeout=120)
    finally:
        remove("pyperf-lifecycle")
        rec.kill()
    assert code == 0, stderr
    out = run_pyperf("sql", "SELECT id, name, started, stopped IS NOT NULL, length(layers) FROM container_of "
                            "WHERE name = 'pyperf-lifecycle'", "--format", "json", store=store_dsn, check=True)
    rows = json.loads(out.stdout)
    assert rows, "the container was never recorded"
    row = list(rows[0].values())
    assert row[0] == container_id and row[2].startswith("20")        # the runtime's start time
    assert row[3] in (1, True)                                          # seen to stop
    assert row[4] >= 2                                                  # its image layers (with docker-init)


def test_drill_down_from_the_overview_to_a_busy_containers_top_frame(docker, store_dsn, free_port):
    """`pyperf up` with a spinning container, in Chromium: the Overview's top
    containers table lists it first, its row leads to its page (CPU drawn from the
    live window, image shown), "its flame graph" to its stacks, whose top frame
    is in the graph; the Containers list shows it without a limit."""
    container_id = run_container("pyperf-web-busy", "sh", "-c", "while true; do :; done")
    up = PyperfProcess("up", "--listen", f"127.0.0.1:{free_port}", "--cpu-budget", "0", "--flush-interval", "2s",
                       store=store_dsn)
    try:
        up.wait_for("web UI on")
        base = f"http://127.0.0.1:{free_port}"
        with chromium_page() as (page, errors):
            page.goto(f"{base}/overview")
            first = page.locator("table.top-containers tbody tr").first
            page.wait_for_function(f"(document.querySelector('table.top-containers tbody tr') || {{}}).dataset"
                                   f"?.container === '{container_id}'", timeout=30000)
            first.locator("a").click()
            page.wait_for_url(f"**/containers/{container_id}?*")
            assert "pyperf-test-base:1" in page.inner_text("main")
            page.wait_for_function("(((window.pyperfCharts || {}).cpu || {}).data || [[], []])[1]"
                                   ".some(v => v != null && v > 20)", timeout=30000)   # a spinning shell
            page.get_by_role("link", name="its flame graph").click()
            page.wait_for_url("**/flame?*")
            assert f"container={container_id}" in page.url
            try:
                page.wait_for_selector("table.top-functions tbody td.function", timeout=30000)
            except Exception:
                raise AssertionError(page.inner_text("main"))
            top = page.locator("table.top-functions tbody td.function").first.inner_text()
            labels = page.eval_on_selector_all("#flame .d3-flame-graph-label", "els => els.map(e => e.textContent)")
            assert any(label.startswith(top) for label in labels), (top, labels[:10])
            page.goto(f"{base}/containers")
            row = page.locator(f"tr[data-container='{container_id}']")
            row.wait_for(timeout=30000)
            assert "no limit" in row.inner_text()
            assert not errors, errors
    finally:
        up.kill()
        remove("pyperf-web-busy")
