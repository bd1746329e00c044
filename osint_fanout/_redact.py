"""Scrub API keys and terminal-unsafe characters from text that leaves the process.

Keys are registered once, process-wide, when settings are loaded. A global is deliberate:
every path out of the process (output, logs, error lines, crash reports) must scrub the
same keys, and passing a redactor through each of them is how one path gets missed.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from urllib.parse import quote, quote_plus

__all__ = ["RedactingFilter", "one_line", "redact", "register_secret", "secret_forms", "terminal_safe"]

_MASK = "***"
_MIN_SECRET_LEN = 4  # shorter values would mask ordinary text; no real key is that short
_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()

# C0/C1 controls, DEL, bidi overrides and isolates, zero-width characters, BOM.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def register_secret(secret: str | None) -> None:
    """Scrub `secret` from now on, also as it looks percent-encoded or JSON-escaped."""
    global _secrets
    if secret and len(secret) >= _MIN_SECRET_LEN:
        forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
        with _lock:
            _secrets = _secrets | forms


def secret_forms(secret: str) -> set[str]:
    """The ways a key can appear in a URL or a header."""
    return {secret, quote(secret, safe=""), quote_plus(secret)}


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, _MASK)
    return text


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_safe(text: str) -> str:
    """Show escape sequences and invisible characters as inert `\\xNN` text."""
    return _UNSAFE.sub(_escape, text)


def one_line(text: str, limit: int = 300) -> str:
    """Redacted, terminal-safe, single line, bounded: fit for an error message."""
    flat = " ".join(redact(text).split())
    flat = terminal_safe(flat)
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class RedactingFilter(logging.Filter):
    """Attach to a handler: it then scrubs records from every logger (asyncio's and
    httpx's included). Tracebacks are dropped unless `tracebacks` (-vvv)."""

    def __init__(self, *, tracebacks: bool = False) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = terminal_safe(redact(message)).replace("\n", "\\n")
        record.args = None
        if record.exc_info and self.tracebacks:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        elif record.exc_info:
            kind = record.exc_info[0]
            record.msg += f" ({kind.__name__ if kind else 'error'}; -vvv shows the traceback)"
            record.exc_text = None
        record.exc_info = None
        return True
