"""Logging to stderr: levels from -q/-v, every record through the key-redacting,
terminal-safe filter, lines shaped like the error lines (`osint-fanout: warning: ...`).

A log is read later (a cron log, the next morning): with -v, or when stderr is a file
(`2>>osint.log`), every line starts with its time, in UTC to the millisecond.
"""

from __future__ import annotations

import logging
import os
import stat
import sys
from datetime import UTC, datetime

from ._redact import RedactingFilter

__all__ = ["file_time_prefix", "setup_logging"]

_handler: logging.Handler | None = None


def setup_logging(verbose: int, quiet: bool) -> None:
    """stderr logging; every record passes the key-redacting filter."""
    global _handler
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    _handler = _StderrHandler()
    _handler.addFilter(RedactingFilter(tracebacks=verbose >= 3))
    timed = verbose >= 1 or _is_file(sys.stderr)
    _handler.setFormatter(_Formatter(("%(asctime)s " if timed else "") + "osint-fanout: %(levelname)s: %(message)s"))
    root.addHandler(_handler)
    root.setLevel(logging.WARNING)
    level = (
        logging.ERROR if quiet else (logging.WARNING, logging.INFO)[min(verbose, 1)] if verbose < 2 else logging.DEBUG
    )
    logging.getLogger("osint_fanout").setLevel(level)
    logging.getLogger("osint_fanout.tracebacks").setLevel(logging.DEBUG if verbose >= 3 else logging.CRITICAL)
    for noisy in ("httpx", "httpcore", "hpack"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose >= 3 else logging.WARNING)


def file_time_prefix(stream: object) -> str:
    """The time to start a line with when `stream` is a file (a log read later), else ''."""
    if not _is_file(stream):
        return ""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z") + " "


def _is_file(stream: object) -> bool:
    """A regular file (`2>>osint.log`), not a terminal or a pipe."""
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return False


class _Formatter(logging.Formatter):
    """`osint-fanout: warning: ...`, like the error lines; the time, when asked, as
    2026-12-07T02:15:00.123Z."""

    def format(self, record: logging.LogRecord) -> str:
        record.levelname = record.levelname.lower()
        return super().format(record)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _StderrHandler(logging.Handler):
    """Writes to whatever sys.stderr is now, so Rich's live displays can take the lines."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)
