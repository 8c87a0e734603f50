"""Applying a recommendation, and undoing it: the findings whose fix is one
setting of a container (its CPU quota, its memory limit) are changed through
the container's runtime (`docker update`: the runtime keeps it across
restarts, which a write to the cgroup file would not); a noisy neighbour's
I/O rate on one device, which `docker update` cannot set, through its cgroup
files (pyperf/analysis/io_limits.py). Every change is planned
first (the exact command, the values before and after, and why those), done
only when asked, and recorded in the `changes` table (who, when, before,
after); undo restores the recorded before values exactly.

Nothing here runs by itself: `pyperf apply` and `pyperf undo` call it."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import pwd
import subprocess
import time
import uuid

from pyperf.analysis import io_limits
from pyperf.errors import PyperfError, UsageError
from pyperf.schema import EVENT, KEY, Column, Table

TABLES = (
    Table("changes",
          "Changes made by `pyperf apply` and undone by `pyperf undo`: what was changed, the values before and "
          "after, who and when.",
          order_by=("host", "ts"), partition_by="", retention_days=None, dedup=False, columns=(
        Column("ts", "DateTime64(3, 'UTC')", KEY, "time", "when it was done"),
        Column("host", "LowCardinality(String)", KEY, "", "the agent's host"),
        Column("change_id", "String", EVENT, "", "the change's id (`pyperf undo ID`)"),
        Column("action", "LowCardinality(String)", EVENT, "", "apply or undo"),
        Column("undoes", "String", EVENT, "", "for an undo: the change it reverted"),
        Column("finding", "String", EVENT, "", "the finding's id (`pyperf report`)"),
        Column("rule", "LowCardinality(String)", EVENT, "", "the finding's rule"),
        Column("container_id", "String", EVENT, "", "the container changed"),
        Column("container", "String", EVENT, "", "its name"),
        Column("command", "String", EVENT, "", "the command run"),
        Column("before", "String", EVENT, "JSON", "the settings before"),
        Column("after", "String", EVENT, "JSON", "the settings after"),
        Column("why", "String", EVENT, "", "how the new values were chosen"),
        Column("who", "String", EVENT, "", "the user who ran it (SUDO_USER when through sudo)"),
      )),
)

PLAN_KEYS = ("finding", "rule", "container_id", "container", "command", "before", "after", "why")
CPU_RULES = ("container_cpu_throttled", "container_cpu_high")
MEMORY_RULES = ("container_memory_high", "container_oom_killed")
IO_RULES = ("disk_noisy_neighbour",)
APPLIABLE = CPU_RULES + MEMORY_RULES + IO_RULES
IO_LIMIT_SHARE = 0.5           # the hog keeps half the I/O rate it had
IO_LIMIT_FLOOR = 10            # I/Os per second: never starve it
DOCKER_TIMEOUT_S = 30


class ApplyError(PyperfError):
    pass


def _docker(*args: str) -> str:
    try:
        out = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=DOCKER_TIMEOUT_S)
    except FileNotFoundError:
        raise ApplyError("docker is not installed here") from None
    except subprocess.TimeoutExpired:
        raise ApplyError(f"docker {args[0]} did not answer in {DOCKER_TIMEOUT_S} s") from None
    if out.returncode != 0:
        raise ApplyError(f"docker {args[0]} failed: {' '.join(out.stderr.split())[:300]}")
    return out.stdout


def limits(container_id: str) -> dict:
    """The container's CPU and memory settings as its runtime holds them."""
    raw = _docker("inspect", "-f", "{{json .HostConfig}}", container_id)
    h = json.loads(raw)
    return {k: int(h.get(k) or 0) for k in ("NanoCpus", "CpuQuota", "CpuPeriod", "Memory", "MemorySwap")}


def _cpu_args(s: dict) -> list[str]:
    if s["NanoCpus"]:
        return ["--cpus", f"{s['NanoCpus'] / 1e9:g}"]
    if s["CpuQuota"]:
        return ["--cpu-quota", str(s["CpuQuota"]), "--cpu-period", str(s["CpuPeriod"] or 100_000)]
    return ["--cpus", "0"]                    # no limit


def _memory_args(s: dict) -> list[str]:
    return ["--memory", str(s["Memory"]), "--memory-swap", str(s["MemorySwap"])]


def cpus_of(s: dict) -> float | None:
    if s["NanoCpus"]:
        return s["NanoCpus"] / 1e9
    if s["CpuQuota"] > 0:
        return s["CpuQuota"] / (s["CpuPeriod"] or 100_000)
    return None


