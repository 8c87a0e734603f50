/* Shared between bpf/layers.bpf.c and pyperf/probes/layers.py (FileKey, FileAccess). */
#ifndef PYPERF_LAYERS_H
#define PYPERF_LAYERS_H

struct file_key {
    u64 mnt_ns;        /* mount namespace of the reading process (the container key) */
    u64 inode;         /* the real (layer) inode: overlayfs passes reads to it */
    u32 dev;           /* kernel dev_t of the layer's filesystem */
    u32 pad;
};

struct file_access {
    u64 reads;          /* filemap_get_pages calls (read(), sendfile, ...) */
    u64 first_page;     /* lowest page index touched */
    u64 last_page;      /* highest page index touched */
    u64 mmap_pages;     /* pages faulted or mapped through mmap */
    u64 added_pages;    /* pages brought into the page cache (misses, readahead) */
    u64 first_ns;       /* bpf_ktime_get_ns() of the first access */
    u64 last_ns;
    u64 dirtied_folios; /* page-cache folios the container dirtied (writes; copy-ups into the upper layer) */
};

#endif
