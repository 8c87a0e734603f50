#!/usr/bin/env bash
# The test command: installs what is missing (with the test extras), then runs
# the whole suite against the real kernel, chDB and headless Chromium.
# Usage: sudo scripts/test.sh [pytest args]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/install.sh" --test
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m pytest -p no:cacheprovider "$@"
