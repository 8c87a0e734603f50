"""RolledPieces on a fake clock: bounded by the values it holds, entries unused for
TTL_S dropped, a store's entries forgotten when its rolled-up rows are deleted."""

from pyperf.store.rolled_pieces import RolledPieces


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def rows(n: int, hist: int = 0) -> list[tuple]:
    return [(i, "k", [1] * hist) if hist else (i, "k") for i in range(n)]


def test_the_entry_used_longest_ago_goes_first_when_full():
    kept = RolledPieces(Clock())
    kept.MAX_CELLS = 100
    kept.keep(("a",), ["t", "k"], rows(10))       # 20 values each
    kept.keep(("b",), ["t", "k"], rows(10))
    kept.get(("a",))                               # a used last
    for name in "cde":
        kept.keep((name,), ["t", "k"], rows(10))
    assert kept.cells == 100                        # full, nothing dropped yet
    kept.keep(("f",), ["t", "k"], rows(10))
    assert kept.cells == 100 and kept.get(("b",)) is None and kept.get(("a",)) is not None
    kept.keep(("g",), ["t", "k"], rows(10))         # a was just read: c goes
    assert kept.get(("c",)) is None and kept.get(("a",)) is not None and kept.cells == 100


def test_histograms_count_by_their_buckets_and_a_read_too_large_is_not_kept():
    kept = RolledPieces(Clock())
    kept.MAX_CELLS = 400
    kept.keep(("h",), ["t", "k", "hist"], rows(3, hist=30))
    assert kept.cells == 3 * 32
    kept.keep(("big",), ["t", "k"], rows(60))      # 120 values > a quarter of 400
    assert kept.get(("big",)) is None and kept.get(("h",))[1] == rows(3, hist=30)


def test_unused_entries_expire_and_a_store_can_be_forgotten():
    clock = Clock()
    kept = RolledPieces(clock)
    kept.keep(("store-a", 1), ["t"], rows(5))
    kept.keep(("store-b", 1), ["t"], rows(5))
    clock.t = kept.TTL_S - 1
    assert kept.get(("store-a", 1)) == (["t"], rows(5))
    clock.t = kept.TTL_S + 1                      # b unused since 0, a used at TTL_S - 1
    assert kept.get(("store-b", 1)) is None and kept.get(("store-a", 1)) is not None
    kept.keep(("store-b", 2), ["t"], rows(5))
    kept.forget("store-a")
    assert kept.get(("store-a", 1)) is None and kept.get(("store-b", 2)) is not None and kept.cells == 10
