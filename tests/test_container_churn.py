"""Container churn: 200 short-lived containers, one after another, each busy for
a moment; every one is attributed (resolved as its first program starts, even
when it is gone before the next interval), and pyperf's memory stays flat."""

import signal
import subprocess
import time
from pathlib import Path

from conftest import PyperfProcess, require_docker, run_pyperf
from docker_env import ensure_base_image

CONTAINERS = 200


def rss_kib(pid: int) -> int:
    """Anonymous resident memory: what a leak grows. (File-backed pages are library
    code: the agent drops chDB's start-up pages and the first flush faults some
    back, ~40 MB, which is not growth per container.)"""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    raise LookupError("RssAnon")


def test_two_hundred_short_lived_containers_are_all_attributed(store_dsn):
    require_docker()
    image = ensure_base_image()
    rec = PyperfProcess("record", "--probes", "sched", "--duration", "1h", store=store_dsn)
    ids, rss = [], {}
    try:
        rec.wait_for("probe sched attached")
        for i in range(CONTAINERS):
            cid = subprocess.run(["docker", "run", "-d", "--rm", "--name", f"pyperf-churn-{i}", image, "sh", "-c",
                                  "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done"],
                                 check=True, capture_output=True, text=True).stdout.strip()
            subprocess.run(["docker", "wait", cid], capture_output=True)
            ids.append(cid)
            if i in (CONTAINERS // 5, CONTAINERS - 1):
                rss[i] = rss_kib(rec.proc.pid)
        time.sleep(1.5)
        code, _, stderr = rec.stop(signal.SIGTERM, timeout=120)
    finally:
        rec.kill()
    assert code == 0, stderr
    out = run_pyperf("sql", "SELECT DISTINCT c.id FROM sched_process s JOIN container_of c USING (host, mnt_ns, cgroup_id) "
                            "WHERE c.runtime = 'docker'", "--format", "csv", store=store_dsn, check=True)
    attributed = set(out.stdout.split()[1:])
    missing = [cid for cid in ids if cid not in attributed]
    assert not missing, f"{len(missing)} of {CONTAINERS} containers not attributed"
    first, last = rss[CONTAINERS // 5], rss[CONTAINERS - 1]
    assert last - first < max(0.1 * first, 32 * 1024), (first, last)   # flat: < 10 % (or 32 MiB) growth
