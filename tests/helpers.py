"""Run one adapter through the real engine, the way the CLI does, for unit tests."""

from __future__ import annotations

import asyncio
from typing import Any

from osint_fanout._adapter import Adapter
from osint_fanout._engine import Investigation
from osint_fanout._http import HttpPool
from osint_fanout._redact import register_secret
from osint_fanout._results import Result
from osint_fanout._settings import Overrides, RunSettings, _ready
from osint_fanout._targets import parse_target


def run_adapter(
    cls: type[Adapter[Any]],
    target: str,
    *,
    timeout_s: float = 5.0,
    deadline_s: float = 10.0,
    max_body_bytes: int | None = None,
    **options: Any,
) -> Result:
    """One (target, adapter) result. Rate limits are off unless `rate_limit` is given."""
    options.setdefault("rate_limit", "off")
    if max_body_bytes is not None:
        options["max_body_bytes"] = max_body_bytes
    validated = cls.Options.model_validate(options)
    if validated.api_key is not None:
        register_secret(validated.api_key.get_secret_value())
    ready = _ready(cls, validated, RunSettings(), Overrides(timeout_s=timeout_s))
    engine = Investigation([ready], concurrency=4, deadline_s=deadline_s)

    async def go() -> Result:
        pool = HttpPool()
        try:
            events = [event async for event in engine.run([parse_target(target)], pool=pool)]
        finally:
            await pool.aclose()
        return next(event for event in events if isinstance(event, Result))

    return asyncio.run(go())