def plan(finding: dict, container_id: str, name: str, host_cpus: int | None = None) -> dict:
    """The change that answers the finding: the command, the settings before and
    after, and why these values."""
    if finding["rule"] not in APPLIABLE:
        raise UsageError(f"finding {finding['id']} ({finding['rule']}) has no change pyperf can apply")
    if finding["rule"] in IO_RULES:
        return _io_plan(finding, container_id, name)
    before = limits(container_id)
    after = dict(before)
    if finding["rule"] in CPU_RULES:
        cpus = cpus_of(before)
        if cpus is None:
            raise UsageError(f"container {name} has no CPU limit to raise")
        host_cpus = host_cpus or os.cpu_count() or 1
        # half again what it has, in steps of 0.05 CPU, at most every CPU of the host
        new = min(float(host_cpus), math.ceil(round(cpus * 1.5 * 20, 6)) / 20)    # 0.2 × 1.5 is 0.30000000000000004
        if new <= cpus:
            raise UsageError(f"container {name} already has every CPU of the host ({cpus:g})")
        after.update(NanoCpus=int(round(new * 1e9)), CpuQuota=0, CpuPeriod=0)
        args = _cpu_args(after)
        why = (f"its quota {cpus:g} CPU raised by half to {new:g} CPU (at most the host's {host_cpus}): "
               f"{finding['summary']}")
    else:
        memory = before["Memory"]
        if not memory:
            raise UsageError(f"container {name} has no memory limit to raise")
        peak = float(finding["evidence"].get("memory_max_mib") or 0) * 2**20
        # the larger of 1.5 × its peak and 1.25 × its limit, whole MiB
        new = int(math.ceil(max(peak * 1.5, memory * 1.25) / 2**20)) * 2**20
        swap = before["MemorySwap"]
        new_swap = -1 if swap == -1 else (new if swap in (0, memory) else swap - memory + new)
        after.update(Memory=new, MemorySwap=new_swap)
        args = _memory_args(after)
        why = (f"its limit {memory >> 20} MiB raised to {new >> 20} MiB (1.5 × its peak "
               f"{peak / 2**20:.0f} MiB, at least 1.25 × the limit): {finding['summary']}")
    return {"finding": finding["id"], "rule": finding["rule"], "container_id": container_id, "container": name,
            "command": ["docker", "update", *args, container_id], "before": before, "after": after, "why": why}


def _pid(container_id: str) -> int:
    pid = int(_docker("inspect", "-f", "{{.State.Pid}}", container_id).strip() or 0)
    if pid <= 0:
        raise ApplyError(f"container {container_id[:12]} is not running")
    return pid


def _io_files(container_id: str):
    try:
        return io_limits.files_of(_pid(container_id))
    except (OSError, ValueError) as e:
        raise ApplyError(f"cannot find the I/O limits of container {container_id[:12]}: {e}") from None


def _io_command(files, major: int, minor: int, values: dict) -> list[str]:
    """What is written, shown as the shell would (the agent writes the files itself)."""
    out = []
    for path, line in io_limits.lines(files, major, minor, values):
        out += [";"] if out else []
        out += ["echo", f"'{line}'", ">", str(path)]
    return out


def _io_plan(finding: dict, container_id: str, name: str) -> dict:
    device = str(finding["evidence"].get("device") or "")
    try:
        major, minor = io_limits.device_numbers(device)
    except (OSError, ValueError) as e:
        raise ApplyError(f"device {device!r} of finding {finding['id']}: {e}") from None
    files = _io_files(container_id)
    current = io_limits.read(files, major, minor)
    iops = float(finding["evidence"].get("iops") or 0)
    limit = max(IO_LIMIT_FLOOR, int(iops * IO_LIMIT_SHARE))
    before = {"major": major, "minor": minor, **current}
    after = {"major": major, "minor": minor, "read_iops": limit, "write_iops": limit}
    why = (f"its I/O rate on {device} ({iops:.0f}/s over the finding's range) halved to {limit}/s, read and write, so the others stop "
           f"queuing behind it (until it restarts: docker run --device-read-iops keeps it): {finding['summary']}")
    return {"finding": finding["id"], "rule": finding["rule"], "container_id": container_id, "container": name,
            "command": _io_command(files, major, minor, after), "before": before, "after": after, "why": why}


def undo_command(change: dict) -> list[str]:
    """The command that sets back `change`'s before values."""
    before = change["before"]
    if change["rule"] in IO_RULES:
        return _io_command(_io_files(change["container_id"]), before["major"], before["minor"], before)
    args = _cpu_args(before) if change["rule"] in CPU_RULES else _memory_args(before)
    return ["docker", "update", *args, change["container_id"]]


