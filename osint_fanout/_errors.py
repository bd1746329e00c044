"""What adapters raise, and the one place where any exception becomes a status."""

from __future__ import annotations

import json
import sys
from typing import NamedTuple

from pydantic import ValidationError

from ._redact import one_line
from ._results import ErrorInfo, Status

__all__ = ["AdapterError", "NotFound", "Skip", "classify"]


class AdapterError(Exception):
    """The upstream failed. `type` is short and stable: network, http, auth, rate_limited,
    parse, too_large, redirect, timeout, ... It becomes `error.type` in the output."""

    def __init__(self, type: str, message: str) -> None:
        super().__init__(message)
        self.type = type
        self.message = message


class NotFound(Exception):
    """The upstream answered and knows nothing about the target: status `empty`."""


class Skip(Exception):
    """The adapter cannot run for this target (e.g. it needs a key): status `skipped`."""


class Classified(NamedTuple):
    status: Status
    error: ErrorInfo | None
    reason: str | None


def classify(exc: BaseException) -> Classified:
    """Map an exception raised by an adapter to a status; messages are redacted."""
    if isinstance(exc, NotFound):
        return Classified(Status.EMPTY, None, None)
    if isinstance(exc, Skip):
        return Classified(Status.SKIPPED, None, one_line(str(exc)))
    if isinstance(exc, AdapterError) and exc.type == "timeout":  # e.g. get(timeout_s=...) passed
        return Classified(Status.TIMEOUT, ErrorInfo(type="timeout", message=one_line(exc.message)), None)
    if isinstance(exc, AdapterError):
        return _error(exc.type, exc.message)
    if isinstance(exc, json.JSONDecodeError | ValidationError | UnicodeDecodeError):
        return _error("parse", f"{type(exc).__name__}: {exc}")
    httpx = sys.modules.get("httpx")  # an adapter may use httpx directly
    if httpx is not None and isinstance(exc, httpx.TimeoutException):
        return _error("network", f"timed out ({type(exc).__name__})")
    if httpx is not None and isinstance(exc, httpx.TransportError):
        return _error("network", f"{type(exc).__name__}: {exc}")
    if isinstance(exc, TimeoutError):  # the adapter gave up waiting on its upstream
        info = ErrorInfo(type="timeout", message=one_line(str(exc) or "the upstream did not answer in time"))
        return Classified(Status.TIMEOUT, info, None)
    if isinstance(exc, OSError):
        return _error("network", f"{type(exc).__name__}: {exc}")
    return _error("crash", f"{type(exc).__name__}: {exc}")


def _error(error_type: str, message: str) -> Classified:
    return Classified(Status.ERROR, ErrorInfo(type=error_type, message=one_line(message)), None)
