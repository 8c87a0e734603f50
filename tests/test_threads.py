import threading
from pathlib import Path

from pyperf import threads


def test_a_named_thread_carries_its_name_into_the_kernel():
    seen, done = [], threading.Event()

    def look():
        seen.append(Path(f"/proc/self/task/{threading.get_native_id()}/comm").read_text().strip())
        done.wait(5)

    t = threads.Named(target=look, name="pyperf-writer-and-more", daemon=True)
    t.start()
    done.set()
    t.join(5)
    assert seen == ["pyperf-writer-a"]      # the kernel keeps 15 bytes
    assert Path(f"/proc/self/task/{threading.get_native_id()}/comm").read_text().strip() != "pyperf-writer-a"
