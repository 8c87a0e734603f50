"""Applying a fix without a person, for the rules the user turned that on for
(`pyperf up --auto-apply RULE` or the config file; root's choice, so the
Settings page shows it but cannot switch it): when such a rule's alert
fires, the agent plans the same change `pyperf apply` would (pyperf/analysis/
actions.py), makes it, records it with who = "pyperf auto-apply", and logs it;
`pyperf undo CHANGE` reverts it as any other change.

Guard rails: off for every rule unless turned on; one change per container and
rule per cool-down (default 15 min, so a change has time to show its effect
before the next step); a plan the runtime refuses is logged once per firing,
never retried in a loop."""

from __future__ import annotations

import logging
import time

from pyperf.analysis import actions
from pyperf.errors import PyperfError

log = logging.getLogger("pyperf.auto_apply")

WHO = "pyperf auto-apply"
COOLDOWN_S = 15 * 60.0
ENABLED: dict[str, bool] = {rule: False for rule in actions.APPLIABLE}   # per rule, off unless turned on


class AutoApply:
    def __init__(self, store, clock=time.monotonic, cooldown_s: float = COOLDOWN_S,
                 plan=actions.plan, execute=actions.execute):
        self.store = store
        self.clock, self.cooldown_s = clock, cooldown_s
        self._plan, self._execute = plan, execute
        self._last: dict[tuple[str, str], float] = {}     # (rule, container id) -> when changed
        self.applied = 0
        self.failed = 0

    def on_firing(self, finding: dict) -> str | None:
        """The change id when the finding's fix was made, else None (not turned
        on, cooling down, or refused: logged)."""
        rule = finding["rule"]
        if not ENABLED.get(rule) or not finding.get("appliable"):
            return None
        key = (rule, finding["subject_id"])
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.cooldown_s:
            log.info("auto-apply %s on %s: changed %.0f s ago, waiting for the cool-down (%.0f s)",
                     rule, finding["subject"], now - last, self.cooldown_s)
            return None
        self._last[key] = now             # a refusal waits the cool-down too: no retry loop
        try:
            p = self._plan(finding, finding["subject_id"], finding["subject"])
            self._execute(p)
        except PyperfError as e:
            self.failed += 1
            log.error("auto-apply %s on %s: not applied: %s", rule, finding["subject"], e)
            return None
        self.applied += 1
        try:
            # straight to the store, as `pyperf apply` records: undo finds it at once
            change_id = actions.record(self.store, p, "apply", WHO)
        except Exception as e:
            log.error("auto-apply %s on %s: made but NOT recorded (store: %s): %s; undo by hand: %s",
                      rule, finding["subject"], " ".join(str(e).split())[:200], " ".join(p["command"]),
                      " ".join(actions.undo_command(p)))
            return None
        log.warning("auto-apply %s on %s: change %s: %s (undo: pyperf undo %s)",
                    rule, finding["subject"], change_id, " ".join(p["command"]), change_id)
        return change_id


def turned_on() -> list[str]:
    return sorted(rule for rule, on in ENABLED.items() if on)
