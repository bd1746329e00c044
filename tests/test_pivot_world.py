"""Pivot end to end: the installed CLI against the loopback world's pivot zone (a few hundred
names, tests/world/pivot_zone.py), with dns and ct adapters that declare assets (pivot_kit)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.pivot_kit import zone_world
from tests.world.pivot_zone import PivotZone, pivot_zone

ADAPTERS = ("-a", "zonedns,zonect")


@pytest.fixture
def zone(world: Any) -> PivotZone:
    zone = pivot_zone()
    world.add_zone(zone)
    return zone


def pivot(
    world: Any, tmp_path: Path, *args: str, **sections: dict[str, Any]
) -> tuple[list[dict[str, Any]], dict[str, Any], Any]:
    env = zone_world(world, tmp_path / "plugins", **sections)
    run = world.run_cli(
        "search", "acme.invalid", *ADAPTERS, "-f", "ndjson", "--summary", "--no-store", *args, env=env, timeout=120
    )
    assert run.code == 0, run.stderr
    lines = run.ndjson()
    return lines[:-1], lines[-1]["summary"], run


def by_target(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {line["target"]["value"]: line for line in results}


def test_depth_1_follows_each_in_scope_name_once_and_counts_the_rest(
    world: Any, zone: PivotZone, tmp_path: Path
) -> None:
    results, summary, run = pivot(world, tmp_path, "--depth", "1")
    per_target = Counter((line["target"]["value"], line["adapter"]) for line in results)
    assert set(per_target.values()) == {1}, "each target once, each adapter once"
    targets = by_target(results)
    depth1 = {value for value, line in targets.items() if line["depth"] == 1}
    assert depth1 == zone.depth1_names | {"203.0.113.1"}  # the seed's names, and its own address
    assert not depth1 & zone.made_up
    www = targets[f"www.{zone.seed}"]["found_by"]
    assert www == {"seed": zone.seed, "target": zone.seed, "adapter": "zonect", "relation": "subdomain-of"}
    assert targets[zone.seed]["depth"] == 0 and targets[zone.seed]["found_by"] is None
    pivot_summary = summary["pivot"]
    assert pivot_summary["targets_by_depth"] == {"0": 1, "1": len(depth1)}
    assert pivot_summary["wildcards"] == {f"*.wild.{zone.seed}": len(zone.made_up)}
    not_followed = pivot_summary["not_followed"]
    assert not_followed["wildcard"] == len(zone.made_up)
    assert not_followed["out-of-scope"] == len(zone.out_of_scope) + 2  # and the two name servers
    assert not_followed["depth"] >= len(zone.addresses(zone.depth1_names) - {"203.0.113.1"})
    assert summary["targets"] == 1 + len(depth1)
    # the summary on stderr says the same, in words
    assert f"pivot (--depth 1): {len(depth1)} followed; targets: 1 at depth 0, {len(depth1)} at depth 1" in run.stderr
    assert f"wildcards: *.wild.{zone.seed} (4 names)" in run.stderr
    assert "5 out-of-scope, 4 wildcard" in run.stderr


def test_depth_2_follows_shared_addresses_once_and_the_cname_chain_inside_the_domain(
    world: Any, zone: PivotZone, tmp_path: Path
) -> None:
    results, summary, _ = pivot(world, tmp_path, "--depth", "2", "--max-targets", "2000")
    targets = by_target(results)
    addresses = zone.addresses(zone.depth1_names)
    assert addresses <= set(targets)
    assert (
        Counter(line["target"]["value"] for line in results if line["adapter"] == "zonedns")["203.0.113.10"] == 1
    )  # shared by six names: investigated once
    edge = targets[f"edge.{zone.seed}"]
    assert edge["depth"] == 2
    assert edge["found_by"]["target"] == f"www.{zone.seed}" and edge["found_by"]["relation"] == "alias-of"
    assert "acme.cdn-partner.invalid" not in targets  # the end of the chain is another registered domain
    assert not {"ns1.dnshost.invalid", "ns2.dnshost.invalid"} & set(targets)
    assert set(summary["pivot"]["targets_by_depth"]) == {"0", "1", "2"}


def test_max_targets_holds_by_default(world: Any, zone: PivotZone, tmp_path: Path) -> None:
    results, summary, _ = pivot(world, tmp_path, "--depth", "2")
    assert len(by_target(results)) == 250 == summary["targets"]
    assert summary["pivot"]["not_followed"]["max-targets"] > 0


def test_exclusions_and_names_only(world: Any, zone: PivotZone, tmp_path: Path) -> None:
    results, summary, _ = pivot(
        world, tmp_path, "--depth", "2", "--exclude-pattern", "dev-*", "--no-follow-ips", "--max-targets", "2000"
    )
    targets = by_target(results)
    assert not [value for value in targets if value.startswith("dev-") or value[0].isdigit()]
    assert summary["pivot"]["not_followed"]["excluded"] == 2


def test_dry_scope_asks_nothing(world: Any, zone: PivotZone, tmp_path: Path) -> None:
    env = zone_world(world, tmp_path / "plugins")
    run = world.run_cli(
        "search", "www.acme.invalid", *ADAPTERS, "--depth", "2", "--dry-scope", "--scope", "partner.invalid", env=env
    )
    assert run.code == 0, run.stderr
    assert "acme.invalid (the registered domain of seed www.acme.invalid)" in run.stdout
    assert "partner.invalid (--scope)" in run.stdout
    assert "wildcards: detected with the zonedns adapter" in run.stdout
    assert world.requests() == [] and world.dns.queries == []


def test_max_time_holds_with_pivot_on_and_what_waited_counts_as_time(
    world: Any, zone: PivotZone, tmp_path: Path
) -> None:
    # a pivot that would take a minute (245 names, crt.sh answering in 1 s, 4 calls at a
    # time), stopped after 8 s: long enough for a start-up on a busy machine
    world.behave("crtsh", "*", "slow", delay_s=1.0)
    env = zone_world(world, tmp_path / "plugins")
    args = ("search", "acme.invalid", *ADAPTERS, "--depth", "2", "--max-time", "8", "--concurrency", "4")
    run = world.run_cli(*args, "-f", "ndjson", "--summary", "--no-store", env=env, timeout=60)
    assert run.code == 1, run.stderr  # calls cut off by --max-time are cancelled
    lines = run.ndjson()
    results, summary = lines[:-1], lines[-1]["summary"]
    assert summary["wall_s"] < 8.0  # what the run says of its own time (the process started before)
    cut = {r["error"]["message"] for r in results if r["status"] == "cancelled"}
    assert cut and cut <= {"the run's --max-time passed", "the deadline passed and an adapter would not stop"}
    assert summary["targets"] > 1  # the pivot was under way
    assert summary["pivot"]["not_followed"]["time"] > 0  # decided, never taken up


def test_a_quota_holds_with_pivot_on(world: Any, zone: PivotZone, tmp_path: Path) -> None:
    env = zone_world(world, tmp_path / "plugins")
    adapters = world.config()["adapters"]
    world.write_config(
        zonedns=adapters["dns"] | {"timeout_s": 30.0},
        zonect=adapters["ct"] | {"timeout_s": 30.0, "quota": "5/d"},
    )
    run = world.run_cli("search", "acme.invalid", *ADAPTERS, "--depth", "1", "-f", "ndjson", "--summary", env=env)
    assert run.code == 0, run.stderr
    lines = run.ndjson()
    results, summary = lines[:-1], lines[-1]["summary"]
    asked = [r for r in results if r["adapter"] == "zonect" and r["status"] == "ok"]
    assert len(asked) <= 5
    assert len(world.requests("crtsh")) + len(world.requests("certspotter")) <= 5
    assert summary["by_adapter"]["zonect"]["skipped"] > 200  # a pivot never spends beyond a quota
    assert summary["pivot"]["followed"] == len(zone.depth1_names) + 1  # the seed's own answer was in the quota


def test_the_same_pivoted_run_twice_records_no_change(world: Any, zone: PivotZone, tmp_path: Path) -> None:
    env = zone_world(world, tmp_path / "plugins")
    store = f"sqlite:///{tmp_path / 'store.db'}"
    args = ("search", "acme.invalid", *ADAPTERS, "--depth", "1", "--store", store, "--changes")
    first = world.run_cli(*args, env=env, timeout=120)
    assert first.code == 0, first.stderr
    assert first.stdout.strip()  # the first run: everything is new
    second = world.run_cli(*args, env=env, timeout=120)
    assert second.code == 0, second.stderr
    assert second.ndjson() == []


def test_a_changed_zone_reports_exactly_what_changed(world: Any, zone: PivotZone, tmp_path: Path) -> None:
    """Zone v2: h000 is gone, h240 is new, h239 moved to another address. A pivoted run
    with --changes reports those, at the results' facts and as new and gone assets, and
    nothing else (h240's own assets are in its first_seen)."""
    env = zone_world(world, tmp_path / "plugins")
    store = f"sqlite:///{tmp_path / 'store.db'}"
    args = ("search", zone.seed, *ADAPTERS, "--depth", "1", "--store", store, "--changes")
    assert world.run_cli(*args, env=env, timeout=120).code == 0
    changed = pivot_zone(version=2)
    for name in set(zone.records) - set(changed.records):
        del world.dns.zone[name]
    world.add_zone(changed)
    run = world.run_cli(*args, env=env, timeout=120)
    assert run.code == 0, run.stderr
    events = run.ndjson()
    seen = {(e["target"], e["adapter"], e["change"], e.get("value") or e.get("fact")) for e in events}
    host = f"h239.{zone.seed}"  # moved to an address of its own (found at depth 2: not followed)
    assert seen == {
        (zone.seed, "zonect", "added", f"h240.{zone.seed}"),
        (zone.seed, "zonect", "removed", f"h000.{zone.seed}"),
        (f"h240.{zone.seed}", None, "first_seen", None),
        (host, "zonedns", "added", "203.0.113.199"),
        (host, "zonedns", "removed", "203.0.113.49"),
        (zone.seed, "zonect", "new", f"h240.{zone.seed}"),  # the assets
        (zone.seed, "zonect", "gone", f"h000.{zone.seed}"),
        (host, "zonedns", "new", "203.0.113.199"),
        (host, "zonedns", "gone", "203.0.113.49"),
    }, events


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--depth", "-1"], "--depth"),
        (["--depth", "1", "--max-targets", "0"], "--max-targets"),
        (["--scope", "example.com"], "needs --depth 1 or more"),
        (["--no-follow-ips"], "needs --depth 1 or more"),
        (["--depth", "1", "--scope", "192.0.2.1"], "--scope: 192.0.2.1 is an address"),
        (["--depth", "1", "--scope", "bad\x1b[31m.com"], "--scope: invalid target"),
        (["--depth", "1", "--exclude-pattern", " "], "--exclude-pattern: an empty pattern"),
        (["--depth", "1", "-f", "ndjson", "-o", "out.ndjson", "--resume"], "--resume cannot be used with --depth"),
    ],
)
def test_bad_pivot_options_are_one_line_and_exit_2(world: Any, args: list[str], message: str) -> None:
    world.write_config()
    run = world.run_cli("search", "example.com", "-a", "dns", *args)
    assert run.code == 2, run.stderr
    assert message in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert "\x1b" not in run.stderr and "Traceback" not in run.stderr
    assert world.dns.queries == []
