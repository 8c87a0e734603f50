"""Layer access analytics on a real multi-layer Docker image: reads attributed
to the right layer (an overwritten file to its top-most copy), bytes read,
never-read layers, whiteouts and shadowed bytes, startup order, and the
prefetch and keep lists."""

import json
import os
import time

import pytest
from conftest import PyperfProcess, require_docker, run_pyperf
from docker_env import build_image, ensure_base_image, remove, run_container

KIB = 1024
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def layered_image(tmp_path_factory):
    require_docker()
    ensure_base_image()
    ctx = tmp_path_factory.mktemp("image")
    for name, size in (("a.bin", 200 * KIB), ("shared-v1.txt", 100 * KIB), ("gone.bin", 50 * KIB),
                       ("shared-v2.txt", 120 * KIB), ("never.bin", 300 * KIB)):
        (ctx / name).write_bytes(os.urandom(size))
    return build_image("pyperf-layers:1", ctx, "\n".join([
        "FROM pyperf-test-base:1",
        "COPY a.bin shared-v1.txt gone.bin /data/",          # layer A
        "RUN mv /data/shared-v1.txt /data/shared.txt",       # (a copy-up layer)
        "COPY shared-v2.txt /data/shared.txt",               # layer B: overwrites shared.txt
        "RUN rm /data/gone.bin",                             # whiteout
        "COPY never.bin /data/never.bin",                    # layer C: never read
    ]) + "\n")


def test_reads_are_attributed_to_the_right_layers(layered_image, store_dsn, tmp_path):
    rec = PyperfProcess("record", "--probes", "layers", "--duration", "6s", store=store_dsn)
    try:
        rec.wait_for("probe layers attached")
        run_container("pyperf-layered", "sh", "-c",
                      "cat /data/shared.txt > /dev/null; cat /data/a.bin > /dev/null; "
                      "dd if=/dev/zero of=/data/new.bin bs=4096 count=16; echo x >> /data/a.bin; sleep 30",
                      image=layered_image)
        code, _, stderr = rec.finish(timeout=120)
    finally:
        remove("pyperf-layered")
        rec.kill()
    assert code == 0, stderr
    prefetch, keep = tmp_path / "prefetch.txt", tmp_path / "keep.txt"
    out = run_pyperf("layers", "pyperf-layered", "--json", "--prefetch-list", str(prefetch),
                     "--keep-list", str(keep), store=store_dsn, check=True)
    report = json.loads(out.stdout)[0]
    read = {f["path"]: f for f in report["files_read"]}
    layers = {layer["index"]: layer for layer in report["layers"]}

    def layer_of(path):
        return [i for i, layer in layers.items() if path in [f["path"] for f in report["files_read"]]
                and read[path]["layer"] == i][0]

    # the overwritten file is read from its top-most copy, and entirely
    shared = read["/data/shared.txt"]
    assert shared["size"] == 120 * KIB
    assert shared["bytes_read"] == pytest.approx(120 * KIB, rel=0.01)
    assert read["/data/a.bin"]["bytes_read"] == pytest.approx(200 * KIB, rel=0.01)
    assert layer_of("/data/shared.txt") < layer_of("/data/a.bin")       # a higher layer
    assert "/data/never.bin" not in read
    never_layer = [i for i, layer in layers.items() if layer["bytes"] == 300 * KIB]
    assert never_layer and never_layer[0] in report["never_read_layers"]
    assert report["deleted_bytes"] == 150 * KIB          # gone.bin and shared-v1.txt (moved): whiteouts
    assert report["shadowed_bytes"] >= 100 * KIB                        # shared.txt v1 under v2
    order = report["startup_order"]
    assert order.index("/data/shared.txt") < order.index("/data/a.bin")
    assert prefetch.read_text().splitlines() == order
    assert report["startup"]["files"] == len(read) and report["steady"]["files"] == 0
    assert shared["bytes_via_read"] == shared["bytes_read"] and shared["bytes_via_mmap"] == 0
    busybox = read["/bin/busybox"]                                     # exec maps the binary
    assert busybox["bytes_via_mmap"] > 0
    assert 0 < report["accesses_per_minute"] < 1000 and not report["accesses_over_alert"]
    assert set(keep.read_text().splitlines()) == set(read)
    # writes into the writable layer, and the copy-up of a.bin on its first write
    written = {f["path"]: f for f in report["files_written"]}
    assert written["/data/new.bin"]["layer"] == 0 and written["/data/new.bin"]["folios_dirtied"] == 16
    assert written["/data/a.bin"]["layer"] == 0
    assert report["copy_ups"] == ["/data/a.bin"] and report["copy_up_bytes"] == 200 * KIB
    # the image-waste finding names the never-read layer and its bytes (the default threshold is 10 MiB)
    never_id = layers[never_layer[0]]["id"]
    found = json.loads(run_pyperf("report", "--since", "10m", "--format", "json", "--threshold",
                                  "findings.image_unread_bytes=200000", "--threshold",
                                  "findings.writable_layer_mib=0.1", store=store_dsn, check=True).stdout)
    [waste] = [f for f in found["findings"] if f["rule"] == "image_waste"]
    # and what it wrote into its writable layer: a.bin copied up (200 KiB) and new.bin (64 KiB) written
    [writes] = [f for f in found["findings"] if f["rule"] == "writable_layer_writes"]
    assert writes["subject"] == "pyperf-layered" and writes["evidence"]["copy_ups"] == 1
    assert writes["evidence"]["writable_layer_mib"] >= 0.2
    assert waste["subject"] == layered_image and f"{never_id} ({300 * KIB} B)" in waste["evidence"]["unread_layers"]
    assert waste["evidence"]["unread_bytes"] >= 300 * KIB


