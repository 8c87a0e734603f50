"""Cumulative counters per key, as BPF maps keep them, turned into what each key
added since the previous read: the one delta helper of every probe that reads
counter maps (per process: pyperf.probes.process_table; per device and per
container: disk; per server: response).

Keys are the map's raw key bytes in any numpy dtype that sorts (u32 process
ids, np.void for structs), values one int64 row per key. A key read for the
first time counts from zero; a key missing from a read (an LRU map evicted it,
or its process exited) is forgotten, so a reused key starts from zero again.
Columns marked `wrapping` hold 32-bit counts that wrap: their differences are
taken modulo 2^32."""

from __future__ import annotations

import numpy as np


class KeyedCounters:
    def __init__(self, wrapping: np.ndarray | None = None):
        self.keys: np.ndarray | None = None      # sorted
        self.values: np.ndarray | None = None
        # one AND over the whole matrix: -1 keeps a column, 2^32 - 1 wraps it
        self._wrap = np.where(wrapping, 0xFFFF_FFFF, -1) if wrapping is not None and wrapping.any() else None

    def deltas(self, keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(keys sorted, their values, what each added since the remembered read,
        whether each was in it); remembers nothing (see remember, advance)."""
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], np.asarray(values, np.int64)[order]
        before = np.zeros_like(values)
        seen = np.zeros(len(keys), bool)
        if self.keys is not None and len(self.keys) and len(keys):
            pos = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
            seen = self.keys[pos] == keys
            before[seen] = self.values[pos[seen]]
        diff = values - before
        if self._wrap is not None:
            diff &= self._wrap
        return keys, values, diff, seen

    def remember(self, keys: np.ndarray, values: np.ndarray) -> None:
        """What the next deltas() subtract: `keys` sorted, as deltas() returned them."""
        self.keys, self.values = keys, values

    def advance(self, keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """deltas(), then remember this read: (keys sorted, values, deltas)."""
        keys, values, diff, _ = self.deltas(keys, values)
        self.remember(keys, values)
        return keys, values, diff
