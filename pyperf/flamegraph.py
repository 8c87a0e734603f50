"""Flame graphs from the stored profile: folded stacks (Brendan Gregg's
flamegraph.pl and most viewers) and the speedscope JSON format."""

from __future__ import annotations

from pyperf import __version__

FOLDED_QUERIES = {}

FOLDED_QUERIES["oncpu"] = """
SELECT folded, sum(samples) AS weight
FROM profile_stack
WHERE ts >= now64(3) - toIntervalSecond({seconds:UInt32})
  AND ({pid:UInt32} = 0 OR pid = {pid:UInt32})
  AND ({comm:String} = '' OR comm = {comm:String})
  AND ({mnt_ns:UInt64} = 0 OR mnt_ns = {mnt_ns:UInt64})
GROUP BY folded
ORDER BY weight DESC
"""

# blocked time in microseconds as the weight
FOLDED_QUERIES["offcpu"] = FOLDED_QUERIES["oncpu"].replace(
    "sum(samples)", "sum(blocked_us)").replace("FROM profile_stack", "FROM offcpu_stack")


def to_folded(stacks: list[tuple[str, int]]) -> str:
    return "".join(f"{folded} {samples}\n" for folded, samples in stacks)


def to_speedscope(stacks: list[tuple[str, int]], name: str, unit: str = "none") -> dict:
    """A speedscope file (https://www.speedscope.app/file-format-schema.json): one sampled profile."""
    frame_index: dict[str, int] = {}
    samples, weights = [], []
    for folded, count in stacks:
        ids = []
        for frame in folded.split(";"):
            ids.append(frame_index.setdefault(frame, len(frame_index)))
        samples.append(ids)
        weights.append(count)
    total = sum(weights)
    return {
        "$schema": "https://www.speedscope.app/file-format-schema.json",
        "name": name,
        "exporter": f"pyperf {__version__}",
        "activeProfileIndex": 0,
        "shared": {"frames": [{"name": frame} for frame in frame_index]},
        "profiles": [{"type": "sampled", "name": name, "unit": unit, "startValue": 0,
                      "endValue": total, "samples": samples, "weights": weights}],
    }
