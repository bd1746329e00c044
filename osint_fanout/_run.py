"""Run an investigation as a process: event loop, signals, and a deadline that holds.

asyncio can cancel a call that awaits, not one that blocks the event loop or a thread
stuck in a system call. A watchdog thread therefore watches the loop: when a deadline
(or the grace after a signal) has passed and the loop is not answering, it writes out
what arrived, reports the rest as cancelled, and ends the process with os._exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import AsyncIterable, Callable, Iterable
from dataclasses import dataclass, field
from types import FrameType

from ._engine import Event, Investigation
from ._http import HttpPool
from ._output import OutputClosed, Sink
from ._results import Report, Result
from ._stream import abandoned_tasks
from ._targets import Target

__all__ = ["RunOutcome", "execute"]

log = logging.getLogger("osint_fanout.run")

STUCK_S = 0.15
"""A loop that has not ticked for this long, past a deadline, is stuck."""
FAILSAFE_S = 0.8
"""Past a deadline by this much, the watchdog ends the process even if the loop ticks."""
EXIT_OUTPUT_CLOSED = 141


@dataclass
class RunOutcome:
    exit_code: int
    results: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


class _Run:
    """The state shared by the loop thread and the watchdog thread."""

    def __init__(self, engine: Investigation, sinks: list[Sink], stop_at: float | None) -> None:
        self.engine = engine
        self.sinks = sinks
        self.lock = threading.RLock()
        self.done = threading.Event()
        self.heartbeat = time.monotonic()
        self.signal: int | None = None
        self.stop_at = stop_at
        self.stop_reason = "the run's --max-time passed"
        self.failed = False
        self.output_closed = False
        self.counts: dict[str, int] = {}

    def emit(self, event: Event) -> None:
        with self.lock:
            if self.done.is_set():
                return
            for sink in self.sinks:
                try:
                    if isinstance(event, Report):
                        sink.report(event)
                    else:
                        sink.result(event)
                except OutputClosed:
                    self.output_closed = True
                    raise
            if isinstance(event, Result):
                self.counts[event.status.value] = self.counts.get(event.status.value, 0) + 1
                self.failed = self.failed or event.failed
                log.info(
                    "%s on %s: %s in %d ms", event.adapter, event.target.value, event.status.value, event.elapsed_ms
                )

    def started(self, target: Target, adapter: str) -> None:
        with self.lock:
            for sink in self.sinks:
                sink.started(target, adapter)

    def exit_code(self) -> int:
        if self.output_closed:
            return EXIT_OUTPUT_CLOSED
        if self.signal is not None:
            return 128 + self.signal
        return 1 if self.failed else 0

    def close(self, message: str | None) -> int:
        """Report what is unfinished, finish every sink once; return the exit code."""
        with self.lock:
            if self.done.is_set():
                return self.exit_code()
            if message:
                with contextlib.suppress(OutputClosed):
                    for event in self.engine.close_open(message):
                        self.emit(event)
            for sink in reversed(self.sinks):  # displays stop before the summary is printed
                with contextlib.suppress(Exception):
                    sink.finish()
            self.done.set()
            return self.exit_code()

    def hard_limit(self) -> float | None:
        return min((t for t in (self.engine.earliest_deadline(), self.stop_at) if t is not None), default=None)


def execute(
    engine: Investigation,
    targets: Iterable[Target] | AsyncIterable[Target],
    sinks: list[Sink],
    *,
    max_time_s: float | None = None,
    started: float | None = None,
) -> int:
    """Run to the end and return the exit code (0, 1, 130, 143, 141). `max_time_s`
    counts from `started` (monotonic; default now), the moment the command started."""
    stop_at = (started or time.monotonic()) + max_time_s if max_time_s else None
    run = _Run(engine, sinks, stop_at)
    engine.on_start = run.started
    loop = asyncio.new_event_loop()
    main = loop.create_task(_investigate(run, targets))

    def handle_signal(signum: int, _frame: FrameType | None) -> None:
        if run.signal is not None:  # second signal: stop now
            _emergency(run, "interrupted again")
        run.signal = signum
        run.stop_at = time.monotonic()
        run.stop_reason = f"interrupted by {signal.Signals(signum).name}"
        loop.call_soon_threadsafe(main.cancel)

    previous = _install(handle_signal)
    watchdog = threading.Thread(target=_watch, args=(run,), name="osint-fanout-watchdog", daemon=True)
    watchdog.start()
    _beat(loop, run)
    if run.stop_at is not None:
        loop.call_later(max(0.0, run.stop_at - time.monotonic()), main.cancel)
    try:
        loop.run_until_complete(main)
    except asyncio.CancelledError:
        pass
    finally:
        _restore(previous)
        code = run.close(run.stop_reason)
    log.debug("investigation over after %.2f s", time.monotonic() - (started or run.heartbeat))
    _finish_loop(loop, code)
    log.debug("event loop closed after %.2f s", time.monotonic() - (started or run.heartbeat))
    return code


async def _investigate(run: _Run, targets: Iterable[Target] | AsyncIterable[Target]) -> None:
    pool = HttpPool()
    try:
        async for event in run.engine.run(targets, pool=pool):
            run.emit(event)
    except OutputClosed:
        pass
    finally:
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(pool.aclose()), 0.2)


def _beat(loop: asyncio.AbstractEventLoop, run: _Run) -> None:
    run.heartbeat = time.monotonic()
    if not run.done.is_set():
        loop.call_later(0.05, _beat, loop, run)


def _watch(run: _Run) -> None:
    while not run.done.wait(0.05):
        limit = run.hard_limit()
        now = time.monotonic()
        if limit is None or now < limit:
            continue
        loop_stuck = now - run.heartbeat > STUCK_S
        if loop_stuck or now > limit + FAILSAFE_S:
            _emergency(run, run.stop_reason if run.signal else "the deadline passed and an adapter would not stop")


def _emergency(run: _Run, message: str) -> None:
    log.warning("stopping hard: %s", message)
    code = run.close(message)
    _exit_now(code)


def _finish_loop(loop: asyncio.AbstractEventLoop, code: int) -> None:
    """Give cancelled calls a moment; if anything is still stuck, leave without it."""
    stuck = abandoned_tasks()
    if stuck:
        loop.run_until_complete(asyncio.wait(stuck, timeout=0.2))
    with contextlib.suppress(Exception):
        loop.run_until_complete(asyncio.wait_for(loop.shutdown_asyncgens(), 0.2))
    with contextlib.suppress(Exception):  # threads stuck in getaddrinfo cannot be joined
        loop.run_until_complete(asyncio.wait_for(loop.shutdown_default_executor(), 0.2))
    busy_threads = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if abandoned_tasks() or busy_threads:
        _exit_now(code)
    loop.close()


def _exit_now(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


def _install(handler: Callable[[int, FrameType | None], None]) -> dict[int, object]:
    previous: dict[int, object] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, handler)
    return previous


def _restore(previous: dict[int, object]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)  # type: ignore[arg-type]
