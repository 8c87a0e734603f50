"""`pyperf up`: probes, store and web UI in one process (an embedded store can
be opened by one process only), until Ctrl-C or SIGTERM."""

from __future__ import annotations

import logging
import threading

from pyperf.commands.session import (collecting, dump_bpf, open_store, require_root,
                                     select_probes, stop_on_signals)
from pyperf.errors import PyperfError, UsageError

log = logging.getLogger("pyperf.up")


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--listen '{text}': use HOST:PORT, e.g. 127.0.0.1:8080")
    return host.strip("[]") or "127.0.0.1", int(port)


def bind_server(host: str, port: int, app):
    from werkzeug.serving import make_server

    try:
        return make_server(host, port, app, threaded=True)
    except SystemExit:  # werkzeug prints its own message and exits when the port is taken
        raise PyperfError(f"cannot listen on {host}:{port}: address in use") from None
    except OSError as e:
        raise PyperfError(f"cannot listen on {host}:{port}: {e.strerror}") from None


def run(args) -> int:
    probes = select_probes(args)
    if args.dump_bpf:
        return dump_bpf(probes)
    host, port = parse_listen(args.listen)
    require_root("up")
    from pyperf.web.app import create_app

    with open_store(args, "up", listen=f"{host}:{port}") as store, stop_on_signals() as stop:
        with collecting(store, probes, args) as collector:
            server = bind_server(host, port, create_app(store, collector))
            web = threading.Thread(target=server.serve_forever, name="pyperf-web", daemon=True)
            web.start()
            log.info("pyperf up: %d probe(s), store %s, web UI on http://%s:%d/",
                     len(collector.probes), store.address.redacted(), host, port)
            try:
                collector.run(stop)
            finally:
                server.shutdown()
                log.info("stopping: flushing the last interval and detaching probes")
    return 0
