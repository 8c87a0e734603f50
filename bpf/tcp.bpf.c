/* TCP: retransmitted segments, SYN-ACK retransmits, resets sent and received,
 * connection opens, closes, failed connects and lifetimes.
 *
 * Counters are aggregated in the kernel; each retransmit and reset is also an
 * event in a ring buffer (rare by nature). Segments are counted like
 * /proc/net/snmp RetransSegs: tcp_skb_pcount(skb) per retransmitted skb, whose
 * offset (sk_buff.cb + tcp_skb_cb.tcp_gso_segs) comes from BTF, plus one per
 * SYN-ACK retransmit.
 *
 * Connections: inet_sock_set_state. An active open starts at SYN_SENT,
 * in the context of the process calling connect(), so the socket is
 * remembered with that process; a passive open is seen at SYN_RECV ->
 * ESTABLISHED, in softirq context, so it is counted host-wide only.
 *
 * Each event carries the socket's network namespace inode (sock ->
 * __sk_common.skc_net -> ns.inum): the container key for connections in a
 * container's own network, accepted ones included.
 *
 * Every program is on a raw tracepoint (why: above the first of them), so
 * addresses and ports are read from the socket or the packet with offsets
 * from BTF, as the formatted tracepoints would have read them.
 *
 * Required -D constants: OFF_SKB_CB, OFF_TCP_CB_GSO_SEGS, OFF_SKB_HEAD,
 * OFF_SKB_DATA, OFF_SKB_NETWORK_HEADER, OFF_SK_NET, OFF_NET_NS_INUM,
 * OFF_SK_PROTOCOL, OFF_INET_SPORT and OFF_SKC_* (pyperf/probes/tcp.py BTF_OFFSETS).
 */
#include <uapi/linux/ptrace.h>
#include "tcp.h"

#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_TIME_WAIT 6
#define TCP_CLOSE 7
#define TCP_NEW_SYN_RECV 12
#define PF_INET 2
#define PF_INET6 10

struct conn {
    u64 start_ns;
    u32 tgid;
    u32 established;
    char comm[16];
};

BPF_TABLE("lru_hash", u64, struct conn, tcp_conns, 65536);
BPF_PERCPU_ARRAY(tcp_totals, struct tcp_counters, 1);
HASH_MAP(tcp_processes, u32, struct tcp_process, 16384);
/* [0] events the ring buffer had no room for, [1] process counts the map had no
 * room for; user space removes exited processes every interval, so [1] stays 0
 * unless more than 16384 processes open connections within one interval. */
BPF_ARRAY(tcp_lost, u64, 2);
BPF_RINGBUF_OUTPUT(tcp_events, 32);

static __always_inline struct tcp_counters *totals(void)
{
    int zero = 0;
    return tcp_totals.lookup(&zero);
}

static __always_inline struct tcp_process *process_for(struct conn *c)
{
    if (!c || !c->tgid)
        return 0;
    struct tcp_process *p = tcp_processes.lookup(&c->tgid);
    if (p)
        return p;
    struct tcp_process fresh = {};
    __builtin_memcpy(fresh.comm, c->comm, sizeof(fresh.comm));
    tcp_processes.insert(&c->tgid, &fresh);   /* BPF_NOEXIST: a racing CPU's entry and counts are kept */
    p = tcp_processes.lookup(&c->tgid);
    if (!p) {
        int slot = 1;
        u64 *lost = tcp_lost.lookup(&slot);
        if (lost)
            __sync_fetch_and_add(lost, 1);
    }
    return p;
}

static __always_inline struct tcp_event *new_event(u16 kind, u64 sk)
{
    struct tcp_event *e = tcp_events.ringbuf_reserve(sizeof(*e));
    if (!e) {
        int zero = 0;
        u64 *lost = tcp_lost.lookup(&zero);
        if (lost)
            __sync_fetch_and_add(lost, 1);
        return 0;
    }
    __builtin_memset(e, 0, sizeof(*e));
    e->ts_ns = bpf_ktime_get_ns();
    e->kind = kind;
    if (sk) {
        void *net = (void *)read_u64((void *)sk, OFF_SK_NET);
        if (net)
            e->net_ns = read_u32(net, OFF_NET_NS_INUM);
    }
    struct conn *c = sk ? tcp_conns.lookup(&sk) : 0;
    if (c) {
        e->pid = c->tgid;
        __builtin_memcpy(e->comm, c->comm, sizeof(e->comm));
    }
    return e;
}

/* The connection's family, ports, addresses and state, from its struct
 * sock_common (a struct sock or a struct request_sock starts with one), as
 * the tcp tracepoints do: a full socket's local port is inet_sport (its
 * skc_num is 0 once a closed socket left the port table), a request's is
 * skc_num. */
