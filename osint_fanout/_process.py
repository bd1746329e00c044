"""Run an investigation as a process: event loop, signals, and a deadline that holds.

asyncio can cancel a call that awaits, not one that blocks the event loop or a thread
stuck in a system call. So two guards watch the loop's heartbeat, and when a deadline
(or the grace after a signal) has passed and the loop is not answering, they write out
what arrived, report the rest as cancelled, and end the process with os._exit:
- a watchdog thread, for code that blocks with the GIL released (a sleep, a socket);
- a SIGALRM timer, for code that holds the GIL (a runaway regex): its handler runs in
  the main thread as soon as that code checks for signals, which `re` does.
Signals reach us two ways, whichever comes first: Python's handler, which runs in the main
thread only between bytecodes (not while it is busy in C code, e.g. inflating a large
chunk), and a listener thread woken by the byte that the C-level handler writes to the
wakeup fd at once (`signal.set_wakeup_fd`). Both count deliveries the same way, so a signal
is acted on once, and a second one stops at once, however busy the main thread is.
Threads of plugins (executor threads, `threading.Thread`, thread pools) are never joined:
the process ends with os._exit once the results are written.
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
from types import FrameType

from ._engine import Event, Investigation
from ._exitcodes import EXIT_OUTPUT_CLOSED, EXIT_OUTPUT_FAILED
from ._http import HttpPool
from ._output import OutputClosed, OutputFailed, Sink
from ._results import Report, Result
from ._stream import abandoned_tasks
from ._targets import Target

__all__ = ["execute"]

log = logging.getLogger("osint_fanout.run")

STUCK_S = 0.15
"""A loop that has not ticked for this long, past a deadline, is stuck."""
FAILSAFE_S = 0.8
"""Past a deadline by this much, the guards end the process even if the loop ticks."""
ALARM_EVERY_S = 0.1
LOCK_WAIT_S = 0.5
"""How long an emergency stop waits for a sink that is writing (a full pipe blocks)."""


class _Process:
    """The state of the process, shared by the loop thread and the guards."""

    def __init__(self, engine: Investigation, sinks: list[Sink], stop_at: float | None) -> None:
        self.engine = engine
        self.sinks = sinks
        self.lock = threading.RLock()
        self.writing = False
        self.done = threading.Event()
        self.heartbeat = time.monotonic()
        self.signal: int | None = None
        self.stop_at = stop_at
        self.stop_reason = "the run was stopped"
        self.stopping = False
        """True once we cancel the run ourselves (a signal, --max-time)."""
        self.failed = False
        self.output_closed = False
        self.output_failure: str | None = None
        self.hard_stop = threading.Lock()
        """Held by the first guard that stops the process hard; the others wait for it."""

    def emit(self, event: Event) -> None:
        with self.lock:
            if self.done.is_set():
                return
            self.writing = True
            try:
                for sink in self.sinks:
                    if isinstance(event, Report):
                        sink.report(event)
                    else:
                        sink.result(event)
            except OutputFailed as exc:
                self._output_failed(exc)
                raise
            except OutputClosed:
                self.output_closed = True
                raise
            finally:
                self.writing = False
            if isinstance(event, Result):
                self.failed = self.failed or event.failed
                log.info("%s on %s: %s in %d ms", event.adapter, event.target.value, event.status, event.elapsed_ms)

    def started(self, target: Target, adapter: str) -> None:
        with self.lock:
            for sink in self.sinks:
                sink.started(target, adapter)

    def _output_failed(self, exc: OutputFailed) -> None:
        if self.output_failure is None:
            self.output_failure = str(exc)
            log.error("%s", exc)

    def exit_code(self) -> int:
        if self.output_failure is not None:
            return EXIT_OUTPUT_FAILED
        if self.output_closed:
            return EXIT_OUTPUT_CLOSED
        if self.signal is not None:
            return 128 + self.signal
        return 1 if self.failed else 0

    def close(self, message: str | None, *, lock_wait_s: float = -1) -> int:
        """Report what is unfinished, finish every sink once; return the exit code.
        With `lock_wait_s` (an emergency stop), give up writing when a sink is stuck that
        long, and let the sinks finish without waiting on anything slow."""
        emergency = lock_wait_s >= 0
        if not self.lock.acquire(timeout=lock_wait_s):
            return self.exit_code()
        try:
            if self.done.is_set():
                return self.exit_code()
            if message:
                with contextlib.suppress(OutputClosed):
                    for event in self.engine.close_open(message):
                        self.emit(event)
            for sink in reversed(self.sinks):  # displays stop before the summary is printed
                try:
                    if emergency:
                        sink.finish_now()
                    else:
                        sink.finish()
                except OutputFailed as exc:
                    self._output_failed(exc)
                except Exception as exc:  # one sink's failure must not cost the others their end
                    log.debug("a sink failed to finish: %r", exc)
            self.done.set()
            return self.exit_code()
        finally:
            self.lock.release()

    def stuck(self) -> bool:
        """Past a deadline (or a signal's grace) with a loop that does not tick."""
        limit = min((t for t in (self.engine.earliest_deadline(), self.stop_at) if t is not None), default=None)
        now = time.monotonic()
        if self.done.is_set() or limit is None or now < limit:
            return False
        return now - self.heartbeat > STUCK_S or now > limit + FAILSAFE_S


def execute(
    engine: Investigation,
    targets: Iterable[Target] | AsyncIterable[Target],
    sinks: list[Sink],
    *,
    max_time_s: float | None = None,
    started: float | None = None,
    pool: HttpPool | None = None,
    finish: Callable[[int], int] | None = None,
) -> int:
    """Run to the end and return the exit code (0, 1, 130, 143, 141). `max_time_s`
    counts from `started` (monotonic; default now), the moment the command started.
    `pool`: the HTTP pool to use (made here when not given). `finish(code)` runs once the
    sinks are closed and returns the final code: it is called even when the process must
    then leave at once (a plugin thread still busy), so its last lines are never lost."""
    stop_at = (started or time.monotonic()) + max_time_s if max_time_s else None
    pool = pool or HttpPool()
    process = _Process(engine, sinks, stop_at)
    engine.on_start = process.started
    loop = asyncio.new_event_loop()
    main = loop.create_task(_investigate(process, targets, pool))

    def max_time_passed() -> None:
        process.stop_reason = "the run's --max-time passed"
        process.stopping = True
        main.cancel()

    def handle_alarm(_signum: int, _frame: FrameType | None) -> None:
        try:
            stuck = process.stuck()
        except Exception:  # a handler must never raise into the code it interrupted
            return
        if stuck or process.hard_stop.locked():
            # Another guard may be stopping already: it needs the GIL, which this (main)
            # thread would take back into the code it interrupted (a regex gives it up
            # only at the next tick), so wait for it here instead of returning.
            if process.writing and not process.hard_stop.locked():  # stuck in a write of ours
                _exit_now(process.exit_code())
            _emergency(process, _why(process))

    stop = _Stop(process, loop, main)
    previous = _install({signal.SIGINT: stop.handler, signal.SIGTERM: stop.handler, signal.SIGALRM: handle_alarm})
    listener = _SignalListener(stop.delivered) if previous else None
    threading.Thread(target=_watch, args=(process,), name="osint-fanout-watchdog", daemon=True).start()
    _beat(loop, process)
    if process.stop_at is not None:
        loop.call_later(max(0.0, process.stop_at - time.monotonic()), max_time_passed)
    try:
        loop.run_until_complete(main)
    except asyncio.CancelledError:
        if not process.stopping:  # not ours: a bug, not an interrupt; say so, do not hide it
            raise RuntimeError("the investigation was cancelled unexpectedly") from None
    finally:
        code = process.close(process.stop_reason)
        if listener is not None:
            listener.stop()
        _restore(previous)  # only now: a signal during the final writes is still ours
    log.debug("investigation over after %.2f s", time.monotonic() - (started or process.heartbeat))
    if finish is not None:
        code = finish(code)
    _finish_loop(loop, code)
    return code


async def _investigate(process: _Process, targets: Iterable[Target] | AsyncIterable[Target], pool: HttpPool) -> None:
    try:
        async for event in process.engine.events(targets, pool=pool):
            process.emit(event)
    except OutputClosed:
        pass
    finally:
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(pool.aclose()), 0.2)


