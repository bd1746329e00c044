"""Sharding over machines: `--shard K/N` takes a stable share of the targets, and divides
every rate limit and quota so that N machines sharing one key stay within the service's."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from osint_fanout._inputs import shard_of
from osint_fanout._ratelimit import RateLimit
from tests.world.limited import LimitedInternetDb, busiest_second
from tests.world.world import World


def test_a_target_always_goes_to_the_same_shard_whatever_the_order() -> None:
    targets = [f"host{n}.example.com" for n in range(3000)]
    first = {t: shard_of(t, 3) for t in targets}
    assert {t: shard_of(t, 3) for t in reversed(targets)} == first
    counts = Counter(first.values())
    assert set(counts) == {0, 1, 2} and min(counts.values()) > 900  # about a third each


def test_limits_are_divided_so_that_together_they_hold() -> None:
    assert RateLimit(30, 1.0).divided(0, 3) == RateLimit(10, 1.0)
    assert RateLimit(4, 60.0).divided(2, 3) == RateLimit(1, 60.0)
    turns = [RateLimit(1, 1.0).divided(index, 3) for index in range(3)]
    # fewer requests than shards: they take turns on the clock; sample a few cycles finely
    open_at = {index: [t / 100 for t in range(1200) if turns[index].slot_wait(t / 100) == 0] for index in range(3)}
    for index in range(3):
        assert open_at[index], index
        for other in range(3):
            if other != index:  # no two shards' sending times within one period of each other
                assert all(abs(a - b) >= 1.0 for a in open_at[index][::7] for b in open_at[other][::7])


@pytest.fixture
def limited() -> Iterator[LimitedInternetDb]:
    server = LimitedInternetDb(30).start()
    yield server
    server.stop()


def test_three_shards_cover_every_target_once_and_together_keep_the_limit(
    world: World, limited: LimitedInternetDb, tmp_path: Path
) -> None:
    listing = tmp_path / "ips.txt"
    ips = [f"198.51.{n // 200}.{n % 200 + 1}" for n in range(300)]
    listing.write_text("".join(f"{ip}\n" for ip in ips))
    config = world.write_config(
        shodan={"internetdb_url": limited.url, "rate_limit": {"internetdb": "30/s"}}, run={"concurrency": 20}
    )
    shards = [
        world.spawn_cli("search", "-i", str(listing), "-a", "shodan", "-f", "ndjson", "--summary", "--no-store",
                        "--shard", f"{k}/3", "-c", str(config))
        for k in (1, 2, 3)
    ]
    seen: list[str] = []
    for proc in shards:
        out, err = proc.communicate(timeout=90)
        assert proc.returncode == 0, err
        lines = [json.loads(line) for line in out.splitlines()]
        results, summary = lines[:-1], lines[-1]["summary"]
        assert {r["status"] for r in results} == {"ok"}
        assert summary["other_shards"] == 300 - len(results)
        seen += [r["target"]["value"] for r in results]
    assert sorted(seen) == sorted(ips)  # every target exactly once
    assert limited.refused == 0 and busiest_second(limited.accepted) <= 30
    assert len(limited.accepted) == 300


def test_a_shard_that_is_not_k_of_n_is_a_usage_error(world: World) -> None:
    for bad in ("0/3", "4/3", "1", "a/b"):
        run = world.run_cli("search", "example.com", "--shard", bad)
        assert run.code == 2 and "--shard" in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_a_quota_too_small_to_divide_is_a_config_error(world: World) -> None:
    world.write_config(keys=True, virustotal={"quota": "2/d"})
    run = world.run_cli("search", "example.com", "--shard", "1/3", "-a", "virustotal", env=world.key_env())
    assert run.code == 2
    assert "cannot be shared by 3 shards" in run.stderr and "--shard-limits full" in run.stderr
