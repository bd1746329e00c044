"""A generic bounded, unordered, timeout-aware map over a lazy stream of items.

The Python shape of Elixir's `Task.async_stream(items, f, max_concurrency: n,
timeout: t, on_timeout: :kill_task, ordered: false, zip_input_on_exit: true)`:

    async with bounded_map(fetch, urls, limit=10, timeout_s=5.0) as outcomes:
        async for outcome in outcomes:   # completion order
            print(outcome.item, outcome.value, outcome.error, outcome.timed_out)

Items are pulled lazily (an iterable or an async iterable), at most `limit` calls run
at once, each outcome carries its item, an exception becomes an error outcome, a
timeout cancels the call and becomes a timeout outcome at once, even when the call
ignores cancellation. Leaving the `async with` block cancels whatever still runs.
Nothing here knows about OSINT.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

__all__ = [
    "Expired",
    "Outcome",
    "abandoned_tasks",
    "bounded_map",
    "call_in_thread",
    "call_with_deadline",
    "call_with_timeout",
    "settle",
]

T = TypeVar("T")
R = TypeVar("R")
TimeoutSpec = float | Callable[[Any], float | None] | None

_abandoned: set[asyncio.Task[Any]] = set()


class Expired(TimeoutError):
    """Raised by `call_with_timeout` when its own timeout passed."""


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T, R]):
    item: T
    value: R | None = None
    error: BaseException | None = None
    timed_out: bool = False
    elapsed_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None and not self.timed_out


def abandoned_tasks() -> set[asyncio.Task[Any]]:
    """Calls that were cancelled on timeout but have not finished yet."""
    return set(_abandoned)


async def call_with_timeout(func: Callable[..., Awaitable[R]], *args: Any, timeout_s: float | None) -> R:
    """Await `func(*args)`, raising `Expired` after `timeout_s` even if it ignores cancellation."""
    if timeout_s is None:
        return await func(*args)
    end = time.monotonic() + timeout_s
    return await call_with_deadline(func, *args, deadline=lambda: end)


async def call_with_deadline(func: Callable[..., Awaitable[R]], *args: Any, deadline: Callable[[], float]) -> R:
    """Await `func(*args)` until the monotonic time `deadline()`, which may move later
    while the call runs. Past it, raise `Expired` at once.

    The call runs in its own task; on expiry that task is cancelled and left to finish
    on its own (see `abandoned_tasks`) instead of being waited for, so a call that
    ignores cancellation cannot hold up the caller.
    """
    if deadline() <= time.monotonic():
        raise Expired()
    task = asyncio.ensure_future(func(*args))
    try:
        while True:
            left = deadline() - time.monotonic()
            if left <= 0:
                break
            done, _ = await asyncio.wait({task}, timeout=left)
            if done:
                return task.result()
    except asyncio.CancelledError:
        _abandon(task)
        raise
    _abandon(task)
    raise Expired()


async def call_in_thread(func: Callable[..., R], *args: Any, timeout_s: float | None) -> R:
    """Run the blocking `func(*args)` in a daemon thread of its own and await its result,
    raising `Expired` after `timeout_s`. Unlike `asyncio.to_thread`, whose executor threads
    are joined when the loop shuts down, a thread that never returns is left behind and
    cannot keep the process alive; its late result is dropped."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[R] = loop.create_future()
    context = contextvars.copy_context()

    def work() -> None:
        try:
            outcome = (True, context.run(func, *args))
        except BaseException as exc:  # handed to the awaiting task, like to_thread does
            outcome = (False, exc)
        with suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(settle, future, *outcome)

    name = f"osint-fanout-blocking-{getattr(func, '__name__', 'call')}"
    threading.Thread(target=work, name=name, daemon=True).start()
    try:
        return await asyncio.wait_for(future, timeout_s)  # cancels `future` on timeout: late results are dropped
    except TimeoutError:
        raise Expired() from None


def settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    """Give `future` its outcome from another thread's work (through call_soon_threadsafe),
    unless nobody waits for it any more (cancelled, or timed out)."""
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


def _abandon(task: asyncio.Task[Any]) -> None:
    task.cancel()
    if not task.done():
        _abandoned.add(task)
        task.add_done_callback(_forget)


