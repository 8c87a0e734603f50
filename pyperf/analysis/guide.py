"""The rules' table of docs/performance_guide.md, generated from the rules
themselves so the guide cannot drift from what runs:
`python -m pyperf.analysis.guide` rewrites the block between its markers
(a test keeps it current)."""

from __future__ import annotations

import sys
from pathlib import Path

from pyperf.analysis import thresholds
from pyperf.analysis.rules import RULES

BEGIN, END = "<!-- rules:begin (python -m pyperf.analysis.guide) -->", "<!-- rules:end -->"
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "performance_guide.md"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    lines = [BEGIN, "",
             "| rule | resource / kind | scope | fires when | default | severity | evidence quoted | what to do |"
             " expected improvement (estimated from) | effort | alert |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in RULES:
        default = thresholds.value(r.threshold)
        severity = r.severity + (f", critical from {r.critical_at:g}× the threshold" if r.critical_at else "")
        guard = "".join(f"; only with {k} ≥ {v:g}" for k, v in r.guard)
        lines.append(
            f"| `{r.id}` | {r.resource} {r.kind} | {r.scope} | `{r.metric}` {'<' if r.below else '>'} "
            f"`{r.threshold}`{guard} | {default:g} {r.unit} | {severity} | {', '.join(f'`{e}`' for e in r.evidence)} "
            f"| {_cell(r.recommendation)} | {_cell(r.improvement)} ({_cell(r.estimate)}) | {r.effort} "
            f"| {'yes' if r.alert else ''} |")
    lines += ["", END]
    return "\n".join(lines)


def updated(text: str) -> str:
    head, _, rest = text.partition(BEGIN)
    _, _, tail = rest.partition(END)
    return head + render() + tail


def main() -> int:
    GUIDE.write_text(updated(GUIDE.read_text()))
    print(f"wrote {GUIDE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
