"""Pure parts tested on literal inputs: DSNs, device names, histograms, SQL splitting."""

from pathlib import Path

import numpy as np
import pytest

from pyperf.analysis.histogram import mean_us, quantile_us
from pyperf.cli import parse_duration
from pyperf.commands.output import render
from pyperf.errors import UsageError
from pyperf.store.dsn import DEFAULT_DSN, parse_dsn, resolve_dsn
from pyperf.store.migrations import available, split_statements
from pyperf.system.block_devices import BlockDeviceNames, split_dev

FIXTURES = Path(__file__).parent / "fixtures"


def test_dsn_forms(monkeypatch):
    a = parse_dsn("chdb:///var/lib/pyperf/store")
    assert a.embedded and a.path == "/var/lib/pyperf/store" and a.database == "pyperf"
    b = parse_dsn("https://ops:s%40cret@ch.example:9443/metrics")
    assert (b.scheme, b.host, b.port, b.username, b.password, b.database) == (
        "https", "ch.example", 9443, "ops", "s@cret", "metrics")
    assert "s@cret" not in b.redacted() and "***" in b.redacted()
    assert parse_dsn("http://ch").port == 8123 and parse_dsn("https://ch").port == 8443
    monkeypatch.delenv("PYPERF_STORE", raising=False)
    assert resolve_dsn(None) == DEFAULT_DSN
    monkeypatch.setenv("PYPERF_STORE", "chdb:///x")
    assert resolve_dsn(None) == "chdb:///x" and resolve_dsn("chdb:///y") == "chdb:///y"
    with pytest.raises(UsageError):
        parse_dsn("chdb://host/path")


def test_device_names_from_a_sys_tree():
    names = BlockDeviceNames(str(FIXTURES / "sys"))
    assert names.name(253 << 20 | 0) == "vda"
    assert names.name(7 << 20 | 3) == "loop3"
    assert names.name(259 << 20 | 1) == "nvme0n1"
    assert names.name(8 << 20 | 16) == "8:16"
    assert split_dev(259 << 20 | 1) == (259, 1)


def test_histogram_quantiles_and_mean():
    hist = np.zeros(32)
    hist[7] = 100                       # all in [128, 256) µs
    assert 128 <= quantile_us(hist, 0.5) <= 256
    assert quantile_us(hist, 0.5) == pytest.approx(192)
    assert mean_us(hist) == pytest.approx(192)
    hist[10] = 100                      # half in [1024, 2048)
    assert quantile_us(hist, 0.99) > 1024
    assert quantile_us(np.zeros(32), 0.5) == 0.0
    assert quantile_us([0, 5], 0.5) == pytest.approx(3.0)   # slot 1 = [2, 4)


def test_durations():
    assert parse_duration("10s") == 10 and parse_duration("100ms") == pytest.approx(0.1)
    assert parse_duration("2m") == 120 and parse_duration("1.5") == 1.5


def test_sql_splitting_and_migration_files():
    sql = "-- comment\nCREATE TABLE a (x UInt8) ENGINE = Memory;\n\nCREATE TABLE b (s String DEFAULT ';') ENGINE = Memory;\n"
    assert split_statements(sql) == ["CREATE TABLE a (x UInt8) ENGINE = Memory",
                                     "CREATE TABLE b (s String DEFAULT ';') ENGINE = Memory"]
    versions = [m.version for m in available()]
    assert versions == sorted(versions) and versions[0] == 1


def test_render_formats():
    cols, rows = ["a", "b"], [(1, "x"), (22, "y,z")]
    assert render(cols, rows, "csv") == 'a,b\n1,x\n22,"y,z"'
    assert render(cols, rows, "json") == '[{"a": 1, "b": "x"}, {"a": 22, "b": "y,z"}]'
    table = render(cols, rows, "table").splitlines()
    assert table[0].split() == ["a", "b"] and table[-1] == "(2 rows)"
