"""The engine's cache hook (--max-age): asked before a call of an adapter with a max age;
a result it gives is the call's, and the adapter is not called."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import UTC, datetime
from typing import Any

from osint_fanout._engine import Investigation
from osint_fanout._http import HttpPool
from osint_fanout._plan import ReadyAdapter
from osint_fanout._results import Result, Status
from osint_fanout._targets import Target, TargetKind, parse_target
from tests.test_engine import Spy, fake, ready, sleeper

AT = datetime(2026, 11, 22, 2, 15, tzinfo=UTC)


class FakeCache:
    """Knows the targets in `known`; records what it was asked."""

    def __init__(self, known: set[str], delay_s: float = 0.0) -> None:
        self.known = known
        self.delay_s = delay_s
        self.asked: list[tuple[str, str, float]] = []

    async def cached(self, target: Target, adapter: str, max_age_s: float, *, until: float) -> Result | None:
        self.asked.append((target.value, adapter, max_age_s))
        assert until > time.monotonic()
        await asyncio.sleep(self.delay_s)
        if target.value not in self.known:
            return None
        return Result(
            target=target, adapter=adapter, status=Status.OK, elapsed_ms=1, data={"old": True}, cached_at=AT
        )


def run(adapters: list[ReadyAdapter], targets: list[str], cache: FakeCache) -> tuple[list[Result], list[str]]:
    started: list[str] = []
    engine = Investigation(
        adapters, concurrency=4, deadline_s=5, cache=cache, on_start=lambda t, a: started.append(f"{a} {t.value}")
    )

    async def go() -> list[Any]:
        pool = HttpPool()
        try:
            return [event async for event in engine.events([parse_target(t) for t in targets], pool=pool)]
        finally:
            await pool.aclose()

    return [e for e in asyncio.run(go()) if isinstance(e, Result)], started


def aged(one: ReadyAdapter, max_age_s: float | None) -> ReadyAdapter:
    return dataclasses.replace(one, max_age_s=max_age_s)


def test_a_hit_is_the_calls_result_and_the_adapter_is_not_called() -> None:
    spy = Spy()
    cache = FakeCache({"known.example"})
    adapters = [aged(ready(fake("vt", sleeper(0), spy=spy)), 3600)]
    results, started = run(adapters, ["known.example", "new.example"], cache)
    by_target = {r.target.value: r for r in results}
    assert by_target["known.example"].cached_at == AT and by_target["known.example"].data == {"old": True}
    assert by_target["new.example"].cached_at is None and by_target["new.example"].status == Status.OK
    assert spy.calls == [("vt", "new.example")]  # no call for the hit
    assert started == ["vt new.example"]  # a hit never shows as running
    assert sorted(cache.asked) == [("known.example", "vt", 3600), ("new.example", "vt", 3600)]


def test_only_adapters_with_a_max_age_ask_and_a_skipped_adapter_stays_skipped() -> None:
    cache = FakeCache({"198.51.100.7", "example.com"})
    adapters = [
        aged(ready(fake("fresh", sleeper(0))), None),
        aged(ready(fake("domains", sleeper(0), kinds=frozenset({TargetKind.DOMAIN}))), 60),
        aged(ready(fake("aged", sleeper(0))), 60),
    ]
    results, _ = run(adapters, ["198.51.100.7"], cache)
    statuses = {r.adapter: (r.status, r.cached_at) for r in results}
    assert statuses == {"fresh": (Status.OK, None), "domains": (Status.SKIPPED, None), "aged": (Status.OK, AT)}
    assert cache.asked == [("198.51.100.7", "aged", 60)]


def test_the_lookup_does_not_eat_the_adapters_own_timeout() -> None:
    cache = FakeCache(set(), delay_s=0.3)
    adapters = [aged(ready(fake("slowish", sleeper(0.3)), timeout_s=0.45), 60)]
    results, _ = run(adapters, ["example.com"], cache)
    assert results[0].status == Status.OK, results[0]
