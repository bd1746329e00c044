"""The store as the engine's cache (--max-age): a young ok/empty result is the call's
result, read in a thread of its own; a failing or slow store is a miss, said once."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from osint_fanout._results import Status
from osint_fanout._targets import parse_target
from osint_fanout.store import StoreCache, open_store
from osint_fanout.store._db import Store
from osint_fanout.store._records import row_of
from tests.store_kit import result


def record(url: str, *items: tuple[Any, datetime]) -> None:
    with open_store(url) as store:
        run = store.begin_run(datetime.now(UTC) - timedelta(days=1))
        store.insert([row_of(item, at, run) for item, at in items])


def ask(cache: StoreCache, target: str, adapter: str, max_age_s: float, *, within_s: float = 20.0) -> Any:
    async def one() -> Any:
        return await cache.cached(parse_target(target), adapter, max_age_s, until=time.monotonic() + within_s)

    return asyncio.run(one())


class Warnings(list[str]):
    def __call__(self, line: str) -> None:
        self.append(line)


def test_a_young_ok_or_empty_result_is_reused_as_the_calls_result(store_url: str) -> None:
    at = datetime.now(UTC) - timedelta(minutes=30)
    record(
        store_url,
        (result(data={"records": {"A": ["192.0.2.1"]}}, summary="A 192.0.2.1", waited_ms=90), at),
        (result(adapter="ct", status=Status.EMPTY), at),
        (result(adapter="whois", status=Status.ERROR), datetime.now(UTC)),
    )
    cache = StoreCache(store_url)
    try:
        hit = ask(cache, "Example.COM", "dns", 3600)
        assert hit is not None and hit.cached_at == at
        assert (hit.status, hit.data, hit.summary) == (Status.OK, {"records": {"A": ["192.0.2.1"]}}, "A 192.0.2.1")
        assert hit.target == parse_target("Example.COM")  # the target as typed in this run
        assert hit.waited_ms == 0 and hit.elapsed_ms < 1000 and hit.error is None
        assert ask(cache, "example.com", "ct", 3600).status == Status.EMPTY
        assert ask(cache, "example.com", "dns", 600) is None  # too old for this max age
        assert ask(cache, "example.com", "whois", 3600) is None  # a failure is never reused
        assert ask(cache, "example.org", "dns", 3600) is None
        assert (cache.hits, cache.misses, cache.failure) == (2, 3, None)
    finally:
        cache.close()


def test_lookups_made_while_the_store_opens_wait_for_it(store_url: str) -> None:
    record(store_url, *[(result(f"h{n}.example.com"), datetime.now(UTC)) for n in range(20)])
    gate = threading.Event()

    def slow_open(url: str) -> Store:
        gate.wait(5)
        return Store(url)

    cache = StoreCache(store_url, opener=slow_open, timeout_s=60, open_timeout_s=60)  # time is not under test

    async def many() -> list[Any]:
        until = time.monotonic() + 20
        asked = [cache.cached(parse_target(f"h{n}.example.com"), "dns", 3600, until=until) for n in range(20)]
        asyncio.get_running_loop().call_later(0.3, gate.set)
        return await asyncio.gather(*asked)

    try:
        hits = asyncio.run(many())
        assert [hit.target.value for hit in hits] == [f"h{n}.example.com" for n in range(20)]
    finally:
        cache.close()


def test_a_store_that_cannot_be_opened_is_a_miss_said_once(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"\x00garbage" * 1000)
    warnings = Warnings()
    cache = StoreCache(f"sqlite:///{path}", on_warning=warnings)
    assert ask(cache, "example.com", "dns", 3600) is None
    assert ask(cache, "example.org", "dns", 3600) is None
    off = "the cache is off for this run (--max-age: the upstreams are asked)"
    assert warnings == [f"store sqlite:///{path}: file is not a database; {off}"]
    assert cache.misses == 2


def test_a_slow_store_is_a_miss_within_the_timeout_and_then_not_asked_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    record(url, (result(), datetime.now(UTC)))
    release = threading.Event()

    class Slow(Store):
        def cached(self, *args: Any, **kwargs: Any) -> Any:
            release.wait(10)
            return super().cached(*args, **kwargs)

    warnings = Warnings()
    cache = StoreCache(url, timeout_s=0.3, on_warning=warnings, opener=Slow)
    try:
        started = time.monotonic()
        assert ask(cache, "example.com", "dns", 3600) is None
        assert 0.25 < time.monotonic() - started < 5.0  # its 0.3 s, not the store's 10
        started = time.monotonic()
        assert ask(cache, "example.com", "dns", 3600) is None  # off now: not even asked
        assert time.monotonic() - started < 0.25  # asked, it would wait its 0.3 s again
        assert len(warnings) == 1 and "no answer within 0.3 s" in warnings[0]
    finally:
        release.set()
        cache.close()


def test_a_lookup_takes_at_most_half_the_time_to_the_deadline_and_that_is_not_the_stores_fault(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'd.db'}"
    record(url, (result(), datetime.now(UTC)))
    release = threading.Event()

    class Slow(Store):
        def cached(self, *args: Any, **kwargs: Any) -> Any:
            release.wait(10)
            return super().cached(*args, **kwargs)

    warnings = Warnings()
    cache = StoreCache(url, timeout_s=5, on_warning=warnings, opener=Slow)
    try:
        started = time.monotonic()
        assert ask(cache, "example.com", "dns", 3600, within_s=0.4) is None
        assert time.monotonic() - started < 0.35  # half the time left: the other half is the upstream's
        assert cache.failure is None and warnings == []
        release.set()
        assert ask(cache, "example.com", "dns", 3600) is not None
    finally:
        release.set()
        cache.close()


def test_the_reader_thread_never_holds_the_process(tmp_path: Path) -> None:
    cache = StoreCache(f"sqlite:///{tmp_path / 't.db'}")
    try:
        assert cache._thread.daemon
    finally:
        cache.close()
    cache._thread.join(10)
    assert not cache._thread.is_alive()  # close() ends it once the lookups queued are answered


def test_a_store_that_does_not_open_in_time_is_a_miss_said_once(tmp_path: Path) -> None:
    release = threading.Event()

    def stuck(url: str) -> Store:
        release.wait(10)
        return Store(url)

    warnings = Warnings()
    cache = StoreCache(f"sqlite:///{tmp_path / 'o.db'}", open_timeout_s=0.3, on_warning=warnings, opener=stuck)
    try:
        started = time.monotonic()
        assert ask(cache, "example.com", "dns", 3600) is None
        assert ask(cache, "example.org", "dns", 3600) is None
        assert time.monotonic() - started < 5.0  # 0.3 s, not the 10 s the store takes to open
        assert len(warnings) == 1 and "not open after 0.3 s" in warnings[0]
    finally:
        release.set()
        cache.close()
