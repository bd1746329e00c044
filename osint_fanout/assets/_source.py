"""The assets of a result, from the adapter that made it: the one place where the core asks
an adapter's `assets()` (for the store, `diff` and `--changes`), guarded like `facts()`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._targets import Target
from ._model import Findings

if TYPE_CHECKING:
    from .._adapter import Adapter

__all__ = ["FindingsFn", "findings_from"]

log = logging.getLogger("osint_fanout.assets")

FindingsFn = Callable[[str, Target, dict[str, Any]], Findings | None]
"""(adapter name, target, data) -> what the adapter found in it, or None (it declares none)."""


def findings_from(adapters: Mapping[str, Adapter[Any]]) -> FindingsFn:
    """The findings function of these adapter instances; an unknown adapter, or one whose
    assets() fails or returns something else than Findings, found nothing."""

    def findings(adapter: str, target: Target, data: dict[str, Any]) -> Findings | None:
        instance = adapters.get(adapter)
        if instance is None:
            return None
        try:
            found = instance.assets(target, data)
        except Exception as exc:  # a bug in one adapter's assets() must not cost the result
            log.debug("%s.assets failed: %r", adapter, exc)
            return None
        return found if isinstance(found, Findings) else None

    return findings
