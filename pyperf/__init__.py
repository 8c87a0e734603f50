"""pyperf: low-overhead eBPF performance profiler for Linux container hosts."""

__version__ = "0.1.0"
