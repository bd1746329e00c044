"""`search --changes`: each result compared, as it arrives, with its target's results
stored before this run started, and only the change events written (NDJSON).

The store is read in a thread of its own, never in the event loop: the run hands results
over without locks (a deque, as the store sink does, since Sink methods may run in a
signal handler), and the thread reads the previous results of the targets it has not
seen yet in one query per batch, compares with `changes()`/`target_changes()` over each
adapter's facts, and writes the events. A target's previous results are forgotten when
the target is complete, so memory stays bounded whatever the list.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .._output import Destination, OutputClosed, Sink, to_json
from .._redact import one_line
from .._results import Report, Result, RunSummary, SummaryLine
from ..assets import AssetRef, FindingsFn
from ._asset_changes import Found, asset_event, found_refs
from ._changes import COMPARABLE, AssetChange, ChangeEvent, FactsFn, changes, target_changes
from ._records import StoredResult, StoreError
from ._sink import _to_stderr
from ._url import check_url, display_url
from ._worker import POLL_S, end_wait_s, open_store_at, wait_until

if TYPE_CHECKING:
    from ._db import Store

__all__ = ["ChangesSink"]

_WRITE_WAIT_S = 0.5
"""How long finishing waits for an event line being written (a full pipe blocks)."""


@dataclass
class _Seen:
    previous: dict[str, StoredResult]
    """The target's newest ok/empty result per adapter, recorded before the run."""
    said_first: bool = False
    found: dict[str, Found] | None = None
    """The assets of each previous result (read at the target's first result)."""
    now: set[AssetRef] = field(default_factory=set)
    """The assets this run's results of the target found so far."""
    gone: dict[AssetRef, AssetChange] = field(default_factory=dict)
    """Assets a previous result found and this run's result of that adapter did not: gone,
    unless another result of the target finds them (said when the target is complete)."""


