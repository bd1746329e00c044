"""osint-fanout: ask many OSINT sources about a target at once.

The public API is what an adapter plugin needs; see the README's "Writing an adapter".
Names are imported on first use so that `osint-fanout --version` starts fast.
"""

from __future__ import annotations

import time
from importlib import import_module
from typing import TYPE_CHECKING, Any

_STARTED = time.monotonic()
"""When the command started (as near as Python lets us): deadlines count from here."""

__version__ = "0.1.0"

__all__ = [
    "Adapter",
    "AdapterError",
    "AdapterOptions",
    "Context",
    "Facts",
    "HttpResponse",
    "KeyPolicy",
    "KeylessUrl",
    "NotFound",
    "Skip",
    "Target",
    "TargetKind",
    "UpstreamUrl",
    "__version__",
    "inward_reason",
    "referral_reason",
]

_HOMES = {
    "Adapter": "._adapter",
    "AdapterOptions": "._adapter",
    "Context": "._adapter",
    "Facts": "._adapter",
    "KeyPolicy": "._adapter",
    "KeylessUrl": "._adapter",
    "UpstreamUrl": "._adapter",
    "HttpResponse": "._http",
    "AdapterError": "._errors",
    "NotFound": "._errors",
    "Skip": "._errors",
    "inward_reason": "._egress",
    "referral_reason": "._egress",
    "Target": "._targets",
    "TargetKind": "._targets",
}

if TYPE_CHECKING:
    from ._adapter import Adapter, AdapterOptions, Context, Facts, KeylessUrl, KeyPolicy, UpstreamUrl
    from ._egress import inward_reason, referral_reason
    from ._errors import AdapterError, NotFound, Skip
    from ._http import HttpResponse
    from ._targets import Target, TargetKind


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'osint_fanout' has no attribute {name!r}")
    return getattr(import_module(home, __name__), name)