static __always_inline void copy_sock_addresses(struct tcp_event *e, void *sk, int request)
{
    u16 family = 0, sport = 0, dport = 0;
    u8 state = 0;
    bpf_probe_read_kernel(&family, sizeof(family), (char *)sk + OFF_SKC_FAMILY);
    if (request) {
        bpf_probe_read_kernel(&sport, sizeof(sport), (char *)sk + OFF_SKC_NUM);
    } else {
        bpf_probe_read_kernel(&sport, sizeof(sport), (char *)sk + OFF_INET_SPORT);
        sport = bpf_ntohs(sport);
    }
    bpf_probe_read_kernel(&dport, sizeof(dport), (char *)sk + OFF_SKC_DPORT);
    bpf_probe_read_kernel(&state, sizeof(state), (char *)sk + OFF_SKC_STATE);
    e->family = family;
    e->sport = sport;
    e->dport = bpf_ntohs(dport);
    e->state = state;
    if (family == PF_INET6) {
        bpf_probe_read_kernel(e->saddr, 16, (char *)sk + OFF_SKC_V6_RCV_SADDR);
        bpf_probe_read_kernel(e->daddr, 16, (char *)sk + OFF_SKC_V6_DADDR);
    } else {
        bpf_probe_read_kernel(e->saddr, 4, (char *)sk + OFF_SKC_RCV_SADDR);
        bpf_probe_read_kernel(e->daddr, 4, (char *)sk + OFF_SKC_DADDR);
    }
}

/* A reset sent for a packet that has no full socket (a SYN to a closed port,
 * a TIME-WAIT socket): the 4-tuple is the packet's own, reversed, as the
 * tcp_send_reset tracepoint reports it. skb->data is the TCP header there. */
static __always_inline void copy_skb_addresses_reversed(struct tcp_event *e, void *skb)
{
    void *head = (void *)read_u64(skb, OFF_SKB_HEAD);
    void *th = (void *)read_u64(skb, OFF_SKB_DATA);
    u16 network_header = 0, ports[2] = {};
    u8 version = 0;
    bpf_probe_read_kernel(&network_header, sizeof(network_header), (char *)skb + OFF_SKB_NETWORK_HEADER);
    void *ip = (char *)head + network_header;
    bpf_probe_read_kernel(&version, 1, ip);
    bpf_probe_read_kernel(ports, sizeof(ports), th);   /* source, dest */
    e->sport = bpf_ntohs(ports[1]);
    e->dport = bpf_ntohs(ports[0]);
    if ((version >> 4) == 6) {
        e->family = PF_INET6;
        bpf_probe_read_kernel(e->saddr, 16, (char *)ip + 24);
        bpf_probe_read_kernel(e->daddr, 16, (char *)ip + 8);
    } else {
        e->family = PF_INET;
        bpf_probe_read_kernel(e->saddr, 4, (char *)ip + 16);
        bpf_probe_read_kernel(e->daddr, 4, (char *)ip + 12);
    }
}

/* Raw tracepoints, not the formatted ones: the kernel skips a formatted
 * tracepoint's program whenever it fires on a CPU where another formatted
 * tracepoint's or kprobe's program is running (one per-CPU guard for them
 * all). Retransmit timers and handshakes run in softirq, often on top of such
 * a program in process context (our faults and layers probes', or anyone's).
 * A raw tracepoint's program is skipped only when it interrupts itself. The
 * arguments are TP_PROTO's. */

/* tcp_retransmit_skb(const struct sock *sk, const struct sk_buff *skb, int err) */
RAW_TRACEPOINT_PROBE(tcp_retransmit_skb)
{
    void *sk = (void *)ctx->args[0];
    void *skb = (void *)ctx->args[1];
    int err = (int)ctx->args[2];
    u16 segs = 1;
    bpf_probe_read_kernel(&segs, sizeof(segs), (char *)skb + OFF_SKB_CB + OFF_TCP_CB_GSO_SEGS);
    if (segs == 0)
        segs = 1;
    struct tcp_counters *t = totals();
    if (t) {
        t->retransmits++;
        if (err == 0)
            t->retransmit_segments += segs;
        else
            t->retransmits_failed++;
    }
    u64 key = (u64)sk;
    struct conn *c = tcp_conns.lookup(&key);
    struct tcp_process *p = process_for(c);
    if (p && err == 0)
        __sync_fetch_and_add(&p->retransmit_segments, segs);
    struct tcp_event *e = new_event(TCP_EVENT_RETRANSMIT, key);
    if (e) {
        copy_sock_addresses(e, sk, 0);
        e->segs = segs;
        e->err = err;
        tcp_events.ringbuf_submit(e, BPF_RB_NO_WAKEUP);
    }
    return 0;
}

