"""What every page needs from the store: the hosts that write into it, and
times as epoch seconds."""

from __future__ import annotations

import datetime as dt

HOSTS = """
SELECT DISTINCT host FROM agent_counters WHERE ts >= now64(3) - toIntervalDay(7) ORDER BY host
"""


def hosts(store) -> list[str]:
    """Hosts whose agents wrote into this store in the last week, this one first."""
    others = [r[0] for r in store.query(HOSTS).rows if r[0] != store.host_name]
    return [store.host_name, *others]


def epoch(t) -> float:
    return (t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)).timestamp()
