"""The one place where kernel keys in probe rows become containers: every
mount namespace seen in a batch (a `mnt_ns` column) is resolved, and each
container seen for the first time in this run becomes a row of `containers`,
so any table with `mnt_ns` can be grouped by container with a JOIN."""

from __future__ import annotations

import logging
from collections import defaultdict

from pyperf.containers.resolver import ContainerResolver
from pyperf.probes.base import Batch

log = logging.getLogger("pyperf.containers")

FIELDS = {
    "containers": {
        "_doc": "One row per container (and one for the host) each time pyperf sees it first in a run. "
                "Group any table with `mnt_ns` by container through the view `container_of`: "
                "`... JOIN container_of c USING (host, mnt_ns) GROUP BY c.name`.",
        "ts": ("time", "when pyperf first saw it in this run (UTC)"),
        "host": ("", "host name of the collecting agent"),
        "mnt_ns": ("", "mount namespace inode: the key probe rows carry"),
        "id": ("", "runtime container id; 'host'; or the cgroup path of a plain-cgroup container"),
        "name": ("", "container name from the runtime (short id when unknown)"),
        "image": ("", "image reference from the runtime, when known"),
        "runtime": ("", "docker, podman, kubernetes, cri-o, containerd, lxc, cgroup or host"),
        "pod_uid": ("", "Kubernetes pod uid, when the cgroup path names one"),
        "cgroup_path": ("", "cgroup path it was identified by"),
    },
}


class ContainerEnricher:
    def __init__(self, resolver: ContainerResolver | None = None):
        self.resolver = resolver or ContainerResolver()
        self._announced: set[int] = set()
        self.unresolved = 0

    def observe(self, batch: Batch, now: float) -> Batch:
        """Rows for `containers` describing namespaces this batch shows for the first time."""
        rows = defaultdict(list)
        for table, columns in batch.items():
            for mnt_ns in set(columns.get("mnt_ns", ())):
                if mnt_ns in self._announced or not mnt_ns:
                    continue
                container = self.resolver.by_mnt_ns(mnt_ns)
                if container is None:
                    self.unresolved += 1
                    continue
                self._announced.add(mnt_ns)
                rows["ts"].append(now)
                for field in ("mnt_ns", "id", "name", "image", "runtime", "pod_uid", "cgroup_path"):
                    rows[field].append(getattr(container, field))
        return {"containers": dict(rows)} if rows else {}