/* tcp_retransmit_synack(const struct sock *sk, const struct request_sock *req):
 * the addresses are the request's, sk is the listener. */
RAW_TRACEPOINT_PROBE(tcp_retransmit_synack)
{
    struct tcp_counters *t = totals();
    if (t)
        t->synack_retransmits++;
    struct tcp_event *e = new_event(TCP_EVENT_SYNACK_RETRANSMIT, (u64)ctx->args[0]);
    if (e) {
        copy_sock_addresses(e, (void *)ctx->args[1], 1);
        e->segs = 1;
        e->state = TCP_SYN_RECV;
        tcp_events.ringbuf_submit(e, BPF_RB_NO_WAKEUP);
    }
    return 0;
}

/* tcp_receive_reset(struct sock *sk) */
RAW_TRACEPOINT_PROBE(tcp_receive_reset)
{
    struct tcp_counters *t = totals();
    if (t)
        t->resets_received++;
    struct tcp_event *e = new_event(TCP_EVENT_RESET_RECEIVED, (u64)ctx->args[0]);
    if (e) {
        copy_sock_addresses(e, (void *)ctx->args[0], 0);
        e->state = 0;
        tcp_events.ringbuf_submit(e, BPF_RB_NO_WAKEUP);
    }
    return 0;
}

/* tcp_send_reset(const struct sock *sk, const struct sk_buff *skb, enum sk_rst_reason):
 * sk may be NULL or a mini socket (TIME-WAIT, NEW-SYN-RECV). */
RAW_TRACEPOINT_PROBE(tcp_send_reset)
{
    void *sk = (void *)ctx->args[0];
    void *skb = (void *)ctx->args[1];
    struct tcp_counters *t = totals();
    if (t)
        t->resets_sent++;
    struct tcp_event *e = new_event(TCP_EVENT_RESET_SENT, (u64)sk);
    if (!e)
        return 0;
    u8 state = 0;
    if (sk)
        bpf_probe_read_kernel(&state, sizeof(state), (char *)sk + OFF_SKC_STATE);
    if (sk && state != TCP_TIME_WAIT && state != TCP_NEW_SYN_RECV)   /* sk_fullsock() */
        copy_sock_addresses(e, sk, 0);
    else if (skb)
        copy_skb_addresses_reversed(e, skb);
    e->state = state;
    tcp_events.ringbuf_submit(e, BPF_RB_NO_WAKEUP);
    return 0;
}

/* inet_sock_set_state(const struct sock *sk, const int oldstate, const int newstate) */
RAW_TRACEPOINT_PROBE(inet_sock_set_state)
{
    u64 sk = (u64)ctx->args[0];
    if (!sk_is_tcp((void *)sk))
        return 0;
    int old = (int)ctx->args[1], new = (int)ctx->args[2];
    u64 now = bpf_ktime_get_ns();

    if (new == TCP_SYN_SENT) {
        struct conn c = {};
        c.start_ns = now;
        c.tgid = bpf_get_current_pid_tgid() >> 32;
        bpf_get_current_comm(&c.comm, sizeof(c.comm));
        tcp_conns.update(&sk, &c);
        return 0;
    }
    struct tcp_counters *t = totals();
    if (new == TCP_ESTABLISHED) {
        struct conn *c = tcp_conns.lookup(&sk);
        if (old == TCP_SYN_SENT) {
            if (t)
                t->active_opens++;
            struct tcp_process *p = process_for(c);
            if (p)
                __sync_fetch_and_add(&p->active_opens, 1);
            if (c) {
                c->established = 1;
                c->start_ns = now;
            }
        } else if (old == TCP_SYN_RECV) {
            if (t)
                t->passive_opens++;
            struct conn fresh = {};
            fresh.start_ns = now;
            fresh.established = 1;
            tcp_conns.update(&sk, &fresh);
        }
        return 0;
    }
    if (new == TCP_CLOSE) {
        struct conn *c = tcp_conns.lookup(&sk);
        if (old == TCP_SYN_SENT) {
            if (t)
                t->failed_connects++;
            struct tcp_process *p = process_for(c);
            if (p)
                __sync_fetch_and_add(&p->failed_connects, 1);
        } else if (c && c->established) {
            u64 lifetime = now - c->start_ns;
            u32 slot = log2_slot_us(lifetime);
            if (t) {
                t->closes++;
                t->lifetime_sum_ns += lifetime;
                t->lifetime_hist[slot]++;
            }
            struct tcp_process *p = process_for(c);
            if (p) {
                __sync_fetch_and_add(&p->closes, 1);
                __sync_fetch_and_add(&p->lifetime_sum_ns, lifetime);
                __sync_fetch_and_add(&p->lifetime_hist[slot], 1);
            }
        }
        tcp_conns.delete(&sk);
    }
    return 0;
}
