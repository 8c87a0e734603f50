"""The rules, as data: one row per rule. A rule compares one number of one
kind of subject (pyperf/analysis/facts.py: the host, each container, device,
peer, ...) with a configurable threshold (pyperf/analysis/thresholds.py) and,
when it is over (or under), says what it found, quoting its evidence, what to
do, how much that should bring and how that was estimated, and the effort.

Rules follow the USE method (utilisation, saturation, errors) per resource,
plus what only pyperf sees (image layers, blocking stacks). Those marked
`alert` are the requirements' alert thresholds: the agent evaluates them
continuously over its live window (pyperf/analysis/alerts.py). Templates are
str.format over the subject's facts plus `value` and `threshold`; every rule,
its evidence and what to do about it is written up in docs/performance_guide.md."""

from __future__ import annotations

from dataclasses import dataclass

from pyperf.analysis.facts import SCOPES

SEVERITIES = ("info", "warning", "critical")
KINDS = ("utilisation", "saturation", "errors", "efficiency")
EFFORTS = ("low", "medium", "high")


@dataclass(frozen=True)
class Rule:
    id: str
    resource: str
    kind: str                   # a USE kind, or efficiency
    scope: str                  # which facts (pyperf.analysis.facts.SCOPES)
    metric: str                 # the fact compared with the threshold
    threshold: str              # its path in pyperf.analysis.thresholds
    summary: str                # one line, naming the subject
    recommendation: str         # what to do
    improvement: str            # what that should bring ...
    estimate: str               # ... and how that was estimated
    effort: str
    evidence: tuple[str, ...]   # facts quoted beside value and threshold
    unit: str = ""
    severity: str = "warning"
    critical_at: float | None = None   # critical from this multiple of the threshold
    below: bool = False                # fires under the threshold
    guard: tuple[tuple[str, float], ...] = ()   # facts that must be at least this for the number to mean anything
    alert: bool = False


