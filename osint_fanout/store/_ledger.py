"""Quota counts kept in the store (osint_fanout._quota's Ledger), so that runs on several
machines sharing one PostgreSQL store count against one quota."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._db import Store

__all__ = ["StoreLedger"]


class StoreLedger:
    """Opens the store at once, in a daemon thread of its own (SQLAlchemy loads there), so
    that the first request with a quota seldom waits for it; a count waits for the opening."""

    OPENING_S = 10.0
    """How much longer a count may wait while the store opens (a cold start under load)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._store: Store | None = None
        self._lock = threading.Lock()
        threading.Thread(target=self._open, name="osint-fanout-quota", daemon=True).start()

    @property
    def opening_s(self) -> float:
        return 0.0 if self._store is not None else self.OPENING_S

    def _open(self) -> None:
        with self._lock:
            if self._store is None:
                from ._db import Store

                try:
                    self._store = Store(self.url)
                except Exception:  # said when a count needs it (take raises then)
                    return

    def take(self, scope: str, period_start: datetime, limit: int) -> bool:
        with self._lock:
            if self._store is None:
                from ._db import Store

                self._store = Store(self.url)
            store = self._store
        return store.take_quota(scope, period_start, limit)

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