def test_layers_of_an_unknown_container_is_a_clear_error(store_dsn):
    result = run_pyperf("layers", "no-such-container", store=store_dsn)
    assert result.returncode == 2 and "no container or image 'no-such-container'" in result.stderr


def test_containers_of_one_image_roll_up(layered_image, store_dsn):
    rec = PyperfProcess("record", "--probes", "layers", "--duration", "6s", store=store_dsn)
    try:
        rec.wait_for("probe layers attached")
        run_container("pyperf-roll-a", "sh", "-c", "cat /data/shared.txt > /dev/null; sleep 30", image=layered_image)
        run_container("pyperf-roll-b", "sh", "-c", "cat /data/never.bin > /dev/null; sleep 30", image=layered_image)
        code, _, stderr = rec.finish(timeout=120)
    finally:
        remove("pyperf-roll-a")
        remove("pyperf-roll-b")
        rec.kill()
    assert code == 0, stderr
    per_container = json.loads(run_pyperf("layers", layered_image, "--json", store=store_dsn, check=True).stdout)
    out = run_pyperf("layers", layered_image, "--by-image", "--json", store=store_dsn, check=True)
    [rollup] = json.loads(out.stdout)
    assert rollup["image"] == layered_image
    assert sorted(rollup["containers"]) == ["pyperf-roll-a", "pyperf-roll-b"]
    assert {"/data/shared.txt", "/data/never.bin"} <= set(rollup["files_read"])
    # alone, container a never read never.bin's layer; over the image, b did
    by_name = {r["container"]["name"]: r for r in per_container}
    index = next(layer["index"] for layer in by_name["pyperf-roll-a"]["layers"] if layer["bytes"] == 300 * KIB)
    assert index in by_name["pyperf-roll-a"]["never_read_layers"]
    assert index not in by_name["pyperf-roll-b"]["never_read_layers"]
    by_id = {layer["id"]: layer for layer in rollup["layers"]}
    never_layer = next(layer for layer in rollup["layers"] if layer["bytes"] == 300 * KIB)
    assert never_layer["bytes_read"] == 300 * KIB and never_layer["id"] not in rollup["never_read_layers"]
    assert rollup["image_bytes_read"] == sum(layer["bytes_read"] for layer in by_id.values())
    assert rollup["image_bytes_read"] >= 420 * KIB           # shared.txt v2 + never.bin (+ busybox)
    text = run_pyperf("layers", layered_image, "--by-image", store=store_dsn, check=True).stdout
    assert f"image {layered_image}: 2 containers" in text


def test_layer_indexing_never_runs_in_the_drain(layered_image):
    """Walking a container's layers happens in the probe's indexer thread: while it
    is held up, drains go on and return the container's reads; the layer rows
    arrive with a later drain."""
    import threading
    import time

    from conftest import require_root
    from pyperf.probes.layers import LayersProbe

    require_root()
    probe = LayersProbe()
    probe.attach()
    gate, walked_in = threading.Event(), []
    real_files = probe.index.files

    def held_files(*args, **kwargs):
        walked_in.append(threading.current_thread().name)
        gate.wait()
        return real_files(*args, **kwargs)

    probe.index.files = held_files
    try:
        run_container("pyperf-layer-gate", "sh", "-c", "cat /data/shared.txt > /dev/null; sleep 60",
                      image=layered_image)
        reads, deadline = [], time.monotonic() + 30
        while not (reads and walked_in) and time.monotonic() < deadline:
            time.sleep(0.5)
            batch = probe.drain(time.time())
            assert "layer_files" not in batch             # the walk is held: nothing indexed yet
            reads += batch.get("layer_file_access", {}).get("inode", [])
        assert reads and walked_in == ["pyperf-layer-index"]
        gate.set()
        paths, deadline = [], time.monotonic() + 30
        while "/data/shared.txt" not in paths and time.monotonic() < deadline:
            time.sleep(0.5)
            paths += probe.drain(time.time()).get("layer_files", {}).get("path", [])
        assert "/data/shared.txt" in paths
        assert set(walked_in) == {"pyperf-layer-index"}
    finally:
        gate.set()
        remove("pyperf-layer-gate")
        probe.detach()


