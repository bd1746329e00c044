"""The moving-window rate limiter: never more than N in any window, counted from answers."""

from __future__ import annotations

import asyncio
import time

import pytest

from osint_fanout._ratelimit import MovingWindowLimiter, RateLimit, WouldWait


@pytest.mark.parametrize(
    ("text", "count", "period"),
    [("4/m", 4, 60.0), ("1/s", 1, 1.0), (" 100 / h ", 100, 3600.0), ("500/d", 500, 86400.0)],
)
def test_parse(text: str, count: int, period: float) -> None:
    assert RateLimit.parse(text) == RateLimit(count, period)


@pytest.mark.parametrize("text", ["0/s", "4", "4/w", "1.5/s", "-1/s", "four/m", ""])
def test_parse_refuses_with_an_example(text: str) -> None:
    with pytest.raises(ValueError, match="is not like '4/m'"):
        RateLimit.parse(text)


def test_a_burst_up_to_the_count_then_the_window() -> None:
    async def main() -> list[float]:
        limiter = MovingWindowLimiter(RateLimit(3, 0.2))
        started = time.monotonic()
        times = []
        for _ in range(7):
            slot = await limiter.acquire()
            times.append(time.monotonic() - started)
            limiter.release(slot)
        return times

    times = asyncio.run(main())
    assert max(times[:3]) < 0.05  # the first three at once
    assert 0.2 <= times[3] < 0.3 and 0.2 <= times[5] < 0.3
    assert times[6] >= 0.4
    for first in range(len(times)):  # never more than 3 in any 0.2 s window
        assert sum(1 for t in times if 0 <= t - times[first] < 0.2) <= 3


def test_a_request_in_flight_holds_its_place_until_answered_plus_a_window() -> None:
    async def main() -> float:
        limiter = MovingWindowLimiter(RateLimit(1, 0.1))
        slot = await limiter.acquire()
        started = time.monotonic()

        async def answer_later() -> None:
            await asyncio.sleep(0.3)  # a slow upstream
            limiter.release(slot)

        task = asyncio.ensure_future(answer_later())
        await limiter.acquire()
        await task
        return time.monotonic() - started

    assert asyncio.run(main()) >= 0.4  # 0.3 s in flight, then the 0.1 s window


def test_a_hung_request_holds_its_place_only_briefly() -> None:
    async def main() -> float:
        limiter = MovingWindowLimiter(RateLimit(1, 0.1))
        await limiter.acquire()  # sent, never answered
        started = time.monotonic()
        await limiter.acquire()
        return time.monotonic() - started

    waited = asyncio.run(main())
    assert 0.3 <= waited < 0.6  # the window plus BUSY_HOLD_S, not the hang


def test_a_wait_longer_than_allowed_fails_at_once_with_an_estimate() -> None:
    async def main() -> None:
        limiter = MovingWindowLimiter(RateLimit(2, 60))
        for _ in range(2):
            limiter.release(await limiter.acquire())
        assert limiter.estimate_wait(1) == pytest.approx(60.6, abs=0.5)
        assert limiter.estimate_wait(3) == pytest.approx(121.2, abs=1)
        started = time.monotonic()
        with pytest.raises(WouldWait) as info:
            await limiter.acquire(max_wait_s=10)
        assert time.monotonic() - started < 1.0  # at once: not the 10 s it may wait, nor the 60 s it would need
        assert info.value.wait_s > 59

    asyncio.run(main())
