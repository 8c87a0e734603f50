"""Layer access capture: file reads inside containers per (mount namespace,
device, inode) from the filemap tracepoints (bpf/layers.bpf.c), and an index of
each container's overlay layers mapping (device, inode) to (layer, path), so
reads are attributed to the exact layer. Reports: pyperf/layers/report.py."""

from __future__ import annotations

import ctypes
import logging
import os
import queue
import threading
import time
from collections import defaultdict

from pyperf import threads
from pyperf.containers.resolver import HOST, ContainerResolver
from pyperf.kernel import host
from pyperf.layers.index import LayerIndex
from pyperf.layers.overlay import container_layers
from pyperf.probes.base import Batch, monotonic_to_epoch_offset
from pyperf.probes.bpf_probe import TASK_KEY_OFFSETS, BPFProbe
from pyperf.schema import AGENT_HOST, EVENT, INTERVAL_END, KEY, Column, Table

log = logging.getLogger("pyperf.layers")

NO_PAGE = (1 << 64) - 1

TABLES = (
    Table("layer_file_access",
          "Per interval, container mount namespace and file (device, inode): how it was read. Join with "
          "layer_files on (host, mnt_ns, dev, inode) for layer and path.",
          order_by=("host", "mnt_ns", "dev", "inode", "ts"), retention_days=30, columns=(
        INTERVAL_END,
        AGENT_HOST,
        Column("mnt_ns", "UInt64", KEY, "", "mount namespace of the readers (the container key)"),
        Column("dev", "UInt32", KEY, "", "kernel dev_t of the layer's filesystem"),
        Column("inode", "UInt64", KEY, "", "inode of the file in its layer"),
        Column("reads", "UInt64", EVENT, "count",
               "page-cache read calls (read(), sendfile, splice)", codec="T64, ZSTD(1)"),
        Column("first_page", "UInt64", EVENT, "page",
               "lowest page index read in the interval (2^64-1: none)", codec="ZSTD(1)"),
        Column("last_page", "UInt64", EVENT, "page", "highest page index read in the interval", codec="ZSTD(1)"),
        Column("mmap_pages", "UInt64", EVENT, "pages",
               "pages faulted in or mapped through mmap", codec="T64, ZSTD(1)"),
        Column("added_pages", "UInt64", EVENT, "pages",
               "pages that had to be brought into the page cache (not cached before)", codec="T64, ZSTD(1)"),
        Column("first_access", "DateTime64(6, 'UTC')", EVENT, "time",
               "first access in the interval (UTC, µs)", codec="Delta(8), ZSTD(1)"),
        Column("last_access", "DateTime64(6, 'UTC')", EVENT, "time",
               "last access in the interval", codec="Delta(8), ZSTD(1)"),
        Column("dirtied_folios", "UInt64", EVENT, "folios",
               "page-cache folios the container dirtied in this file (buffered writes and copy-ups into the "
               "writable layer; a 4 KiB page each for small writes)", codec="T64, ZSTD(1)"),
      )),
    Table("layer_files",
          "The files of each container's overlay layers, indexed when pyperf first sees the container read a "
          "file: layer 0 is the writable layer, 1.. the lower layers, top first.",
          order_by=("host", "mnt_ns", "layer_index", "path"), engine="ReplacingMergeTree", partition_by="", retention_days=30, columns=(
        Column("ts", "DateTime64(3, 'UTC')", KEY, "time", "when indexed (UTC)"),
        AGENT_HOST,
        Column("mnt_ns", "UInt64", KEY, "", "mount namespace of the container"),
        Column("container_id", "LowCardinality(String)", EVENT, "", "runtime container id"),
        Column("container_name", "LowCardinality(String)", EVENT, "", "container name"),
        Column("image", "LowCardinality(String)", EVENT, "", "image reference"),
        Column("layer_index", "UInt16", KEY, "",
               "0 = writable layer, 1 = top image layer, ... (Docker's init layer included)"),
        Column("layer_id", "LowCardinality(String)", EVENT, "",
               "Docker diff id (sha256:...), docker-init, upper, or the layer directory name"),
        Column("layer_path", "LowCardinality(String)", EVENT, "", "the layer's directory on the host"),
        Column("path", "String", KEY, "", "path inside the container", codec="ZSTD(3)"),
        Column("kind", "LowCardinality(String)", EVENT, "",
               "file, whiteout (deletes the path below) or opaque (directory hides everything below)"),
        Column("dev", "UInt32", EVENT, "", "kernel dev_t of the layer's filesystem"),
        Column("inode", "UInt64", EVENT, "", "inode in the layer"),
        Column("size", "UInt64", EVENT, "bytes", "file size", codec="T64, ZSTD(1)"),
      )),
)


