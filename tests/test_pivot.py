"""Pivot (search --depth N): the feedback edge from results to the engine's target stream,
with a fake zone adapter that declares assets (tests/pivot_kit.py)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from osint_fanout import Target
from osint_fanout._results import Report, Result
from osint_fanout.assets import AssetType, Findings
from osint_fanout.pivot import PivotOptions
from tests.pivot_kit import ZoneAdapter, reports, run_pivot, zone_ready

DEPTH1 = {  # what example.com's own result leads to, in scope and not made up by a wildcard
    "www.example.com",
    "mail.example.com",
    "dev.example.com",
    "real.wild.example.com",
    "192.0.2.1",
}


def test_depth_1_follows_in_scope_names_and_the_addresses_they_resolve_to_each_once() -> None:
    pivot, events = run_pivot(["example.com"], PivotOptions(depth=1))
    done = reports(events)
    assert set(done) == {"example.com"} | DEPTH1
    results = [event for event in events if isinstance(event, Result)]
    assert Counter(r.target.value for r in results) == dict.fromkeys(done, 1)  # one adapter, each target once
    assert done["example.com"].depth == 0 and done["example.com"].found_by is None
    www = done["www.example.com"]
    assert www.depth == 1
    assert www.found_by is not None
    assert www.found_by.model_dump() == {
        "seed": "example.com",
        "target": "example.com",
        "adapter": "zone",
        "relation": "subdomain-of",
    }
    assert done["192.0.2.1"].found_by is not None and done["192.0.2.1"].found_by.relation == "resolves-to"
    summary = pivot.summary()
    assert summary["targets_by_depth"] == {"0": 1, "1": len(DEPTH1)}
    assert summary["followed"] == len(DEPTH1)
    # other.net and the name server in another registered domain are out of scope; what
    # depth-1 targets found (cdn, deep, 192.0.2.10, ...) is beyond the depth
    assert summary["not_followed"]["out-of-scope"] == 2
    assert summary["not_followed"]["wildcard"] == 2
    assert summary["not_followed"]["depth"] >= 4
    assert summary["wildcards"] == {"*.wild.example.com": 2}
    assert summary["assets_by_type"][AssetType.NETBLOCK.value] == 1


def test_depth_2_goes_one_step_further_with_the_finding_that_led_there() -> None:
    pivot, events = run_pivot(["example.com"], PivotOptions(depth=2))
    done = reports(events)
    assert {"cdn.example.com", "deep.example.com", "192.0.2.20", "host.example.com"} <= set(done)
    assert "deeper.example.com" not in done  # found at depth 2, the last
    cdn = done["cdn.example.com"]
    assert cdn.depth == 2 and cdn.found_by is not None
    assert (cdn.found_by.seed, cdn.found_by.target, cdn.found_by.relation) == (
        "example.com",
        "www.example.com",
        "alias-of",
    )
    assert all(r.depth == done[r.target.value].depth for r in events if isinstance(r, Result))
    assert pivot.summary()["not_followed"]["depth"] >= 1


def test_depth_0_of_a_pivot_follows_nothing_and_counts_everything_as_depth() -> None:
    pivot, events = run_pivot(["example.com"], PivotOptions(depth=0))
    assert set(reports(events)) == {"example.com"}
    # depth is decided before a wildcard is asked about (it costs nothing): the two names
    # the wildcard makes up count as depth too, and nothing was asked for them
    assert pivot.summary()["not_followed"] == {"depth": len(DEPTH1) + 2, "out-of-scope": 2}
    assert sum(ZoneAdapter.asked.values()) == 1


def test_max_targets_caps_the_run_seeds_included_and_counts_the_rest() -> None:
    pivot, events = run_pivot(["example.com"], PivotOptions(depth=3, max_targets=3))
    assert len(reports(events)) == 3
    assert pivot.summary()["not_followed"]["max-targets"] >= 1


def test_no_follow_ips_exclude_pattern_and_extra_scope() -> None:
    options = PivotOptions(depth=1, follow_ips=False, exclude=("dev.*", "MAIL.example.com"), scope=("other.net",))
    pivot, events = run_pivot(["example.com"], options)
    done = set(reports(events))
    assert done == {"example.com", "www.example.com", "real.wild.example.com", "other.net"}
    not_followed = pivot.summary()["not_followed"]
    assert not_followed["excluded"] == 2
    # the name server, and the addresses of the apex and of real.wild (--no-follow-ips)
    assert not_followed["out-of-scope"] == 3


def test_without_a_resolving_adapter_wildcards_are_not_detected_and_the_summary_says_so() -> None:
    pivot, events = run_pivot(["example.com"], PivotOptions(depth=1), wildcards=False)
    assert {"a.wild.example.com", "b.wild.example.com"} <= set(reports(events))
    assert pivot.summary()["wildcard_detection"] is False


def test_a_seed_given_twice_and_a_name_found_by_two_targets_are_each_investigated_once() -> None:
    _, events = run_pivot(["example.com", "example.com", "mail.example.com"], PivotOptions(depth=1))
    counts = Counter(event.target.value for event in events if isinstance(event, Report))
    assert set(counts.values()) == {1}
    assert reports(events)["mail.example.com"].depth == 0  # a seed stays a seed


def test_an_address_seed_follows_only_names_in_scope() -> None:
    pivot, events = run_pivot(["192.0.2.1"], PivotOptions(depth=1))
    assert set(reports(events)) == {"192.0.2.1"}
    assert pivot.summary()["not_followed"] == {"out-of-scope": 1}
    _, events = run_pivot(["192.0.2.1"], PivotOptions(depth=1, scope=("example.com",)))
    assert set(reports(events)) == {"192.0.2.1", "host.example.com"}


class Broken(ZoneAdapter):
    name = "broken"
    resolves = False

    def assets(self, target: Target, data: dict[str, Any]) -> Findings:
        raise RuntimeError("a plugin bug")


class Hostile(ZoneAdapter):
    name = "hostile"
    resolves = False

    def assets(self, target: Target, data: dict[str, Any]) -> Findings:
        found = Findings()
        for name in ("<script>.example.com", "a" * 300 + ".example.com", "\x1b[31m.example.com", "ok.example.com"):
            found.link(AssetType.DOMAIN, name, "subdomain-of", found.target_ref(target))  # type: ignore[arg-type]
        return found


def test_a_failing_or_hostile_assets_costs_only_its_own_findings() -> None:
    _, events = run_pivot(["example.com"], PivotOptions(depth=1), [zone_ready(), zone_ready(Broken)])
    assert set(reports(events)) >= DEPTH1
    _, events = run_pivot(["example.com"], PivotOptions(depth=1), [zone_ready(Hostile)])
    assert set(reports(events)) == {"example.com", "ok.example.com"}


@pytest.mark.parametrize("depth", [1, 2])
def test_every_report_and_result_of_a_followed_target_carries_depth_and_found_by(depth: int) -> None:
    _, events = run_pivot(["example.com"], PivotOptions(depth=depth))
    for event in events:
        assert (event.depth == 0) == (event.found_by is None)
        assert event.depth <= depth
