"""The time range every page shows, kept in the URL (`?range=1h`, or
`?range=custom&from=...&to=...`) so any view can be shared and reloaded."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pyperf.store import rollups

RANGES = {"live": 300, "5m": 300, "1h": 3600, "24h": 86400, "7d": 7 * 86400}
MAX_CUSTOM_S = 400 * 86400


@dataclass(frozen=True)
class TimeRange:
    name: str                 # one of RANGES or "custom"
    start: dt.datetime
    end: dt.datetime

    @property
    def live(self) -> bool:
        """Refreshed every second from the agent's recent window."""
        return self.name == "live"

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def whole_step(self) -> int:
        """The range as one bucket per key (pyperf.store.rollups.whole_step)."""
        return rollups.whole_step(self.start, self.end)

    def query_args(self) -> dict[str, str]:
        """What to put in a URL to come back to this range."""
        if self.name != "custom":
            return {"range": self.name}
        return {"range": "custom", "from": self.start.isoformat(timespec="seconds"),
                "to": self.end.isoformat(timespec="seconds")}


def _instant(text: str, what: str) -> dt.datetime:
    try:
        t = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"'{what}' is not an ISO 8601 time (e.g. 2026-12-02T14:00:00Z): {text[:40]!r}") from None
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def parse_range(args, now: dt.datetime | None = None) -> TimeRange:
    """The range from request arguments (a mapping); ValueError with a one-line
    message for anything else."""
    now = now or dt.datetime.now(dt.timezone.utc)
    name = args.get("range") or "live"
    if name in RANGES:
        return TimeRange(name, now - dt.timedelta(seconds=RANGES[name]), now)
    if name != "custom":
        raise ValueError(f"unknown range {name[:20]!r} (live, 5m, 1h, 24h, 7d or custom)")
    if not args.get("from") or not args.get("to"):
        raise ValueError("a custom range needs 'from' and 'to'")
    start, end = _instant(args["from"], "from"), _instant(args["to"], "to")
    if end <= start:
        raise ValueError("'to' must be after 'from'")
    if (end - start).total_seconds() > MAX_CUSTOM_S:
        raise ValueError(f"a custom range spans at most {MAX_CUSTOM_S // 86400} days")
    return TimeRange("custom", start, end)