class FileKey(ctypes.Structure):
    """struct file_key in bpf/layers.h."""

    _fields_ = [("mnt_ns", ctypes.c_uint64), ("inode", ctypes.c_uint64), ("dev", ctypes.c_uint32),
                ("pad", ctypes.c_uint32)]


class FileAccess(ctypes.Structure):
    """struct file_access in bpf/layers.h."""

    _fields_ = [(name, ctypes.c_uint64) for name in
                ("reads", "first_page", "last_page", "mmap_pages", "added_pages", "first_ns", "last_ns",
                 "dirtied_folios")]


class LayersProbe(BPFProbe):
    name = "layers"
    description = "file reads inside containers attributed to image layers"
    degrades_without = host.PROCESS_CAPABILITIES
    schema = TABLES
    btf_offsets = {
        **TASK_KEY_OFFSETS,
        "OFF_MAPPING_HOST": ("address_space", "host"),
        "OFF_INODE_INO": ("inode", "i_ino"),
        "OFF_INODE_SB": ("inode", "i_sb"),
        "OFF_SB_DEV": ("super_block", "s_dev"),
    }

    def __init__(self, options=None):
        super().__init__(options)
        self.resolver: ContainerResolver | None = None
        self.index = LayerIndex()
        self._indexed: set[int] = set()       # namespaces queued for (or done with) indexing
        self._inserts_taken = -1              # bpf/layers.bpf.c's layer_inserts when the map was last taken
        self._totals = {"files_read": 0, "containers": 0, "lost": 0}
        # Walking a container's layers takes as long as its image is big: it runs in a
        # thread of its own, never under the collector's lock, and its rows join the
        # next drain.
        self._jobs: queue.Queue = queue.Queue()
        self._done: list[Batch] = []
        self._done_lock = threading.Lock()
        self._indexer: threading.Thread | None = None

    def host_namespaces(self) -> set[int]:
        found = set()
        for pid in ("1", "self"):
            try:
                found.add(os.stat(f"/proc/{pid}/ns/mnt").st_ino)
            except OSError:
                pass
        return found

    def extra_cflags(self) -> list[str]:
        return [f"-DHOST_MNT_NS={host.own_mount_ns()}ULL"]

    def chosen_path(self) -> str:
        return ("filemap tracepoints (get_pages, fault, map_pages, add_to_page_cache) and raw "
                "writeback_dirty_folio")

    def attach(self) -> None:
        self.load()
        self._inserts_taken = -1              # the programs' count starts again
        self.resolver = ContainerResolver()
        for ns in self.host_namespaces():
            self._ignore(ns)
        self._indexer = threads.Named(target=self._index_jobs, name="pyperf-layer-index", daemon=True)
        self._indexer.start()

    def detach(self) -> None:
        self._stop_indexer()
        super().detach()

    def _stop_indexer(self, timeout_s: float = 30.0) -> None:
        if self._indexer is not None:
            self._jobs.put(None)
            self._indexer.join(timeout_s)
            self._indexer = None

    def finish(self) -> Batch:
        """The rows of indexing still in progress when collection stops."""
        self._stop_indexer()
        return self._take_done({})

    def _index_jobs(self) -> None:
        while (job := self._jobs.get()) is not None:
            mnt_ns, writable_only = job
            batch: Batch = {}
            try:
                if not self._index_container(mnt_ns, time.time(), batch, writable_only):
                    self._indexed.discard(mnt_ns)    # not (yet) a container: asked again when it reads
            except Exception as e:  # one container's odd layout must not end indexing for all
                log.error("layers of mount namespace %d: indexing failed: %s: %s", mnt_ns, type(e).__name__, e)
            if batch:
                with self._done_lock:
                    self._done.append(batch)

    def _take_done(self, batch: Batch) -> Batch:
        with self._done_lock:
            done, self._done = self._done, []
        for extra in done:
            for table, columns in extra.items():
                target = batch.setdefault(table, {name: [] for name in columns})
                for name, values in columns.items():
                    target[name].extend(values)
        return batch

    def _ignore(self, mnt_ns: int) -> None:
        table = self.bpf[b"layer_ignored_ns"]
        table[table.Key(mnt_ns)] = table.Leaf(1)

    def drain(self, now: float) -> Batch:
        if self.bpf is None:
            return {}
        entries = self._take_files()
        offset = monotonic_to_epoch_offset()
        rows = defaultdict(list)
        batch: Batch = {}
        wrote, fresh = set(), set()
        for key, value in entries:
            if key.mnt_ns not in self._indexed:
                # rows are kept even before the layers are indexed: the report joins later
                self._indexed.add(key.mnt_ns)
                self._jobs.put((key.mnt_ns, False))
                fresh.add(key.mnt_ns)
            elif value.dirtied_folios and key.mnt_ns not in fresh:
                wrote.add(key.mnt_ns)
            rows["ts"].append(now)
            rows["mnt_ns"].append(key.mnt_ns)
            rows["dev"].append(key.dev)
            rows["inode"].append(key.inode)
            rows["reads"].append(value.reads)
            rows["first_page"].append(value.first_page)
            rows["last_page"].append(value.last_page)
            rows["mmap_pages"].append(value.mmap_pages)
            rows["added_pages"].append(value.added_pages)
            rows["first_access"].append(value.first_ns / 1e9 + offset)
            rows["last_access"].append((value.last_ns or value.first_ns) / 1e9 + offset)
            rows["dirtied_folios"].append(value.dirtied_folios)
            self._totals["files_read"] += 1
        self._totals["lost"] = self.bpf[b"layer_lost"][0].value
        for mnt_ns in wrote:
            # the writable layer changed: its new files (and copy-ups) need their inodes
            self._jobs.put((mnt_ns, True))
        if rows:
            batch["layer_file_access"] = dict(rows)
        return self._take_done(batch)

    def _take_files(self) -> list[tuple]:
        """The entries of layer_files, taken out; none without walking the map when no
        entry was inserted since it was last taken (an insert is counted after it is
        made: one counted is in the map for the walk that follows the count)."""
        inserts = self.bpf[b"layer_inserts"][0].value
        if inserts == self._inserts_taken:
            return []
        self._inserts_taken = inserts
        return self.drainer(b"layer_files").take_all()

    def _index_container(self, mnt_ns: int, now: float, batch: Batch, writable_only: bool = False) -> bool:
        """Index the layers of the container in `mnt_ns` (or only its writable layer,
        again); False when it is not a container."""
        container = self.resolver.by_mnt_ns(mnt_ns)
        if container is None or container.runtime == HOST:
            return False
        pid = self.resolver.pid_in(mnt_ns)
        layers = container_layers(pid) if pid else []
        if not writable_only:
            self._totals["containers"] += 1
        files = batch.setdefault("layer_files", defaultdict(list))
        for layer in layers:
            if writable_only and not layer.writable:
                continue
            for f in self.index.files(layer.path, layer.writable):
                files["ts"].append(now)
                files["mnt_ns"].append(mnt_ns)
                files["container_id"].append(container.id)
                files["container_name"].append(container.name)
                files["image"].append(container.image)
                files["layer_index"].append(layer.index)
                files["layer_id"].append(layer.layer_id)
                files["layer_path"].append(layer.path)
                files["path"].append(f.path)
                files["kind"].append(f.kind)
                files["dev"].append(f.dev)
                files["inode"].append(f.inode)
                files["size"].append(f.size)
        batch["layer_files"] = dict(files)
        if not batch["layer_files"]:
            del batch["layer_files"]
        return True

    def totals(self) -> dict[str, int]:
        return dict(self._totals)
