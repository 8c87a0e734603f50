"""A probe without a kernel side, for tests of what drives probes (the collector):
subclasses give a name and what their drain() does."""

from pyperf.probes.base import Probe


class KernelFreeProbe(Probe):
    description = "a test probe"
    tables = ()
    fields = {}

    def attach(self):
        pass

    def detach(self):
        pass

    def totals(self):
        return {}

    def bpf_source(self):
        return "", []
