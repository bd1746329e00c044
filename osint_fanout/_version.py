"""The version, and when the command started: the bottom of the package, imported first."""

from __future__ import annotations

import os
import time

__all__ = ["STARTED", "__version__"]

__version__ = "0.1.0"


def _started() -> float:
    """When this process started, on the monotonic clock: the kernel's start time of the
    process (Linux: /proc/self/stat, in clock ticks of the boot-time clock), so that the
    interpreter's own start-up counts against the deadline too. Elsewhere, or when the
    process is older than a command's start-up could be (the package imported by a
    long-running program), now."""
    now = time.monotonic()
    try:
        with open("/proc/self/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        age = time.clock_gettime(time.CLOCK_BOOTTIME) - int(fields[19]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return now
    return now - age if 0.0 <= age < 2.0 else now


STARTED = _started()
"""When the command started: deadlines count from here."""
