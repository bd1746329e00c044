"""The run's event loop: uvloop where it is installed (the `fast` extra: less CPU per
adapter call in bulk runs), else asyncio's own. `OSINT_FANOUT_LOOP=asyncio` (or `uvloop`,
or `auto`, the default) chooses. Both keep the process's guarantees: `_process.py` takes
the signal wakeup fd back from uvloop once the loop runs (see `_SignalListener`)."""

from __future__ import annotations

import asyncio
import logging
import os

__all__ = ["LOOP_ENV", "new_loop"]

LOOP_ENV = "OSINT_FANOUT_LOOP"
_CHOICES = ("auto", "asyncio", "uvloop")

log = logging.getLogger("osint_fanout.run")


def new_loop() -> asyncio.AbstractEventLoop:
    choice = os.environ.get(LOOP_ENV, "").strip().lower() or "auto"
    if choice not in _CHOICES:
        log.warning("%s=%s is not one of %s; using auto", LOOP_ENV, choice[:20], ", ".join(_CHOICES))
        choice = "auto"
    if choice != "asyncio":
        try:
            import uvloop
        except ImportError:
            if choice == "uvloop":
                log.warning("%s=uvloop, but uvloop is not installed (pip install 'osint-fanout[fast]')", LOOP_ENV)
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()