def _beat(loop: asyncio.AbstractEventLoop, process: _Process) -> None:
    process.heartbeat = time.monotonic()
    if not process.done.is_set():
        loop.call_later(0.05, _beat, loop, process)


def _watch(process: _Process) -> None:
    while not process.done.wait(0.05):
        if process.stuck():
            _emergency(process, _why(process))


def _why(process: _Process) -> str:
    return process.stop_reason if process.signal else "the deadline passed and an adapter would not stop"


def _emergency(process: _Process, message: str) -> None:
    """Write what arrived and leave. The first guard here does it; another one that
    arrives meanwhile waits (without the GIL) until it is done, then leaves too."""
    if process.hard_stop.acquire(blocking=False):
        log.warning("stopping hard: %s", message)
    else:
        process.done.wait(LOCK_WAIT_S * 2)
    _exit_now(process.close(message, lock_wait_s=LOCK_WAIT_S))


def _finish_loop(loop: asyncio.AbstractEventLoop, code: int) -> None:
    """Give cancelled calls a moment; if anything is still stuck, leave without it."""
    stuck = abandoned_tasks()
    if stuck:
        loop.run_until_complete(asyncio.wait(stuck, timeout=0.2))
    with contextlib.suppress(Exception):
        loop.run_until_complete(asyncio.wait_for(loop.shutdown_asyncgens(), 0.2))
    # The default executor is not shut down: that joins its threads (a plugin's
    # `asyncio.to_thread(time.sleep, 3600)`, a getaddrinfo that hangs), and no timeout
    # applies to the join. A process with threads still busy leaves without them.
    busy_threads = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if abandoned_tasks() or busy_threads:
        _exit_now(code)
    loop.close()


