"""`pyperf status` names every kind of loss a probe or the store counted, and
nothing where the counts are zero."""

from pyperf.commands.status import losses


def test_each_loss_a_probe_counted_is_named_with_its_count():
    host = {"probes": {"disk": {"lost": 2, "unseen_ios": 3, "lost_starts": 5, "ios": 900}},
            "store": {"disk_io": {"failed": 4, "inserted": 100}}}
    found = losses(host)
    assert found[0].startswith("probe disk lost 2 events")
    assert found[1].startswith("probe disk did not see 3 I/O completions")
    assert found[2].startswith("probe disk counted 5 I/Os without their start")
    assert found[3] == "disk_io: 4 rows rejected by the store"
    assert len(found) == 4


def test_zero_counts_are_no_loss():
    assert losses({"probes": {"disk": {"lost": 0, "unseen_ios": 0, "lost_starts": 0}}, "store": {}}) == []
