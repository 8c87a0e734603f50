/* Response time of TCP servers, protocol-agnostic: per server-side connection,
 * the time from the first byte of a request received (sock:sock_recv_length,
 * ret > 0) to the first byte of the response sent (sock:sock_send_length),
 * then idle again until the next request, so keep-alive connections carrying
 * many requests are measured request by request. HTTP, Redis, Postgres and
 * the rest alike, without parsing them.
 *
 * Server-side connections are the passive opens, seen at SYN_RECV ->
 * ESTABLISHED in sock:inet_sock_set_state with their local port; connections
 * accepted before pyperf attached are not measured. Both socket tracepoints
 * run in the context of the process calling recvmsg/sendmsg, which is the
 * server process.
 *
 * Raw tracepoints (arguments as in TP_PROTO): the handshake runs in softirq,
 * where the kernel would skip a formatted tracepoint's program whenever any
 * tracing program was running on that CPU (bpf/tcp.bpf.c says more); and a
 * raw tracepoint formats no record on every send and receive on the host.
 *
 * Required -D constants: OFF_SK_PROTOCOL, OFF_SKC_NUM (pyperf/probes/response.py).
 */
#include <uapi/linux/ptrace.h>
#include "response.h"

#define TCP_ESTABLISHED 1
#define TCP_SYN_RECV 3
#define TCP_CLOSE 7

struct server_conn {
    u64 request_start_ns;   /* 0 while idle */
    u16 port;
};

BPF_TABLE("lru_hash", u64, struct server_conn, response_conns, 65536);
/* Keyed by (server process, port); user space removes exited processes every
 * interval, so only servers live in one interval need room. */
HASH_MAP(response_stats, struct response_key, struct response_stats, 16384);
BPF_ARRAY(response_lost, u64, 1);   /* responses whose (process, port) did not fit the map */
BPF_ARRAY(response_zero, struct response_stats, 1);   /* never written: the initial value */

/* inet_sock_set_state(const struct sock *sk, const int oldstate, const int newstate) */
RAW_TRACEPOINT_PROBE(inet_sock_set_state)
{
    u64 sk = ctx->args[0];
    int old = (int)ctx->args[1], new = (int)ctx->args[2];
    if (!sk_is_tcp((void *)sk))
        return 0;
    if (old == TCP_SYN_RECV && new == TCP_ESTABLISHED) {
        struct server_conn c = {};
        bpf_probe_read_kernel(&c.port, sizeof(c.port), (char *)sk + OFF_SKC_NUM);   /* host order */
        response_conns.update(&sk, &c);
    } else if (new == TCP_CLOSE) {
        response_conns.delete(&sk);
    }
    return 0;
}

/* sock_recv_length(struct sock *sk, int ret, int flags); only TCP sockets
 * are in response_conns (a socket leaves it at TCP_CLOSE, before it is freed). */
RAW_TRACEPOINT_PROBE(sock_recv_length)
{
    u64 sk = ctx->args[0];
    if ((int)ctx->args[1] <= 0)
        return 0;
    struct server_conn *c = response_conns.lookup(&sk);
    if (c && c->request_start_ns == 0)
        c->request_start_ns = bpf_ktime_get_ns();
    return 0;
}

/* sock_send_length(struct sock *sk, int ret, int flags); only TCP sockets
 * are in response_conns (a socket leaves it at TCP_CLOSE, before it is freed). */
RAW_TRACEPOINT_PROBE(sock_send_length)
{
    u64 sk = ctx->args[0];
    if ((int)ctx->args[1] <= 0)
        return 0;
    struct server_conn *c = response_conns.lookup(&sk);
    if (!c || c->request_start_ns == 0)
        return 0;
    u64 latency = bpf_ktime_get_ns() - c->request_start_ns;
    c->request_start_ns = 0;

    struct response_key key = {};
    key.tgid = bpf_get_current_pid_tgid() >> 32;
    key.port = c->port;
    struct response_stats *s = response_stats.lookup(&key);
    if (!s) {
        int zero = 0;
        struct response_stats *fresh = response_zero.lookup(&zero);
        if (!fresh)
            return 0;
        response_stats.insert(&key, fresh);   /* BPF_NOEXIST: a racing CPU's entry and counts are kept */
        s = response_stats.lookup(&key);
        if (!s) {
            u64 *lost = response_lost.lookup(&zero);
            if (lost)
                __sync_fetch_and_add(lost, 1);
            return 0;
        }
        bpf_get_current_comm(&s->comm, sizeof(s->comm));
    }
    __sync_fetch_and_add(&s->requests, 1);
    __sync_fetch_and_add(&s->latency_sum_ns, latency);
    if (latency > s->latency_max_ns)
        s->latency_max_ns = latency;   /* racy between CPUs; a max, not a sum */
    __sync_fetch_and_add(&s->hist[log2_slot_us(latency)], 1);
    return 0;
}
