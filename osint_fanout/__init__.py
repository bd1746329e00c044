"""osint-fanout: ask many OSINT sources about a target at once.

The public API is what an adapter plugin needs (see docs/plugins.md);
`osint_fanout.testing` runs an adapter in a test.
Names are imported on first use so that `osint-fanout --version` starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._version import __version__  # first: it notes when the command started

__all__ = [
    "Adapter",
    "AdapterError",
    "AdapterOptions",
    "Context",
    "ErrorType",
    "Facts",
    "HttpResponse",
    "KeyPolicy",
    "KeylessUrl",
    "NotFound",
    "Skip",
    "Target",
    "TargetKind",
    "UpstreamError",
    "UpstreamUrl",
    "__version__",
    "inward_reason",
    "parse_as",
    "referral_reason",
]

_HOMES = {
    "Adapter": "._adapter",
    "AdapterOptions": "._adapter",
    "Facts": "._adapter",
    "KeyPolicy": "._adapter",
    "KeylessUrl": "._adapter",
    "UpstreamUrl": "._adapter",
    "Context": "._context",
    "HttpResponse": "._response",
    "UpstreamError": "._response",
    "AdapterError": "._errors",
    "ErrorType": "._errors",
    "NotFound": "._errors",
    "Skip": "._errors",
    "parse_as": "._parse",
    "inward_reason": "._egress",
    "referral_reason": "._egress",
    "Target": "._targets",
    "TargetKind": "._targets",
}

if TYPE_CHECKING:
    from ._adapter import Adapter, AdapterOptions, Facts, KeylessUrl, KeyPolicy, UpstreamUrl
    from ._context import Context
    from ._egress import inward_reason, referral_reason
    from ._errors import AdapterError, ErrorType, NotFound, Skip
    from ._parse import parse_as
    from ._response import HttpResponse, UpstreamError
    from ._targets import Target, TargetKind


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'osint_fanout' has no attribute {name!r}")
    return getattr(import_module(home, __name__), name)
