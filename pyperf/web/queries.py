"""What every page needs from the store: the hosts that write into it, and
times as epoch seconds."""

from __future__ import annotations

import datetime as dt
import time

HOSTS = """
SELECT DISTINCT host FROM agent_counters WHERE ts >= now64(3) - toIntervalDay(7) ORDER BY host
"""


HOSTS_MAX_AGE_S = 60.0
_hosts: dict[str, tuple[float, list[str]]] = {}


def hosts(store) -> list[str]:
    """Hosts whose agents wrote into this store in the last week, this one first;
    asked by every page and partial, so kept a minute (a new agent shows up in
    the picker within one)."""
    key = store.address.redacted()
    now = time.monotonic()
    cached = _hosts.get(key)
    if cached is not None and now - cached[0] < HOSTS_MAX_AGE_S:
        return cached[1]
    others = [r[0] for r in store.query(HOSTS).rows if r[0] != store.host_name]
    _hosts[key] = (now, [store.host_name, *others])
    return _hosts[key][1]


def epoch(t) -> float:
    return (t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)).timestamp()
