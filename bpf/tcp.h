/* Shared between bpf/tcp.bpf.c and pyperf/probes/tcp.py (TcpEvent, TcpCounters, TcpProcess). */
#ifndef PYPERF_TCP_H
#define PYPERF_TCP_H

#include "common.h"

#define TCP_EVENT_RETRANSMIT 0
#define TCP_EVENT_SYNACK_RETRANSMIT 1
#define TCP_EVENT_RESET_SENT 2
#define TCP_EVENT_RESET_RECEIVED 3

/* One retransmit or reset. */
struct tcp_event {
    u64 ts_ns;          /* bpf_ktime_get_ns() */
    u32 pid;            /* process that opened the connection, 0 when unknown */
    u32 segs;           /* segments retransmitted (retransmits only) */
    u16 kind;           /* TCP_EVENT_* */
    u16 family;         /* AF_INET or AF_INET6 */
    u16 sport;
    u16 dport;
    s32 state;          /* TCP state of the socket */
    s32 err;            /* retransmit result (0 = sent) */
    u8 saddr[16];       /* IPv4 addresses in the first 4 bytes */
    u8 daddr[16];
    char comm[16];
    u64 net_ns;         /* the socket's network namespace inode (0 when unknown) */
};

/* Host-wide, cumulative; per-CPU array with one element. */
struct tcp_counters {
    u64 retransmit_segments;    /* what /proc/net/snmp RetransSegs counts */
    u64 retransmits;            /* retransmitted skbs */
    u64 retransmits_failed;     /* retransmit attempts that failed to send */
    u64 synack_retransmits;
    u64 resets_sent;
    u64 resets_received;
    u64 active_opens;           /* SYN_SENT -> ESTABLISHED */
    u64 passive_opens;          /* SYN_RECV -> ESTABLISHED */
    u64 failed_connects;        /* SYN_SENT -> CLOSE */
    u64 closes;                 /* established connections that reached CLOSE */
    u64 lifetime_sum_ns;
    u64 lifetime_hist[HIST_SLOTS];
};

/* Per process that opened connections (connect() runs in its context). */
struct tcp_process {
    u64 active_opens;
    u64 failed_connects;
    u64 closes;
    u64 retransmit_segments;
    u64 lifetime_sum_ns;
    char comm[16];
    u64 lifetime_hist[HIST_SLOTS];
};

#endif
