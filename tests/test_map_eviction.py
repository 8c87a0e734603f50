"""Kernel maps keyed by process forget processes that exit, so the agent never
silently stops counting: 20 000 short-lived clients each open a TCP connection and
20 000 short-lived servers each answer one request (more processes than either map
holds), and the totals are exact with nothing lost."""

import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import require_root

from pyperf.probes.process_table import ProcessTable
from pyperf.probes.response import ResponseProbe
from pyperf.probes.tcp import TcpProbe

CHURN_C = Path(__file__).parent / "programs" / "churn.c"
ROUNDS = 20_000


@pytest.fixture(scope="module")
def churn_binary(tmp_path_factory):
    out = tmp_path_factory.mktemp("bin") / "pyperf-churn"
    subprocess.run(["gcc", "-O1", "-o", str(out), str(CHURN_C)], check=True)
    return str(out)


def test_process_churn_is_counted_exactly(churn_binary):
    require_root()
    tcp, response = TcpProbe(), ResponseProbe()
    tcp.attach()
    response.attach()
    opens = requests = 0
    try:
        churn = subprocess.Popen([churn_binary, str(ROUNDS)], stdout=subprocess.PIPE, text=True)
        port = int(churn.stdout.readline().split()[1])
        done = threading.Event()
        threading.Thread(target=lambda: (churn.wait(), done.set()), daemon=True).start()

        def drain():
            nonlocal opens, requests
            rows = tcp.drain(time.time()).get("tcp_process", {})
            opens += sum(n for n, comm in zip(rows.get("active_opens", []), rows.get("comm", []))
                         if comm == "churn-client")
            rows = response.drain(time.time()).get("response_time", {})
            requests += sum(n for n, comm, p in zip(rows.get("requests", []), rows.get("comm", []),
                                                    rows.get("port", [])) if comm == "churn-server" and p == port)
        while not done.wait(0.2):
            drain()
        time.sleep(0.2)          # the last connections' close events
        drain()
        # entries of exited processes go at the drain after the scan that finds
        # them dead: within ProcessTable.SCAN_EVERY + 1 drains (ExitScan, both probes)
        for _ in range(ProcessTable.SCAN_EVERY + 1):
            drain()
        assert churn.returncode == 0, churn.stdout.read()
        assert tcp.totals()["lost"] == 0 and response.totals()["lost"] == 0
        assert opens == ROUNDS
        assert requests == ROUNDS
        # only the living stay in the maps
        assert len(tcp.bpf[b"tcp_processes"]) < 1000
        assert len(response.bpf[b"response_stats"]) < 1000
    finally:
        tcp.detach()
        response.detach()


def test_batch_delete_removes_the_keys_and_skips_those_already_gone():
    require_root()
    from bcc import BPF

    from pyperf.probes.map_drain import delete_keys
    bpf = BPF(text=b"BPF_HASH(m, u32, u64, 64);")
    try:
        m = bpf[b"m"]
        for k in range(10):
            m[m.Key(k)] = m.Leaf(k)
        # 42, 43 and 44 were never there (an entry its process's exit already removed)
        assert delete_keys(m, np.array([1, 3, 42, 5, 43, 44, 7], np.uint32)) == 4
        assert sorted(k.value for k in m.keys()) == [0, 2, 4, 6, 8, 9]
        assert delete_keys(m, np.array([], np.uint32)) == 0
        # keys as raw bytes (as the response probe reads its struct keys), and a wrong width refused
        assert delete_keys(m, np.array([0, 2, 99, 9], np.uint32).view("V4")) == 3
        assert sorted(k.value for k in m.keys()) == [4, 6, 8]
        with pytest.raises(ValueError):
            delete_keys(m, np.array([4], np.uint64))
    finally:
        bpf.cleanup()
