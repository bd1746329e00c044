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
import unicodedata
from typing import Any
from urllib.parse import quote, quote_plus

__all__ = [
    "RedactingFilter",
    "json_escape_unsafe",
    "masked_query",
    "may_hold_secret",
    "one_line",
    "redact",
    "redact_values",
    "register_secret",
    "secret_forms",
    "terminal_safe",
    "unsafe_char",
]

_MASK = "***"
_MIN_SECRET_LEN = 4  # shorter values would mask ordinary text; no real key is that short
_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()
_derived: tuple[frozenset[str], tuple[str, ...], tuple[str, ...]] = (_secrets, (), ())
"""For the `_secrets` it was made from: them longest first, and each as it shows inside a
JSON string written with ensure_ascii=False."""

# What a terminal may act on or not show: every character of the Unicode categories Cc
# (controls: C0, DEL, C1), Cf (format: bidi controls, zero-width characters, soft hyphen,
# tag characters, ...), Co (private use), Cs (surrogates), Cn (unassigned in this Python's
# Unicode data), Zl and Zp (line and paragraph separators), and the Hangul fillers, which are
# letters that show as nothing. Tab and newline are kept where text keeps its lines.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")
_KEPT = frozenset("\t\n")


def register_secret(secret: str | None) -> None:
    """Scrub `secret` from now on, also as it looks percent-encoded or JSON-escaped."""
    global _secrets
    if secret and len(secret) >= _MIN_SECRET_LEN:
        forms = {secret, quote(secret, safe=""), quote_plus(secret), json.dumps(secret)[1:-1]}
        with _lock:
            _secrets = _secrets | forms


def _forms() -> tuple[tuple[str, ...], tuple[str, ...]]:
    global _derived
    secrets, longest_first, in_json = _derived
    if secrets is not _secrets:
        secrets = _secrets
        longest_first = tuple(sorted(secrets, key=len, reverse=True))
        in_json = tuple({json.dumps(form, ensure_ascii=False)[1:-1] for form in secrets})
        _derived = (secrets, longest_first, in_json)
    return longest_first, in_json


def secret_forms(secret: str) -> set[str]:
    """The ways a key can appear in a URL or a header."""
    return {secret, quote(secret, safe=""), quote_plus(secret)}


def redact(text: str) -> str:
    for secret in _forms()[0]:
        if secret in text:
            text = text.replace(secret, _MASK)
    return text


def unsafe_char(char: str) -> bool:
    """True for a character that must be shown escaped (see _UNSAFE_CATEGORIES)."""
    if char.isprintable():  # fast: most characters; isprintable() is False for C*, Z* but space
        return char in _FILLERS
    return char not in _KEPT and unicodedata.category(char) in _UNSAFE_CATEGORIES


def _clean(text: str) -> bool:
    """True when `text` has nothing to escape (checked in C for the usual case)."""
    return text.isprintable() and _FILLERS.isdisjoint(text)


def terminal_safe(text: str) -> str:
    """Show escape sequences and invisible characters as inert `\\xNN` / `\\uNNNN` text."""
    if _clean(text):
        return text
    return "".join(_escaped(char) if unsafe_char(char) else char for char in text)


def _escaped(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def json_escape_unsafe(text: str) -> str:
    """JSON text with every unsafe character as a JSON escape (UTF-16 pairs above U+FFFF):
    the same data, but no byte a terminal acts on. `text` must be JSON already."""
    if _clean(text.replace("\n", " ")):
        return text
    return "".join(_json_escaped(char) if char != "\n" and unsafe_char(char) else char for char in text)


def _json_escaped(char: str) -> str:
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def redact_values(value: Any) -> Any:
    """`value` (JSON-like data) with keys scrubbed from every string in it: the structure
    is never touched, so redaction cannot turn valid JSON into something else."""
    if not _secrets:
        return value
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(k) if isinstance(k, str) else k: redact_values(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_values(item) for item in value]
    return value


def may_hold_secret(json_text: str) -> bool:
    """False when no string in the data that `json_text` was written from (json.dumps,
    ensure_ascii=False) holds a key, so `redact_values` would change nothing: JSON escapes
    each character on its own, so a key inside a string shows, escaped, inside its text."""
    return any(form in json_text for form in _forms()[1])


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
        if record.exc_info and self.tracebacks:  # -vvv: lines kept, everything else escaped
            record.exc_text = terminal_safe(redact(logging.Formatter().formatException(record.exc_info)))
        elif record.exc_info:
            kind = record.exc_info[0]
            record.msg += f" ({kind.__name__ if kind else 'error'}; -vvv shows the traceback)"
            record.exc_text = None
        record.exc_info = None
        if record.stack_info:
            record.stack_info = terminal_safe(redact(record.stack_info))
        return True


_KEY_PARAM = re.compile(r"key|token|secret|pass|auth|sig|session|credential", re.IGNORECASE)


def masked_query(params: list[tuple[str, str]]) -> str:
    """A URL's query for a log line: the value of any parameter whose name may carry a
    key (`key`, `api_key`, `token`, ...) is `***` (and every registered key is redacted
    from the line besides, by the log filter)."""
    from urllib.parse import urlencode

    shown = [(name, _MASK if _KEY_PARAM.search(name) else value) for name, value in params]
    return urlencode(shown, safe="%*/:@,")
