"""Every stored table, from the modules that fill them: the one list the
generators, the rollups and the two-way test read."""

from __future__ import annotations

import functools

from pyperf.schema import Table


@functools.cache
def tables() -> tuple[Table, ...]:
    # imported here: these modules import the store, which reads this list lazily
    from pyperf import settings
    from pyperf.analysis import actions, alerts
    from pyperf.containers import enricher
    from pyperf.pipeline import counters, governor
    from pyperf.probes.registry import PROBES
    from pyperf.store import migrations

    out = [*migrations.TABLES, *enricher.TABLES, *counters.TABLES, *governor.TABLES, *settings.TABLES,
           *alerts.TABLES, *actions.TABLES]
    for probe in PROBES:
        out += probe.schema
    names = [t.name for t in out]
    assert len(names) == len(set(names)), "a table is declared twice"
    return tuple(out)


def table(name: str) -> Table:
    return next(t for t in tables() if t.name == name)
