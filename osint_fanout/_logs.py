"""Logging to stderr: levels from -q/-v, every record through the key-redacting,
terminal-safe filter, lines shaped like the error lines (`osint-fanout: warning: ...`)."""

from __future__ import annotations

import logging
import sys

from ._redact import RedactingFilter

__all__ = ["setup_logging"]

_handler: logging.Handler | None = None


def setup_logging(verbose: int, quiet: bool) -> None:
    """stderr logging; every record passes the key-redacting filter."""
    global _handler
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    _handler = _StderrHandler()
    _handler.addFilter(RedactingFilter(tracebacks=verbose >= 3))
    _handler.setFormatter(_Formatter("osint-fanout: %(levelname)s: %(message)s"))
    root.addHandler(_handler)
    root.setLevel(logging.WARNING)
    level = (
        logging.ERROR if quiet else (logging.WARNING, logging.INFO)[min(verbose, 1)] if verbose < 2 else logging.DEBUG
    )
    logging.getLogger("osint_fanout").setLevel(level)
    logging.getLogger("osint_fanout.tracebacks").setLevel(logging.DEBUG if verbose >= 3 else logging.CRITICAL)
    for noisy in ("httpx", "httpcore", "hpack"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose >= 3 else logging.WARNING)


class _Formatter(logging.Formatter):
    """`osint-fanout: warning: ...`, like the error lines."""

    def format(self, record: logging.LogRecord) -> str:
        record.levelname = record.levelname.lower()
        return super().format(record)


class _StderrHandler(logging.Handler):
    """Writes to whatever sys.stderr is now, so Rich's live displays can take the lines."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)
