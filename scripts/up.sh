#!/usr/bin/env bash
# The run command: installs what is missing, then starts `pyperf up` on the
# embedded store (chdb:///var/lib/pyperf/store). Extra arguments go to `pyperf up`.
# Usage: sudo scripts/up.sh [--listen 0.0.0.0:8080] [--interval 500ms] ...
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$ROOT/scripts/install.sh"
exec "$ROOT/.venv/bin/pyperf" up "$@"