def _exit_now(code: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


class _Stop:
    """Acts on SIGINT and SIGTERM, reported by Python's handler (main thread, between
    bytecodes) and by the listener thread (at once): the n-th delivery is acted on once,
    whichever path reports it first. The first stops the process gracefully, the second at once."""

    def __init__(self, process: _Process, loop: asyncio.AbstractEventLoop, main: asyncio.Task[None]) -> None:
        self.process, self.loop, self.main = process, loop, main
        self.counts = {"handler": 0, "listener": 0}
        self.acted = 0
        self.lock = threading.RLock()  # re-entrant: a handler may interrupt the holder

    def handler(self, signum: int, _frame: FrameType | None) -> None:
        self.delivered(signum, "handler")

    def delivered(self, signum: int, path: str) -> None:
        with self.lock:
            self.counts[path] += 1  # Python coalesces signals, so a path may undercount
            count = max(self.counts.values())
            if count <= self.acted:
                return
            self.acted = count
        if count >= 2:
            _emergency(self.process, "interrupted again")
        process = self.process
        process.signal = signum
        process.stop_at = time.monotonic()
        process.stop_reason = f"interrupted by {signal.Signals(signum).name}"
        process.stopping = True
        with contextlib.suppress(RuntimeError):  # the loop may be closed already
            self.loop.call_soon_threadsafe(self.main.cancel)


class _SignalListener:
    """Reads the signal numbers that the C-level handler writes to the wakeup fd, in a
    thread of its own, so a stop signal is seen even while the main thread is busy in C."""

    def __init__(self, delivered: Callable[[int, str], None]) -> None:
        self.delivered = delivered
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.write_fd, False)
        self.previous_fd = signal.set_wakeup_fd(self.write_fd, warn_on_full_buffer=False)
        self.thread = threading.Thread(target=self._listen, name="osint-fanout-signals", daemon=True)
        self.thread.start()

    def _listen(self) -> None:
        while True:
            try:
                data = os.read(self.read_fd, 64)
            except OSError:
                return
            for signum in data or b"\0":
                if signum == 0:  # stop() writes a zero byte
                    return
                if signum in (signal.SIGINT, signal.SIGTERM):
                    with contextlib.suppress(Exception):  # never die before the next signal
                        self.delivered(signum, "listener")

    def stop(self) -> None:
        signal.set_wakeup_fd(self.previous_fd)
        with contextlib.suppress(OSError):
            os.write(self.write_fd, b"\0")
        self.thread.join(0.5)
        if not self.thread.is_alive():
            for fd in (self.read_fd, self.write_fd):
                with contextlib.suppress(OSError):
                    os.close(fd)


Handler = Callable[[int, FrameType | None], None]


def _install(handlers: dict[signal.Signals, Handler]) -> dict[signal.Signals, object]:
    """Install the handlers (only the main thread may); SIGALRM ticks while we run."""
    previous: dict[signal.Signals, object] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous
    for signum, handler in handlers.items():
        previous[signum] = signal.signal(signum, handler)
    if signal.SIGALRM in handlers:
        signal.setitimer(signal.ITIMER_REAL, ALARM_EVERY_S, ALARM_EVERY_S)
    return previous


def _restore(previous: dict[signal.Signals, object]) -> None:
    if signal.SIGALRM in previous:
        signal.setitimer(signal.ITIMER_REAL, 0)
    for signum, handler in previous.items():
        signal.signal(signum, handler)  # type: ignore[arg-type]
