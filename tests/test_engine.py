"""The investigation engine, with fake adapters and spies."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import pytest

from osint_fanout import Adapter, AdapterError, AdapterOptions, Context, KeyPolicy, NotFound, Skip, Target, TargetKind
from osint_fanout._budget import Budget
from osint_fanout._engine import Investigation
from osint_fanout._http import HttpPolicy, HttpPool
from osint_fanout._plan import ReadyAdapter
from osint_fanout._results import Report, Result, Status
from osint_fanout._targets import parse_target
from tests import timing

ALL_KINDS = frozenset(TargetKind)


class Spy:
    def __init__(self) -> None:
        self.in_flight = 0
        self.peak = 0
        self.calls: list[tuple[str, str]] = []


def fake(
    name: str,
    behave: Any,
    *,
    kinds: frozenset[TargetKind] = ALL_KINDS,
    key: KeyPolicy = KeyPolicy.NONE,
    spy: Spy | None = None,
) -> type[Adapter[AdapterOptions]]:
    """An adapter class whose lookup runs `behave(target)`."""

    async def lookup(self: Adapter[AdapterOptions], target: Target, ctx: Context) -> dict[str, Any]:
        if spy:
            spy.calls.append((name, target.value))
            spy.in_flight += 1
            spy.peak = max(spy.peak, spy.in_flight)
        try:
            return await behave(target)
        finally:
            if spy:
                spy.in_flight -= 1

    return type(
        f"Fake_{name}",
        (Adapter,),
        {
            "name": name,
            "description": f"fake {name}",
            "kinds": kinds,
            "key": key,
            "key_env": "FAKE_KEY" if key is not KeyPolicy.NONE else None,
            "lookup": lookup,
            "summarize": lambda self, data: f"{name} found {len(data)}",
        },
    )


def ready(cls: type[Adapter[AdapterOptions]], timeout_s: float = 5.0, **options: Any) -> ReadyAdapter:
    return ReadyAdapter(cls(cls.Options(**options)), timeout_s, HttpPolicy(cls.name, 1 << 20))


def sleeper(delay: float, data: dict[str, Any] | None = None) -> Any:
    async def behave(target: Target) -> dict[str, Any]:
        await asyncio.sleep(delay)
        return data if data is not None else {"target": target.value}

    return behave


def raiser(exc: BaseException) -> Any:
    async def behave(target: Target) -> dict[str, Any]:
        await asyncio.sleep(0)
        raise exc

    return behave


def run(
    adapters: list[ReadyAdapter], targets: list[str], *, concurrency: int = 8, deadline_s: float = 5.0
) -> tuple[list[Result], list[Report], float]:
    engine = Investigation(adapters, concurrency=concurrency, deadline_s=deadline_s)

    async def go() -> list[Any]:
        pool = HttpPool()
        try:
            return [event async for event in engine.events([parse_target(t) for t in targets], pool=pool)]
        finally:
            await pool.aclose()

    started = time.monotonic()
    events = asyncio.run(go())
    took = time.monotonic() - started
    return [e for e in events if isinstance(e, Result)], [e for e in events if isinstance(e, Report)], took


def within(took_s: float, idle_s: float) -> bool:
    """`took_s` is at most `idle_s`, or, on a machine busy right now, `idle_s` plus what a run
    of one quick adapter (the loop, the pool, the engine) takes now, measured here."""
    return timing.within(took_s, idle_s, lambda: run([ready(fake("quick", sleeper(0.01)))], ["example.com"]))


def test_global_concurrency_bound_holds_across_targets_and_adapters() -> None:
    spy = Spy()
    adapters = [ready(fake(f"a{n}", sleeper(0.01), spy=spy)) for n in range(4)]
    results, reports, _ = run(adapters, [f"t{n}.example" for n in range(10)], concurrency=3)
    assert spy.peak == 3
    assert len(results) == 40 and len(reports) == 10
    assert all(r.status is Status.OK for r in results)


def test_results_arrive_in_completion_order() -> None:
    adapters = [ready(fake("slow", sleeper(0.2))), ready(fake("fast", sleeper(0.0))), ready(fake("mid", sleeper(0.1)))]
    results, reports, _ = run(adapters, ["example.com"])
    assert [r.adapter for r in results] == ["fast", "mid", "slow"]
    assert [r.adapter for r in reports[0].results] == ["slow", "fast", "mid"]  # the report keeps adapter order
    assert results[0].summary == "fast found 1"


def test_adapter_timeout_gives_timeout_and_does_not_block_the_others() -> None:
    adapters = [ready(fake("stuck", sleeper(30)), timeout_s=0.2), ready(fake("quick", sleeper(0.01)))]
    results, _, took = run(adapters, ["example.com"], deadline_s=5)
    by_name = {r.adapter: r for r in results}
    assert by_name["stuck"].status is Status.TIMEOUT
    assert by_name["stuck"].error is not None and by_name["stuck"].error.type == "timeout"
    assert 150 <= by_name["stuck"].elapsed_ms < 1000
    assert by_name["quick"].status is Status.OK
    assert [r.adapter for r in results] == ["quick", "stuck"]  # the quick one was not held up
    assert within(took, 0.2 + 0.5)


def test_deadline_cancels_what_is_unfinished_and_keeps_what_arrived() -> None:
    adapters = [ready(fake("stuck", sleeper(30)), timeout_s=10), ready(fake("quick", sleeper(0.01)))]
    results, reports, took = run(adapters, ["example.com"], deadline_s=0.5)
    by_name = {r.adapter: r for r in results}
    assert by_name["stuck"].status is Status.CANCELLED
    assert by_name["stuck"].error is not None and "deadline" in by_name["stuck"].error.message
    assert by_name["quick"].status is Status.OK and by_name["quick"].data == {"target": "example.com"}
    assert within(took, 0.5 + 0.5)
    assert reports[0].deadline_s == 0.5


def test_deadline_holds_when_an_adapter_ignores_cancellation() -> None:
    async def stubborn(target: Target) -> dict[str, Any]:
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.05)
        return {}

    results, _, took = run([ready(fake("stubborn", stubborn), timeout_s=10)], ["example.com"], deadline_s=0.3)
    assert results[0].status is Status.CANCELLED
    assert within(results[0].elapsed_ms / 1000, 0.3 + 0.3)
    assert within(took, 1.5 + 0.5)  # asyncio.run itself waits for the stubborn task; the CLI does not (see test_cli)


def test_queued_calls_past_the_deadline_are_cancelled_without_running() -> None:
    spy = Spy()
    adapters = [ready(fake(f"a{n}", sleeper(0.4), spy=spy), timeout_s=5) for n in range(4)]
    results, _, took = run(adapters, ["example.com"], concurrency=1, deadline_s=0.3)
    assert len(spy.calls) == 1
    assert {r.status for r in results} == {Status.CANCELLED}
    assert within(took, 0.3 + 0.5)


@pytest.mark.parametrize(
    ("exc", "status", "error_type"),
    [
        (RuntimeError("boom"), Status.ERROR, "crash"),
        (AdapterError("auth", "bad key"), Status.ERROR, "auth"),
        (NotFound("nothing"), Status.EMPTY, None),
        (Skip("needs a key"), Status.SKIPPED, None),
        (TimeoutError("upstream silent"), Status.TIMEOUT, "timeout"),
        (ConnectionResetError("reset"), Status.ERROR, "network"),
    ],
)
def test_exceptions_become_statuses_and_the_run_goes_on(exc: Exception, status: Status, error_type: str | None) -> None:
    adapters = [ready(fake("bad", raiser(exc))), ready(fake("good", sleeper(0)))]
    results, reports, _ = run(adapters, ["example.com"])
    by_name = {r.adapter: r for r in results}
    assert by_name["bad"].status is status
    assert (by_name["bad"].error.type if by_name["bad"].error else None) == error_type
    assert by_name["good"].status is Status.OK
    assert len(reports) == 1


def test_skips_unsupported_kinds_and_missing_keys_with_a_reason() -> None:
    spy = Spy()
    adapters = [
        ready(fake("domains", sleeper(0), kinds=frozenset({TargetKind.DOMAIN}), spy=spy)),
        ready(fake("keyed", sleeper(0), key=KeyPolicy.REQUIRED, spy=spy)),
    ]
    results, _, _ = run(adapters, ["198.51.100.7"])
    assert {r.adapter: r.status for r in results} == {"domains": Status.SKIPPED, "keyed": Status.SKIPPED}
    reasons = {r.adapter: r.reason for r in results}
    assert reasons["domains"] == "does not handle ipv4 targets"
    assert "FAKE_KEY" in (reasons["keyed"] or "")
    assert spy.calls == []


def test_a_lookup_that_returns_no_dict_is_a_crash() -> None:
    async def bad(target: Target) -> Any:
        return ["not", "a", "dict"]

    results, _, _ = run([ready(fake("bad", bad))], ["example.com"])
    assert results[0].status is Status.ERROR and results[0].error and results[0].error.type == "crash"


@pytest.mark.parametrize("value", [object(), b"\xff", {1, 2}, float("nan")])
def test_data_that_is_not_json_is_a_crash_or_made_json(value: object) -> None:
    async def odd(target: Target) -> dict[str, Any]:
        return {"x": value}

    results, _, _ = run([ready(fake("odd", odd)), ready(fake("good", sleeper(0)))], ["example.com"])
    by_name = {r.adapter: r for r in results}
    assert by_name["good"].status is Status.OK
    if isinstance(value, set | float):
        assert by_name["odd"].data == {"x": None if isinstance(value, float) else [1, 2]}
    else:
        assert by_name["odd"].status is Status.ERROR and by_name["odd"].error and by_name["odd"].error.type == "crash"
        assert "not JSON" in by_name["odd"].error.message


def test_a_broken_summary_does_not_lose_the_data() -> None:
    cls = fake("fine", sleeper(0, {"x": 1}))
    cls.summarize = lambda self, data: 1 / 0  # type: ignore[method-assign]
    results, _, _ = run([ready(cls)], ["example.com"])
    assert results[0].status is Status.OK and results[0].data == {"x": 1} and results[0].summary == ""


def test_the_same_target_twice_at_once_is_asked_once() -> None:
    spy = Spy()
    results, reports, _ = run([ready(fake("a", sleeper(0.05), spy=spy))], ["example.com", "EXAMPLE.com."])
    assert spy.calls == [("a", "example.com")]
    assert len(results) == 1 and len(reports) == 1


def test_close_open_reports_unfinished_calls_as_cancelled() -> None:
    engine = Investigation(
        [ready(fake("slow", sleeper(30))), ready(fake("quick", sleeper(0)))], concurrency=4, deadline_s=30
    )

    async def go() -> list[Any]:
        events: list[Any] = []
        pool = HttpPool()
        async for event in engine.events([parse_target("example.com")], pool=pool):
            events.append(event)
            break  # the consumer stops after the first result, like an interrupt
        await pool.aclose()
        return events + engine.close_open("interrupted by SIGINT")

    events = asyncio.run(go())
    results = [e for e in events if isinstance(e, Result)]
    assert [(r.adapter, r.status) for r in results] == [("quick", Status.OK), ("slow", Status.CANCELLED)]
    assert results[1].error is not None and results[1].error.message == "interrupted by SIGINT"
    assert isinstance(events[-1], Report) and len(events[-1].results) == 2
    assert engine.close_open("again") == []


def test_start_up_time_counts_against_the_deadline() -> None:
    engine = Investigation(
        [ready(fake("slow", sleeper(30)), timeout_s=30)],
        concurrency=4,
        deadline_s=1.0,
        clock_start=time.monotonic() - 0.7,
    )

    async def go() -> list[Any]:
        pool = HttpPool()
        try:
            return [e async for e in engine.events([parse_target("example.com")], pool=pool)]
        finally:
            await pool.aclose()

    started = time.monotonic()
    events = asyncio.run(go())
    took = time.monotonic() - started
    assert events[0].status is Status.CANCELLED
    assert within(took, 0.3 + 0.3)  # the 0.3 s left of the deadline, not a whole second


def test_budget_waits_stretch_the_timeout_but_never_past_the_hard_deadline() -> None:
    now = time.monotonic()
    budget = Budget(started=now, timeout_s=1.0, hard_deadline=now + 3.0)
    assert budget.deadline() == pytest.approx(now + 1.0)
    budget.waits.done_s = 1.5
    assert budget.deadline() == pytest.approx(now + 2.5)
    assert not budget.clamped
    budget.waits.done_s = 5
    assert budget.deadline() == pytest.approx(now + 3.0)
    assert budget.clamped


def test_a_wait_under_way_already_stretches_the_budget() -> None:
    now = time.monotonic()
    budget = Budget(started=now - 2.0, timeout_s=1.0, hard_deadline=now + 10.0)
    assert budget.time_left() == 0
    budget.waits.begin()  # waiting since now: counts at once
    time.sleep(0.05)
    budget.waits.begin()  # a second, overlapping wait is not counted twice
    budget.waits.end()
    assert 0.04 <= budget.waited_s < 0.2
    budget.waits.end()
    assert 0.04 <= budget.waits.done_s < 0.2


def test_bad_engine_options_are_refused() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        Investigation([], concurrency=0, deadline_s=1)
    with pytest.raises(ValueError, match="deadline"):
        Investigation([], concurrency=1, deadline_s=0)