def _forget(task: asyncio.Task[Any]) -> None:
    _abandoned.discard(task)
    if not task.cancelled():
        task.exception()  # mark it retrieved: it was reported as a timeout already


@asynccontextmanager
async def bounded_map(
    func: Callable[[T], Awaitable[R]],
    items: Iterable[T] | AsyncIterable[T],
    *,
    limit: int,
    timeout_s: TimeoutSpec = None,
    cancel_grace_s: float = 0.5,
) -> AsyncIterator[AsyncIterator[Outcome[T, R]]]:
    """Run `func` over `items` with at most `limit` in flight; see the module docstring.

    `timeout_s` is one number for every item or a function of the item (None: no limit).
    """
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValueError(f"limit must be a whole number of 1 or more, got {limit!r}; pass limit=1 or more")
    if cancel_grace_s < 0:
        raise ValueError(f"cancel_grace_s must be 0 or more, got {cancel_grace_s!r}")
    runner = _Mapper(func, items, limit, timeout_s)
    try:
        yield runner.outcomes()
    finally:
        await runner.shutdown(cancel_grace_s)


class _Mapper(Generic[T, R]):
    def __init__(
        self,
        func: Callable[[T], Awaitable[R]],
        items: Iterable[T] | AsyncIterable[T],
        limit: int,
        timeout_s: TimeoutSpec,
    ) -> None:
        self._func = func
        self._limit = limit
        self._timeout_s = timeout_s
        self._sync: Iterator[T] | None = None
        self._async: AsyncIterator[T] | None = None
        if isinstance(items, AsyncIterable):
            self._async = aiter(items)
        else:
            self._sync = iter(items)
        self._exhausted = False
        self._pull: asyncio.Task[T] | None = None
        self._running: set[asyncio.Task[Outcome[T, R]]] = set()

    async def outcomes(self) -> AsyncIterator[Outcome[T, R]]:
        while True:
            self._fill()
            waiting: set[asyncio.Future[Any]] = set(self._running)
            if self._pull is not None:
                waiting.add(self._pull)
            if not waiting:
                return
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if self._pull is not None and self._pull in done:
                self._take_pulled()
            for task in done:
                if task in self._running:
                    self._running.discard(task)
                    yield task.result()

    def _fill(self) -> None:
        while not self._exhausted and len(self._running) < self._limit:
            if self._sync is not None:
                try:
                    item = next(self._sync)
                except StopIteration:
                    self._exhausted = True
                    return
                self._start(item)
            else:
                if self._pull is None:
                    assert self._async is not None
                    self._pull = asyncio.ensure_future(anext(self._async))
                return

    def _take_pulled(self) -> None:
        pull, self._pull = self._pull, None
        assert pull is not None
        try:
            item = pull.result()
        except StopAsyncIteration:
            self._exhausted = True
            return
        self._start(item)

    def _start(self, item: T) -> None:
        self._running.add(asyncio.ensure_future(self._run_one(item)))

    async def _run_one(self, item: T) -> Outcome[T, R]:
        started = time.monotonic()
        timeout = self._timeout_s(item) if callable(self._timeout_s) else self._timeout_s
        try:
            value = await call_with_timeout(self._func, item, timeout_s=timeout)
        except Expired:
            return Outcome(item, timed_out=True, elapsed_s=time.monotonic() - started)
        except Exception as exc:  # isolation: one failing item never stops the others
            return Outcome(item, error=exc, elapsed_s=time.monotonic() - started)
        return Outcome(item, value=value, elapsed_s=time.monotonic() - started)

    async def shutdown(self, grace_s: float) -> None:
        tasks: set[asyncio.Future[Any]] = set(self._running)
        if self._pull is not None:
            tasks.add(self._pull)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=grace_s)
        for task in tasks:
            if task.done() and not task.cancelled():
                task.exception()
        self._running.clear()
        self._pull = None
        closer = getattr(self._async, "aclose", None)
        if closer is not None and all(task.done() for task in tasks):
            with suppress(TimeoutError, Exception):
                await asyncio.wait_for(closer(), grace_s)
