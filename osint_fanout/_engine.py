"""The investigation engine: every adapter on every target, within budgets and deadlines."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from pydantic_core import to_jsonable_python

from ._adapter import Adapter
from ._budget import Budget, ran_out
from ._cache import ResultCache
from ._context import Context
from ._errors import classify
from ._http import HttpPool
from ._places import Place, Places
from ._plan import ReadyAdapter
from ._redact import one_line
from ._results import ErrorInfo, FoundBy, Report, Result, Status
from ._stream import Expired, bounded_map, call_with_deadline
from ._targets import Target

__all__ = ["Event", "Investigation"]

log = logging.getLogger("osint_fanout.engine")
crash_log = logging.getLogger("osint_fanout.tracebacks")
"""Adapter tracebacks, for adapter authors; enabled by -vvv only."""

Event = Result | Report
"""The engine yields each Result as it arrives, and a Report when a target is complete."""


@dataclass
class _Open:
    """A target taken up and not yet complete."""

    target: Target
    deadline: float
    started_at: datetime
    results: dict[str, Result] = field(default_factory=dict)
    running: set[Budget] = field(default_factory=set)
    """The budgets of its calls under way, for the watchdog."""
    depth: int = 0
    found_by: FoundBy | None = None


@dataclass(frozen=True, slots=True)
class _Job:
    open: _Open
    ready: ReadyAdapter
    place: Place | None = None
    """Its place among the running calls, taken before the job was made."""


class Investigation:
    """Fan targets out to adapters: a global bound on calls in flight, each call limited
    to min(its adapter's timeout, time left before its target's deadline)."""

    def __init__(
        self,
        adapters: list[ReadyAdapter],
        *,
        concurrency: int,
        deadline_s: float,
        max_queued: int = 10_000,
        on_start: Callable[[Target, str], None] | None = None,
        clock_start: float | None = None,
        cache: ResultCache | None = None,
        origin: Callable[[Target], tuple[int, FoundBy | None]] | None = None,
    ) -> None:
        """`clock_start` (monotonic): when the command started. A target's deadline counts
        from when it is taken up, minus the command's start-up time (imports, config), so
        that `--deadline 2` on one target ends the command by about 2 s. `cache`: asked
        before each call of an adapter with a `max_age_s`; a result it gives is the call's.
        `origin`: a target's pivot depth and finding (search --depth), stamped on its results."""
        if concurrency < 1:
            raise ValueError(f"concurrency must be 1 or more, got {concurrency}")
        if deadline_s <= 0:
            raise ValueError(f"deadline_s must be positive, got {deadline_s}")
        self.adapters = adapters
        self.deadline_s = deadline_s
        self._pool: HttpPool | None = None
        self._concurrency = concurrency
        self._max_queued = max_queued
        self._places: Places | None = None
        self.on_start = on_start
        self._clock_start = clock_start
        self.cache = cache
        self._origin = origin
        self._startup_s = 0.0
        self._open: dict[str, _Open] = {}  # by target value
        # The guards read _open, from another thread or from a signal handler on this one:
        # re-entrant, so a handler interrupting the holder cannot deadlock.
        self._lock = threading.RLock()

    async def events(
        self, targets: Iterable[Target] | AsyncIterable[Target], *, pool: HttpPool
    ) -> AsyncIterator[Event]:
        """Yield results in completion order, and each target's Report once it is complete."""
        self._pool = pool
        self._places = Places(self._concurrency, max_away=self._max_queued)
        if self._clock_start is not None:
            self._startup_s = max(0.0, time.monotonic() - self._clock_start)
            if self._startup_s > self.deadline_s / 2:  # the deadline holds all the same: say so
                log.warning(
                    "start-up took %.1f s of the %g s deadline per target (a busy machine?); "
                    "the adapters have what is left, a longer --deadline gives them more",
                    self._startup_s,
                    self.deadline_s,
                )
        # A job is made once a running place is free (targets are read only then, lazily); a
        # call queued for its upstream's rate limit gives its place up, so the calls alive
        # are at most `concurrency` running plus `max_queued` queued.
        limit = self._concurrency + self._max_queued
        async with bounded_map(self._call, self._jobs(targets), limit=limit) as outcomes:
            async for outcome in outcomes:
                job = outcome.item
                result = outcome.value
                if result is None:  # _call catches everything; this is a bug guard
                    result = self._result(
                        job, Status.ERROR, 0.0, error=ErrorInfo(type="crash", message=repr(outcome.error))
                    )
                for event in self._record(result):
                    yield event

    def close_open(self, message: str) -> list[Event]:
        """Report every unfinished (target, adapter) as cancelled; for interrupts and limits."""
        events: list[Event] = []
        with self._lock:
            states = list(self._open.values())
        for state in states:
            for ready in self.adapters:
                if ready.name not in state.results:
                    error = ErrorInfo(type="cancelled", message=message)
                    # since the target was taken up (its deadline also counts the start-up time)
                    elapsed = time.monotonic() - (state.deadline - self.deadline_s) - self._startup_s
                    result = self._result(_Job(state, ready), Status.CANCELLED, elapsed, error=error)
                    events.extend(self._record(result))
        return events

    def earliest_deadline(self) -> float | None:
        """The soonest hard deadline among the calls running (monotonic), for the watchdog:
        a call waiting in a queue is not running, and its deadline moves on while it waits."""
        with self._lock:
            budgets = [budget for state in self._open.values() for budget in list(state.running)]
        return min((b.effective_hard_deadline() for b in budgets if not b.queued_now), default=None)

    async def _jobs(self, targets: Iterable[Target] | AsyncIterable[Target]) -> AsyncIterator[_Job]:
        assert self._places is not None
        place = await self._places.take()  # the first place, before the first target is read
        async for target in _each(targets):
            for job in self._expand(target):
                yield replace(job, place=place)
                place = await self._places.take()
        place.give_back()

    def _expand(self, target: Target) -> Iterator[_Job]:
        if target.value in self._open:  # the same target twice at once: ask once
            return
        begin = time.monotonic() - self._startup_s
        depth, found_by = self._origin(target) if self._origin else (0, None)
        state = _Open(target, begin + self.deadline_s, datetime.now(UTC), depth=depth, found_by=found_by)
        with self._lock:
            self._open[target.value] = state
        for ready in self.adapters:
            yield _Job(state, ready)

    async def _call(self, job: _Job) -> Result:
        try:
            return await self._calling(job)
        finally:
            if job.place is not None:
                job.place.give_back()

    async def _calling(self, job: _Job) -> Result:
        adapter, target = job.ready.adapter, job.open.target
        started = time.monotonic()
        reason = adapter.skip_reason(target)
        if reason:
            return self._result(job, Status.SKIPPED, 0.0, reason=reason)
        if started >= job.open.deadline:
            startup = f" (start-up took {self._startup_s:.1f} s)" if self._startup_s >= self.deadline_s / 2 else ""
            error = ErrorInfo(
                type="cancelled", message=f"the {self.deadline_s:g} s deadline passed before it could start{startup}"
            )
            return self._result(job, Status.CANCELLED, 0.0, error=error)
        if self.cache is not None and job.ready.max_age_s is not None:  # --max-age: no request at all
            hit = await self.cache.cached(target, adapter.name, job.ready.max_age_s, until=job.open.deadline)
            if hit is not None:
                return hit.model_copy(update={"depth": job.open.depth, "found_by": job.open.found_by})
            started = time.monotonic()  # the adapter's own timeout starts now
        if self.on_start:
            self.on_start(target, adapter.name)
        budget = Budget(started, job.ready.timeout_s, job.open.deadline)
        assert self._pool is not None
        with self._lock:
            job.open.running.add(budget)
        try:
            http = self._pool.session(job.ready.http, budget, job.place)
            log_name = f"osint_fanout.adapters.{adapter.name}"
            ctx = Context(http=http, budget=budget, log=logging.getLogger(log_name))
            data = await call_with_deadline(adapter.lookup, target, ctx, deadline=budget.deadline)
        except Expired:
            status, error = ran_out(budget, deadline_s=self.deadline_s, target=target.value)
            return self._result(job, status, time.monotonic() - started, budget, error=error)
        except Exception as exc:  # isolation: an adapter's failure is its own result
            log.debug("%s failed on %s: %s: %s", adapter.name, target.value, type(exc).__name__, exc)
            crash_log.debug("%s on %s", adapter.name, target.value, exc_info=True)  # -vvv only
            status, error_info, skip = classify(exc, budget, deadline_s=self.deadline_s, target=target.value)
            return self._result(job, status, time.monotonic() - started, budget, error=error_info, reason=skip)
        finally:
            with self._lock:
                job.open.running.discard(budget)
        elapsed = time.monotonic() - started
        if not isinstance(data, dict):
            error = ErrorInfo(type="crash", message=f"lookup() returned {type(data).__name__}, not a dict")
            return self._result(job, Status.ERROR, elapsed, budget, error=error)
        try:  # JSON types from here on (NaN and infinities become null); other objects are a bug
            data = to_jsonable_python(data, inf_nan_mode="null")
        except Exception as exc:
            message = one_line(f"lookup() returned data that is not JSON: {type(exc).__name__}: {exc}")
            return self._result(job, Status.ERROR, elapsed, budget, error=ErrorInfo(type="crash", message=message))
        return self._result(job, Status.OK, elapsed, budget, data=data, summary=_summarize(adapter, data))

    def _result(
        self,
        job: _Job,
        status: Status,
        elapsed_s: float,
        budget: Budget | None = None,
        **fields: Any,
    ) -> Result:
        waited = budget.waited_s if budget else 0.0
        queued = budget.queued_s if budget else 0.0
        return Result(
            target=job.open.target,
            adapter=job.ready.name,
            status=status,
            elapsed_ms=round(max(0.0, elapsed_s) * 1000),
            waited_ms=round(waited * 1000),
            queued_ms=round(queued * 1000),
            depth=job.open.depth,
            found_by=job.open.found_by,
            **fields,
        )

    def _record(self, result: Result) -> list[Event]:
        with self._lock:
            state = self._open.get(result.target.value)
            if state is None or result.adapter in state.results:
                return []
            state.results[result.adapter] = result
            done = len(state.results) == len(self.adapters)
            if done:
                del self._open[result.target.value]
        if not done:
            return [result]
        ordered = [state.results[ready.name] for ready in self.adapters]
        report = Report(
            target=state.target,
            started_at=state.started_at,
            finished_at=datetime.now(UTC),
            deadline_s=self.deadline_s,
            depth=state.depth,
            found_by=state.found_by,
            results=ordered,
        )
        return [result, report]


async def _each(targets: Iterable[Target] | AsyncIterable[Target]) -> AsyncIterator[Target]:
    if isinstance(targets, AsyncIterable):
        async for target in targets:
            yield target
    else:
        for target in targets:
            yield target


def _summarize(adapter: Adapter[Any], data: dict[str, Any]) -> str:
    try:
        return one_line(adapter.summarize(data), 120)
    except Exception as exc:  # a summary bug must not lose the data
        log.debug("%s.summarize failed: %r", adapter.name, exc)
        return ""