RULES: tuple[Rule, ...] = (
    # -- CPU -----------------------------------------------------------------
    Rule("host_cpu_busy", "cpu", "utilisation", "host", "cpu_busy_pct", "host.cpu_pct",
         "host {subject} CPUs were {value:.0f} % busy (threshold {threshold:.0f} %)",
         "Find the consumers on the CPU page and in the on-CPU flame graph; move or limit the busiest container, "
         "or add CPUs.",
         "CPU headroom back under the threshold", "the busy share above the threshold: {value:.0f} - "
         "{threshold:.0f} points of the host's CPU time", "medium", ("runq_p99_us", "seconds"), "%",
         critical_at=95 / 80, alert=True),
    Rule("host_cpu_saturated", "cpu", "saturation", "host", "runq_p99_us", "findings.runq_p99_us",
         "runnable tasks waited up to {value_ms:.1f} ms (p99) for a CPU on {subject}",
         "Runnable work exceeds the CPUs: spread the busiest containers over time or hosts, lower their CPU "
         "shares, or add CPUs. Top waiters are on the CPU page.",
         "p99 scheduling delay back under {threshold_ms:.0f} ms",
         "every request that runs on this host waits this run-queue delay at least once per wake-up",
         "medium", ("cpu_busy_pct", "cpu_pressure_pct"), "µs", critical_at=10.0),
    Rule("container_cpu_high", "cpu", "utilisation", "container", "cpu_pct_of_limit_avg", "container.cpu_pct",
         "container {subject} used {value:.0f} % of its CPU limit on average",
         "Raise its CPU limit, or profile it (its flame graph) for work to cut.",
         "headroom under its limit before it is throttled", "its mean use against its quota (cpu.max)", "low",
         ("cpu_pct_of_limit_max", "throttled_pct"), "%", critical_at=90 / 70, alert=True),
    Rule("container_cpu_throttled", "cpu", "saturation", "container", "throttled_pct", "findings.throttled_pct",
         "container {subject} was throttled in {value:.0f} % of its CPU periods ({throttled_s:.1f} s stalled)",
         "Its CPU quota is too small for its bursts: raise the quota (docker update --cpus, or cpu.max), or "
         "smooth its concurrency.",
         "up to {throttled_s:.1f} s less stall over the range",
         "the cgroup's throttled time (cpu.stat throttled_usec) is what a large enough quota removes",
         "low", ("throttled_periods", "periods", "cpu_pct_of_limit_avg"), "%", critical_at=5.0,
         guard=(("periods", 50),)),
    # -- memory --------------------------------------------------------------
    Rule("host_memory_used", "memory", "utilisation", "host", "memory_used_pct", "host.memory_pct",
         "host {subject} used {value:.0f} % of its memory", "Find the largest containers on the Containers "
         "page; set memory limits, or add memory.", "room for the page cache and bursts",
         "memory used minus the threshold, as a share of the host's memory", "medium",
         ("memory_pressure_pct", "swap_in_pages_per_s"), "%", critical_at=95 / 85, alert=True),
    Rule("host_memory_pressure", "memory", "saturation", "host", "memory_pressure_pct", "findings.pressure_pct",
         "tasks on {subject} stalled on memory {value:.1f} % of the time (PSI some)",
         "Memory is short: lower the largest consumers' limits or add memory; check swap and major faults.",
         "up to {value:.1f} % of the time back for the stalled tasks",
         "PSI counts the wall time in which at least one task waited for memory", "medium",
         ("memory_used_pct", "swap_in_pages_per_s", "major_faults_per_s"), "%", critical_at=3.0),
    Rule("host_swapping", "memory", "saturation", "host", "swap_in_pages_per_s", "findings.swap_in_pages_per_s",
         "{subject} read {value:.0f} pages/s back from swap", "Working sets do not fit: add memory or lower "
         "the limits of the containers that grow; swap-ins are disk reads on the critical path.",
         "no swap-in stalls", "each swap-in is a synchronous disk read (the disk's p99 on the Disk page)",
         "medium", ("memory_used_pct", "memory_pressure_pct"), "pages/s", critical_at=10.0),
    Rule("container_memory_high", "memory", "utilisation", "container", "memory_pct_of_limit_avg",
         "container.memory_pct", "container {subject} used {value:.0f} % of its memory limit",
         "Raise its memory limit before it reaches it (the kernel reclaims its page cache, then kills it).",
         "headroom before reclaim and OOM kills", "its charged memory (memory.current) against memory.max", "low",
         ("memory_max_mib", "memory_pct_of_limit_max", "oom_kills"), "%", critical_at=95 / 75, alert=True),
    Rule("container_oom_killed", "memory", "errors", "container", "oom_kills", "findings.oom_kills",
         "container {subject} had {value:.0f} process(es) killed for lack of memory",
         "Raise its memory limit to its working set (peak {memory_max_mib:.0f} MiB) or fix its growth.",
         "no OOM kills (each one loses the killed process's work)", "memory.events oom_kill", "low",
         ("memory_max_mib", "memory_pct_of_limit_max"), "kills", severity="critical"),
    Rule("process_major_faults", "memory", "saturation", "process", "major_faults_per_s",
         "findings.major_faults_per_s",
         "{subject} waited on {value:.0f} major page faults/s (page-cache hit ratio {cache_hit_ratio})",
         "Its files or memory are read from disk on access: give it memory for its page cache, or prefetch "
         "(e.g. vmtouch, readahead).", "fewer faults that each wait for a disk read",
         "each major fault is one synchronous read at the disk's latency", "medium", ("major", "minor"), "/s",
         critical_at=10.0),
    Rule("page_cache_misses", "memory", "saturation", "process", "cache_hit_ratio", "findings.cache_hit_ratio",
         "{subject} found {value:.0%} of the file pages it read in the page cache "
         "({cache_lookups_per_s:.0f} lookups/s)",
         "Its reads go to the disk: give the host (or its container) memory for the cache, or read less "
         "(compression, an index). An estimate: pages it wrote new count as misses too.",
         "reads served from memory instead of the disk",
         "1 - pages added to the cache / pages looked up (faults probe)", "medium", ("major", "cache_lookups"),
         "", severity="info", below=True, guard=(("cache_lookups_per_s", 1000),)),
    # -- disk ----------------------------------------------------------------
    Rule("host_disk_iops", "disk", "utilisation", "host", "disk_iops", "host.disk_iops",
         "{subject} did {value:.0f} disk I/Os per second", "See which containers issue them on the Disk page; "
         "batch small writes, add cache, or move the heaviest.", "I/O rate back under the threshold",
         "IOPS over the threshold", "medium", ("disk_busiest_util_pct",), "IOPS", critical_at=2.0, alert=True),
    Rule("disk_latency", "disk", "saturation", "device", "p99_us", "findings.disk_p99_us",
         "disk {subject}: p99 latency {value_ms:.0f} ms", "The device is saturated or slow: see its queue "
         "depth and who issues the I/O (Disk page); spread I/O, or a faster device.",
         "p99 back under {threshold_ms:.0f} ms", "block requests from creation to completion (as iostat's await)",
         "medium", ("iops", "queue_avg", "queue_max"), "µs", critical_at=4.0, guard=(("ios", 100),)),
    Rule("disk_queue", "disk", "saturation", "device", "queue_avg", "findings.disk_queue_depth",
         "disk {subject}: {value:.1f} requests in flight on average", "Requests queue on the device: see "
         "who issues them (Disk page); spread I/O or use a device with more parallelism.",
         "shorter queue: each request waits for those before it", "Little's law: queue = IOPS × latency",
         "medium", ("iops", "p99_us"), "requests", critical_at=4.0),
    Rule("disk_noisy_neighbour", "disk", "saturation", "neighbour", "others_p99_us",
         "findings.noisy_victim_p99_us",
         "container {subject} did {io_share_pct:.0f} % of the I/O on {device} while {victim} saw "
         "{value_ms:.0f} ms p99 there",
         "Limit {subject}'s I/O on {device} (`pyperf apply` halves its I/O rate there through its cgroup, until "
         "it restarts; lasting: docker run --device-read-iops/--device-write-iops) or move it to another device.",
         "the other containers' p99 back toward the device's unloaded latency",
         "the hog issues {io_share_pct:.0f} % of the device's requests, which the others queue behind",
         "low", ("device", "io_share_pct", "iops", "victim", "others"), "µs", guard=(("io_share_pct", 70),)),
    # -- network -------------------------------------------------------------
    Rule("host_network", "network", "utilisation", "host", "network_bytes_per_s", "host.network_bytes_per_s",
         "{subject} moved {value_mb:.0f} MB/s over its interfaces", "See who sends on the Network and Containers "
         "pages; compress, cache, or a faster link.", "traffic back under the threshold",
         "bytes over the threshold", "medium", ("retransmit_pct",), "B/s", critical_at=2.0, alert=True),
    Rule("network_drops", "network", "saturation", "host", "network_drops_per_s", "findings.network_drops_per_s",
         "{subject}'s interfaces dropped {value:.0f} packets/s", "Queues or buffers overflow: raise the NIC ring "
         "and socket buffers (ethtool -G, net.core.netdev_max_backlog, rmem), or find the receiver that does "
         "not keep up.", "no drops (each dropped TCP segment is a retransmission later)",
         "interface rx_dropped + tx_dropped (/proc/net/dev)", "low", ("network_bytes_per_s",), "packets/s",
         critical_at=10.0),
    Rule("host_retransmits", "network", "errors", "host", "retransmit_pct", "findings.retransmit_pct",
         "{subject} retransmitted {value:.2f} % of the TCP segments it sent", "Packet loss on the path: the "
         "peers are on the Network page; check the links, queues and MTU toward them.",
         "fewer stalls: each loss costs at least one round trip (a timeout when the tail is lost)",
         "retransmitted segments / sent segments (RetransSegs / OutSegs)", "medium",
         ("retransmitted_segments", "out_segments"), "%", critical_at=5.0, guard=(("out_segments", 1000),)),
    Rule("peer_retransmits", "network", "errors", "peer", "retransmits_per_min", "findings.peer_retransmits_per_min",
         "{value:.0f} segments/min retransmitted to {subject} (from {comms} in {containers})",
         "Loss on the path to {subject}: check that peer, the links toward it and its receive queue.",
         "no retransmission delay toward this peer", "its retransmitted segments (tcp_retransmit_skb)",
         "medium", ("retransmitted_segments", "resets", "comms", "containers"), "/min", critical_at=10.0),
    Rule("peer_resets", "network", "errors", "peer", "resets_per_min", "findings.peer_resets_per_min",
         "{value:.0f} TCP resets/min with {subject} (from {comms} in {containers})",
         "Connections to {subject} are refused or torn down: is the service there listening, overloaded "
         "(accept queue full) or closing idle connections the client still uses?",
         "no reset (each is a failed request or a reconnect)", "RST segments sent and received (tcp probe)",
         "medium", ("resets", "retransmitted_segments", "comms", "containers"), "/min", critical_at=10.0),
    Rule("failed_connects", "network", "errors", "host", "failed_connects", "findings.failed_connects",
         "{value:.0f} TCP connects from {subject} failed", "A service is down or refuses: the failing "
         "processes are on the Network page.", "no failed connections (each one is an error or a retry)",
         "connects that ended before ESTABLISHED", "low", ("active_opens",), "connects", critical_at=10.0),
    # -- application ---------------------------------------------------------
    Rule("response_time", "response", "saturation", "server", "p99_us", "container.response_time_us",
         "{subject}{place} answered with a p99 of {value_ms:.0f} ms over {requests} requests",
         "Slow responses: open its flame graphs (on- and off-CPU) to see where the time goes.",
         "p99 under {threshold_ms:.0f} ms", "the server's request-to-response times (response probe)",
         "medium", ("p50_us", "requests", "container"), "µs", critical_at=5.0, guard=(("requests", 5),),
         alert=True),
    # -- layers --------------------------------------------------------------
    Rule("layer_accesses", "layers", "utilisation", "container", "layer_accesses_per_min",
         "container.layer_accesses_per_min",
         "container {subject} accessed its image layers {value:.0f} times per minute",
         "Hot files read from image layers: keep them in a volume or tmpfs, or cache them in the application.",
         "fewer overlay lookups and reads", "read calls plus mapped files per minute (layer probe)", "medium",
         (), "/min", critical_at=10.0, alert=True),
    Rule("image_waste", "layers", "efficiency", "image", "unread_bytes", "findings.image_unread_bytes",
         "image {subject}: layers never read by its containers hold {value_mb:.0f} MB ({read_pct:.0f} % of the "
         "image was read)",
         "Drop what the never-read layers add (multi-stage build, slimmer base), or pull lazily with the "
         "prefetch list (Layers page).",
         "{value_mb:.0f} MB less to pull and store per host",
         "the bytes of layers none of its containers read since they were indexed", "medium",
         ("unread_layers", "image_bytes", "containers"), "B"),
    Rule("writable_layer_writes", "layers", "efficiency", "container_layers", "writable_layer_mib",
         "findings.writable_layer_mib",
         "container {subject} wrote {value:.0f} MiB into its writable layer ({copy_ups} files copied up from the "
         "image, {files_written} files written)",
         "Data written inside a container's filesystem goes through overlayfs (whole-file copy-up on the first "
         "write) and is lost with the container: mount a volume where it writes.",
         "no copy-ups, and writes at the volume's speed", "page-cache folios it dirtied in the writable layer, "
         "plus the size of the files copied up (layer probe)", "low", ("copy_ups", "files_written", "image"),
         "MiB"),
    Rule("deep_layer_reads", "layers", "efficiency", "container_layers", "deep_hot_reads",
         "findings.deep_hot_reads",
         "container {subject} read its hot files {value:.0f} times from deep image layers: {deep_hot_files}",
         "Each uncached lookup walks every layer above the file: flatten (squash) the image or copy the hot "
         "files into a top layer or a volume.",
         "shorter path lookups for its hottest files (it matters on opens, not on reads of open files)",
         "reads of its 20 hottest files that sit 8 or more layers deep (layer probe)", "medium",
         ("deep_hot_files", "layers"), "reads", severity="info"),
    # -- indicators and profiles ---------------------------------------------
    Rule("performance_score", "host", "utilisation", "host", "performance_score", "findings.score_alert_pct",
         "{subject}'s performance score is {value:.0f} % (mean of CPU, memory, disk and network utilisation)",
         "The host is loaded on several resources at once: see the other findings for which.",
         "score back under the target", "the requirements' indicator", "high",
         ("cpu_busy_pct", "memory_used_pct", "disk_busiest_util_pct", "network_bytes_per_s"), "%", alert=True),
    Rule("efficiency_ratio", "cpu", "efficiency", "host", "efficiency_ratio", "findings.efficiency_alert",
         "on {subject}, tasks got {value:.2f} of the CPU time they asked for (efficiency ratio; they waited "
         "runnable for the rest)",
         "Runnable work waits for CPUs: see host_cpu_saturated and the CPU page's top waiters; fewer busy "
         "containers at once, or more CPUs.", "the ratio back over 0.8 (the requirements' target)",
         "CPU time delivered / (delivered + run-queue wait): docs/performance_guide.md, Indicators", "medium",
         ("runq_p99_us", "cpu_busy_pct"), "", below=True, critical_at=0.5, alert=True,
         guard=(("cpu_busy_pct", 20),)),        # on an idle host a few ms of waiting make any ratio
    Rule("resource_utilisation", "host", "utilisation", "host", "utilisation_pct", "findings.utilisation_alert_pct",
         "{subject}'s busiest resource is {value:.0f} % used (resource utilisation)",
         "The resource at the top (CPU, memory, disk or network: the evidence) needs headroom: see its page.",
         "utilisation back under 70 % (the requirements' target)", "used / available of the busiest resource",
         "medium", ("cpu_busy_pct", "memory_used_pct", "disk_busiest_util_pct", "network_bytes_per_s"), "%",
         alert=True),
    Rule("anomaly", "host", "efficiency", "series", "anomaly_pct", "findings.anomaly_pct",
         "{subject} was unusual {value:.0f} % of the time (worst {worst_value:g} at {worst_at}; usual then "
         "{usual}, learned from its past week)",
         "Something changed: compare the range with the same hours before (Compare page) and look at what "
         "started then (containers, deployments).",
         "knowing what changed", "a median/MAD baseline per hour of day (pyperf/analysis/baseline.py); a point "
         "is unusual over 6 robust SDs, or over 3 for 3 minutes", "medium",
         ("max_score", "worst_value", "worst_at", "usual", "points", "learned_points"), "%", severity="info",
         guard=(("points", 5),)),
    Rule("offcpu_stack", "cpu", "saturation", "stack", "share_pct", "findings.offcpu_share_pct",
         "{value:.0f} % of all off-CPU time was spent blocked in {subject}",
         "The bottleneck summary of where threads wait: {stack}. Idle waits (epoll, futex of idle pools) are "
         "normal; I/O or lock waits on a request path are not.",
         "the blocked time of this stack, if it is on a request path",
         "off-CPU time per stack (offcpu probe), {blocked_s_per_min:.1f} s blocked per minute", "high",
         ("stack", "blocked_s_per_min"), "%", severity="info"),
)

BY_ID = {r.id: r for r in RULES}


def _check() -> None:
    assert len(BY_ID) == len(RULES), "duplicate rule id"
    for r in RULES:
        assert r.scope in SCOPES and r.kind in KINDS and r.effort in EFFORTS and r.severity in SEVERITIES, r.id


_check()
