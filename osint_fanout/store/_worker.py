"""What the store's background workers share (the recording sink, the --changes reader, the
--max-age cache): opening the store in their own thread, and the bounded wait at the end."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._db import Store

__all__ = ["POLL_S", "end_wait_s", "open_store_at", "wait_until"]

POLL_S = 0.02
"""How often a worker looks for work, and the end for the worker's finish."""


def open_store_at(url: str, opener: Callable[[str], Store] | None) -> Store:
    """The store at `url` (through `opener` when a test gives one); SQLAlchemy loads here."""
    if opener is not None:
        return opener(url)
    from ._db import Store

    return Store(url)


def end_wait_s(wait_s: float, emergency_s: float) -> float:
    """How long the end of a run may wait for a worker: `wait_s`, but only `emergency_s`
    from a thread other than the main one (the watchdog's emergency stop)."""
    return wait_s if threading.current_thread() is threading.main_thread() else min(wait_s, emergency_s)


def wait_until(done: Callable[[], bool], wait_s: float, *, poll_s: float = POLL_S) -> bool:
    """Poll `done` (every `poll_s`) for at most `wait_s`; whether it came true."""
    until = time.monotonic() + wait_s
    while not done() and time.monotonic() < until:
        time.sleep(poll_s)
    return done()
