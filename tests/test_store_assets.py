"""Assets in the store: recorded with their result (provenance), read back as a seed's
AssetGraph with first/last seen and depth; new and gone assets as change events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema

from osint_fanout._output import Destination
from osint_fanout._plugins import discover
from osint_fanout._redact import register_secret
from osint_fanout._results import FoundBy, Report, Result, Status
from osint_fanout._schema import SCHEMA_DIR
from osint_fanout.assets import AssetRef, AssetType, findings_from
from osint_fanout.store import ChangesSink, StoreSink, facts_from, open_store, target_changes
from osint_fanout.store._asset_changes import asset_changes
from osint_fanout.store._findings import found_of
from osint_fanout.store._records import StoredResult, row_of
from osint_fanout.store._rows import FOUND_KEY
from tests.store_kit import result

ADAPTERS = {name: cls(cls.Options.model_validate({})) for name, cls in discover().adapters.items()}
FINDINGS = findings_from(ADAPTERS)
FACTS = facts_from(ADAPTERS)
CHANGES_SCHEMA = json.loads((SCHEMA_DIR / "changes.schema.json").read_text())


def dns(*addresses: str, cname: str | None = None) -> dict[str, Any]:
    records: dict[str, Any] = {"A": list(addresses)}
    if cname:
        records["CNAME"] = [cname]
    return {"records": records, "spf": None, "dmarc": None, "errors": {}}


def shodan(*ports: int) -> dict[str, Any]:
    return {"source": "internetdb", "ports": list(ports), "vulns": [], "hostnames": []}


def pivoted(target: str, adapter: str, data: dict[str, Any], *, parent: str, depth: int = 1) -> Result:
    by = FoundBy(seed="example.com", target=parent, adapter="dns", relation="resolves-to")
    return result(target, adapter, data=data, depth=depth, found_by=by)


def record(url: str, *items: tuple[Result, datetime]) -> None:
    """Record results as the sink does, with what they found."""
    with open_store(url) as store:
        run = store.begin_run(min(at for _, at in items))
        rows = []
        for item, at in items:
            found = found_of(item, FINDINGS)
            rows.append(row_of(item, at, run) | ({FOUND_KEY: found} if found else {}))
        store.insert(rows)


def test_the_sink_records_assets_with_their_result_and_load_graph_gives_them_back(store_url: str) -> None:
    sink = StoreSink(store_url, findings=FINDINGS)
    sink.result(result("example.com", "dns", data=dns("198.51.100.7", cname="edge.example.net")))
    sink.result(pivoted("198.51.100.7", "shodan", shodan(3389), parent="example.com"))
    sink.result(result("example.com", "ct", status=Status.ERROR))  # a failed lookup found nothing
    sink.result(result("other.example", "dns", data=dns("192.0.2.1")))  # another seed
    sink.finish()
    assert not sink.failed and sink.recorded == 4
    with open_store(store_url) as store:
        graph = store.load_graph("example.com")
    by_ref = {stored.ref: stored for stored in graph.assets}
    assert set(by_ref) == {
        AssetRef(AssetType.DOMAIN, "example.com"),
        AssetRef(AssetType.DOMAIN, "edge.example.net"),
        AssetRef(AssetType.IPV4, "198.51.100.7"),
        AssetRef(AssetType.SERVICE, "198.51.100.7:3389/tcp"),
    }
    assert {(str(r.relation.source), str(r.relation.kind), str(r.relation.target)) for r in graph.relations} == {
        ("domain-name:example.com", "resolves-to", "ipv4-addr:198.51.100.7"),
        ("domain-name:example.com", "alias-of", "domain-name:edge.example.net"),
        ("ipv4-addr:198.51.100.7", "has-service", "service:198.51.100.7:3389/tcp"),
    }
    service = by_ref[AssetRef(AssetType.SERVICE, "198.51.100.7:3389/tcp")]
    assert [(s.adapter, s.target) for s in service.found_by] == [("shodan", "198.51.100.7")]
    assert service.asset.attrs == {"port": 3389, "protocol": "tcp"} and service.depth is None
    assert by_ref[AssetRef(AssetType.DOMAIN, "example.com")].depth == 0
    assert by_ref[AssetRef(AssetType.IPV4, "198.51.100.7")].depth == 1  # it was followed, at depth 1
    ip = by_ref[AssetRef(AssetType.IPV4, "198.51.100.7")]
    assert {(s.adapter, s.target) for s in ip.found_by} == {("dns", "example.com"), ("shodan", "198.51.100.7")}


def test_first_and_last_seen_span_the_runs_and_since_keeps_the_recent(store_url: str) -> None:
    old, new = datetime.now(UTC) - timedelta(days=3), datetime.now(UTC)
    record(store_url, (result("example.com", "dns", data=dns("192.0.2.1", "192.0.2.2")), old))
    record(store_url, (result("example.com", "dns", data=dns("192.0.2.2")), new))
    with open_store(store_url) as store:
        graph = store.load_graph("example.com")
        recent = store.load_graph("example.com", since=new - timedelta(hours=1))
    seen = {stored.ref.value: (stored.first_seen, stored.last_seen) for stored in graph.assets}
    assert seen["192.0.2.1"] == (old, old) and seen["192.0.2.2"] == (old, new)
    assert [len(stored.found_by) for stored in graph.assets if stored.ref.value == "192.0.2.2"] == [1]  # the latest
    assert {stored.ref.value for stored in recent.assets} == {"example.com", "192.0.2.2"}


def test_prune_removes_the_assets_of_pruned_results(store_url: str) -> None:
    record(store_url, (result("example.com", "dns", data=dns("192.0.2.1")), datetime.now(UTC) - timedelta(days=10)))
    with open_store(store_url) as store:
        assert store.load_graph("example.com").assets
        store.prune(86400)
        with store.engine.connect() as conn:
            left = [
                conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar_one()
                for t in ("found_assets", "found_relations")
            ]
        assert left == [0, 0] and not store.load_graph("example.com").assets


def test_a_key_in_an_asset_is_never_stored(store_url: str) -> None:
    secret = "k-assets-0123456789abcdef"
    register_secret(secret)
    data = {"source": "internetdb", "ports": [], "hostnames": [f"{secret}.example.com"], "vulns": []}
    record(store_url, (result("192.0.2.9", "shodan", data=data), datetime.now(UTC)))
    with open_store(store_url) as store, store.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT value FROM found_assets").scalars().all()
    assert stored and not any(secret in value for value in stored)


def test_nothing_found_is_nothing_recorded() -> None:
    assert found_of(result("example.com", "dns", status=Status.EMPTY, data=None), FINDINGS) is None
    assert found_of(result("example.com", "dns", data=dns("192.0.2.1")), None) is None
    broken = found_of(result("example.com", "dns", data={"records": "not a dict"}), FINDINGS)
    assert broken is None  # an adapter's assets() that fails costs nothing


# -- change events ------------------------------------------------------------------


def observed(target: str, adapter: str, data: dict[str, Any] | None, at: datetime, status: str = "ok") -> StoredResult:
    kind = "ipv4" if target[0].isdigit() else "domain"
    return StoredResult.of(data, target=target, kind=kind, adapter=adapter, status=status, recorded_at=at)


def test_new_and_gone_assets_are_events_and_unchanged_ones_are_quiet() -> None:
    before, after = datetime.now(UTC) - timedelta(days=1), datetime.now(UTC)
    pairs = [
        (
            observed("www.example.com", "dns", dns("192.0.2.1"), before),
            observed("www.example.com", "dns", dns("192.0.2.9"), after),
        ),
    ]
    events = target_changes(pairs, FACTS, FINDINGS)
    assets = [(e.change, e.type, e.value, e.relation) for e in events if e.change in ("new", "gone")]
    assert assets == [
        ("new", "ipv4-addr", "192.0.2.9", "resolves-to"),
        ("gone", "ipv4-addr", "192.0.2.1", "resolves-to"),
    ]
    for event in events:
        jsonschema.validate(event.model_dump(mode="json"), CHANGES_SCHEMA)
    same = [
        (
            observed("www.example.com", "dns", dns("192.0.2.1"), before),
            observed("www.example.com", "dns", dns("192.0.2.1"), after),
        )
    ]
    assert asset_changes(same, FINDINGS) == []


def test_an_asset_another_adapter_knew_or_still_finds_is_neither_new_nor_gone() -> None:
    before, after = datetime.now(UTC) - timedelta(days=1), datetime.now(UTC)
    ct_old = {"source": "crtsh", "subdomains": ["a.example.com"], "certificates": []}
    shodan_new = {"subdomains": ["a.example.com"], "records": []}
    pairs = [
        (
            observed("example.com", "ct", ct_old, before),
            observed("example.com", "ct", {**ct_old, "subdomains": []}, after),
        ),
        (None, observed("example.com", "shodan", shodan_new, after)),
    ]
    assert asset_changes(pairs, FINDINGS) == []  # ct lost it, shodan has it: still there, and not new
    failed = [(observed("example.com", "ct", ct_old, before), observed("example.com", "ct", None, after, "error"))]
    assert asset_changes(failed, FINDINGS) == []  # a failed lookup is never compared


def test_a_new_service_on_a_known_address_is_one_event() -> None:
    before, after = datetime.now(UTC) - timedelta(days=1), datetime.now(UTC)
    pairs = [
        (
            observed("192.0.2.1", "shodan", shodan(443), before),
            observed("192.0.2.1", "shodan", shodan(443, 3389), after),
        )
    ]
    [event] = asset_changes(pairs, FINDINGS)
    assert (event.target, event.adapter, event.change, event.type, event.value, event.relation) == (
        "192.0.2.1",
        "shodan",
        "new",
        "service",
        "192.0.2.1:3389/tcp",
        "has-service",
    )


def test_changes_sink_says_new_assets_at_once_and_gone_ones_when_the_target_is_complete(
    store_url: str, tmp_path: Path
) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    ct = {"source": "crtsh", "subdomains": ["a.example.com", "b.example.com"], "certificates": []}
    shodan_domain = {"subdomains": ["b.example.com"], "records": []}
    record(
        store_url,
        (result("example.com", "ct", data=ct), yesterday),
        (result("example.com", "shodan", data=shodan_domain), yesterday),
    )
    out = tmp_path / "changes.ndjson"
    sink = ChangesSink(store_url, Destination(out, append=True), FACTS, findings_fn=FINDINGS)
    now_ct = result("example.com", "ct", data={**ct, "subdomains": ["c.example.com"]})  # a, b gone from ct
    now_shodan = result("example.com", "shodan", data=shodan_domain)  # b still here
    sink.result(now_ct)
    sink.result(now_shodan)
    now = datetime.now(UTC)
    sink.report(
        Report(target=now_ct.target, started_at=now, finished_at=now, deadline_s=60, results=[now_ct, now_shodan])
    )
    sink.finish()
    assert not sink.failed
    found = [json.loads(line) for line in out.read_text().splitlines()]
    for event in found:
        jsonschema.validate(event, CHANGES_SCHEMA)
    assets = [(e["adapter"], e["change"], e["value"]) for e in found if e["change"] in ("new", "gone")]
    assert assets == [("ct", "new", "c.example.com"), ("ct", "gone", "a.example.com")]


def test_finding_assets_in_the_runs_process_loads_no_database_layer() -> None:
    """The run's process finds what results found; SQLAlchemy is the writer's (another process)."""
    import subprocess
    import sys

    code = "import sys, osint_fanout.store._findings, osint_fanout.store._sink; print('sqlalchemy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
