"""Settings: the interval, the probes, the CPU budget, retention and the alert
thresholds of the running agent, changed in a form (pyperf/settings.py checks,
applies and stores them)."""

from __future__ import annotations

from flask import current_app, render_template, request

from pyperf import settings
from pyperf.analysis import auto_apply
from pyperf.errors import StoreError


def routes(bp, store, collector, page_context) -> None:
    def agent() -> settings.Agent:
        return current_app.config["PYPERF_AGENT"]

    def shown(**extra):
        a = agent()
        return render_template("settings.html", groups=settings.GROUPS, by_key=settings.BY_KEY, inf=float("inf"),
                               current=a.current(), probe_names=a.probe_names(), auto_apply=auto_apply.ENABLED,
                               **extra, **page_context())

    @bp.get("/settings")
    def show():
        return shown(done={}, errors={})

    @bp.post("/settings")
    def change():
        a = agent()
        values, errors = settings.parse(request.form, a)
        if errors:                       # nothing applied when anything is wrong
            return shown(done={}, errors=errors, submitted=request.form), 400
        before = a.current()
        changed = {k: v for k, v in values.items() if before.get(k) != v}
        done = settings.apply(a, changed)
        try:
            settings.save(store, changed, who=request.remote_addr or "")
        except StoreError as e:
            current_app.logger.warning("settings not stored: %s", e)
            errors = {"store": f"applied, but not stored (the next start will not have them): {e}"}
        current_app.logger.info("settings changed by %s: %s", request.remote_addr,
                                ", ".join(f"{k}={v}" for k, v in changed.items()) or "nothing")
        return shown(done=done, errors=errors)
