"""Read a BPF hash map in one pass of batch syscalls (BPF_MAP_LOOKUP_BATCH, or
BPF_MAP_LOOKUP_AND_DELETE_BATCH to take entries out) through buffers allocated
once per map. bcc's items_*_batch() allocates key and value arrays of the map's
full size on every call: 262 144 entries for layer_files, tens of MB a second
at a 1 s interval, for maps that mostly hold a few hundred entries; and its
per-entry items() costs two syscalls and a ctypes object per entry."""

from __future__ import annotations

import ctypes as ct
import errno
import os

import numpy as np
from bcc.libbcc import lib

CHUNK = 1024


class MapDrainer:
    def __init__(self, table, chunk: int = CHUNK):
        self.table = table
        self.size = min(chunk, table.max_entries)
        self.keys = (table.Key * self.size)()
        self.values = (table.Leaf * self.size)()

    def _chunks(self, delete: bool):
        """Yield the number of entries each batch call left in the buffers."""
        call = lib.bpf_lookup_and_delete_batch if delete else lib.bpf_lookup_batch
        name = "BPF_MAP_LOOKUP_AND_DELETE_BATCH" if delete else "BPF_MAP_LOOKUP_BATCH"
        token = ct.c_uint32(0)
        first = True
        while True:
            count = ct.c_uint32(self.size)
            res = call(self.table.map_fd, None if first else ct.byref(token), ct.byref(token),
                       ct.byref(self.keys), ct.byref(self.values), ct.byref(count))
            err = ct.get_errno()
            if count.value:
                yield count.value
            if res != 0:
                if err == errno.ENOENT:
                    return
                raise OSError(err, f"{name}: {os.strerror(err)}")
            first = False

    def take_all(self) -> list[tuple]:
        """[(key, value)] of every entry, each removed from the map (copies: the
        buffers are reused)."""
        out = []
        key_type, leaf_type = self.table.Key, self.table.Leaf
        key_size, leaf_size = ct.sizeof(key_type), ct.sizeof(leaf_type)
        for count in self._chunks(delete=True):
            for i in range(count):
                out.append((key_type.from_buffer_copy(self.keys, i * key_size),
                            leaf_type.from_buffer_copy(self.values, i * leaf_size)))
        return out

    def delete(self, keys: np.ndarray) -> int:
        return delete_keys(self.table, keys)

    def read_arrays(self, key_dtype: np.dtype, value_dtype: np.dtype, each=None) -> tuple[np.ndarray, np.ndarray]:
        """Every entry, left in the map, as (keys, values): one row of values per
        key, as many `value_dtype` items as the map's value holds (a per-CPU
        map's copies one after the other). `each`: made of each batch's rows
        (a view of the buffer) before the next batch is read, e.g. per-CPU copies
        summed, so a map of 40 000 processes is never held whole as it came."""
        key_size, leaf_size = ct.sizeof(self.table.Key), ct.sizeof(self.table.Leaf)
        if key_size != key_dtype.itemsize or leaf_size % value_dtype.itemsize:
            raise ValueError(f"{self.table.Key} / {self.table.Leaf} do not fit {key_dtype} / {value_dtype}")
        per_entry = leaf_size // value_dtype.itemsize
        keys, values = [], []
        for count in self._chunks(delete=False):
            keys.append(np.frombuffer(self.keys, key_dtype, count).copy())
            rows = np.frombuffer(self.values, value_dtype, count * per_entry).reshape(count, per_entry)
            values.append(each(rows) if each is not None else rows.copy())
        if not keys:
            empty = np.empty((0, per_entry), value_dtype)
            return np.empty(0, key_dtype), each(empty) if each is not None else empty
        return np.concatenate(keys), np.concatenate(values)


def delete_keys(table, keys) -> int:
    """Remove `keys` (a numpy array of the keys' bytes: no Python object per key)
    from a BPF hash map in BPF_MAP_DELETE_BATCH calls instead of a syscall per
    key; keys already gone are skipped (the call stops at the first missing key
    and says how many it removed before it). Returns how many were removed."""
    if not len(keys):
        return 0
    size = ct.sizeof(table.Key)
    buffer = np.ascontiguousarray(keys)
    if buffer.dtype.itemsize != size:
        raise ValueError(f"{buffer.dtype} keys for a map keyed by {size} bytes")
    base = buffer.ctypes.data
    removed = done = 0
    while done < len(keys):
        count = ct.c_uint32(len(keys) - done)
        res = lib.bpf_delete_batch(table.map_fd, ct.c_void_p(base + done * size), ct.byref(count))
        err = ct.get_errno()
        removed += count.value
        done += count.value
        if res == 0:
            break
        if err != errno.ENOENT:
            raise OSError(err, f"BPF_MAP_DELETE_BATCH: {os.strerror(err)}")
        done += 1
    return removed
