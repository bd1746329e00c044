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

__all__ = ["MovingWindowLimiter", "RateLimit", "Slot", "WouldWait"]

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(s|m|h|d)\s*$")
_PERIOD_S = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
SAFETY = 1.01
"""Windows are kept 1% longer than stated: asyncio timers may fire a hair early."""


@dataclass(frozen=True)
class RateLimit:
    """At most `count` requests in any `period_s`-second window; with `slot` (index, of),
    only within shard `index`'s time slot of each cycle (see `divided`)."""

    count: int
    period_s: float
    slot: tuple[int, int] | None = None

    def divided(self, index: int, shards: int) -> RateLimit:
        """This limit's share for shard `index` (0-based) of `shards` machines using one key:
        together they never exceed it. With at least one request each per period, each
        gets count // shards. With fewer, they take turns on the clock (synchronised by
        NTP): a cycle of 2 x shards periods, shard i sending only in the first period of
        its own pair, less a guard for answers still under way, so that no window of one
        period sees requests of two shards; together they use half the limit then."""
        if self.count >= shards:
            return RateLimit(self.count // shards, self.period_s)
        return RateLimit(self.count, self.period_s, slot=(index, shards))

    def slot_wait(self, now: float) -> float:
        """Seconds until this shard's time slot (0 within it); `now`: wall-clock seconds."""
        if self.slot is None:
            return 0.0
        index, shards = self.slot
        cycle = 2 * shards * self.period_s
        start = 2 * index * self.period_s
        end = start + self.period_s - min(BUSY_HOLD_S * 2, self.period_s / 4)
        phase = now % cycle
        return 0.0 if start <= phase < end else (start - phase) % cycle

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        match = _RATE.match(text)
        if not match or int(match.group(1)) < 1:
            raise ValueError(f"rate limit {text!r} is not like '4/m' (a whole number per s, m, h or d, or 'off')")
        return cls(int(match.group(1)), _PERIOD_S[match.group(2)])


BUSY_HOLD_S = 0.25
"""An unanswered request holds its place from when it was sent plus this (a generous
bound on network delay), so a hung request cannot block the upstream for long."""


@dataclass
class Slot:
    """One request's place in the window."""

    at: float
    """When it was sent; once answered, when it was answered."""
    busy: bool = True

    def frees_at(self, window_s: float) -> float:
        return self.at + window_s + (BUSY_HOLD_S if self.busy else 0.0)


class WouldWait(Exception):
    """The limit would hold a request longer than it may wait."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"about {wait_s:.0f} s")
        self.wait_s = wait_s


class MovingWindowLimiter:
    """`slot = await acquire()`, send, then `release(slot)`: at most `count` requests in
    any window. An answered request counts from its answer: the upstream saw it before
    it answered, so however late or jittery the network, it never counts one too many.
    Waiters go in order."""

    def __init__(self, rate: RateLimit) -> None:
        self.rate = rate
        self.count = rate.count
        self.window_s = rate.period_s * SAFETY
        self._slots: list[Slot] = []
        self._lock = asyncio.Lock()
        self._released = asyncio.Event()
        self._queued = 0

    @property
    def queued(self) -> int:
        """Requests waiting for a place now."""
        return self._queued

    def estimate_wait(self, position: int) -> float:
        """Roughly how long the `position`-th request from now (1: the next) will wait."""
        now = time.monotonic()
        frees = sorted(s.frees_at(self.window_s) for s in self._slots if s.frees_at(self.window_s) > now)
        free_now = self.count - len(frees)
        if position <= free_now:
            return 0.0
        nth = position - free_now
        if nth <= len(frees):
            return frees[nth - 1] - now
        rounds = (nth - len(frees) - 1) // self.count + 1
        return (frees[-1] if frees else now) + rounds * self.window_s - now

    async def acquire(self, max_wait_s: float | None = None) -> Slot:
        """Wait for a place; raise WouldWait at once if that would take over `max_wait_s`."""
        if max_wait_s is not None:
            estimate = self.estimate_wait(self._queued + 1)
            if estimate > max_wait_s:
                raise WouldWait(estimate)
        self._queued += 1
        try:
            async with self._lock:
                while True:
                    turn = self.rate.slot_wait(time.time())
                    if turn > 0:  # another shard's turn on the clock
                        await asyncio.sleep(turn)
                        continue
                    now = time.monotonic()
                    self._slots = [s for s in self._slots if s.frees_at(self.window_s) > now]
                    if len(self._slots) < self.count:
                        slot = Slot(now)
                        self._slots.append(slot)
                        return slot
                    free_at = min(s.frees_at(self.window_s) for s in self._slots)
                    self._released.clear()
                    with contextlib.suppress(TimeoutError):  # a place frees up, or one is answered
                        await asyncio.wait_for(self._released.wait(), free_at - now)
        finally:
            self._queued -= 1

    def cancel(self, slot: Slot) -> None:
        """Give back a place whose request was never sent."""
        self._slots = [held for held in self._slots if held is not slot]
        self._released.set()

    def release(self, slot: Slot) -> None:
        slot.at, slot.busy = time.monotonic(), False
        self._released.set()
