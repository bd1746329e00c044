"""Time: the budget of one adapter call, the waits that stretch it, the parts of it that a
request or a primary source may take, and the one rule that says whether a call that ran
out of time timed out or was cancelled.

A call's budget is its own timeout, stretched by the time spent waiting for Retry-After and
backoff (the upstream's time, not the adapter's), but never past the target's hard deadline.
Time spent queued (for a place among the running calls, for its upstream's own rate limit)
is not running time at all: it stretches the timeout and the hard deadline alike, so that
only --max-time bounds a queue. A part of a budget (`Budget.part`) has a timeout of its own
that its own waits stretch, and never outlasts the budget it is part of. Every wait counts
on the budget in use and on each budget it is part of.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from ._results import ErrorInfo, Status

__all__ = ["MARGIN_S", "Budget", "WaitClock", "current_budget", "ran_out", "using"]

MARGIN_S = 0.1
"""An adapter gives its upstream this much less than its own time left, so that it can still
say which upstream did not answer before the core's timeout cuts it off."""
CUT_SHORT_S = 0.5
"""A call that gave up with less than this left before its target's deadline was cut short
by the deadline: cancelled, not timed out."""


class WaitClock:
    """Wall time during which at least one wait was in progress; a wait under way counts
    already, so deadlines stretch while it lasts. Compared by identity."""

    def __init__(self) -> None:
        self.done_s = 0.0
        self._active = 0
        self._since = 0.0

    def begin(self) -> None:
        if self._active == 0:
            self._since = time.monotonic()
        self._active += 1

    def end(self) -> None:
        self._active -= 1
        if self._active == 0:
            self.done_s += time.monotonic() - self._since

    def total(self) -> float:
        return self.done_s + (time.monotonic() - self._since if self._active else 0.0)

    @property
    def active(self) -> bool:
        return self._active > 0


@dataclass(eq=False)
class Budget:
    """The time one call (or one part of it) may take; monotonic seconds."""

    started: float
    timeout_s: float
    hard_deadline: float
    """The target's deadline: nothing outlasts it."""
    parent: Budget | None = None
    waits: WaitClock = field(default_factory=WaitClock)
    queue: WaitClock = field(default_factory=WaitClock)

    @classmethod
    def start(cls, timeout_s: float, hard_deadline: float) -> Budget:
        return cls(time.monotonic(), timeout_s, hard_deadline)

    def part(self, timeout_s: float) -> Budget:
        """A part of this budget that takes at most `timeout_s` (stretched by its own waits)."""
        return Budget(time.monotonic(), timeout_s, self.hard_deadline, parent=self)

    def share(self, fraction: float) -> Budget:
        """A part of this budget that takes at most `fraction` of the time left now."""
        return self.part(self.time_left() * fraction)

    @property
    def waited_s(self) -> float:
        return self.waits.total()

    @property
    def queued_s(self) -> float:
        return self.queue.total()

    @property
    def root(self) -> Budget:
        budget = self
        while budget.parent is not None:
            budget = budget.parent
        return budget

    @property
    def queued_now(self) -> bool:
        """True while the call waits in a queue: it is not running."""
        return self.root.queue.active

    def effective_hard_deadline(self) -> float:
        """The target's deadline, moved later by the time this call spent queued."""
        root = self.root
        return root.hard_deadline + root.queued_s

    def deadline(self) -> float:
        own = self.started + self.timeout_s + self.waited_s + self.queued_s
        return min(own, self.parent.deadline() if self.parent else self.effective_hard_deadline())

    def time_left(self, margin_s: float = 0.0) -> float:
        return max(0.0, self.deadline() - time.monotonic() - margin_s)

    def left_after_wait(self, wait_s: float) -> float:
        """Time left once a wait of `wait_s` (which stretches the budget) is over."""
        hard_left = self.effective_hard_deadline() - time.monotonic() - wait_s
        return max(0.0, min(self.time_left(), hard_left))

    @property
    def clamped(self) -> bool:
        """True when the hard deadline, not the call's own timeout, is the limit."""
        root = self.root
        return root.started + root.timeout_s + root.waited_s >= root.hard_deadline

    @contextmanager
    def waiting(self) -> Iterator[None]:
        """Count a wait the upstream imposes (Retry-After, backoff) on this budget and those
        it is part of: it stretches their timeouts, not the hard deadline."""
        with _counting([budget.waits for budget in self._chain()]):
            yield

    @contextmanager
    def queueing(self) -> Iterator[None]:
        """Count time queued (for a running place, for an own rate limit) on this budget and
        those it is part of: it stretches their timeouts and the hard deadline."""
        with _counting([budget.queue for budget in self._chain()]):
            yield

    def _chain(self) -> Iterator[Budget]:
        budget: Budget | None = self
        while budget is not None:
            yield budget
            budget = budget.parent


@contextmanager
def _counting(clocks: list[WaitClock]) -> Iterator[None]:
    for clock in clocks:
        clock.begin()
    try:
        yield
    finally:
        for clock in clocks:
            clock.end()


_CURRENT: ContextVar[Budget | None] = ContextVar("osint_fanout_budget", default=None)


def current_budget(default: Budget) -> Budget:
    """The budget in use in this task: a part set by `using`, else `default`."""
    return _CURRENT.get() or default


@contextmanager
def using(budget: Budget) -> Iterator[Budget]:
    """Make `budget` (a part) the one in use in this task while the block runs."""
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)


def ran_out(budget: Budget, *, deadline_s: float, target: str, detail: str | None = None) -> tuple[Status, ErrorInfo]:
    """The one rule for a call that ran out of time: `cancelled` when its target's deadline
    cut it short, `timeout` when its own time ran out (`detail` says what did not answer)."""
    if budget.clamped and budget.time_left() < CUT_SHORT_S:
        message = f"the {deadline_s:g} s deadline for {target} passed" + (f" ({detail})" if detail else "")
        return Status.CANCELLED, ErrorInfo(type="cancelled", message=message)
    return Status.TIMEOUT, ErrorInfo(type="timeout", message=detail or f"no answer within {budget.timeout_s:g} s")
