"""What the core hands to each adapter call: its HTTP session, its time, a logger, and the
helpers adapters would otherwise write again each (time for an upstream, a primary source
with a fallback, a blocking library call)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from ._budget import MARGIN_S, Budget
from ._errors import AdapterError
from ._http import Http
from ._stream import Expired, call_in_thread, call_with_deadline

__all__ = ["Context"]

T = TypeVar("T")


@dataclass(frozen=True)
class Context:
    """One adapter call's view of the run. Ask it for time; never compute margins by hand."""

    http: Http
    budget: Budget
    log: logging.Logger

    def time_left(self) -> float:
        """Seconds left for this call (they grow while a rate-limit wait is under way)."""
        return self.budget.time_left()

    def timeout_s(self) -> float:
        """The time to give an upstream (a resolver's lifetime, a socket's timeout): what is
        left, less a margin in which the adapter can still say which upstream did not answer
        before the core's own timeout cuts the call off."""
        return max(0.05, self.budget.time_left(MARGIN_S))

    @asynccontextmanager
    async def timeout(self, what: str) -> AsyncIterator[float]:
        """Bound the block by `timeout_s()`; past it, TimeoutError saying that `what` (an
        upstream, "host:port") did not answer. Yields the seconds given."""
        seconds = self.timeout_s()
        try:
            async with asyncio.timeout(seconds):
                yield seconds
        except TimeoutError:
            raise TimeoutError(f"{what} did not answer within {seconds:.1f} s") from None

    @property
    def max_body_bytes(self) -> int:
        """The size cap in force for this adapter, for reads outside `http`."""
        return self.http.max_body_bytes

    def share(self, fraction: float) -> Context:
        """A context for part of this call: `fraction` of the time left now (its own waits
        stretch it). Its requests stop at that part's end; see `fallback` to enforce it."""
        part = self.budget.share(fraction)
        return replace(self, budget=part, http=self.http.pool.session(self.http.policy, part, self.http.place))

    async def fallback(
        self,
        primary: Callable[[Context], Awaitable[T]],
        secondary: Callable[[Context, AdapterError], Awaitable[T]],
        *,
        share: float,
        names: tuple[str, str],
        when: Callable[[AdapterError], bool] | None = None,
    ) -> T:
        """A primary source, then a fallback: `primary(ctx)` gets `share` of the time left;
        when it raises an AdapterError (for which `when` is true, if given) or runs out of
        its share, `secondary(ctx, error)` gets the rest. When both fail, one AdapterError
        (of the second's type) names both: "crt.sh: ...; Cert Spotter: ...". NotFound and
        Skip from the primary are final."""
        part = self.share(share)
        try:
            return await call_with_deadline(primary, part, deadline=part.budget.deadline)
        except Expired:
            first = AdapterError("timeout", f"no answer within {part.budget.timeout_s:.1f} s")
        except AdapterError as exc:
            first = exc
        except TimeoutError as exc:  # it gave up on its upstream
            first = AdapterError("timeout", str(exc) or "no answer in time")
        if when is not None and not when(first):
            raise first
        self.log.debug("%s failed (%s); asking %s", names[0], first.message, names[1])
        try:
            return await call_with_deadline(secondary, self, first, deadline=lambda: self.budget.deadline() - MARGIN_S)
        except Expired:
            second = AdapterError("timeout", "no answer in time")
        except AdapterError as exc:
            second = exc
        except TimeoutError as exc:
            second = AdapterError("timeout", str(exc) or "no answer in time")
        raise AdapterError(second.type, f"{names[0]}: {first.message}; {names[1]}: {second.message}") from None

    async def run_blocking(self, func: Callable[..., T], /, *args: Any) -> T:
        """Call a blocking library function (file I/O, a synchronous client) without
        stalling the other adapters: it runs in a thread of its own, and when this call's
        time is up, TimeoutError is raised and the thread is left behind (it never keeps
        the process alive). Never use `asyncio.to_thread` or an executor in an adapter:
        their threads are waited for at exit."""
        try:
            return await call_in_thread(func, *args, timeout_s=self.time_left())
        except Expired:
            name = getattr(func, "__name__", "the blocking call")
            raise TimeoutError(f"{name} did not return within the call's time") from None
