"""What adapters raise, and the one place where any exception becomes a status."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import NamedTuple

from pydantic import ValidationError

from ._budget import Budget, ran_out
from ._redact import one_line
from ._results import ErrorInfo, Status

__all__ = ["AdapterError", "Classified", "ErrorType", "NotFound", "Skip", "classify"]


class ErrorType(StrEnum):
    """The closed set of `error.type` values; an adapter raises one of the first ten."""

    NETWORK = "network"
    """No answer could be had: refused, reset, unresolvable, TLS."""
    PROXY = "proxy"
    """The proxy of the environment (HTTPS_PROXY, ALL_PROXY, ...) could not be reached or refused."""
    HTTP = "http"
    """An HTTP status the adapter has no better word for (5xx, 400, ...)."""
    AUTH = "auth"
    """The key is missing, wrong, or not allowed this (401, 403)."""
    RATE_LIMITED = "rate_limited"
    """The upstream's rate limit or quota, or ours, stopped the request."""
    PARSE = "parse"
    """The answer is not what the upstream documents (not JSON, the wrong shape, too deep)."""
    TOO_LARGE = "too_large"
    """The answer is larger than max_body_bytes (or a compression bomb)."""
    REDIRECT = "redirect"
    """A redirect was refused (it would carry a key elsewhere, or lead inward) or looped."""
    REFERRAL = "referral"
    """A referral (WHOIS) was refused: it leads inward or to another port."""
    CONFIG = "config"
    """The adapter's settings cannot work (no resolver, a key over plain http)."""
    TIMEOUT = "timeout"
    """An upstream did not answer in the time the adapter gave it (status `timeout`)."""
    SERVFAIL = "servfail"
    """DNS: the servers answered SERVFAIL."""
    REFUSED = "refused"
    """DNS: the servers refused the query."""
    DNS = "dns"
    """DNS: another failure of the resolver."""
    CRASH = "crash"
    """The adapter raised something else (a bug, reported with its type): set by the core."""
    CANCELLED = "cancelled"
    """The deadline, --max-time or a signal stopped the call: set by the core."""


_CORE_ONLY = frozenset({ErrorType.CRASH, ErrorType.CANCELLED})


class AdapterError(Exception):
    """The upstream failed. `type` is one of ErrorType (the string or the member); it becomes
    `error.type` in the output. `status`: the HTTP status, when an answer had one."""

    def __init__(self, type: ErrorType | str, message: str, *, status: int | None = None) -> None:
        try:
            checked = ErrorType(type)
        except ValueError:
            known = ", ".join(t.value for t in ErrorType if t not in _CORE_ONLY)
            raise ValueError(f"AdapterError type {type!r} is not one of: {known}") from None
        super().__init__(message)
        self.type = checked.value
        self.message = message
        self.status = status


class NotFound(Exception):
    """The upstream answered and knows nothing about the target: status `empty`."""


class Skip(Exception):
    """The adapter cannot run for this target (e.g. it needs a key): status `skipped`."""


class Classified(NamedTuple):
    status: Status
    error: ErrorInfo | None
    reason: str | None


def classify(exc: BaseException, budget: Budget, *, deadline_s: float, target: str) -> Classified:
    """Map an exception raised by an adapter to a status; messages are redacted. A call that
    ran out of time goes through `ran_out`, the one rule for timeout versus cancelled."""
    if isinstance(exc, NotFound):
        return Classified(Status.EMPTY, None, None)
    if isinstance(exc, Skip):
        return Classified(Status.SKIPPED, None, one_line(str(exc)))
    timed_out = None
    if isinstance(exc, AdapterError) and exc.type == ErrorType.TIMEOUT:  # e.g. get(timeout_s=...) passed
        timed_out = exc.message
    elif isinstance(exc, TimeoutError) and not isinstance(exc, AdapterError):  # it gave up on its upstream
        timed_out = str(exc) or "the upstream did not answer in time"
    if timed_out is not None:
        status, info = ran_out(budget, deadline_s=deadline_s, target=target, detail=one_line(timed_out))
        return Classified(status, info, None)
    if isinstance(exc, AdapterError):
        return _error(exc.type, exc.message)
    if isinstance(exc, json.JSONDecodeError | ValidationError | UnicodeDecodeError):
        return _error("parse", f"{type(exc).__name__}: {exc}")
    httpx = sys.modules.get("httpx")  # an adapter may use httpx directly
    if httpx is not None and isinstance(exc, httpx.TimeoutException):
        return _error("network", f"timed out ({type(exc).__name__})")
    if httpx is not None and isinstance(exc, httpx.TransportError):
        return _error("network", f"{type(exc).__name__}: {exc}")
    if isinstance(exc, OSError):
        return _error("network", f"{type(exc).__name__}: {exc}")
    return _error("crash", f"{type(exc).__name__}: {exc}")


def _error(error_type: str, message: str) -> Classified:
    return Classified(Status.ERROR, ErrorInfo(type=error_type, message=one_line(message)), None)
