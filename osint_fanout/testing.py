"""Testing an adapter: run it once through the real engine (its budget, the HTTP layer with
its caps, retries and key safety, the mapping of errors to statuses) and get its Result.

    import respx
    from osint_fanout.testing import run_adapter

    @respx.mock
    def test_hosts():
        respx.get("https://api.example.net/domains/example.com").respond(json={"hosts": ["a"]})
        result = run_adapter(ExampleAdapter, "example.com", api_key="k-0123456789")
        assert result.status == "ok" and result.data == {"hosts": ["a"]}

Mock the upstream with respx (as above), or point the adapter's URL options at a server the
test starts (`run_adapter(ExampleAdapter, "example.com", base_url="http://127.0.0.1:8080")`).
Options are those of the adapter's `[adapters.NAME]` section; rate limits are off unless
`rate_limit` is given.
"""

from __future__ import annotations

import asyncio
from typing import Any

from ._adapter import Adapter
from ._engine import Investigation
from ._http import HttpPool
from ._plan import Flags, ready
from ._redact import register_secret
from ._results import Result
from ._settings import RunSettings
from ._targets import parse_target

__all__ = ["arun_adapter", "run_adapter"]


def run_adapter(
    adapter: type[Adapter[Any]],
    target: str,
    *,
    timeout_s: float = 5.0,
    deadline_s: float = 10.0,
    **options: Any,
) -> Result:
    """The one result of `adapter` on `target` (a domain, an IP or a URL, as on the command
    line), with `options`; `timeout_s` is the call's timeout, `deadline_s` the target's."""
    return asyncio.run(arun_adapter(adapter, target, timeout_s=timeout_s, deadline_s=deadline_s, **options))


async def arun_adapter(
    adapter: type[Adapter[Any]],
    target: str,
    *,
    timeout_s: float = 5.0,
    deadline_s: float = 10.0,
    **options: Any,
) -> Result:
    """`run_adapter` for a test that already runs an event loop."""
    options.setdefault("rate_limit", "off")
    validated = adapter.Options.model_validate(options)
    for key in [validated.api_key, *validated.api_keys]:
        if key is not None:
            register_secret(key.get_secret_value())
    engine = Investigation(
        [ready(adapter, validated, RunSettings(), Flags(timeout_s=timeout_s))], concurrency=4, deadline_s=deadline_s
    )
    pool = HttpPool()
    try:
        events = [event async for event in engine.events([parse_target(target)], pool=pool)]
    finally:
        await pool.aclose()
    return next(event for event in events if isinstance(event, Result))
