"""What the engine asks before an adapter call: a result to reuse instead of asking the
upstream (`--max-age`). Only the shape lives here; the store provides one
(osint_fanout/store/_cache.py), and a test can pass any object of this shape."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ._results import Result
    from ._targets import Target

__all__ = ["ResultCache"]


class ResultCache(Protocol):
    async def cached(self, target: Target, adapter: str, max_age_s: float, *, until: float) -> Result | None:
        """A result of `adapter` on `target` at most `max_age_s` old, to be the call's result
        as it is (marked with `cached_at`, waited 0); None: ask the upstream. It never raises,
        never blocks the event loop, and answers by the monotonic time `until`."""
        ...
