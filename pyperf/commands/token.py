"""`pyperf token`: where the web UI's access token is, and `--rotate` to replace it."""

from __future__ import annotations

import sys

from pyperf.commands.session import require_root
from pyperf.store.dsn import resolve_address
from pyperf.web.auth import TokenFile, token_path


def run(args) -> int:
    require_root("token", "reads a root-only file")
    token_file = TokenFile(token_path(resolve_address(args.store)))
    if args.rotate:
        token = token_file.write_new()
        print(f"new web token written to {token_file.path} (the old one no longer works):", file=sys.stderr)
        print(token)
        return 0
    if not token_file.path.exists():
        print(f"no web token yet; `pyperf up --listen` on a non-loopback address makes one in {token_file.path}",
              file=sys.stderr)
        return 0
    token_file.ensure()
    print(f"web token file: {token_file.path} (sudo cat it; `pyperf token --rotate` replaces it)")
    return 0
