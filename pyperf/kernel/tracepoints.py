"""The arguments bpf/'s raw tracepoint programs read by position (ctx->args[i]),
checked against the running kernel's BTF when the programs load.

A raw tracepoint hands its program the tracepoint's C arguments as they are,
with no format file and no promise that they stay: kernels add and move them
(sched_switch gained prev_state in 5.18, tcp_send_reset a reason in 6.10). A
program reading an argument that moved reads another one, silently. So every raw tracepoint in bpf/ is listed here
with the types of the arguments its programs read, up to the last one read
(arguments the kernel adds after those change nothing), and a kernel whose
prototype differs refuses the probe with a line that says where.
tests/test_btf.py keeps this list and bpf/ equal both ways.

Types only: BTF keeps no names for these arguments."""

from __future__ import annotations

from collections.abc import Iterable

from pyperf.kernel.btf import BTFError, kernel_tracepoint_args

RAW_TRACEPOINT_ARGS: dict[str, tuple[str, ...]] = {
    "block_io_start": ("struct request *",),
    "block_io_done": ("struct request *",),
    "block_rq_issue": ("struct request *",),
    "block_rq_complete": ("struct request *", "blk_status_t", "unsigned int"),
    "sched_switch": ("bool", "struct task_struct *", "struct task_struct *", "unsigned int"),
    "sched_process_exit": (),
    "sched_process_exec": (),
    "writeback_dirty_folio": ("struct folio *", "struct address_space *"),
    "inet_sock_set_state": ("struct sock *", "int", "int"),
    "sock_recv_length": ("struct sock *", "int"),
    "sock_send_length": ("struct sock *", "int"),
    "tcp_retransmit_skb": ("struct sock *", "struct sk_buff *", "int"),
    "tcp_retransmit_synack": ("struct sock *", "struct request_sock *"),
    "tcp_receive_reset": ("struct sock *",),
    "tcp_send_reset": ("struct sock *", "struct sk_buff *"),
}


def mismatches(attached: Iterable[str]) -> list[str]:
    """What is wrong with the raw tracepoints a program attached to, one line each:
    one bpf/ reads that this list does not know, or one whose arguments in the
    running kernel are not those the program reads. A tracepoint the kernel's
    BTF does not describe (a module's) cannot be checked and passes."""
    problems = []
    for tracepoint in attached:
        expected = RAW_TRACEPOINT_ARGS.get(tracepoint)
        if expected is None:
            problems.append(f"raw tracepoint {tracepoint} is not in pyperf/kernel/tracepoints.py "
                            "(its argument types are checked from there)")
            continue
        try:
            actual = kernel_tracepoint_args(tracepoint)
        except BTFError as e:
            problems.append(f"cannot check raw tracepoint {tracepoint}: {e}")
            continue
        if actual is not None and actual[:len(expected)] != expected:
            problems.append(f"this kernel's tracepoint {tracepoint} takes ({', '.join(actual)}), the program reads "
                            f"({', '.join(expected)}): a pyperf for this kernel is needed")
    return problems
