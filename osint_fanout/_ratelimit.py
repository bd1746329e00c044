"""Rate limits as the services state them: at most N requests in any window of a period.

Hand-written on purpose: aiolimiter's leaky bucket either spaces requests evenly (one
every 36 s for Cert Spotter's "100/h", so a second target waits past its timeout) or,
with a bucket of N, lets up to 2N through in one window. A moving window of request
times is exact, small (at most N timestamps) and needs no background timers.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from dataclasses import dataclass

__all__ = ["MovingWindowLimiter", "RateLimit"]

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(s|m|h|d)\s*$")
_PERIOD_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
SAFETY = 1.02
"""Windows are kept 2% longer than stated, so clock skew and network jitter between us
and the upstream never make it count one request too many."""


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


class MovingWindowLimiter:
    """`await acquire()` returns once a request fits in the window; waiters go in order."""

    def __init__(self, rate: RateLimit) -> None:
        self.count = rate.count
        self.window_s = rate.period_s * SAFETY
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                while self._sent and now - self._sent[0] >= self.window_s:
                    self._sent.popleft()
                if len(self._sent) < self.count:
                    self._sent.append(now)
                    return
                await asyncio.sleep(self._sent[0] + self.window_s - now)
