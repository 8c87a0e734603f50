"""Take every entry out of a BPF hash map in one pass (BPF_MAP_LOOKUP_AND_DELETE_BATCH)
through buffers allocated once per map. bcc's items_lookup_and_delete_batch()
allocates key and value arrays of the map's full size on every call: 262 144
entries for layer_files, tens of MB a second at a 1 s interval, for maps that
mostly hold a few hundred entries."""

from __future__ import annotations

import ctypes as ct
import errno
import os

from bcc.libbcc import lib

CHUNK = 4096


class MapDrainer:
    def __init__(self, table, chunk: int = CHUNK):
        self.table = table
        self.size = min(chunk, table.max_entries)
        self.keys = (table.Key * self.size)()
        self.values = (table.Leaf * self.size)()

    def take_all(self) -> list[tuple]:
        """[(key, value)] of every entry, each removed from the map (copies: the
        buffers are reused)."""
        out = []
        key_type, leaf_type = self.table.Key, self.table.Leaf
        key_size, leaf_size = ct.sizeof(key_type), ct.sizeof(leaf_type)
        token = ct.c_uint32(0)
        first = True
        while True:
            count = ct.c_uint32(self.size)
            res = lib.bpf_lookup_and_delete_batch(self.table.map_fd, None if first else ct.byref(token),
                                                  ct.byref(token), ct.byref(self.keys), ct.byref(self.values),
                                                  ct.byref(count))
            err = ct.get_errno()
            for i in range(count.value):
                out.append((key_type.from_buffer_copy(self.keys, i * key_size),
                            leaf_type.from_buffer_copy(self.values, i * leaf_size)))
            if res != 0:
                if err == errno.ENOENT:
                    return out
                raise OSError(err, f"BPF_MAP_LOOKUP_AND_DELETE_BATCH: {os.strerror(err)}")
            first = False
