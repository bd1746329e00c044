"""The store as a sink: results are handed to a writer thread and committed in small
batches, so a SIGKILL loses at most about `flush_s` of them; the run never waits for the
store, and a store that fails costs the run nothing but one line on stderr and a flag.

Hand-off without locks: Sink methods may run in a signal handler that interrupted the
thread holding a lock (the watchdog's emergency stop), so `result()` only appends to a
deque (atomic in CPython) and the writer polls it; no queue.Queue, no Event.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .._output import Sink
from .._redact import one_line
from .._results import Result
from .._version import __version__
from ._url import check_url, display_url
from ._worker import POLL_S, end_wait_s, open_store_at, wait_until

if TYPE_CHECKING:
    from ..assets import FindingsFn
    from ._child import RemoteStore
    from ._db import Store

__all__ = ["StoreSink"]

COMMIT_TIMEOUT_S = 30.0
"""How long the end of a run waits, by default, for the store to commit what is queued
(`[store] commit_timeout_s`): a loaded machine or a server busy with other runs' first
migration must not cost results; `--max-time` still holds (its watchdog ends the wait)."""
OPEN_AFTER_S = 0.25
"""The writer opens the store (importing SQLAlchemy takes about 100 ms, mostly holding the
GIL) at the first result, at the end of the run, or this long after the sink was made,
whichever comes first: never while the run is still starting its first calls."""
_WAKE_S = 0.005


def _to_stderr(message: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(f"osint-fanout: error: {message}", file=sys.stderr, flush=True)


class StoreSink(Sink):
    """Records every result in the store at `url`, in a run of its own.

    - `result()` never blocks and never raises; the writer thread opens the store (so an
      unreachable server does not delay the run), commits at least every `flush_s`. A
      result reused from the store (`cached_at` set) is not recorded again.
    - At most `max_pending` results wait; past that (a store slower than the run) the
      store is marked failed and the rest are not recorded.
    - `finish()` gives the writer up to `finish_timeout_s` to commit what is queued; from a
      thread other than the main one (the watchdog's emergency stop, when the event loop
      is stuck, maybe holding the GIL) only `emergency_timeout_s`, so the deadline holds.
    - On any failure (locked, corrupt, full, unreachable, newer): `failed` is True,
      `failure` says why, and `on_failure` gets one line once, at finish (default: stderr).
    - `keep_s`: results older than that are pruned when the store opens.
    - The store is written by a child process started at once (see _child.py: it imports
      SQLAlchemy and opens the store on another core while the run starts); in this
      process's writer thread instead when a test gives an `opener`, with `in_process`, or
      when no child can be started.
    """

    def __init__(
        self,
        url: str,
        *,
        tool_version: str = __version__,
        keep_s: float | None = None,
        flush_s: float = 0.25,
        batch: int = 500,
        max_pending: int = 20_000,
        finish_timeout_s: float = COMMIT_TIMEOUT_S,
        emergency_timeout_s: float = 0.2,
        on_failure: Callable[[str], None] | None = _to_stderr,
        opener: Callable[[str], Store] | None = None,
        in_process: bool | None = None,
        findings: FindingsFn | None = None,
    ) -> None:
        check_url(url)
        self.url = url.strip()
        self.shown = display_url(url.strip())  # as the user wrote it (postgresql://, not +psycopg)
        self.tool_version = tool_version
        self.keep_s = keep_s
        self.flush_s = flush_s
        self.batch = batch
        self.max_pending = max_pending
        self.finish_timeout_s = finish_timeout_s
        self.emergency_timeout_s = emergency_timeout_s
        self.on_failure = on_failure
        self._opener = opener
        self.findings = findings
        """(adapter, target, data) -> a result's assets, recorded with it (None: none recorded)."""
        self.started_at = datetime.now(UTC)
        self.run_id: int | None = None
        """The run's id in the store, once the writer has opened it."""
        self.received = 0
        self.recorded = 0
        """Results committed so far."""
        self.refused = 0
        """Results the database refused even escaped (the others are recorded all the same)."""
        self.failure: str | None = None
        self._pending: deque[tuple[Result, datetime, float]] = deque()
        self._stopping = False
        self._stopped = False
        self._finished = False
        here = opener is not None if in_process is None else in_process
        self._remote = None if here else _spawn(self.url, self.shown)
        self._thread = threading.Thread(target=self._work, name="osint-fanout-store", daemon=True)
        self._thread.start()

    @property
    def failed(self) -> bool:
        """True when some result was not recorded; the caller's exit code says so."""
        return self.failure is not None

    # -- the Sink interface (the run's threads) ----------------------------------

    def result(self, result: Result) -> None:
        if result.cached_at is not None:  # reused from the store (--max-age): not a new observation
            return
        self.received += 1
        if (self.failure is not None and not self.refused) or self._stopping:
            return
        if len(self._pending) >= self.max_pending:
            self._fail(f"store {self.shown}: fell behind the run (more than {self.max_pending} results waiting)")
            return
        self._pending.append((result, datetime.now(UTC), time.monotonic()))

    def finish(self) -> None:
        """Wait (at most `finish_timeout_s`) for the writer to commit, then report a failure."""
        self._finish(self.finish_timeout_s)

    def finish_now(self) -> None:
        """An emergency stop: wait only `emergency_timeout_s`, so the deadline holds; not at
        all while the writer is still opening the store (importing SQLAlchemy, connecting),
        which could take the GIL from the stop for far longer than that."""
        self._finish(min(self.finish_timeout_s, self.emergency_timeout_s) if self.run_id is not None else 0.0)

    def _finish(self, wait_s: float) -> None:
        if self._finished:
            return
        self._finished = True
        self._stopping = True
        wait_s = end_wait_s(wait_s, self.emergency_timeout_s)
        if not wait_until(lambda: self._stopped, wait_s, poll_s=_WAKE_S) and self.recorded < self.received:
            self._fail(f"store {self.shown}: did not commit within {wait_s:g} s at the end of the run")
        if self.failure is not None and self.on_failure is not None:
            lost = max(0, self.received - self.recorded)  # read once: the writer may still commit
            self.on_failure(one_line(f"{self.failure}; {lost} of {self.received} results were not recorded", 400))

    # -- the writer thread --------------------------------------------------------

    def _work(self) -> None:
        store: Store | RemoteStore | None = None
        try:
            if self._remote is None:
                self._wait_for_work()
            store = self._open()
            self.run_id = store.begin_run(self.started_at, self.tool_version)
            if self.keep_s:
                store.prune(self.keep_s)
            self._write_all(store)
            store.finish_run(self.run_id, datetime.now(UTC))  # from now on `prune` may remove it
        except Exception as exc:  # StoreError, or a bug: either way the run goes on
            from ._rows import StoreError

            self._fail(str(exc) if isinstance(exc, StoreError) else f"store {self.shown}: {type(exc).__name__}: {exc}")
            self._pending.clear()
        finally:
            self._stopped = True
            if store is not None:
                store.close()

    def _wait_for_work(self) -> None:
        until = time.monotonic() + OPEN_AFTER_S
        while not self._pending and not self._stopping and time.monotonic() < until:
            time.sleep(_WAKE_S)

    def _open(self) -> Store | RemoteStore:
        if self._remote is not None:
            self._remote.wait_open()
            return self._remote
        return open_store_at(self.url, self._opener)

    def _write_all(self, store: Store | RemoteStore) -> None:
        from ._findings import found_of
        from ._records import row_of
        from ._rows import FOUND_KEY

        assert self.run_id is not None
        while True:
            stopping = self._stopping  # read before draining: all that came before it is written
            pending = self._pending
            due = pending and (len(pending) >= self.batch or time.monotonic() - pending[0][2] >= self.flush_s)
            if due or (stopping and pending):
                rows: list[dict[str, Any]] = []
                while pending and len(rows) < self.batch:
                    result, at, _ = pending.popleft()
                    row = row_of(result, at, self.run_id)
                    found = found_of(result, self.findings)
                    rows.append(row if found is None else row | {FOUND_KEY: found})
                self.recorded += self._insert(store, rows)
            elif stopping:
                return
            else:
                time.sleep(_WAKE_S if self._remote is not None else POLL_S)  # the child does the work: wake often

    def _insert(self, store: Store | RemoteStore, rows: list[dict[str, Any]]) -> int:
        """Store `rows`; how many were. A row the database refuses even escaped is said
        (failed, exit 3) but costs no other row, nor the rest of the run's."""
        from ._rows import StoreError

        try:
            return store.insert(rows)
        except StoreError as error:
            if not error.row_fault:
                raise
            self.refused += len(rows) - error.stored
            if self.failure is None:
                self.failure = one_line(str(error), 300)
            return error.stored

    def _fail(self, message: str) -> None:
        if self.failure is None:
            self.failure = one_line(message, 300)


def _spawn(url: str, shown: str) -> RemoteStore | None:
    """A writer process for the store at `url`; None (write in this process) when none can start."""
    from ._child import RemoteStore

    try:
        return RemoteStore(url, shown) if sys.executable else None
    except OSError:
        return None
