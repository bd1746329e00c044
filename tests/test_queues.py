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

IPS = [f"198.51.100.{n}" for n in range(10, 35)]  # 25 targets: dns answers at once, InternetDB is limited


@pytest.fixture
def limited() -> Iterator[LimitedInternetDb]:
    server = LimitedInternetDb(5).start()
    yield server
    server.stop()


def _run(world: World, *args: str) -> tuple[list[tuple[float, dict[str, Any]]], str, int]:
    """Run the CLI; every NDJSON line with the time it arrived, seconds from the start."""
    started = time.monotonic()
    proc = world.spawn_cli("search", *IPS, "-a", "dns,shodan", "-f", "ndjson", "--no-store", *args)
    assert proc.stdout is not None
    lines = [(time.monotonic() - started, json.loads(line)) for line in proc.stdout]
    _, stderr = proc.communicate(timeout=60)
    return lines, stderr, proc.returncode


def _configure(world: World, limited: LimitedInternetDb) -> None:
    world.write_config(
        run={"concurrency": 2},  # two running places: queued InternetDB calls must not hold them
        shodan={"internetdb_url": limited.url, "rate_limit": {"internetdb": "5/s"}},
    )


def test_a_long_queue_on_one_upstream_does_not_hold_the_others(world: World, limited: LimitedInternetDb) -> None:
    _configure(world, limited)
    # A 1 s deadline, plus what start-up costs on this machine now (it counts against it):
    # still well under the 5 s the queue of 25 at 5/s needs.
    deadline_s = round(1 + cli_overhead_s(world.cli_env(), runs=1), 1)
    lines, stderr, code = _run(world, "--deadline", str(deadline_s), "--summary")
    results = [(at, line) for at, line in lines if "adapter" in line]
    dns = [at for at, line in results if line["adapter"] == "dns"]
    shodan = [(at, line) for at, line in results if line["adapter"] == "shodan"]
    assert len(dns) == len(shodan) == len(IPS), stderr
    assert {line["status"] for _, line in shodan} == {"ok"}, stderr  # queued past the deadline, all answered
    # Every dns result early, not behind the queue of 25 at 5/s: all of them before half of
    # shodan's, which the limiter spreads over 5 s however fast or slow the machine is.
    arrivals = sorted(at for at, _ in shodan)
    assert max(dns) < arrivals[len(arrivals) // 2], (max(dns), arrivals)
    assert arrivals[-1] - arrivals[0] > 3.0  # the queue drained at its rate...
    queued_ms = max(line["queued_ms"] for _, line in shodan)
    assert queued_ms > 2500 and all(line["waited_ms"] == 0 for _, line in shodan)
    assert queued_ms > deadline_s * 1000, (queued_ms, deadline_s)  # ...past the deadline
    assert limited.refused == 0 and busiest_second(limited.accepted) <= 5
    assert code == 0
    summary = lines[-1][1]["summary"]
    assert summary["queued_s"]["shodan"] > 10 and summary["results"]["ok"] == len(IPS)
    assert "queued" in stderr  # the summary on stderr says how long shodan queued


def test_max_time_bounds_the_queue(world: World, limited: LimitedInternetDb) -> None:
    _configure(world, limited)
    max_time_s = round(2.5 + cli_overhead_s(world.cli_env(), runs=1), 1)  # start-up counts against it too
    lines, _, code = _run(world, "--max-time", str(max_time_s), "--summary")
    shodan = [line for _, line in lines if line.get("adapter") == "shodan"]
    statuses = [line["status"] for line in shodan]
    assert len(shodan) == len(IPS)
    # Some answered in time, the rest of the queue was cut: no more than the limit allows
    # in that time (5/s, after a first window of 5).
    assert set(statuses) == {"ok", "cancelled"} and statuses.count("ok") <= 5 + 5 * max_time_s
    assert code == 1
    assert_ends_by(lines[-1][0], max_time_s)
