"""Errors that end a command with a one-line message instead of a traceback."""


class PyperfError(Exception):
    """A failure the user can act on; str(e) is the whole message."""

    exit_code = 1


class UsageError(PyperfError):
    exit_code = 2


class StoreError(PyperfError):
    exit_code = 3

    def __init__(self, message: str, transient: bool = False, unreachable: bool = False):
        super().__init__(message)
        # the store may take the same data later (down, overloaded, refusing us for now)
        self.transient = transient or unreachable
        # nothing answered at all (refused, timed out, no route): not a misconfiguration it reported
        self.unreachable = unreachable


class StoreBusyError(StoreError):
    exit_code = 4


class ProbeError(PyperfError):
    """A probe could not compile, load or attach."""

    exit_code = 5
