"""Daily and monthly quotas, counted across runs: `quota = "500/d"` allows 500 requests to an
upstream (per key) in each UTC day ("15500/mo": each UTC calendar month), whatever the
number of runs. The count lives in the history store when it is on (osint_fanout.store's
`QuotaLedger`), else in a small JSON file in the user state directory, locked while it is
changed so that concurrent cron jobs share it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from ._stream import call_in_thread

__all__ = ["FileLedger", "Ledger", "LedgerError", "MemoryLedger", "Quota", "default_ledger_path", "take"]

LEDGER_S = 2.0
"""The most a quota count may take (a file, or the store, in a thread)."""

_QUOTA = re.compile(r"^\s*(\d+)\s*/\s*(d|mo)\s*$")
_NAMES = {"d": "day", "mo": "month"}


@dataclass(frozen=True)
class Quota:
    """At most `count` requests in each UTC `period`: "d" (day) or "mo" (calendar month)."""

    count: int
    period: str

    @classmethod
    def parse(cls, text: str) -> Quota:
        match = _QUOTA.match(text)
        if not match:
            raise ValueError(f"quota {text!r} is not like '500/d' or '15500/mo' (a whole number per d or mo, or 'off')")
        return cls(int(match.group(1)), match.group(2))

    def __str__(self) -> str:
        return f"{self.count}/{self.period}"

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """The period `now` falls in: (its start, when the quota resets)."""
        now = now.astimezone(UTC)
        if self.period == "d":
            start = now.replace(hour=0, minute=0, second=0, microsecond=0)
            return start, start + timedelta(days=1)
        start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
        return start, end

    def divided(self, shards: int) -> Quota:
        """This quota's share for one of `shards` machines that share it."""
        if self.count // shards < 1:
            raise ValueError(f"quota {self} cannot be shared by {shards} shards (less than one request each)")
        return Quota(self.count // shards, self.period)

    def reset_text(self, now: datetime) -> str:
        reset = self.window(now)[1]
        return f"its quota of {self.count} a {_NAMES[self.period]} is used up; it resets at {reset:%Y-%m-%d %H:%M} UTC"


class Ledger(Protocol):
    """Where quota use is counted; every method may block (call it from a thread)."""

    def take(self, scope: str, period_start: datetime, limit: int) -> bool:
        """Count one request in `scope` for the period that starts at `period_start`;
        False (counting nothing) when `limit` are counted already."""
        ...


class MemoryLedger:
    """Counts for this process only (when nothing is kept between runs: tests, the library)."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, datetime], int] = {}

    def take(self, scope: str, period_start: datetime, limit: int) -> bool:
        used = self.counts.get((scope, period_start), 0)
        if used >= limit:
            return False
        self.counts[(scope, period_start)] = used + 1
        return True


async def take(ledger: Ledger, quota: Quota, scope: str) -> str | None:
    """Count one request of `scope` (adapter/upstream/key fingerprint) against `quota`, in a
    thread (the ledger's I/O blocks); the reason to skip when it is used up, else None.
    A ledger that fails raises (LedgerError, StoreError, Expired, OSError): the caller
    skips the call, since it cannot be counted (quotas fail closed)."""
    now = datetime.now(UTC)
    wait_s = LEDGER_S + getattr(ledger, "opening_s", 0.0)  # a store still opening may take longer once
    allowed = await call_in_thread(ledger.take, scope, quota.window(now)[0], quota.count, timeout_s=wait_s)
    return None if allowed else quota.reset_text(now)


def default_ledger_path() -> Path:
    from platformdirs import user_state_path

    return user_state_path("osint-fanout", appauthor=False) / "quota.json"


class LedgerError(Exception):
    """The count cannot be kept (the ledger is corrupt, not a file, locked too long, or
    cannot be written); one line. Calls under a quota are then skipped, never sent uncounted."""


KEPT_PERIODS = 3
"""Periods kept per scope: the current one, and any a clock ahead or behind made. Never
"every period before this one": a run whose clock is ahead would drop today's count."""


class FileLedger:
    """The counts in a JSON file: {scope: {period start: count}}, the newest periods kept.
    An exclusive lock on a file beside it orders the processes that count at once; the file
    is replaced whole (written to a temporary file, then renamed), so a crash loses nothing
    that was counted before it. Anything that keeps the count from being read or written
    raises LedgerError: a corrupt file is reported and left as it is, never reset.
    Hand-written: a few dozen lines of fcntl beat a dependency."""

    def __init__(self, path: Path, *, lock_timeout_s: float = LEDGER_S / 2) -> None:
        self.path = path
        self.lock_timeout_s = lock_timeout_s

    def take(self, scope: str, period_start: datetime, limit: int) -> bool:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with self._locked():
                counts = self._read()
                period = period_start.astimezone(UTC).isoformat()
                mine = counts.get(scope, {})
                if mine.get(period, 0) >= limit:
                    return False
                mine[period] = mine.get(period, 0) + 1
                counts[scope] = {key: mine[key] for key in [*sorted(mine, reverse=True)[:KEPT_PERIODS], period]}
                self._write(counts)
                return True
        except OSError as exc:
            raise LedgerError(f"quota ledger {self.path}: {exc.strerror or exc}") from None

    def used(self, scope: str, period_start: datetime) -> int:
        return int(self._read().get(scope, {}).get(period_start.astimezone(UTC).isoformat(), 0))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK, 0o600)  # a FIFO opens at once too
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise LedgerError(f"quota ledger lock {lock}: not a regular file")
            until = time.monotonic() + self.lock_timeout_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= until:
                        held = f"locked by another process for more than {self.lock_timeout_s:g} s"
                        raise LedgerError(f"quota ledger {self.path}: {held}") from None
                    time.sleep(0.01)
            yield
        finally:
            os.close(fd)  # releases the lock

    def _read(self) -> dict[str, dict[str, int]]:
        """The counts; {} when there is no ledger yet. LedgerError when it is there but
        unreadable: no regular file, or no ledger we wrote (it is left as it is)."""
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        except FileNotFoundError:
            return {}
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise LedgerError(f"quota ledger {self.path}: not a regular file")
            raw = handle.read(MAX_LEDGER_BYTES + 1)
        try:
            data = json.loads(raw)
            if len(raw) > MAX_LEDGER_BYTES or not isinstance(data, dict):
                raise ValueError("not a ledger")
            return {
                str(scope): {str(period): _count(value) for period, value in periods.items()}
                for scope, periods in data.items()
            }
        except (ValueError, AttributeError, TypeError, RecursionError):
            raise LedgerError(
                f"quota ledger {self.path} is corrupt; it is left as it is (not reset): fix it, or remove it "
                "to count again from zero"
            ) from None

    def _write(self, counts: dict[str, dict[str, int]]) -> None:
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(temporary, "w", encoding="utf-8") as handle:
                os.chmod(temporary, 0o600)
                handle.write(json.dumps(counts, sort_keys=True))
                handle.flush()
                os.fsync(handle.fileno())  # a full disk says so here, not after the rename
            os.replace(temporary, self.path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()


MAX_LEDGER_BYTES = 16 * 1024 * 1024


def _count(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError("not a count")
    return value
