"""The one place where kernel keys in probe rows become containers: every
mount namespace seen in a batch (a `mnt_ns` column) is resolved, and each
container seen for the first time in this run becomes a row of `containers`,
so any table with `mnt_ns` can be grouped by container with a JOIN."""

from __future__ import annotations

import logging
from collections import OrderedDict, defaultdict
from itertools import repeat

import numpy as np

from pyperf.containers.resolver import HOST, MAX_CACHED, ContainerResolver
from pyperf.containers.watcher import NamespaceWatcher
from pyperf.errors import PyperfError
from pyperf.probes.base import Batch
from pyperf.schema import AGENT_HOST, EVENT, KEY, Column, Table

log = logging.getLogger("pyperf.containers")

TABLES = (
    Table("containers",
          "One row per container key (and the host) each time pyperf first sees it in a run. Tables with "
          "`mnt_ns` and `cgroup_id` group by container through the view `container_of` (`JOIN container_of c "
          "USING (host, mnt_ns, cgroup_id)`), tables with only `mnt_ns` through `container_by_ns` (the latest "
          "container with that namespace inode).",
          order_by=("host", "mnt_ns", "id", "cgroup_id"), engine="ReplacingMergeTree", partition_by="", retention_days=None, columns=(
        Column("ts", "DateTime64(3, 'UTC')", KEY, "time", "when pyperf first saw it in this run (UTC)"),
        AGENT_HOST,
        Column("mnt_ns", "UInt64", KEY, "", "mount namespace inode: the key probe rows carry"),
        Column("cgroup_id", "UInt64", KEY, "",
               "cgroup v2 id the rows carried (0 for tables without one); tells apart containers that reused a "
               "mount namespace inode"),
        Column("id", "String", KEY, "",
               "runtime container id; 'host'; or the cgroup path of a plain-cgroup container"),
        Column("name", "String", EVENT, "", "container name from the runtime (short id when unknown)"),
        Column("image", "String", EVENT, "", "image reference from the runtime, when known"),
        Column("runtime", "LowCardinality(String)", EVENT, "",
               "docker, podman, kubernetes, cri-o, containerd, lxc, cgroup or host"),
        Column("pod_uid", "String", EVENT, "", "Kubernetes pod uid, when the cgroup path names one"),
        Column("cgroup_path", "String", EVENT, "", "cgroup path it was identified by"),
        Column("started", "String", EVENT, "",
               "start time as the runtime reports it (Docker: State.StartedAt, or Created when resolved before "
               "Docker recorded the start)"),
        Column("stopped", "Nullable(DateTime64(3, 'UTC'))", EVENT, "time",
               "when the containers source stopped seeing it (a later row with the same key); NULL while "
               "running"),
        Column("layers", "Array(String)", EVENT, "",
               "image layer ids, top first (Docker diff ids; docker-init for its init layer)"),
        Column("net_ns", "UInt64", EVENT, "",
               "network namespace inode of the process it was resolved from; `tcp_event` rows group by "
               "container through the view `container_by_netns` (containers sharing the host's network show as "
               "the host there)"),
        Column("pod_name", "String", EVENT, "",
               "Kubernetes pod name (from kubelet's /var/log/containers links), when known"),
        Column("namespace", "String", EVENT, "", "Kubernetes namespace of the pod, when known"),
      )),
)


class ContainerEnricher:
    def __init__(self, resolver: ContainerResolver | None = None):
        self.resolver = resolver or ContainerResolver()
        self._announced: OrderedDict[tuple[int, int], object] = OrderedDict()
        self._stopped: set[str] = set()
        self.unresolved = 0
        self.watcher: NamespaceWatcher | None = None

    def start_watcher(self) -> None:
        """Resolve containers as their first program starts (needs BPF); without it,
        containers that exit within an interval may stay unattributed."""
        watcher = NamespaceWatcher(self.resolver)
        try:
            watcher.start()
        except PyperfError as e:
            log.warning("short-lived containers may go unattributed: %s", e)
            return
        self.watcher = watcher

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    def observe(self, batch: Batch, now: float) -> Batch:
        """Rows for `containers`: keys this batch shows for the first time, and
        containers that stopped (gone from the containers source's scan)."""
        keys = set()
        for columns in batch.values():
            namespaces = columns.get("mnt_ns")
            if namespaces is None or not len(namespaces):
                continue
            # numpy (per-process tables) or lists, as ints; a set of pairs, not np.unique(axis=0),
            # which costs 50-200 µs a table and runs for every table every interval
            namespaces = np.asarray(namespaces, np.uint64).tolist()
            cgroups = columns.get("cgroup_id")
            keys.update(zip(namespaces, repeat(0) if cgroups is None else np.asarray(cgroups, np.uint64).tolist()))
        rows = defaultdict(list)
        stopped_now: set[str] = set()
        for mnt_ns, cgroup_id in keys:
            if not mnt_ns or (mnt_ns, cgroup_id) in self._announced:
                continue
            container = self.resolver.by_key(mnt_ns, cgroup_id)
            if container is None:
                self.unresolved += 1
                continue
            self._announced[(mnt_ns, cgroup_id)] = container
            while len(self._announced) > MAX_CACHED:
                self._announced.popitem(last=False)
            self._add_row(rows, now, mnt_ns, cgroup_id, container, stopped=None)
        if "container_resources" in batch:
            # The containers source scans every running container each interval: an
            # announced container missing from its scan has stopped (even one that
            # lived for less than an interval).
            running = set(batch["container_resources"].get("container_id", ()))
            for (mnt_ns, cgroup_id), container in list(self._announced.items()):
                if (container.runtime != HOST and container.id not in running
                        and container.id not in self._stopped):
                    self._add_row(rows, now, mnt_ns, cgroup_id, container, stopped=now)
                    stopped_now.add(container.id)
            self._stopped.update(stopped_now)
            self._stopped.intersection_update({c.id for c in self._announced.values()})
        return {"containers": dict(rows)} if rows else {}

    @staticmethod
    def _add_row(rows, now, mnt_ns, cgroup_id, container, stopped) -> None:
        rows["ts"].append(now)
        rows["mnt_ns"].append(mnt_ns)
        rows["cgroup_id"].append(cgroup_id)
        for field in ("id", "name", "image", "runtime", "pod_uid", "pod_name", "namespace", "cgroup_path",
                      "started"):
            rows[field].append(getattr(container, field))
        rows["layers"].append(list(container.layers))
        rows["net_ns"].append(container.net_ns)
        rows["stopped"].append(stopped)
