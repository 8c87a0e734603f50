"""The tcp probe against /proc/net/snmp in a private network namespace where
iptables drops a share of the packets."""

import os
import signal
import socket
import subprocess
import time

import pytest
from conftest import require_root
from workloads import REFUSED_BEFORE_BUILT, check_retransmits, netns_snmp, network_namespace, tcp_transfer_in

from pyperf.probes.tcp import TcpProbe

# A formatted tracepoint's program that spins, on every system call: while it runs
# (most of the CPU time of the busy loops below), a softirq on that CPU finds a
# tracing program already running. The kernel then skips any other formatted
# tracepoint's program (one per-CPU guard for them all): retransmit timers and
# handshakes run in softirq, so the tcp probe's programs must not be of that kind.
NESTER = r"""
BPF_ARRAY(sink, u64, 1);
TRACEPOINT_PROBE(raw_syscalls, sys_enter) {
    int zero = 0;
    u64 *s = sink.lookup(&zero), acc = 0;
    if (!s)
        return 0;
    for (int i = 0; i < 400; i++)
        acc += bpf_ktime_get_ns();
    *s += acc;
    return 0;
}
"""

PORT = 18080
SIZE = 48 << 20


@pytest.fixture
def tcp_probe():
    require_root()
    probe = TcpProbe()
    probe.attach()
    yield probe
    probe.detach()


@pytest.fixture
def tracing_in_process_context():
    """NESTER loaded, and a loop of system calls on every CPU."""
    from bcc import BPF
    nester = BPF(text=NESTER.encode())
    loops = []
    for cpu in sorted(os.sched_getaffinity(0)):
        pid = os.fork()
        if pid == 0:
            try:
                os.sched_setaffinity(0, {cpu})
                while True:
                    os.getppid()
            finally:
                os._exit(0)
        loops.append(pid)
    yield
    for pid in loops:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    nester.cleanup()


def test_retransmitted_segments_match_the_namespace_snmp(tcp_probe, tracing_in_process_context):
    # an Ethernet-sized MTU: thousands of retransmitted segments, against which the
    # unseen resends check_retransmits allows are a few per cent
    with network_namespace("pyperf-tcp-test", drop_probability=0.05, mtu=1500) as ns:
        before = netns_snmp(ns)["Tcp"]
        tcp_probe.drain(time.time())
        result = tcp_transfer_in(ns, PORT, SIZE)
        # both ends closed (a dropped FIN is sent again after an RTO): only TIME-WAIT may stay
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(
                f":{PORT} " in line and "TIME-WAIT" not in line for line in subprocess.run(
                    ["ip", "netns", "exec", ns, "ss", "-tanH"], capture_output=True, text=True).stdout.splitlines()):
            time.sleep(0.1)
        time.sleep(0.2)
        after = netns_snmp(ns)["Tcp"]
        batch = tcp_probe.drain(time.time())
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == SIZE
    assert tcp_probe.missed_runs() == 0       # no run skipped under the other tracing program
    kernel_retrans = after["RetransSegs"] - before["RetransSegs"]
    assert kernel_retrans >= 500                         # the drops really forced retransmits

    events = batch["tcp_event"]
    ours = [i for i in range(len(events["ts"]))
            if events["kind"][i] in ("retransmit", "synack_retransmit")
            and PORT in (events["sport"][i], events["dport"][i])]
    sent = sum(events["segs"][i] for i in ours if events["err"][i] == 0)
    built = sum(events["segs"][i] for i in ours if -events["err"][i] not in REFUSED_BEFORE_BUILT)
    check_retransmits(sent, built, kernel_retrans, kernel_retrans)
    assert {str(events["daddr"][i].ipv4_mapped) for i in ours} == {"127.0.0.1"}
    host = {k: v[0] for k, v in batch["tcp_host"].items()}
    assert host["retransmit_segments"] >= sent

    # the transfer's connection, then the refused connect
    assert host["active_opens"] >= 1 and host["passive_opens"] >= 1
    assert host["closes"] >= 2 and sum(host["lifetime_hist"]) >= 2
    assert host["failed_connects"] >= 1
    assert host["resets_sent"] >= 1 and host["resets_received"] >= 1
    kinds = set(events["kind"])
    assert {"reset_sent", "reset_received"} <= kinds
    client = batch["tcp_process"]
    assert "python" in " ".join(client["comm"])
    assert sum(client["active_opens"]) >= 1 and sum(client["failed_connects"]) >= 1


def test_rtt_of_established_connections_in_the_host_namespace(tcp_probe):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname())
    port = client.getsockname()[1]
    peer, _ = server.accept()
    try:
        for _ in range(20):
            client.sendall(b"ping")
            peer.recv(16)
            peer.sendall(b"pong")
            client.recv(16)
        batch = tcp_probe.drain(time.time())
    finally:
        client.close()
        peer.close()
        server.close()
    host = {k: v[0] for k, v in batch["tcp_host"].items()}
    assert host["established"] >= 2
    assert 0 < host["rtt_p50_us"] < 100_000
    # CurrEstab (read a moment later, CLOSE_WAIT included) and the dump of established
    # sockets cannot match exactly on a host with other connections coming and going
    assert 2 <= sum(host["rtt_hist"]) <= host["established"] + 2
    conns = batch["tcp_connection_rtt"]
    mine = [i for i in range(len(conns["ts"])) if port in (conns["sport"][i], conns["dport"][i])]
    assert len(mine) == 2                                   # both ends of the loopback connection
    assert all(0 < conns["rtt_us"][i] < 100_000 for i in mine)
    assert {str(conns["daddr"][i].ipv4_mapped) for i in mine} == {"127.0.0.1"}


def test_resets_carry_the_connection_of_the_socket_or_of_the_packet(tcp_probe):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))               # a port nobody listens on
    closed_port = closed.getsockname()[1]
    refused = socket.socket()
    refused.bind(("127.0.0.1", 0))
    with pytest.raises(ConnectionRefusedError):
        refused.connect(("127.0.0.1", closed_port))
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname())
    peer, _ = server.accept()
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")   # close with a reset
    peer.close()
    with pytest.raises(ConnectionResetError):
        client.recv(1)
    events = tcp_probe.drain(time.time())["tcp_event"]
    sent = {(events["sport"][i], events["dport"][i]) for i in range(len(events["ts"]))
            if events["kind"][i] == "reset_sent"}
    received = {(events["sport"][i], events["dport"][i]) for i in range(len(events["ts"]))
                if events["kind"][i] == "reset_received"}
    # no socket on the closed port: the reset's ports are the SYN's, reversed
    assert (closed_port, refused.getsockname()[1]) in sent
    # the aborting server's own socket
    assert (server.getsockname()[1], client.getsockname()[1]) in sent
    assert (client.getsockname()[1], server.getsockname()[1]) in received
    for s in (closed, refused, server, client):
        s.close()