class ChangesSink(Sink):
    """Writes the change events of each result against the store at `url` to `destination`.

    - Compared with what was recorded before `before` (default: now, when the run starts),
      so this run's own results, recorded meanwhile by the store sink, never count.
    - A failed result (error, timeout, cancelled, skipped) gives no event; a result reused
      from the store (`cached_at`) gives none either: it is what was stored. A target with
      nothing stored before says `first_seen` once, with its first ok/empty result.
    - `finish()` gives the thread up to `finish_timeout_s` to write what is queued (from a
      thread other than the main one, an emergency stop, only `emergency_timeout_s`), then
      the summary line when `summary` is given, then commits the destination.
    - At most `max_pending` results wait (a store slower than the run): past that, the
      rest are not compared.
    - A store that cannot be read: `failed` is True, `failure` says why, and `on_failure`
      gets one line at finish, with how many results could not be compared.
    - A write that fails is raised into the run at its next result (and at finish).
    """

    def __init__(
        self,
        url: str,
        destination: Destination,
        facts_fn: FactsFn,
        *,
        summary: Callable[[], dict[str, Any]] | None = None,
        before: datetime | None = None,
        batch: int = 500,
        max_pending: int = 20_000,
        finish_timeout_s: float = 2.0,
        emergency_timeout_s: float = 0.2,
        on_failure: Callable[[str], None] | None = _to_stderr,
        opener: Callable[[str], Store] | None = None,
        findings_fn: FindingsFn | None = None,
    ) -> None:
        check_url(url)
        self.url = url.strip()
        self.shown = display_url(self.url)
        self.destination = destination
        self.facts_fn = facts_fn
        self.findings_fn = findings_fn
        """With it, new and gone assets are events too (AssetChange)."""
        self.summary = summary
        self.before = before or datetime.now(UTC)
        self.batch = batch
        self.max_pending = max_pending
        self.finish_timeout_s = finish_timeout_s
        self.emergency_timeout_s = emergency_timeout_s
        self.on_failure = on_failure
        self._opener = opener
        self.received = 0
        """Results handed over to be compared (ok/empty ones, not reused from the store)."""
        self.compared = 0
        self.written = 0
        """Change events written."""
        self.failure: str | None = None
        self._output_error: OutputClosed | None = None
        self._pending: deque[tuple[Result, datetime] | str] = deque()  # a str: that target is complete
        self._seen: dict[str, _Seen] = {}
        self._opened = False
        self._stopping = False
        self._stopped = False
        self._abandoned = False
        self._finished = False
        self._write_lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, name="osint-fanout-changes", daemon=True)
        self._thread.start()

    @property
    def failed(self) -> bool:
        """True when some result could not be compared; the caller's exit code says so."""
        return self.failure is not None

    # -- the Sink interface (the run's threads) ----------------------------------

    def result(self, result: Result) -> None:
        if self._output_error is not None:
            raise self._output_error
        if result.status not in COMPARABLE or result.cached_at is not None or self._stopping:
            return
        self.received += 1
        if self.failure is not None:
            return
        if len(self._pending) >= self.max_pending:
            self._fail(f"store {self.shown}: fell behind the run (more than {self.max_pending} results to compare)")
            return
        self._pending.append((result, datetime.now(UTC)))

    def report(self, report: Report) -> None:
        self._pending.append(report.target.value)

    def finish(self) -> None:
        self._finish(self.finish_timeout_s)

    def finish_now(self) -> None:
        """An emergency stop: a short wait, none while the store is still being opened
        (its imports could take the GIL from the stop for longer)."""
        self._finish(min(self.finish_timeout_s, self.emergency_timeout_s) if self._opened else 0.0)

    def _finish(self, wait_s: float) -> None:
        if self._finished:
            return
        self._finished = True
        self._stopping = True
        wait_s = end_wait_s(wait_s, self.emergency_timeout_s)
        if not wait_until(lambda: self._stopped, wait_s):
            self._fail(f"store {self.shown}: the changes were not all compared within {wait_s:g} s at the end")
        self._report_failure()
        if not self._write_lock.acquire(timeout=_WRITE_WAIT_S):
            return  # the thread is stuck writing: writing more would block too
        try:
            self._abandoned = True  # from here on the thread writes nothing: the summary is last
            if self._output_error is not None:
                raise self._output_error
            if self.summary is not None:
                line = SummaryLine(summary=RunSummary.model_validate(self.summary()))
                self.destination.write_line(to_json(line))
            self.destination.commit()
        finally:
            self._write_lock.release()

    def _report_failure(self) -> None:
        if self.failure is not None and self.on_failure is not None:
            lost = self.received - self.compared
            self.on_failure(one_line(f"{self.failure}; {lost} of {self.received} results were not compared", 400))

    # -- the reader thread ----------------------------------------------------------

    def _work(self) -> None:
        store: Store | None = None
        try:
            store = self._open()
            self._opened = True
            self._compare_all(store)
        except StoreError as exc:
            self._fail(str(exc))
        except OutputClosed as exc:  # OutputFailed too: raised into the run
            self._output_error = exc
        except Exception as exc:  # a bug: the run goes on, the exit code says so
            self._fail(f"store {self.shown}: {type(exc).__name__}: {exc}")
        finally:
            self._pending.clear()
            self._stopped = True
            if store is not None:
                store.close()

    def _open(self) -> Store:
        return open_store_at(self.url, self._opener)

    def _compare_all(self, store: Store) -> None:
        pending = self._pending
        while True:
            stopping = self._stopping  # read before draining: all that came before it is compared
            if not pending:
                if stopping:
                    return
                time.sleep(POLL_S)
                continue
            items = [pending.popleft() for _ in range(min(self.batch, len(pending)))]
            new = {item[0].target.value for item in items if isinstance(item, tuple)} - set(self._seen)
            if new:
                found = store.previous_of(sorted(new), before=self.before)
                self._seen |= {value: _Seen(found.get(value, {})) for value in new}
            for item in items:
                if isinstance(item, str):
                    done = self._seen.pop(item, None)
                    if done is not None:
                        self._write([event for ref, event in sorted(done.gone.items()) if ref not in done.now])
                    continue
                self._write(self._events(*item))
                self.compared += 1

    def _events(self, result: Result, at: datetime) -> list[ChangeEvent]:
        seen = self._seen[result.target.value]
        current = StoredResult.from_result(result, at)
        if seen.previous:
            events = changes(seen.previous.get(result.adapter), current, self.facts_fn)
            return events + self._asset_events(seen, result.adapter, current)
        if seen.said_first:
            return []
        seen.said_first = True
        return target_changes([(None, current)], self.facts_fn)  # the whole target: first_seen, once

    def _asset_events(self, seen: _Seen, adapter: str, current: StoredResult) -> list[ChangeEvent]:
        """New assets at once (found by no previous result of the target, nor said new already);
        gone ones kept until the target is complete (another adapter may still find them)."""
        if self.findings_fn is None:
            return []
        if seen.found is None:
            seen.found = {name: found_refs(before, self.findings_fn) for name, before in seen.previous.items()}
        known = {ref for found in seen.found.values() for ref in found}
        after = found_refs(current, self.findings_fn)
        new = [ref for ref in sorted(after) if ref not in known and ref not in seen.now]
        seen.now |= set(after)
        before = seen.found.get(adapter, {})
        for ref in set(before) - set(after):
            previous = seen.previous[adapter]
            seen.gone.setdefault(ref, asset_event("gone", ref, previous, before[ref], at=current.recorded_at))
        return [asset_event("new", ref, current, after[ref]) for ref in new]

    def _write(self, events: list[ChangeEvent]) -> None:
        for event in events:
            with self._write_lock:
                if self._abandoned:
                    return
                self.destination.write_line(to_json(event))
                self.written += 1

    def _fail(self, message: str) -> None:
        if self.failure is None:
            self.failure = one_line(message, 300)
