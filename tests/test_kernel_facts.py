"""Facts about the kernel read from its release string (no root)."""

import pytest

from pyperf.kernel.host import NO_PREALLOC, hash_map_flags


@pytest.mark.parametrize("release, flags", [
    ("6.18.44-fc-v1300", NO_PREALLOC),
    ("6.1.0-13-amd64", NO_PREALLOC),
    ("6.1-rc1", NO_PREALLOC),
    ("10.2.1", NO_PREALLOC),
    ("6.0.19", 0),                 # tracing programs may not allocate map entries safely before 6.1
    ("5.15.0-91-generic", 0),
    ("4.19.0-26-amd64", 0),
    ("not-a-version", 0),          # unknown: the choice every kernel loads without a warning
])
def test_hash_maps_allocate_entries_as_inserted_only_from_6_1(release, flags):
    assert hash_map_flags(release) == flags
