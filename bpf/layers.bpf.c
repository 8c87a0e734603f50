/* File reads inside containers, per (mount namespace, device, inode), from the
 * filemap tracepoints. On overlayfs the page cache belongs to the real file in
 * its layer, so these tracepoints see the layer's own inode: reads are
 * attributed to the exact layer, the top-most copy of an overwritten file
 * included. Processes in the host's mount namespace (HOST_MNT_NS) are skipped.
 *
 * A task's mount namespace is read at each access: three loads through the
 * task's BTF-typed pointer (common.h mount_ns_of), cheaper than a task-storage
 * lookup since they no longer go through bpf_probe_read_kernel.
 *
 * Writes: writeback_dirty_folio (raw: folio, mapping) fires in the writer's
 * context when a clean page-cache folio turns dirty; the mapping's inode is the
 * real one in the upper layer (overlayfs writes through to it), so writes and
 * copy-ups are keyed like reads. O_DIRECT writes dirty nothing and are not seen.
 *
 * Required -D constants: HOST_MNT_NS, OFF_TASK_NSPROXY, OFF_NSPROXY_MNT_NS,
 * OFF_MNT_NS_INUM, OFF_MAPPING_HOST, OFF_INODE_INO, OFF_INODE_SB, OFF_SB_DEV.
 */
#include <uapi/linux/ptrace.h>
#include "common.h"
#include "layers.h"

/* Mount namespaces that are not containers (the host's, services'), filled by
 * user space as it resolves them; accesses from them are not recorded. */
HASH_MAP(layer_ignored_ns, u64, u8, 4096);
HASH_MAP(layer_files, struct file_key, struct file_access, 262144);
BPF_ARRAY(layer_lost, u64, 1);
/* Entries inserted, counted after each insert: user space takes the map's entries
 * out at every drain, so while this has not moved the map is empty and its walk (a
 * batch read passes every bucket: 262 144 of them, ~0.2 ms) is skipped. */
BPF_ARRAY(layer_inserts, u64, 1);

/* The current task's container mount namespace, 0 for the host and ignored ones. */
static __always_inline u64 container_ns(void)
{
    u64 mnt_ns = mount_ns_of(bpf_get_current_task_btf());
    if (mnt_ns == HOST_MNT_NS || mnt_ns == 0 || layer_ignored_ns.lookup(&mnt_ns))
        return 0;
    return mnt_ns;
}

static __always_inline struct file_access *access_in(u64 mnt_ns, u32 dev, u64 inode, u64 now)
{
    struct file_key key = {};
    key.mnt_ns = mnt_ns;
    key.dev = dev;
    key.inode = inode;
    struct file_access *a = layer_files.lookup(&key);
    if (a)
        return a;
    struct file_access fresh = {};
    fresh.first_page = (u64)-1;
    fresh.first_ns = now;
    int zero = 0;
    /* BPF_NOEXIST: a racing CPU's entry and counts are kept (and it counts the insert) */
    if (layer_files.insert(&key, &fresh) == 0) {
        u64 *inserts = layer_inserts.lookup(&zero);
        if (inserts)
            __sync_fetch_and_add(inserts, 1);
    }
    a = layer_files.lookup(&key);
    if (!a) {
        u64 *lost = layer_lost.lookup(&zero);
        if (lost)
            __sync_fetch_and_add(lost, 1);
    }
    return a;
}

/* The clock is read only for a container's access: on this VM bpf_ktime_get_ns costs
 * ~110 ns, and most page-cache accesses of a busy host are the host's own. */
static __always_inline struct file_access *access_for(u32 dev, u64 inode, u64 *now)
{
    u64 mnt_ns = container_ns();
    if (!mnt_ns)
        return 0;
    *now = bpf_ktime_get_ns();
    return access_in(mnt_ns, dev, inode, *now);
}

static __always_inline void touched(struct file_access *a, u64 first, u64 last, u64 now)
{
    if (first < a->first_page)
        a->first_page = first;
    if (last > a->last_page || a->last_page == 0)
        a->last_page = last;
    a->last_ns = now;
}

TRACEPOINT_PROBE(filemap, mm_filemap_get_pages)
{
    u64 now = 0;
    struct file_access *a = access_for(args->s_dev, args->i_ino, &now);
    if (!a)
        return 0;
    __sync_fetch_and_add(&a->reads, 1);
    touched(a, args->index, args->last_index, now);
    return 0;
}

TRACEPOINT_PROBE(filemap, mm_filemap_fault)
{
    u64 now = 0;
    struct file_access *a = access_for(args->s_dev, args->i_ino, &now);
    if (!a)
        return 0;
    __sync_fetch_and_add(&a->mmap_pages, 1);
    touched(a, args->index, args->index, now);
    return 0;
}

TRACEPOINT_PROBE(filemap, mm_filemap_map_pages)
{
    u64 now = 0;
    struct file_access *a = access_for(args->s_dev, args->i_ino, &now);
    if (!a)
        return 0;
    __sync_fetch_and_add(&a->mmap_pages, args->last_index - args->index + 1);
    touched(a, args->index, args->last_index, now);
    return 0;
}

TRACEPOINT_PROBE(filemap, mm_filemap_add_to_page_cache)
{
    u64 now = 0;
    struct file_access *a = access_for(args->s_dev, args->i_ino, &now);
    if (!a)
        return 0;
    __sync_fetch_and_add(&a->added_pages, 1ULL << args->order);
    return 0;
}

RAW_TRACEPOINT_PROBE(writeback_dirty_folio)
{
    u64 mnt_ns = container_ns();
    if (!mnt_ns)
        return 0;
    void *mapping = (void *)ctx->args[1];
    void *inode = mapping ? (void *)read_u64(mapping, OFF_MAPPING_HOST) : 0;
    if (!inode)
        return 0;
    void *sb = (void *)read_u64(inode, OFF_INODE_SB);
    u32 dev = sb ? read_u32(sb, OFF_SB_DEV) : 0;
    u64 now = bpf_ktime_get_ns();
    struct file_access *a = access_in(mnt_ns, dev, read_u64(inode, OFF_INODE_INO), now);
    if (!a)
        return 0;
    __sync_fetch_and_add(&a->dirtied_folios, 1);
    a->last_ns = now;
    return 0;
}
