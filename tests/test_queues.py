"""Per-upstream queues, end to end: a call waiting for its upstream's own rate limit holds no
running place, its queue time is not running time (the deadline does not count it, only
--max-time does), and the limited upstream is used at its limit without a single 429."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.timing import assert_ends_by, cli_overhead_s
from tests.world.limited import LimitedInternetDb, busiest_second
from tests.world.world import World

RATE = 5  # InternetDB's limit, per second; dns answers at once


def ips(count: int) -> list[str]:
    return [f"198.51.100.{n}" for n in range(10, 10 + count)]


def busy_s(world: World) -> float:
    """What a search that does nothing takes on this machine now (start-up counts against
    a deadline and --max-time): twice the slowest of two, as the load moves."""
    return 2 * cli_overhead_s(world.cli_env())


@pytest.fixture
def limited() -> Iterator[LimitedInternetDb]:
    server = LimitedInternetDb(5).start()
    yield server
    server.stop()


def _run(world: World, targets: list[str], *args: str) -> tuple[list[tuple[float, dict[str, Any]]], str, int]:
    """Run the CLI; every NDJSON line with the time it arrived, seconds from the start."""
    started = time.monotonic()
    proc = world.spawn_cli("search", *targets, "-a", "dns,shodan", "-f", "ndjson", "--no-store", *args)
    assert proc.stdout is not None
    lines = [(time.monotonic() - started, json.loads(line)) for line in proc.stdout]
    _, stderr = proc.communicate(timeout=240)
    return lines, stderr, proc.returncode


def _configure(world: World, limited: LimitedInternetDb) -> None:
    world.write_config(
        run={"concurrency": 2},  # two running places: queued InternetDB calls must not hold them
        shodan={"internetdb_url": limited.url, "rate_limit": {"internetdb": f"{RATE}/s"}},
    )


def test_a_long_queue_on_one_upstream_does_not_hold_the_others(world: World, limited: LimitedInternetDb) -> None:
    _configure(world, limited)
    # A 1 s deadline plus what start-up costs on this machine now (it counts against the
    # deadline), and a queue over twice as long (targets start one after another on a busy
    # machine, so the longest wait is shorter than the queue): 25 targets on an idle machine.
    deadline_s = round(1 + busy_s(world), 1)
    targets = ips(min(240, max(25, round(RATE * (2 * deadline_s + 2)))))
    lines, stderr, code = _run(world, targets, "--deadline", str(deadline_s), "--summary")
    results = [(at, line) for at, line in lines if "adapter" in line]
    dns = [at for at, line in results if line["adapter"] == "dns"]
    shodan = [(at, line) for at, line in results if line["adapter"] == "shodan"]
    assert len(dns) == len(shodan) == len(targets), stderr
    assert {line["status"] for _, line in shodan} == {"ok"}, stderr  # queued past the deadline, all answered
    # Every dns result early, not behind the queue at 5/s: all of them before half of
    # shodan's, which the limiter spreads over seconds however fast or slow the machine is.
    arrivals = sorted(at for at, _ in shodan)
    assert max(dns) < arrivals[len(arrivals) // 2], (max(dns), arrivals)
    assert arrivals[-1] - arrivals[0] > (len(targets) - RATE) / RATE - 1  # the queue drained at its rate...
    queued_ms = max(line["queued_ms"] for _, line in shodan)
    assert queued_ms > max(2500, deadline_s * 1000), (queued_ms, deadline_s)  # ...past the deadline
    assert all(line["waited_ms"] == 0 for _, line in shodan)
    assert limited.refused == 0 and busiest_second(limited.accepted) <= RATE
    assert code == 0
    summary = lines[-1][1]["summary"]
    assert summary["queued_s"]["shodan"] > 10 and summary["results"]["ok"] == len(targets)
    assert "queued" in stderr  # the summary on stderr says how long shodan queued


def test_max_time_bounds_the_queue(world: World, limited: LimitedInternetDb) -> None:
    _configure(world, limited)
    max_time_s = round(2.5 + busy_s(world), 1)  # start-up counts against it too
    targets = ips(min(240, max(25, round(RATE * (max_time_s + 2.5)))))  # more than it leaves time for
    lines, _, code = _run(world, targets, "--max-time", str(max_time_s), "--summary")
    shodan = [line for _, line in lines if line.get("adapter") == "shodan"]
    statuses = [line["status"] for line in shodan]
    summary = lines[-1][1]["summary"]
    # Every target started has its shodan result; the queue was cut at --max-time: calls
    # still queued were cancelled, targets not started yet are counted as such, and no more
    # answered than the limit allows in that time (5/s, after a first window of 5).
    assert len(shodan) == summary["targets"] and set(statuses) <= {"ok", "cancelled"}
    assert statuses.count("cancelled") + summary["not_started"] > 0, summary
    assert 0 < statuses.count("ok") <= RATE + RATE * max_time_s
    assert code == 1
    assert_ends_by(lines[-1][0], max_time_s)
