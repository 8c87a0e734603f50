/* TCP: retransmitted segments, SYN-ACK retransmits, resets sent and received,
 * connection opens, closes, failed connects and lifetimes.
 *
 * Counters are aggregated in the kernel; each retransmit and reset is also an
 * event in a ring buffer (rare by nature). Segments are counted like
 * /proc/net/snmp RetransSegs: tcp_skb_pcount(skb) per retransmitted skb, whose
 * offset (sk_buff.cb + tcp_skb_cb.tcp_gso_segs) comes from BTF, plus one per
 * SYN-ACK retransmit.
 *
 * Connections: sock:inet_sock_set_state. An active open starts at SYN_SENT,
 * in the context of the process calling connect(), so the socket is
 * remembered with that process; a passive open is seen at SYN_RECV ->
 * ESTABLISHED, in softirq context, so it is counted host-wide only.
 *
 * Each event carries the socket's network namespace inode (sock ->
 * __sk_common.skc_net -> ns.inum): the container key for connections in a
 * container's own network, accepted ones included.
 *
 * Required -D constants: OFF_SKB_CB, OFF_TCP_CB_GSO_SEGS, OFF_SK_NET, OFF_NET_NS_INUM.
 */
#include <uapi/linux/ptrace.h>
#include "tcp.h"

/* bcc builds tcp_send_reset's argument struct from tracefs, which names this
 * enum; the headers bcc compiles against (and net/rstreason.h, which we do not
 * include) may not declare it. Its values are not used. */
enum sk_rst_reason { PYPERF_SK_RST_REASON_UNUSED = 0 };

#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_SYN_RECV 3
#define TCP_CLOSE 7
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
BPF_HASH(tcp_processes, u32, struct tcp_process, 16384);
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

/* Tracepoints with sport, dport, family, saddr, daddr, saddr_v6, daddr_v6 fields. */
#define COPY_ADDRESSES(e, args)                                               \
    do {                                                                       \
        e->family = args->family;                                              \
        e->sport = args->sport;                                                \
        e->dport = args->dport;                                                \
        if (args->family == PF_INET6) {                                        \
            __builtin_memcpy(e->saddr, args->saddr_v6, 16);                    \
            __builtin_memcpy(e->daddr, args->daddr_v6, 16);                    \
        } else {                                                               \
            __builtin_memcpy(e->saddr, args->saddr, 4);                        \
            __builtin_memcpy(e->daddr, args->daddr, 4);                        \
        }                                                                      \
    } while (0)

TRACEPOINT_PROBE(tcp, tcp_retransmit_skb)
{
    u16 segs = 1;
    void *skb = (void *)args->skbaddr;
    bpf_probe_read_kernel(&segs, sizeof(segs), (char *)skb + OFF_SKB_CB + OFF_TCP_CB_GSO_SEGS);
    if (segs == 0)
        segs = 1;
    struct tcp_counters *t = totals();
    if (t) {
        t->retransmits++;
        if (args->err == 0)
            t->retransmit_segments += segs;
        else
            t->retransmits_failed++;
    }
    u64 sk = (u64)args->skaddr;
    struct conn *c = tcp_conns.lookup(&sk);
    struct tcp_process *p = process_for(c);
    if (p && args->err == 0)
        __sync_fetch_and_add(&p->retransmit_segments, segs);
    struct tcp_event *e = new_event(TCP_EVENT_RETRANSMIT, sk);
    if (e) {
        COPY_ADDRESSES(e, args);
        e->segs = segs;
        e->state = args->state;
        e->err = args->err;
        tcp_events.ringbuf_submit(e, BPF_RB_NO_WAKEUP);
    }
    return 0;
}

TRACEPOINT_PROBE(tcp, tcp_retransmit_synack)
{
    struct tcp_counters *t = totals();
    if (t)
        t->synack_retransmits++;
    struct tcp_event *e = new_event(TCP_EVENT_SYNACK_RETRANSMIT, (u64)args->skaddr);
    if (e) {
        COPY_ADDRESSES(e, args);
        e->segs = 1;
        e->state = TCP_SYN_RECV;
        tcp_events.ringbuf_submit(e, BPF_RB_NO_WAKEUP);
    }
    return 0;
}

TRACEPOINT_PROBE(tcp, tcp_receive_reset)
{
    struct tcp_counters *t = totals();
    if (t)
        t->resets_received++;
    struct tcp_event *e = new_event(TCP_EVENT_RESET_RECEIVED, (u64)args->skaddr);
    if (e) {
        COPY_ADDRESSES(e, args);
        tcp_events.ringbuf_submit(e, BPF_RB_NO_WAKEUP);
    }
    return 0;
}

/* tcp_send_reset carries the addresses as struct sockaddr_in / sockaddr_in6. */
TRACEPOINT_PROBE(tcp, tcp_send_reset)
{
    struct tcp_counters *t = totals();
    if (t)
        t->resets_sent++;
    struct tcp_event *e = new_event(TCP_EVENT_RESET_SENT, (u64)args->skaddr);
    if (e) {
        u8 *s = args->saddr, *d = args->daddr;
        u16 family = *(u16 *)s;
        e->family = family;
        e->sport = (s[2] << 8) | s[3];
        e->dport = (d[2] << 8) | d[3];
        e->state = args->state;
        if (family == PF_INET6) {
            __builtin_memcpy(e->saddr, s + 8, 16);
            __builtin_memcpy(e->daddr, d + 8, 16);
        } else {
            __builtin_memcpy(e->saddr, s + 4, 4);
            __builtin_memcpy(e->daddr, d + 4, 4);
        }
        tcp_events.ringbuf_submit(e, BPF_RB_NO_WAKEUP);
    }
    return 0;
}

TRACEPOINT_PROBE(sock, inet_sock_set_state)
{
    if (args->protocol != 6)   /* IPPROTO_TCP */
        return 0;
    u64 sk = (u64)args->skaddr;
    int old = args->oldstate, new = args->newstate;
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
