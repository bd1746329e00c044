"""Rate limits as the services state them: at most N requests in any window of a period.

Hand-written on purpose: aiolimiter's leaky bucket either spaces requests evenly (one
every 36 s for Cert Spotter's "100/h", so a second target waits past its timeout) or,
with a bucket of N, lets up to 2N through in one window; and neither can count a request
from when it was answered (see MovingWindowLimiter). A moving window of at most N slots
is exact and needs no background timers.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from dataclasses import dataclass

__all__ = ["MovingWindowLimiter", "RateLimit", "Slot"]

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(s|m|h|d)\s*$")
_PERIOD_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
SAFETY = 1.01
"""Windows are kept 1% longer than stated: asyncio timers may fire a hair early."""


@dataclass(frozen=True)
class RateLimit:
    """At most `count` requests in any `period_s`-second window."""

    count: int
    period_s: float

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        match = _RATE.match(text)
        if not match or int(match.group(1)) < 1:
            raise ValueError(f"rate limit {text!r} is not like '4/m' (a whole number per s, m, h or d, or 'off')")
        return cls(int(match.group(1)), _PERIOD_S[match.group(2)])


@dataclass
class Slot:
    """One request's place in the window; it counts from when the request is done."""

    at: float
    busy: bool = True


class MovingWindowLimiter:
    """`slot = await acquire()`, send, then `release(slot)`: at most `count` requests in
    any window, counted from when each was answered. The upstream saw each request before
    it answered it, so however late or jittery the network, it never counts one too many.
    Waiters go in order."""

    def __init__(self, rate: RateLimit) -> None:
        self.count = rate.count
        self.window_s = rate.period_s * SAFETY
        self._slots: list[Slot] = []
        self._lock = asyncio.Lock()
        self._released = asyncio.Event()

    async def acquire(self) -> Slot:
        async with self._lock:
            while True:
                now = time.monotonic()
                self._slots = [s for s in self._slots if s.busy or now - s.at < self.window_s]
                if len(self._slots) < self.count:
                    slot = Slot(now)
                    self._slots.append(slot)
                    return slot
                free_at = min((s.at + self.window_s for s in self._slots if not s.busy), default=None)
                self._released.clear()
                with contextlib.suppress(TimeoutError):  # a slot frees up, or one is released
                    await asyncio.wait_for(self._released.wait(), None if free_at is None else free_at - now)

    def release(self, slot: Slot) -> None:
        slot.at, slot.busy = time.monotonic(), False
        self._released.set()
