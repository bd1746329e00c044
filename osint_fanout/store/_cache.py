"""The store as the engine's cache (`--max-age`, `[adapters.NAME] max_age`): before an
adapter call, the newest stored ok/empty result younger than the adapter's max age is the
call's result, and no request is made.

The store is read in one daemon thread of its own, never in the event loop (an SQLite
read or a PostgreSQL round trip blocks), and the thread never holds the process: it is
a daemon and nothing joins it. Each lookup waits for its answer at most `timeout_s` (the
first ones, for the store to open, `open_timeout_s`), and never more than half the time
left before its target's deadline; a store that fails, or is slower than that, is a miss,
and the cache turns itself off for the rest of the run with one warning: asking the
upstreams is always the safe way. Lookups are served one at a time, in order: a read by
index takes well under a millisecond, so one thread keeps up with any concurrency.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._redact import one_line
from .._results import Result, Status
from .._stream import settle
from ._records import StoreError
from ._url import check_url, display_url
from ._worker import open_store_at

if TYPE_CHECKING:
    from .._targets import Target
    from ._db import Store
    from ._records import StoredResult

__all__ = ["StoreCache"]

log = logging.getLogger("osint_fanout.store")

READ_TIMEOUT_S = 1.0
"""How long a lookup waits for the store once it is open."""
OPEN_TIMEOUT_S = 8.0
"""How long the first lookups wait for the store to open (importing SQLAlchemy, checking
the schema; PostgreSQL's connect timeout is 5 s)."""

DEADLINE_SHARE = 0.5
"""A lookup takes at most this share of the time left before its target's deadline, so a
store that does not answer (a PostgreSQL server that drops packets) leaves the upstream
the other half."""
_OPENPOLL_S = 0.02
_Ask = tuple[asyncio.AbstractEventLoop, "asyncio.Future[StoredResult | None]", str, str, float]


class StoreCache:
    """The engine's ResultCache (osint_fanout/_cache.py) over the store at `url`.

    `failure` says why the cache turned itself off (None: it works); `hits` and `misses`
    count the lookups. `on_warning` gets the one line said when it turns off (default: the
    log's warning). `close()` ends the thread and closes the store."""

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = READ_TIMEOUT_S,
        open_timeout_s: float = OPEN_TIMEOUT_S,
        on_warning: Callable[[str], None] | None = None,
        opener: Callable[[str], Store] | None = None,
    ) -> None:
        check_url(url)
        self.url = url.strip()
        self.shown = display_url(self.url)
        self.timeout_s = timeout_s
        self.open_timeout_s = open_timeout_s
        self.on_warning = on_warning if on_warning is not None else _log_warning
        self.failure: str | None = None
        self.hits = 0
        self.misses = 0
        self._opener = opener
        self._opened = threading.Event()
        self._lock = threading.Lock()
        self._asks: queue.SimpleQueue[_Ask | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._work, name="osint-fanout-cache", daemon=True)
        self._thread.start()

    async def cached(self, target: Target, adapter: str, max_age_s: float, *, until: float) -> Result | None:
        """The stored result to reuse, as this call's result (`cached_at` set, waited 0,
        elapsed: the lookup's time), or None. Never raises (cancellation aside)."""
        started = time.monotonic()
        until = started + (until - started) * DEADLINE_SHARE
        if not self._opened.is_set() and not await self._wait_open(until):
            self.misses += 1
            return None
        wait_s = self.timeout_s
        bound_s = min(wait_s, until - time.monotonic())
        if self.failure is not None or bound_s <= 0:
            self.misses += 1
            return None
        loop = asyncio.get_running_loop()
        future: asyncio.Future[StoredResult | None] = loop.create_future()
        self._asks.put((loop, future, target.value, adapter, max_age_s))
        try:
            stored = await asyncio.wait_for(future, bound_s)  # cancels `future` on timeout: a late answer is dropped
        except TimeoutError:
            if bound_s >= wait_s:  # the store's own slowness, not the target's deadline
                self._fail(f"store {self.shown}: no answer within {wait_s:g} s")
            stored = None
        except StoreError as exc:
            self._fail(str(exc))
            stored = None
        except Exception as exc:  # a bug in the read: the upstream is asked instead
            self._fail(f"store {self.shown}: {type(exc).__name__}: {exc}")
            stored = None
        if stored is None:
            self.misses += 1
            return None
        self.hits += 1
        return Result(
            target=target,
            adapter=adapter,
            status=Status(stored.status),
            elapsed_ms=round((time.monotonic() - started) * 1000),
            waited_ms=0,
            data=stored.data,
            summary=stored.summary,
            cached_at=stored.recorded_at,
        )

    async def _wait_open(self, until: float) -> bool:
        """Wait for the store to open (the first lookups of a run), at most `open_timeout_s`
        and never past `until`; True when it is open."""
        by = time.monotonic() + self.open_timeout_s
        while not self._opened.is_set():
            now = time.monotonic()
            if now >= min(by, until):
                if now >= by:
                    self._fail(f"store {self.shown}: not open after {self.open_timeout_s:g} s")
                return False
            await asyncio.sleep(_OPENPOLL_S)
        return True

    def close(self) -> None:
        """End the thread once the lookups queued are answered; it closes the store."""
        self._asks.put(None)

    # -- the reader thread ----------------------------------------------------

    def _work(self) -> None:
        store: Store | None = None
        try:
            store = self._open()
        except Exception as exc:  # StoreError, or a bug: every lookup is then a miss
            self._fail(str(exc) if isinstance(exc, StoreError) else f"store {self.shown}: {type(exc).__name__}: {exc}")
        finally:
            self._opened.set()
        try:
            while (ask := self._asks.get()) is not None:
                loop, future, value, adapter, max_age_s = ask
                if future.done():  # its caller gave up waiting
                    continue
                outcome: tuple[bool, Any]
                if store is None:
                    outcome = (False, StoreError(self.failure or f"store {self.shown}: not open"))
                else:
                    try:
                        outcome = (True, store.cached(value, adapter, max_age_s))
                    except Exception as exc:  # handed to the awaiting call
                        outcome = (False, exc)
                with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
                    loop.call_soon_threadsafe(settle, future, *outcome)
        finally:
            if store is not None:
                store.close()

    def _open(self) -> Store:
        return open_store_at(self.url, self._opener)

    def _fail(self, message: str) -> None:
        with self._lock:
            if self.failure is not None:
                return
            self.failure = one_line(message, 300)
        self.on_warning(f"{self.failure}; the cache is off for this run (--max-age: the upstreams are asked)")


def _log_warning(line: str) -> None:
    log.warning("%s", line)

