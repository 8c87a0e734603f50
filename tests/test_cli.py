"""The command line's own verbs: --version, --help, --dump-bpf, doctor."""

import json
import shutil
import subprocess

import pytest
from conftest import ROOT, require_root, run_pyperf

from pyperf import __version__


def test_version_and_help():
    assert run_pyperf("--version").stdout.strip() == f"pyperf {__version__}"
    helped = run_pyperf("--help")
    assert helped.returncode == 0
    for verb in ("up", "record", "sql", "doctor"):
        assert verb in helped.stdout


def test_dump_bpf_prints_the_program_with_btf_offsets():
    out = run_pyperf("record", "--probes", "disk", "--dump-bpf", check=True).stdout
    assert "RAW_TRACEPOINT_PROBE(block_io_done)" in out
    assert "-DOFF_RQ_START_TIME_NS=" in out and "-DSLOW_NS=10000000ULL" in out


def test_dump_bpf_shows_a_rider_in_its_hosts_program():
    """With sched and faults, sched's program is printed with the faults part joined
    before it and its flags, as the collector compiles it."""
    out = run_pyperf("record", "--probes", "sched,faults", "--dump-bpf", check=True).stdout
    sched = out.split("// ===== probe faults")[0]
    assert "// ===== probe sched" in sched and "-DSETTLE_FAULTS" in sched and "-DOFF_TASK_MIN_FLT=" in sched
    assert sched.index("static __always_inline void settle_faults(") < sched.index("RAW_TRACEPOINT_PROBE(sched_switch)")


def test_doctor_reports_every_check_and_loads_the_probe(store_dsn):
    require_root()
    result = run_pyperf("doctor", "--json", store=store_dsn)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert {"kernel", "btf", "tracefs", "capabilities", "bcc", "cgroups", "container runtimes",
            "store", "probe disk", "probe system"} <= set(checks)
    for name in ("kernel", "btf", "tracefs", "capabilities", "bcc", "store", "probe disk"):
        assert checks[name]["status"] == "ok", checks[name]
    assert "block_io_done" in checks["probe disk"]["detail"]
    assert checks["probe system"]["status"] == "ok", checks["probe system"]
    from pyperf.probes.registry import REGISTRY
    assert report["usable_probes"] == len(REGISTRY)
    human = run_pyperf("doctor", store=store_dsn)
    assert human.returncode == 0 and "[ok  ] probe disk" in human.stdout


def test_doctor_as_an_unprivileged_user_shows_what_fails_and_how_to_fix_it():
    require_root()
    result = run_pyperf("doctor", "--json", store="chdb:///tmp/pyperf-doctor-unprivileged/store",
                        user="65534")
    report = json.loads(result.stdout)
    # the /proc and cgroup sources need no privileges, so they still run (the containers
    # source without other users' /proc files): exit 0
    checks = {c["name"]: c for c in report["checks"]}
    usable = {name for name, c in checks.items() if name.startswith("probe ") and c["status"] != "fail"}
    assert result.returncode == 0 and usable == {"probe system", "probe containers"}
    assert report["usable_probes"] == 2
    assert checks["probe containers"]["status"] == "warn" and "CAP_SYS_PTRACE" in checks["probe containers"]["detail"]
    assert checks["capabilities"]["status"] == "fail" and "run pyperf as root" in checks["capabilities"]["fix"]
    assert checks["probe disk"]["status"] == "fail" and checks["probe disk"]["detail"] == "lacks CAP_BPF, CAP_PERFMON"


def test_vagrantfile_is_valid():
    if not shutil.which("vagrant"):
        pytest.skip("vagrant is not installed (scripts/install.sh --test installs it)")
    result = subprocess.run(["vagrant", "validate", "--ignore-provider"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "validated successfully" in result.stdout
