"""`pyperf doctor`: what this host offers and which probes really load here.

Every check says what it found and, when it fails, how to fix it. Exit code 0
only when at least one probe attaches."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass

from pyperf import __version__
from pyperf.errors import PyperfError
from pyperf.kernel import host
from pyperf.kernel.btf import VMLINUX_BTF, BTFError, kernel_btf
from pyperf.probes.base import ProbeOptions
from pyperf.probes.registry import REGISTRY
from pyperf.store.dsn import resolve_address
from pyperf.store import migrations
from pyperf.store.lock import holder
from pyperf.store.store import Store

RUNTIME_SOCKETS = {
    "docker": ["/var/run/docker.sock", "/run/docker.sock"],
    "containerd": ["/run/containerd/containerd.sock", "/run/k3s/containerd/containerd.sock"],
    "podman": ["/run/podman/podman.sock"],
    "cri-o": ["/var/run/crio/crio.sock"],
}


@dataclass
class Check:
    name: str
    status: str            # "ok", "warn" or "fail"
    detail: str
    fix: str = ""


def check_kernel() -> Check:
    return Check("kernel", "ok", host.kernel_release())


def check_btf() -> Check:
    try:
        btf = kernel_btf()
        btf.offsetof("task_struct", "pid")
        return Check("btf", "ok", f"{VMLINUX_BTF} ({len(btf._records) - 1} types)")
    except BTFError as e:
        return Check("btf", "fail", str(e), "boot a kernel built with CONFIG_DEBUG_INFO_BTF=y")


def check_tracefs() -> Check:
    host.ensure_tracefs()
    if host.is_mounted(host.TRACEFS):
        return Check("tracefs", "ok", f"mounted at {host.TRACEFS}")
    return Check("tracefs", "fail", "not mounted", "sudo mount -t tracefs nodev /sys/kernel/tracing")


def check_capabilities() -> Check:
    have = [name for name, on in host.effective_capabilities().items() if on]
    bpf = host.missing_capabilities(host.BPF_CAPABILITIES)
    processes = host.missing_capabilities(host.PROCESS_CAPABILITIES)
    detail = f"effective: {', '.join(have) or 'none of ' + ', '.join(host.CAPABILITIES)}"
    if bpf:
        return Check("capabilities", "fail", f"{detail}; missing {', '.join(bpf)}: no BPF probe loads",
                     "run pyperf as root, or give it CAP_BPF and CAP_PERFMON (docs/service.md)")
    if processes:
        return Check("capabilities", "warn", f"{detail}; missing {', '.join(processes)}: other users' "
                     "processes are seen without names, symbols or containers",
                     "add CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH (docs/service.md)")
    return Check("capabilities", "ok", detail)


def check_bcc() -> Check:
    try:
        import bcc
    except ImportError:
        return Check("bcc", "fail", "not importable",
                     "sudo scripts/install.sh (installs python3-bpfcc and links it into .venv)")
    version = getattr(bcc, "__version__", "unknown")
    headers = host.headers_dir()
    if not headers:
        return Check("bcc", "fail", f"bcc {version}; no kernel headers under /lib/modules/"
                     f"{host.kernel_release()}/build", "sudo scripts/install.sh")
    matching = os.path.basename(headers).startswith(f"linux-headers-{host.kernel_release()}")
    note = "" if matching else " (not this kernel's: struct offsets come from BTF instead)"
    return Check("bcc", "ok", f"bcc {version}, compiling against {headers}{note}")


def check_cgroups() -> Check:
    mode = host.cgroup_mode()
    status = "ok" if mode != "none" else "warn"
    return Check("cgroups", status, f"cgroup {mode}", "" if status == "ok" else "mount cgroup2 at /sys/fs/cgroup")


def check_runtimes() -> Check:
    found = [name for name, sockets in RUNTIME_SOCKETS.items() if any(os.path.exists(s) for s in sockets)]
    binaries = [b for b in ("docker", "containerd", "podman", "crictl") if shutil.which(b)]
    detail = f"sockets: {', '.join(found) or 'none'}; binaries: {', '.join(binaries) or 'none'}"
    return Check("container runtimes", "ok" if found else "warn", detail,
                 "" if found else "no running container runtime found (host processes are still profiled)")


def check_store(dsn: str | None) -> Check:
    try:
        address = resolve_address(dsn)
    except PyperfError as e:
        return Check("store", "fail", str(e), "pass --store chdb:///path or http(s)://host:8123/db")
    if address.embedded:
        owner = holder(address.path)
        if owner is not None:
            via = f" at http://{owner['listen']}" if owner.get("listen") else ""
            return Check("store", "ok", f"{address.redacted()} is open by pyperf {owner.get('command')} "
                         f"(pid {owner.get('pid')}){via}")
    store = Store(address)
    try:
        store.open(migrate=False)
        version = store.query("SELECT version()").rows[0][0]
        latest = max(m.version for m in migrations.available())
        schema = store.query("SELECT max(version) FROM schema_migrations").rows[0][0] if store.query(
            "EXISTS TABLE schema_migrations").rows[0][0] else 0
        note = ("" if schema == latest else
                f"; this pyperf migrates it to {latest} at its next start" if schema < latest else
                f"; NEWER than this pyperf ({latest}): upgrade pyperf")
        return Check("store", "ok" if schema <= latest else "warn",
                     f"{address.redacted()} (ClickHouse {version}, schema version {schema}{note})")
    except PyperfError as e:
        return Check("store", "fail", str(e), "check --store / PYPERF_STORE, or run as root for /var/lib/pyperf")
    finally:
        store.close()


def check_probe(name: str) -> Check:
    probe = REGISTRY[name](ProbeOptions())
    lacking = host.missing_capabilities(probe.needs)
    if lacking:
        return Check(f"probe {name}", "fail", f"lacks {', '.join(lacking)}",
                     "run pyperf as root, or add it to the capability set (docs/service.md)")
    try:
        probe.attach()
    except PyperfError as e:
        return Check(f"probe {name}", "fail", str(e), "see the error; `pyperf record --probes "
                     f"{name} --dump-bpf` prints the program")
    finally:
        try:
            probe.detach()
        except Exception:
            pass
    degraded = host.missing_capabilities(probe.degrades_without)
    if degraded:
        return Check(f"probe {name}", "warn", f"attaches, but lacks {', '.join(degraded)}: other users' "
                     "processes are seen without names, symbols or containers", "add it to the capability set")
    return Check(f"probe {name}", "ok", f"attaches ({probe.description}; {probe.chosen_path()})")


def run(args) -> int:
    checks = [check_kernel(), check_btf(), check_tracefs(), check_capabilities(), check_bcc(),
              check_cgroups(), check_runtimes(), check_store(args.store)]
    probe_checks = [check_probe(name) for name in sorted(REGISTRY)]
    checks += probe_checks
    usable = sum(c.status != "fail" for c in probe_checks)
    if args.json:
        print(json.dumps({"version": __version__, "usable_probes": usable,
                          "checks": [asdict(c) for c in checks]}))
    else:
        marks = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}
        for c in checks:
            print(f"[{marks[c.status]}] {c.name}: {c.detail}")
            if c.status != "ok" and c.fix:
                print(f"       fix: {c.fix}")
        print(f"{usable} of {len(probe_checks)} probes can run here")
    return 0 if usable else 1
