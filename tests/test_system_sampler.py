"""The system sampler: parsers on fixture /proc text, and the live sampler
against /proc and psutil read directly over the same window."""

import os
import socket
import threading
import time
from pathlib import Path

import psutil
import pytest
from conftest import require_root
from workloads import direct_io, loop_device

from pyperf.system.procfs import USER_HZ, ProcFS, parse_cpu_times
from pyperf.system.sampler import SystemSampler

FIXTURE_PROC = Path(__file__).parent / "fixtures" / "proc"


def test_procfs_parsers_on_fixture_text():
    proc = ProcFS(str(FIXTURE_PROC))
    disks = proc.diskstats()
    assert disks["vda"].reads == 20893 and disks["vda"].write_sectors == 3062354
    assert disks["vda"].io_ms == 51592 and disks["vda"].weighted_ms == 87233
    assert set(disks) == {"vda", "vda1", "loop0"}
    vm = proc.vmstat()
    assert (vm["pgfault"], vm["pgmajfault"], vm["pswpin"], vm["pswpout"]) == (10037026, 5087, 3, 7)
    assert proc.pressure("io") == {"some": 58624997, "full": 49223627}
    assert proc.pressure("cpu") == {}                      # no file: no PSI
    st = proc.stat_counters()
    assert (st["ctxt"], st["intr"], st["softirq"], st["procs_running"], st["procs_blocked"]) == (
        3361244, 1722937, 844412, 2, 1)
    assert proc.tcp_states() == {"LISTEN": 2, "ESTABLISHED": 1, "TIME_WAIT": 1}
    assert proc.tcp_summary() == {"ESTABLISHED": 3, "TIME_WAIT": 7, "ORPHAN": 1, "INUSE": 4}
    mem = proc.meminfo()
    assert (mem["MemTotal"], mem["SwapFree"], mem["HugePages_Total"]) == (24594528 * 1024, 2000000 * 1024, 0)
    assert proc.vmstat({"pgfault"}) == {"pgfault": 10037026}
    cpus = parse_cpu_times(proc.read("stat"))
    assert len(cpus) == 2 and cpus[1][:4] == tuple(v / USER_HZ for v in (4115, 9, 3691, 609704))
    dev = proc.net_dev()
    assert set(dev) == {"lo", "eth0", "vethab12cd"}
    assert dev["eth0"] == {"rx_bytes": 906657020, "rx_packets": 18305, "rx_errors": 2, "rx_dropped": 5,
                           "tx_bytes": 848760, "tx_packets": 9000, "tx_errors": 1, "tx_dropped": 3}


def one_interval(action) -> tuple[dict, float]:
    sampler = SystemSampler()
    sampler.attach()
    action()
    batch = sampler.drain(time.time())
    return batch, sampler


def test_context_switches_interrupts_and_faults_match_proc():
    proc = ProcFS()
    before_stat, before_vm = proc.stat_counters(), proc.vmstat()
    pages = 20000

    def touch_pages():
        buf = bytearray(pages * 4096)           # fresh anonymous memory: one minor fault per page
        for i in range(0, len(buf), 4096):
            buf[i] = 1
        for _ in range(2000):
            os.sched_yield()
    batch, _ = one_interval(touch_pages)
    after_stat, after_vm = proc.stat_counters(), proc.vmstat()
    host = {k: v[0] for k, v in batch["system_host"].items()}
    direct_ctxt = after_stat["ctxt"] - before_stat["ctxt"]
    # the sampler's window lies inside the direct one
    assert 0 < host["context_switches"] <= direct_ctxt
    assert host["context_switches"] >= 0.9 * direct_ctxt - 50
    assert 0 < host["interrupts"] <= after_stat["intr"] - before_stat["intr"]
    direct_faults = after_vm["pgfault"] - before_vm["pgfault"]
    assert pages <= host["page_faults"] <= direct_faults


def test_memory_and_load_match_psutil():
    batch, _ = one_interval(lambda: time.sleep(0.2))
    host = {k: v[0] for k, v in batch["system_host"].items()}
    mem = psutil.virtual_memory()
    assert host["mem_total_bytes"] == mem.total
    assert host["mem_used_pct"] == pytest.approx(mem.percent, abs=1.0)
    assert host["mem_available_bytes"] == pytest.approx(mem.available, rel=0.02)
    assert host["swap_total_bytes"] == psutil.swap_memory().total
    assert host["mem_cached_bytes"] == pytest.approx(mem.cached, rel=0.05)
    assert host["load1"] == pytest.approx(os.getloadavg()[0], abs=0.5)


def test_cpu_busy_share_sees_a_spinning_process():
    def spin():
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            pass
    batch, _ = one_interval(spin)
    cpu = batch["system_cpu"]
    total = cpu["cpu"].index(-1)
    per_cpu_busy = [b for c, b in zip(cpu["cpu"], cpu["busy_pct"]) if c >= 0]
    assert len(per_cpu_busy) == psutil.cpu_count()
    assert cpu["busy_pct"][total] >= 100 / psutil.cpu_count() * 0.8     # one CPU of N kept busy
    for i, c in enumerate(cpu["cpu"]):
        states = sum(cpu[f"{s}_pct"][i] for s in ("user", "nice", "system", "idle", "iowait",
                                                  "irq", "softirq", "steal"))
        assert states == pytest.approx(100.0, abs=0.01)


def test_loopback_bytes_match_psutil():
    payload = 8 << 20
    before = psutil.net_io_counters(pernic=True)["lo"]

    def transfer():
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        received = []

        def sink():
            conn, _ = server.accept()
            n = 0
            while chunk := conn.recv(1 << 16):
                n += len(chunk)
            received.append(n)
            conn.close()
        t = threading.Thread(target=sink)
        t.start()
        client = socket.create_connection(server.getsockname())
        client.sendall(b"x" * payload)
        client.close()
        t.join()
        server.close()
        assert received == [payload]
    batch, _ = one_interval(transfer)
    after = psutil.net_io_counters(pernic=True)["lo"]
    net = batch["system_net"]
    i = net["interface"].index("lo")
    assert payload <= net["rx_bytes"][i] <= after.bytes_recv - before.bytes_recv
    assert net["rx_bytes"][i] == pytest.approx(after.bytes_recv - before.bytes_recv, rel=0.01)


def test_disk_rows_match_diskstats(tmp_path):
    require_root()   # for the loop device
    with loop_device(tmp_path) as dev:
        name = os.path.basename(dev)
        before = ProcFS().diskstats()[name]
        batch, _ = one_interval(lambda: direct_io(dev, 500, 300))
        after = ProcFS().diskstats()[name]
    disk = batch["system_disk"]
    i = disk["device"].index(name)
    assert disk["reads"][i] == after.reads - before.reads == 500
    assert disk["writes"][i] == after.writes - before.writes
    assert disk["read_bytes"][i] == 500 * 4096
    assert 0 < disk["util_pct"][i] <= 100
