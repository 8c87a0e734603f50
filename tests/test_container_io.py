"""Per-container disk I/O and TCP retransmits on real Docker containers,
checked against what the kernel counted for the same device and network
namespace."""

import json
import re
import subprocess
import time

from conftest import PyperfProcess, run_pyperf
from docker_env import container_pid, remove, run_container
from workloads import check_retransmits, loop_device, lossy_loopback

READS = 2000


def _rows(out) -> list[list[str]]:
    return [line.split(",") for line in out.stdout.strip().splitlines()[1:]]


def test_direct_reads_in_a_container_are_its_disk_io(docker, store_dsn, tmp_path):
    with loop_device(tmp_path) as dev:
        rec = PyperfProcess("-v", "record", "--probes", "disk,sched", "--slow-io-ms", "0", store=store_dsn)
        try:
            rec.wait_for("probe disk attached")
            run_container("pyperf-reader", "sh", "-c",
                          f"dd if=/dev/xvdp of=/dev/null bs=4096 count={READS} iflag=direct; sleep 30",
                          extra=("--network", "none", "--device", f"{dev}:/dev/xvdp"))
            deadline = time.monotonic() + 60          # dd says when its reads are done, however loaded the host
            while f"{READS}+0 records out" not in subprocess.run(
                    ["docker", "logs", "pyperf-reader"], capture_output=True, text=True).stderr:
                assert time.monotonic() < deadline, "dd did not finish in the container"
                time.sleep(0.2)
        finally:
            code, stdout, stderr = rec.stop()     # the last drain runs on the way out
            remove("pyperf-reader")
        device = dev.rsplit("/", 1)[-1]
    assert code == 0, stderr
    out = run_pyperf("sql", "SELECT c.name, sum(d.ios), sum(d.bytes), sum(d.latency_sum_us) > 0 "
                            "FROM disk_container_io d JOIN container_of c USING (host, mnt_ns, cgroup_id) "
                            f"WHERE d.device = '{device}' AND d.op = 'read' GROUP BY c.name",
                     "--format", "csv", store=store_dsn, check=True)
    # A run the kernel skipped (counted: missed_runs) or did not make (unseen_ios,
    # against /proc/diskstats) is an I/O never seen; the agent reports both.
    missed = (int(re.search(r"disk: .*missed_runs=(\d+)", stdout).group(1))
              + int(re.search(r"disk: .*unseen_ios=(\d+)", stdout).group(1)))
    (name, ios, nbytes, timed), = _rows(out)
    assert (name, timed) == ("pyperf-reader", "1"), out.stdout
    assert READS - missed <= int(ios) <= READS and int(nbytes) == int(ios) * 4096, (
        out.stdout, missed, _slow_by_task(store_dsn, device))
    # every one of its I/Os is also a slow-I/O row (threshold 0) carrying the container key
    slow = run_pyperf("sql", "SELECT c.name, count() FROM disk_slow_io s "
                             "JOIN container_of c USING (host, mnt_ns, cgroup_id) "
                             f"WHERE s.device = '{device}' AND s.op = 'read' GROUP BY c.name",
                      "--format", "csv", store=store_dsn, check=True)
    assert _rows(slow) == [['pyperf-reader', ios]], slow.stdout


def _slow_by_task(store_dsn, device) -> str:
    """Who the device's I/Os were charged to, for a failure's message."""
    return run_pyperf("sql", "SELECT comm, mnt_ns, cgroup_id, count() FROM disk_slow_io "
                             f"WHERE device = '{device}' GROUP BY ALL", "--format", "csv",
                      store=store_dsn).stdout


def _netns_counters(pid: int) -> dict[str, int]:
    counters = {}
    for path in (f"/proc/{pid}/net/snmp", f"/proc/{pid}/net/netstat"):
        lines = open(path).read().splitlines()
        for names, values in zip(lines[::2], lines[1::2]):
            prefix = names.split(":")[0]
            for name, value in zip(names.split()[1:], values.split()[1:]):
                counters[f"{prefix}.{name}"] = int(value)
    return counters


def test_retransmits_in_a_container_network_are_the_containers(docker, store_dsn):
    run_container("pyperf-lossy", "sleep", "120", extra=("--network", "none"))
    try:
        pid = container_pid("pyperf-lossy")
        # an Ethernet MTU and 5 % drops inside the container's own network namespace
        lossy_loopback(["nsenter", "-t", str(pid), "-n"], drop_probability=0.05, mtu=1500)
        rec = PyperfProcess("-v", "record", "--probes", "tcp,sched", store=store_dsn)
        try:
            rec.wait_for("probe tcp attached")
            before = _netns_counters(pid)
            transfer = subprocess.run(
                ["docker", "exec", "pyperf-lossy", "sh", "-c",
                 # the receiver ends when the sender closes, however long the lossy transfer takes
                 "nc -l -p 5000 -e sh -c 'wc -c > /tmp/received' & sleep 0.3; "
                 "head -c 20000000 /dev/zero | nc 127.0.0.1 5000; wait; cat /tmp/received"],
                capture_output=True, text=True, timeout=60)
            time.sleep(1.5)
            after = _netns_counters(pid)
        finally:
            code, stdout, stderr = rec.stop()
        # the connection's last segments can still be sent again while the probe runs on
        # (a FIN after its timeout): what the probe saw lies between the two readings
        after_stop = _netns_counters(pid)
    finally:
        remove("pyperf-lossy")
    assert code == 0, stderr
    assert transfer.stdout.split() == ["20000000"], transfer.stderr
    retransmitted = after["Tcp.RetransSegs"] - before["Tcp.RetransSegs"]
    assert retransmitted > 100
    # RetransSegs counts segments sent again, SYN-ACKs included (a 5 % drop loses a
    # handshake now and then); a resend is counted from the moment it is built
    out = run_pyperf("sql", "SELECT c.name, sumIf(e.segs, e.err = 0), sumIf(e.segs, e.err NOT IN (-16, -11)) "
                            "FROM tcp_event e JOIN container_by_netns c USING (host, net_ns) "
                            "WHERE e.kind IN ('synack_retransmit', 'retransmit') GROUP BY c.name",
                     "--format", "csv", store=store_dsn, check=True)
    rows = _rows(out)
    assert [r[0] for r in rows] == ['pyperf-lossy'], out.stdout
    sent, built = int(rows[0][1]), int(rows[0][2])
    tcp_totals = re.search(r"tcp: .*", stdout).group(0)
    assert "lost=0, missed_runs=0" in tcp_totals, tcp_totals
    check_retransmits(sent, built, retransmitted, after_stop["Tcp.RetransSegs"] - before["Tcp.RetransSegs"])
    # the network finding names the peer, its port and the container
    found = json.loads(run_pyperf("report", "--since", "5m", "--format", "json", store=store_dsn, check=True).stdout)
    peers = [f for f in found["findings"] if f["rule"] == "peer_retransmits"]
    assert peers and peers[0]["subject"] == "127.0.0.1:5000", found["findings"]
    assert peers[0]["evidence"]["containers"] == "pyperf-lossy"
