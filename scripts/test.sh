#!/usr/bin/env bash
# The test command: installs what is missing (with the test extras), starts the
# services the tests need (dockerd), runs the whole suite against the real
# kernel, chDB, Docker and headless Chromium, and stops what it started.
# Usage: sudo scripts/test.sh [pytest args]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/install.sh" --test
cd "$ROOT"

STARTED_DOCKERD=""
stop_services() {
    if [[ -n "$STARTED_DOCKERD" ]]; then
        docker ps -aq --filter name=pyperf- | xargs -r docker rm -f >/dev/null 2>&1 || true
        kill "$STARTED_DOCKERD" 2>/dev/null || true
        wait "$STARTED_DOCKERD" 2>/dev/null || true
    fi
}
trap stop_services EXIT

if ! docker info >/dev/null 2>&1; then
    echo "[test] starting dockerd"
    dockerd --log-level=warn >"${TMPDIR:-/tmp}/pyperf-test-dockerd.log" 2>&1 &
    STARTED_DOCKERD=$!
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && break
        sleep 0.5
    done
    docker info >/dev/null 2>&1 || { echo "[test] dockerd did not start:"; tail -20 "${TMPDIR:-/tmp}/pyperf-test-dockerd.log"; exit 1; }
fi

set +e
if [[ $# -gt 0 ]]; then
    "$ROOT/.venv/bin/python" -m pytest -p no:cacheprovider "$@"
    status=$?
else
    # fast tier first (pure and chDB tests, no root: seconds), then the real kernel,
    # Docker and Chromium; a red fast tier stops here
    echo "[test] fast tier"
    "$ROOT/.venv/bin/python" -m pytest -p no:cacheprovider -q -m "not kernel"
    status=$?
    if [[ $status -eq 0 ]]; then
        echo "[test] kernel tier"
        "$ROOT/.venv/bin/python" -m pytest -p no:cacheprovider -m kernel
        status=$?
    fi
fi
set -e
exit $status
