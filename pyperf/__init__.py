"""pyperf: low-overhead eBPF performance profiler for Linux container hosts."""

__version__ = "0.1.0"
# PyPI's unrelated "pyperf" has the same import name: the `pyperf` command
# (pyperf_bpf.py) checks this before running anything
DISTRIBUTION = "pyperf-bpf"
