"""The generic bounded stream: the Task.async_stream properties, asserted with spies."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from osint_fanout._stream import Expired, abandoned_tasks, bounded_map, call_with_deadline, call_with_timeout
from tests import timing


class Spy:
    """Counts calls in flight and remembers the peak."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.peak = 0
        self.started: list[object] = []

    async def call(self, item: tuple[str, float]) -> str:
        name, delay = item
        self.started.append(name)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(delay)
        finally:
            self.in_flight -= 1
        return name.upper()


async def collect(func, items, **kwargs):
    async with bounded_map(func, items, **kwargs) as outcomes:
        return [outcome async for outcome in outcomes]


def test_never_more_than_limit_in_flight() -> None:
    spy = Spy()
    items = [(f"i{n}", 0.001 * (n % 7)) for n in range(60)]
    outcomes = asyncio.run(collect(spy.call, items, limit=5))
    assert spy.peak == 5
    assert len(outcomes) == 60
    assert sorted(o.value for o in outcomes) == sorted(name.upper() for name, _ in items)


def test_outcomes_come_in_completion_order_and_carry_their_input() -> None:
    spy = Spy()
    items = [("slow", 0.15), ("fast", 0.0), ("middle", 0.05)]
    outcomes = asyncio.run(collect(spy.call, items, limit=3))
    assert [o.item[0] for o in outcomes] == ["fast", "middle", "slow"]
    assert all(o.ok and o.value == o.item[0].upper() for o in outcomes)


def test_timeout_cancels_the_item_and_yields_a_timeout_outcome() -> None:
    cancelled = []

    async def call(delay: float) -> float:
        try:
            await asyncio.sleep(delay)
        except asyncio.CancelledError:
            cancelled.append(delay)
            raise
        return delay

    outcomes = asyncio.run(collect(call, [5.0, 0.01], limit=2, timeout_s=0.1))
    by_item = {o.item: o for o in outcomes}
    assert by_item[0.01].ok and by_item[0.01].value == 0.01
    assert by_item[5.0].timed_out and by_item[5.0].value is None
    assert by_item[5.0].elapsed_s < 1.0
    assert cancelled == [5.0]


def test_per_item_timeout_function() -> None:
    async def call(delay: float) -> float:
        await asyncio.sleep(delay)
        return delay

    outcomes = asyncio.run(collect(call, [0.2, 0.3], limit=2, timeout_s=lambda d: 1.0 if d == 0.2 else 0.05))
    assert {o.item: o.timed_out for o in outcomes} == {0.2: False, 0.3: True}


def test_a_crash_is_an_error_outcome_and_the_others_go_on() -> None:
    async def call(n: int) -> int:
        await asyncio.sleep(0.001 * n)
        if n == 3:
            raise RuntimeError("boom")
        return n * 2

    outcomes = asyncio.run(collect(call, range(8), limit=3))
    errors = [o for o in outcomes if o.error is not None]
    assert [o.item for o in errors] == [3]
    assert isinstance(errors[0].error, RuntimeError)
    assert sorted(o.value for o in outcomes if o.ok) == [0, 2, 4, 8, 10, 12, 14]


def test_items_are_pulled_lazily() -> None:
    pulled: list[int] = []

    def source() -> Iterator[int]:
        for n in itertools.count():
            pulled.append(n)
            yield n

    async def call(n: int) -> int:
        await asyncio.sleep(0)
        return n

    async def main() -> list[int]:
        seen = []
        async with bounded_map(call, source(), limit=4) as outcomes:
            async for outcome in outcomes:
                seen.append(outcome.value)
                if len(seen) == 10:
                    break
        return seen

    seen = asyncio.run(main())
    assert len(seen) == 10
    assert len(pulled) <= 10 + 4 + 1  # never more than the limit ahead of the consumer


def test_async_iterable_source() -> None:
    async def source() -> AsyncIterator[int]:
        for n in range(6):
            await asyncio.sleep(0.001)
            yield n

    async def call(n: int) -> int:
        return n + 100

    outcomes = asyncio.run(collect(call, source(), limit=2))
    assert sorted(o.value for o in outcomes) == list(range(100, 106))


def test_leaving_early_cancels_everything_still_running() -> None:
    cancelled: list[int] = []

    async def call(n: int) -> int:
        if n == 0:
            return 0
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(n)
            raise
        return n

    async def main() -> float:
        started = time.monotonic()
        async with bounded_map(call, range(5), limit=5) as outcomes:
            async for outcome in outcomes:
                assert outcome.value == 0
                break
        return time.monotonic() - started

    took = asyncio.run(main())
    assert sorted(cancelled) == [1, 2, 3, 4]
    assert took < 5.0  # cancelled, not waited for: each would take 10 s


async def _instant(n: int) -> int:
    return n


def test_a_call_that_ignores_cancellation_still_times_out_on_time() -> None:
    async def stubborn(_: int) -> str:
        end = time.monotonic() + 0.6
        while time.monotonic() < end:
            try:
                await asyncio.sleep(0.05)
            except asyncio.CancelledError:
                continue  # ignores cancellation
        return "late"

    async def main() -> tuple[list, float, int]:
        started = time.monotonic()
        outcomes = await collect(stubborn, [1], limit=1, timeout_s=0.1, cancel_grace_s=0.05)
        took = time.monotonic() - started
        left = len(abandoned_tasks())
        await asyncio.sleep(0.7)  # let it finish before the loop closes
        return outcomes, took, left

    outcomes, took, left = asyncio.run(main())
    assert outcomes[0].timed_out
    # 0.1 s and its 0.05 s grace, not the 0.6 s the call runs on: on a busy machine, plus
    # what collecting a call that returns at once takes now.
    assert timing.within(took, 0.4, lambda: asyncio.run(collect(_instant, [1], limit=1, timeout_s=1)))
    assert left == 1


def test_call_with_deadline_follows_a_moving_deadline() -> None:
    async def main() -> tuple[str, float]:
        end = [time.monotonic() + 0.05]

        async def work() -> str:
            end[0] += 0.2  # the deadline moves later while the call runs
            await asyncio.sleep(0.1)
            return "done"

        started = time.monotonic()
        value = await call_with_deadline(work, deadline=lambda: end[0])
        return value, time.monotonic() - started

    value, took = asyncio.run(main())
    assert value == "done"
    assert took >= 0.1


def test_call_with_timeout_raises_expired() -> None:
    async def main() -> None:
        await call_with_timeout(asyncio.sleep, 1, timeout_s=0.02)

    with pytest.raises(Expired):
        asyncio.run(main())


@pytest.mark.parametrize("limit", [0, -1, 1.5, True, None])
def test_bad_limit_says_how_to_fix_it(limit: object) -> None:
    async def main() -> None:
        async with bounded_map(asyncio.sleep, [], limit=limit):  # type: ignore[arg-type]
            pass

    with pytest.raises(ValueError, match="pass limit=1 or more"):
        asyncio.run(main())