def undo_plan(change: dict) -> dict:
    """The change that restores `change`'s before values, if the container still
    has its after values (otherwise someone changed it since: refused)."""
    if change["rule"] in IO_RULES:
        return _io_undo_plan(change)
    current = limits(change["container_id"])
    expected, before = change["after"], change["before"]
    kind = "cpu" if change["rule"] in CPU_RULES else "memory"
    keys = ("NanoCpus", "CpuQuota", "CpuPeriod") if kind == "cpu" else ("Memory", "MemorySwap")
    if any(current[k] != expected[k] for k in keys):
        raise ApplyError(f"container {change['container']} was changed since {change['change_id']} "
                         f"(now {', '.join(f'{k}={current[k]}' for k in keys)}): not undone")
    return {**change, "command": undo_command(change),
            "before": current, "after": {**current, **{k: before[k] for k in keys}},
            "why": f"restores what {change['change_id']} changed"}


def _io_undo_plan(change: dict) -> dict:
    before, after = change["before"], change["after"]
    files = _io_files(change["container_id"])
    current = {"major": before["major"], "minor": before["minor"],
               **io_limits.read(files, before["major"], before["minor"])}
    if current != after:
        raise ApplyError(f"container {change['container']} was changed since {change['change_id']} "
                         f"(now read_iops={current['read_iops']}, write_iops={current['write_iops']}): not undone")
    return {**change, "command": _io_command(files, before["major"], before["minor"], before),
            "before": current, "after": dict(before), "why": f"restores what {change['change_id']} changed"}


def execute(p: dict) -> None:
    if p["rule"] in IO_RULES:
        # recomputed from the container, never taken from the plan's text
        files = _io_files(p["container_id"])
        after = p["after"]
        try:
            io_limits.write(io_limits.lines(files, after["major"], after["minor"], after))
        except OSError as e:
            raise ApplyError(f"cannot write the I/O limit of container {p['container']}: {e.strerror}") from None
        return
    _docker(*p["command"][1:])


def who() -> str:
    user = os.environ.get("SUDO_USER")
    if user:
        return user
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def checked_plan(body: dict) -> dict:
    """A plan received over the API (to be recorded): the shape `plan` makes, or ValueError."""
    p = body.get("plan")
    if not isinstance(p, dict) or set(p) != set(PLAN_KEYS):
        raise ValueError(f"plan needs exactly {', '.join(PLAN_KEYS)}")
    for k in ("finding", "rule", "container_id", "container", "why"):
        if not isinstance(p[k], str) or len(p[k]) > 2000:
            raise ValueError(f"plan.{k} must be a string")
    if not isinstance(p["command"], list) or not all(isinstance(a, str) for a in p["command"]):
        raise ValueError("plan.command must be a list of strings")
    for k in ("before", "after"):
        if not isinstance(p[k], dict) or not all(isinstance(v, int) for v in p[k].values()):
            raise ValueError(f"plan.{k} must map settings to integers")
    if body.get("action") not in ("apply", "undo") or not isinstance(body.get("who"), str) \
            or not isinstance(body.get("undoes", ""), str):
        raise ValueError("action is apply or undo; who and undoes are strings")
    return p


def record(store, p: dict, action: str, by: str, undoes: str = "") -> str:
    change_id = uuid.uuid4().hex[:12]
    store.insert("changes", {
        "ts": [time.time()], "change_id": [change_id], "action": [action], "undoes": [undoes],
        "finding": [p["finding"]], "rule": [p["rule"]], "container_id": [p["container_id"]],
        "container": [p["container"]], "command": [" ".join(p["command"])],
        "before": [json.dumps(p["before"], sort_keys=True)], "after": [json.dumps(p["after"], sort_keys=True)],
        "why": [p["why"]], "who": [by]})
    return change_id


CHANGES = """
SELECT ts, change_id, action, undoes, finding, rule, container_id, container, command, before, after, why, who
FROM changes WHERE host = {host:String} ORDER BY ts DESC LIMIT 1000
"""
KEYS = ("ts", "change_id", "action", "undoes", "finding", "rule", "container_id", "container", "command",
        "before", "after", "why", "who")


def changes(store, host: str | None = None) -> list[dict]:
    out = []
    for r in store.query(CHANGES, {"host": host or store.host_name}).rows:
        c = dict(zip(KEYS, r))
        c["ts"] = c["ts"].replace(tzinfo=dt.timezone.utc).isoformat() if isinstance(c["ts"], dt.datetime) else c["ts"]
        c["before"], c["after"] = json.loads(c["before"]), json.loads(c["after"])
        out.append(c)
    undone = {c["undoes"] for c in out if c["action"] == "undo"}
    for c in out:
        c["undone"] = c["change_id"] in undone
    return out
