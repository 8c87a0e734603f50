#!/usr/bin/env bash
# Installs everything pyperf needs on a Debian/Ubuntu host. Idempotent: re-running
# only installs what is missing. Usage: sudo scripts/install.sh [--test]
#   --test   also install what the test suite needs (docker.io, busybox-static,
#            chromium, bpfcc-tools, Playwright).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WITH_TEST=0
for arg in "$@"; do
    case "$arg" in
        --test) WITH_TEST=1 ;;
        -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
        *) echo "install.sh: unknown option '$arg' (try --help)" >&2; exit 2 ;;
    esac
done

say() { printf '\033[1m[install]\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33m[install] warning:\033[0m %s\n' "$*" >&2; }

if [[ $EUID -ne 0 ]]; then
    echo "install.sh: must run as root (sudo $0 $*)" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null; then
    echo "install.sh: only Debian/Ubuntu (apt) hosts are supported" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
APT_UPDATED=0
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    if [[ $APT_UPDATED -eq 0 ]]; then
        apt-get update -q
        APT_UPDATED=1
    fi
    say "apt-get install ${missing[*]}"
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}
apt_has() {
    [[ $APT_UPDATED -eq 1 ]] || { apt-get update -q; APT_UPDATED=1; }
    apt-cache show "$1" >/dev/null 2>&1
}

# --- distribution packages -------------------------------------------------
apt_install python3 python3-venv python3-bpfcc libbpfcc ca-certificates
command -v npm >/dev/null || apt_install nodejs npm

# --- kernel headers (bcc compiles against them) ---------------------------
KREL="$(uname -r)"
if [[ ! -e "/lib/modules/$KREL/build/include" ]]; then
    if apt_has "linux-headers-$KREL"; then
        apt_install "linux-headers-$KREL"
    else
        ARCH="$(dpkg --print-architecture)"
        apt_install "linux-headers-$ARCH"
        HDR="$(ls -d /usr/src/linux-headers-*-"$ARCH" | sort -V | tail -1)"
        COMMON="${HDR%-"$ARCH"}-common"
        mkdir -p "/lib/modules/$KREL"
        ln -sfn "$HDR" "/lib/modules/$KREL/build"
        ln -sfn "$COMMON" "/lib/modules/$KREL/source"
        warn "no headers for kernel $KREL in the distribution; linked $(basename "$HDR") instead."
        warn "pyperf takes every struct offset from BTF, so mismatched headers are safe for its probes."
    fi
fi

# --- tracefs / debugfs -----------------------------------------------------
mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing
mountpoint -q /sys/kernel/debug || mount -t debugfs nodev /sys/kernel/debug

# --- test-only system packages ---------------------------------------------
if [[ $WITH_TEST -eq 1 ]]; then
    apt_install docker.io busybox-static chromium bpfcc-tools iptables iproute2 vagrant
fi

# --- Python virtualenv -----------------------------------------------------
VENV="$ROOT/.venv"
if [[ ! -x "$VENV/bin/python" ]]; then
    say "creating $VENV"
    /usr/bin/python3 -m venv "$VENV"
fi
# bcc is not on PyPI: expose the distribution's pure-Python bcc (and nothing else
# from dist-packages) to the venv through a folder holding one symlink.
BCC_SRC="$(/usr/bin/python3 -c 'import bcc, os; print(os.path.dirname(bcc.__file__))')"
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
mkdir -p "$VENV/bcc-site"
ln -sfn "$BCC_SRC" "$VENV/bcc-site/bcc"
echo "$VENV/bcc-site" > "$SITE/pyperf-bcc.pth"

REQ="$ROOT/requirements/runtime.txt"
[[ $WITH_TEST -eq 1 ]] && REQ="$ROOT/requirements/test.txt"
STAMP="$VENV/.installed-$(cat "$REQ" "$ROOT/requirements/runtime.txt" "$ROOT/pyproject.toml" | sha256sum | cut -c1-16)"
if [[ ! -e "$STAMP" ]]; then
    say "installing pinned Python packages from ${REQ#"$ROOT"/}"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ"
    "$VENV/bin/pip" install -q --disable-pip-version-check --no-deps -e "$ROOT"
    # The PyPI project called "pyperf" is an unrelated benchmark toolkit; it must never shadow us.
    if "$VENV/bin/pip" show -q pyperf >/dev/null 2>&1; then
        "$VENV/bin/pip" uninstall -y -q pyperf
    fi
    touch "$STAMP"
fi

# --- front-end assets (npm, lockfile) -------------------------------------
/usr/bin/python3 "$ROOT/scripts/vendor_assets.py" "$ROOT"

"$VENV/bin/python" -c 'import bcc, pyperf' || { echo "install.sh: the venv cannot import bcc and pyperf" >&2; exit 1; }
say "ready: $VENV/bin/pyperf ($("$VENV/bin/pyperf" --version))"
