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

What the adapter finds in a result (its `assets()`), as the store and pivot will ask it:

    found = find_assets(ExampleAdapter, result)
    assert ("domain-name:a.example.com", "subdomain-of", "domain-name:example.com") in relations(found)
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from ._adapter import Adapter
from ._engine import Investigation
from ._http import HttpPool
from ._plan import Flags, ready
from ._redact import register_secret
from ._results import Result
from ._settings import RunSettings
from ._targets import parse_target
from .assets import Findings

__all__ = ["arun_adapter", "find_assets", "relations", "run_adapter"]


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


def find_assets(adapter: type[Adapter[Any]], result: Result, **options: Any) -> Findings:
    """What `adapter`'s `assets()` finds in `result` (as `run_adapter` gave it), made with
    `options`: its Findings, empty when it declares none or the result is not ok. An
    AssertionError says what the core would not take: not Findings, or attrs that are not
    JSON (the store keeps them as JSON)."""
    found = Findings()
    if result.status != "ok" or result.data is None:
        return found
    made = adapter(adapter.Options.model_validate(options)).assets(result.target, result.data)
    if made is None:
        return found
    assert isinstance(made, Findings), f"{adapter.__name__}.assets() returned {type(made).__name__}, not Findings"
    for asset in made.assets:
        try:
            json.dumps(asset.attrs, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise AssertionError(f"{asset.ref}: attrs are not JSON ({exc})") from None
    return made


def relations(found: Findings) -> set[tuple[str, str, str]]:
    """The relations of `found` as ("type:value", "kind", "type:value"), easy to assert on."""
    return {(str(r.source), str(r.kind), str(r.target)) for r in found.relations}
