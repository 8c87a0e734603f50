/* Shared between bpf/response.bpf.c and pyperf/probes/response.py. */
#ifndef PYPERF_RESPONSE_H
#define PYPERF_RESPONSE_H

#include "common.h"

struct response_key {
    u32 tgid;          /* the server process (the one that sent the response) */
    u16 port;          /* local port of the server socket */
    u16 pad;
};

/* Cumulative per (process, port). */
struct response_stats {
    u64 requests;
    u64 latency_sum_ns;
    u64 latency_max_ns;
    u64 hist[HIST_SLOTS];
    char comm[16];
};

#endif