def test_a_drain_walks_the_file_map_only_after_an_insert(tmp_path):
    """layer_files is taken out at every drain, and a batch read passes all its
    262 144 buckets even when it is empty (~0.2 ms a drain): a drain walks it only
    when the programs counted an insert since the last walk. A read in a new mount
    namespace still arrives; back-to-back drains after it do not all walk."""
    import subprocess
    import time

    from conftest import require_root
    from pyperf.probes.layers import LayersProbe

    require_root()
    probe = LayersProbe()
    probe.attach()
    drainer, walks = probe.drainer(b"layer_files"), []
    real_take_all = drainer.take_all

    def counted():
        walks.append(time.monotonic())
        return real_take_all()

    drainer.take_all = counted
    try:
        read_me = tmp_path / "read-me.bin"
        read_me.write_bytes(os.urandom(64 * KIB))
        subprocess.run(["unshare", "--mount", "cat", str(read_me)], check=True, stdout=subprocess.DEVNULL)
        inodes, deadline = [], time.monotonic() + 10
        while read_me.stat().st_ino not in inodes and time.monotonic() < deadline:
            inodes += probe.drain(time.time()).get("layer_file_access", {}).get("inode", [])
            time.sleep(0.2)
        assert read_me.stat().st_ino in inodes and walks
        before = len(walks)
        for _ in range(20):
            probe.drain(time.time())
        assert len(walks) - before < 20
    finally:
        probe.detach()


def test_layers_while_up_runs_from_the_cli_and_the_page(layered_image, store_dsn, free_port, tmp_path):
    """`pyperf layers` asks the running agent (it holds the store), and the Layers
    page shows the same report: layer bars, hot files, the prefetch list."""
    from conftest import chromium_page

    up = PyperfProcess("up", "--probes", "layers", "--listen", f"127.0.0.1:{free_port}", store=store_dsn)
    try:
        up.wait_for("web UI on")
        # a file name that is markup: shown as text, never run
        run_container("pyperf-layers-live", "sh", "-c", "cat /data/shared.txt > /dev/null; "
                      f"echo x > '/data/{HOSTILE}'; sleep 60", image=layered_image)
        deadline = time.monotonic() + 30
        while True:           # the container's reads reach the store at the agent's next flush
            out = run_pyperf("layers", "pyperf-layers-live", "--json", "--prefetch-list", str(tmp_path / "p.txt"),
                             store=store_dsn)
            if out.returncode == 0 and "/data/shared.txt" in out.stdout or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert out.returncode == 0, out.stderr
        [report] = json.loads(out.stdout)
        assert report["container"]["name"] == "pyperf-layers-live"
        assert {f["path"] for f in report["files_read"]} >= {"/data/shared.txt", "/bin/busybox"}
        assert "/data/shared.txt" in (tmp_path / "p.txt").read_text().splitlines()
        never = run_pyperf("layers", "no-such-container", store=store_dsn)
        assert never.returncode == 2 and "no container or image 'no-such-container'" in never.stderr

        base = f"http://127.0.0.1:{free_port}"
        with chromium_page() as (page, errors):
            dialogs = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(f"{base}/layers")
            page.get_by_role("link", name="pyperf-layers-live").click()
            page.wait_for_selector("table.layers tbody tr", timeout=20000)
            rows = page.locator("table.layers tbody tr")
            assert rows.count() == len(report["layers"])
            assert page.locator("table.layers meter.read").count() == rows.count()
            hot = page.locator("table.hot-files").inner_text()
            assert "/data/shared.txt" in hot
            never_read = [str(i) for i in report["never_read_layers"]]
            assert [page.locator("tr.never-read").nth(i).get_attribute("data-layer")
                    for i in range(page.locator("tr.never-read").count())] == never_read
            with page.expect_download() as download:
                page.get_by_role("link", name="prefetch list").first.click()
            assert open(download.value.path()).read().splitlines() == report["startup_order"]
            assert f"/data/{HOSTILE}" in page.locator("table.files-written").inner_text()
            assert page.locator("table.files-written img").count() == 0 and not dialogs
            assert not errors, errors
        code, _, stderr = up.stop()
        assert code == 0, stderr
    finally:
        remove("pyperf-layers-live")
        up.kill()
