"""When a request is tried again: which statuses and failures are transient, how long to
wait (Retry-After, backoff with jitter), and the name-resolution failures that are not."""

from __future__ import annotations

import email.utils
import random
import socket
import time

__all__ = [
    "BACKOFF_BASE_S",
    "BACKOFF_MAX_S",
    "MAX_ATTEMPTS",
    "RETRY_AFTER_FLOOR_S",
    "RETRY_STATUSES",
    "backoff_s",
    "name_error",
    "retry_after_s",
    "transient",
]

RETRY_STATUSES = frozenset({429, 502, 503, 504})
MAX_ATTEMPTS = 4
RETRY_AFTER_FLOOR_S = 1.0  # Shodan has been seen sending "Retry-After: 0"
BACKOFF_BASE_S = 0.5
BACKOFF_MAX_S = 8.0


def backoff_s(attempt: int) -> float:
    """The wait before attempt `attempt + 1`: exponential, capped, with jitter."""
    return min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


def name_error(exc: BaseException) -> socket.gaierror | None:
    """The name-resolution failure behind an httpx error, if that is what it is (searched
    through both the causes and the contexts of the chain)."""
    pending, seen = [exc], set()
    while pending and len(seen) < 16:
        current = pending.pop()
        if isinstance(current, socket.gaierror):
            return current
        seen.add(id(current))
        pending += [link for link in (current.__cause__, current.__context__) if link and id(link) not in seen]
    return None


def transient(exc: BaseException) -> bool:
    """Worth another attempt: a connection problem, but not a name that does not exist
    (only a temporary resolver failure, EAI_AGAIN, is tried again)."""
    import httpx  # loaded by then (a request failed); not at import: a run without HTTP never needs it

    if not isinstance(exc, httpx.ConnectError | httpx.ReadError | httpx.WriteError | httpx.RemoteProtocolError):
        return False
    unresolved = name_error(exc)
    return unresolved is None or unresolved.errno == getattr(socket, "EAI_AGAIN", -3)


def retry_after_s(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
