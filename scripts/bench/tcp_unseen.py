"""How often a retransmission that /proc/net/snmp RetransSegs counts reaches no
program on the tcp_retransmit_skb tracepoint: the measurement behind
tests/workloads.py's check_retransmits allowance.

Each run: a Docker container with a network of its own (`--network none`:
loopback only, set to MTU 1500, iptables dropping 5 % of incoming packets), a
20 MB transfer inside it through busybox nc, as tests/test_container_io.py
makes it, and an independent
program on the raw tracepoint (not pyperf's) that records every resend of the
namespace with its socket's `tcp_sock.total_retrans` as the kernel left it.
That counter grows with RetransSegs, resend by resend, so a resend no program
saw shows as a jump between two traced resends of one socket larger than the
later one's segments. `--agent` also runs `pyperf record --probes tcp,sched`
through each transfer, which starts once its tcp programs are attached, as in
the test (the sched programs load while the transfer runs). SYN-ACK resends are counted by their
own tracepoint, tail-loss probes are resends like any other.

    sudo .venv/bin/python scripts/bench/tcp_unseen.py [--runs 20] [--agent] [--netns]

dockerd must be running (scripts/test.sh starts one for the tests). `--netns`
makes the same transfer in a plain `ip netns` namespace instead, no container.

Prints per run: RetransSegs, the traced resends' segments, the difference, and
each unseen jump (how long after the socket's previous traced resend); last,
the share of runs with a resend unseen.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import subprocess
import sys
import tempfile
import threading
import time

from common import ROOT, stop  # noqa: F401  (sys.path set up there)
from contextlib import contextmanager

from docker_env import busybox_path, container_pid, remove, run_container
from workloads import REFUSED_BEFORE_BUILT, lossy_loopback, network_namespace

from pyperf.kernel.btf import offset_cflags
from pyperf.system.procfs import parse_snmp

PORT = 18090
NC_TRANSFER = ("{bb}nc -l -p {port} -e {bb}sh -c '{bb}wc -c >/dev/null' & {bb}sleep 0.3; "
               "{bb}head -c 20000000 /dev/zero | {bb}nc 127.0.0.1 {port}; wait")


@contextmanager
def lossy_network(in_container: bool):
    """(the namespace's inode, the command prefix that runs inside it, the prefix of
    busybox's applets there)."""
    if not in_container:
        with network_namespace("pyperf-unseen", drop_probability=0.05, mtu=1500) as ns:
            yield os.stat(f"/run/netns/{ns}").st_ino, ["ip", "netns", "exec", ns], busybox_path() + " "
        return
    run_container("pyperf-unseen", "sleep", "600", extra=("--network", "none"))
    try:
        pid = container_pid("pyperf-unseen")
        lossy_loopback(["nsenter", "-t", str(pid), "-n"], drop_probability=0.05, mtu=1500)
        yield os.stat(f"/proc/{pid}/ns/net").st_ino, ["docker", "exec", "pyperf-unseen"], ""
    finally:
        remove("pyperf-unseen")


def retrans_segs(inside: list[str]) -> int:
    text = subprocess.run([*inside, "cat", "/proc/net/snmp"], capture_output=True, text=True, check=True).stdout
    return parse_snmp(text)["Tcp"]["RetransSegs"]
OFFSETS = {"OFF_SKB_CB": ("sk_buff", "cb"), "OFF_TCP_CB_GSO_SEGS": ("tcp_skb_cb", "tcp_gso_segs"),
           "OFF_SK_NET": ("sock", "__sk_common.skc_net"), "OFF_NET_NS_INUM": ("net", "ns.inum"),
           "OFF_TOTAL_RETRANS": ("tcp_sock", "total_retrans")}
PROGRAM = r"""
struct resend { u64 ts; u64 sk; u32 segs; s32 err; u32 total; u32 pad; };
BPF_RINGBUF_OUTPUT(resends, 256);
BPF_ARRAY(counts, u64, 2);      /* [0] SYN-ACK resends, [1] resends the ring had no room for */

static __always_inline int ours(void *sk)
{
    void *net = 0;
    u32 inum = 0;
    bpf_probe_read_kernel(&net, sizeof(net), (char *)sk + OFF_SK_NET);
    bpf_probe_read_kernel(&inum, sizeof(inum), (char *)net + OFF_NET_NS_INUM);
    return inum == NETNS;
}

static __always_inline void count(int slot)
{
    u64 *n = counts.lookup(&slot);
    if (n)
        __sync_fetch_and_add(n, 1);
}

RAW_TRACEPOINT_PROBE(tcp_retransmit_skb)
{
    void *sk = (void *)ctx->args[0], *skb = (void *)ctx->args[1];
    if (!ours(sk))
        return 0;
    struct resend *r = resends.ringbuf_reserve(sizeof(*r));
    if (!r) {
        count(1);
        return 0;
    }
    __builtin_memset(r, 0, sizeof(*r));
    r->ts = bpf_ktime_get_ns();
    r->sk = (u64)sk;
    r->err = (s32)ctx->args[2];
    bpf_probe_read_kernel(&r->segs, 2, (char *)skb + OFF_SKB_CB + OFF_TCP_CB_GSO_SEGS);
    bpf_probe_read_kernel(&r->total, 4, (char *)sk + OFF_TOTAL_RETRANS);
    resends.ringbuf_submit(r, 0);
    return 0;
}

RAW_TRACEPOINT_PROBE(tcp_retransmit_synack)
{
    if (ours((void *)ctx->args[0]))
        count(0);
    return 0;
}
"""


class Resend(ctypes.Structure):
    _fields_ = [("ts", ctypes.c_uint64), ("sk", ctypes.c_uint64), ("segs", ctypes.c_uint32),
                ("err", ctypes.c_int32), ("total", ctypes.c_uint32), ("pad", ctypes.c_uint32)]


def unseen_jumps(resends: list[Resend]) -> list[tuple[int, float]]:
    """(segments, ms since the socket's previous traced resend) for every jump of
    total_retrans that the traced resends do not explain. A resend refused before
    it is built (EBUSY, EAGAIN) adds nothing."""
    jumps, last = [], {}
    for r in sorted(resends, key=lambda r: r.ts):
        prev = last.get(r.sk)
        if prev is not None:
            grew = (r.total - prev.total) & 0xFFFFFFFF
            built = 0 if -r.err in REFUSED_BEFORE_BUILT else r.segs
            if grew != built:
                jumps.append((grew - built, (r.ts - prev.ts) / 1e6))
        last[r.sk] = r
    return jumps


def start_recorder(tmp: str) -> subprocess.Popen:
    """`pyperf record --probes tcp,sched`, once its tcp programs are attached."""
    proc = subprocess.Popen([sys.executable, "-m", "pyperf", "--store", f"chdb://{tmp}/store", "record",
                             "--probes", "tcp,sched", "--spool-dir", f"{tmp}/spool"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        if "probe tcp attached" in line:
            # keep reading: a full pipe would stop the agent at its next log line
            threading.Thread(target=proc.stderr.read, daemon=True).start()
            return proc
    raise SystemExit(f"pyperf did not start: exit {proc.wait()}")


def one_run(agent: bool, in_container: bool, tmp: str) -> tuple[int, int, list]:
    from bcc import BPF

    with lossy_network(in_container) as (netns, inside, bb):
        bpf = BPF(text=PROGRAM, cflags=offset_cflags(OFFSETS) + [f"-DNETNS={netns}"])
        resends: list[Resend] = []
        bpf["resends"].open_ring_buffer(
            lambda _c, data, _s: resends.append(Resend.from_buffer_copy(ctypes.string_at(data, ctypes.sizeof(Resend)))))
        recorder = None
        try:
            before = retrans_segs(inside)
            if agent:
                recorder = start_recorder(tmp)
            transfer = subprocess.Popen([*inside, "sh", "-c", NC_TRANSFER.format(bb=bb, port=PORT)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while transfer.poll() is None:
                bpf.ring_buffer_poll(200)
            time.sleep(1.0)       # a last FIN resent after its timeout
            bpf.ring_buffer_consume()
            counted = retrans_segs(inside) - before
        finally:
            if recorder is not None:
                stop(recorder)
            synacks, lost = bpf["counts"][0].value, bpf["counts"][1].value
            bpf.cleanup()
    if lost:
        raise SystemExit(f"{lost} resends found the ring full: enlarge it")
    traced = synacks + sum(r.segs for r in resends if -r.err not in REFUSED_BEFORE_BUILT)
    return counted, traced, unseen_jumps(resends)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--agent", action="store_true", help="pyperf record --probes tcp,sched through each transfer")
    ap.add_argument("--netns", action="store_true", help="in a plain network namespace, not a container")
    args = ap.parse_args()
    print(f"{args.runs} lossy 20 MB transfers, MTU 1500, 5 % drops, in a "
          f"{'network namespace' if args.netns else 'container'}{', pyperf record running' if args.agent else ''}")
    print(f"{'run':>4}{'RetransSegs':>13}{'traced':>8}{'unseen':>8}  unseen jumps (segments, ms after the last traced resend)")
    with_unseen = 0
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            counted, traced, jumps = one_run(args.agent, not args.netns, tmp)
            with_unseen += counted != traced
            print(f"{run:>4}{counted:>13}{traced:>8}{counted - traced:>8}  "
                  + ", ".join(f"{segs} after {ms:.0f} ms" for segs, ms in jumps), flush=True)
    print(f"\nruns with a resend no program saw: {with_unseen} of {args.runs} ({with_unseen / args.runs:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
