"""The response probe: a local server whose handler sleeps a known time, over
keep-alive connections carrying many requests."""

import ctypes
import socket
import threading
import time

from conftest import require_root

from pyperf.analysis.histogram import quantile_us
from pyperf.kernel.bpf_stats import parse_fdinfo
from pyperf.kernel.host import NO_PREALLOC, hash_map_flags
from pyperf.probes.response import ResponseProbe

DELAY_S = 0.05


def serve(server: socket.socket, connections: int):
    """A line protocol: each request line is answered after DELAY_S, connection kept open."""
    def handle(conn):
        with conn, conn.makefile("rb") as requests:
            for line in requests:
                time.sleep(DELAY_S)
                conn.sendall(b"OK " + line)
    threads = []
    for _ in range(connections):
        conn, _ = server.accept()
        t = threading.Thread(target=handle, args=(conn,))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()


def test_the_servers_map_takes_memory_for_the_servers_it_holds():
    """Not for 16 384 (process, port) pairs: a preallocated map's memory, charged to
    the agent's cgroup, whatever the host runs (6.1+: bpf/common.h HASH_MAP)."""
    require_root()
    probe = ResponseProbe()
    probe.attach()
    try:
        table = probe.bpf[b"response_stats"]
        with open(f"/proc/self/fdinfo/{table.map_fd}") as f:
            info = parse_fdinfo(f.read())
        preallocated = table.max_entries * (ctypes.sizeof(table.Key) + ctypes.sizeof(table.Leaf))
        assert int(info["map_flags"], 16) & NO_PREALLOC == hash_map_flags() == NO_PREALLOC
        assert int(info["memlock"]) < preallocated / 10
    finally:
        probe.detach()


def test_response_time_of_a_sleeping_handler_over_keep_alive(tmp_path):
    require_root()
    probe = ResponseProbe()
    probe.attach()
    connections, per_connection = 3, 10
    try:
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        t = threading.Thread(target=serve, args=(server, connections))
        t.start()
        for _ in range(connections):
            with socket.create_connection(("127.0.0.1", port)) as client, client.makefile("rb") as replies:
                for i in range(per_connection):
                    client.sendall(f"GET {i}\n".encode())
                    assert replies.readline() == f"OK GET {i}\n".encode()
        t.join()
        server.close()
        batch = probe.drain(time.time())
    finally:
        probe.detach()
    rows = batch["response_time"]
    mine = [i for i, p in enumerate(rows["port"]) if p == port]
    assert len(mine) == 1
    i = mine[0]
    assert rows["requests"][i] == connections * per_connection
    mean_ms = rows["latency_sum_us"][i] / rows["requests"][i] / 1000
    assert DELAY_S * 1000 <= mean_ms <= DELAY_S * 1000 * 1.2
    assert 32_000 <= quantile_us(rows["latency_hist"][i], 0.5) <= 64_000   # the [32, 64) ms bucket
    for q, column in ((0.5, "p50_us"), (0.99, "p99_us")):     # each row's own, computed for all rows at once
        assert [rows[column][j] for j in range(len(rows["port"]))] == \
            [quantile_us(h, q) for h in rows["latency_hist"]]
    assert rows["comm"][i]
