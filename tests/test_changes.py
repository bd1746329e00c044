"""Change events: a pure function over the adapters' facts (no store, no I/O)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest
from pydantic import TypeAdapter

from osint_fanout._adapter import Adapter
from osint_fanout._output import to_json
from osint_fanout._plugins import discover
from osint_fanout._schema import SCHEMA_DIR
from osint_fanout.store import ChangeEvent, StoredResult, changes, data_hash, facts_from, target_changes

BEFORE = datetime(2026, 11, 22, 2, 15, tzinfo=UTC)
AFTER = BEFORE + timedelta(days=1)
CHANGES_SCHEMA = json.loads((SCHEMA_DIR / "changes.schema.json").read_text())
ADAPTERS = {name: cls(cls.Options.model_validate({})) for name, cls in discover().adapters.items()}
FACTS = facts_from(ADAPTERS)


def seen(data: dict[str, Any] | None, status: str = "ok", at: datetime = BEFORE, adapter: str = "ct") -> StoredResult:
    return StoredResult.of(data, target="example.com", kind="domain", adapter=adapter, status=status, recorded_at=at)


def ct(*subdomains: str, source: str = "crtsh", **extra: Any) -> dict[str, Any]:
    return {"source": source, "subdomains": list(subdomains), "certificates": [], "truncated": False, **extra}


def plain(events: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(to_json(event)) for event in events]


def test_set_facts_give_one_event_per_value_added_or_removed() -> None:
    events = changes(
        seen(ct("a.example.com", "b.example.com")), seen(ct("b.example.com", "new.example.com"), at=AFTER), FACTS
    )
    assert plain(events) == [
        {
            "target": "example.com",
            "adapter": "ct",
            "fact": "subdomains",
            "change": "added",
            "value": "new.example.com",
            "before_at": "2026-11-22T02:15:00Z",
            "after_at": "2026-11-23T02:15:00Z",
        },
        {
            "target": "example.com",
            "adapter": "ct",
            "fact": "subdomains",
            "change": "removed",
            "value": "a.example.com",
            "before_at": "2026-11-22T02:15:00Z",
            "after_at": "2026-11-23T02:15:00Z",
        },
    ]
    for event in plain(events):
        jsonschema.validate(event, CHANGES_SCHEMA)


def test_unchanged_facts_say_nothing_whatever_the_order_or_the_noise() -> None:
    before = ct("a.example.com", "b.example.com", total_certificates=3, crtsh_error=None)
    after = ct("b.example.com", "a.example.com", total_certificates=4, crtsh_error="x")  # not facts
    assert changes(seen(before), seen(after, at=AFTER), FACTS) == []


def test_scalar_facts_say_changed_with_before_and_after() -> None:
    def whois(registrar: str, expires: str) -> dict[str, Any]:
        return {"registrar": registrar, "expires": expires, "nameservers": ["NS1.example.com"], "status": ["active"]}

    old = seen(whois("Old Registrar", "2027-01-01T00:00:00Z"), adapter="whois")
    new = seen(whois("New Registrar", "2027-01-01T04:00:00"), adapter="whois", at=AFTER)  # the same day
    (event,) = plain(changes(old, new, FACTS))
    assert event == {
        "target": "example.com",
        "adapter": "whois",
        "fact": "registrar",
        "change": "changed",
        "before": "Old Registrar",
        "after": "New Registrar",
        "before_at": "2026-11-22T02:15:00Z",
        "after_at": "2026-11-23T02:15:00Z",
    }
    jsonschema.validate(event, CHANGES_SCHEMA)


@pytest.mark.parametrize("status", ["error", "timeout", "cancelled", "skipped"])
def test_a_failed_lookup_is_never_compared(status: str) -> None:
    good = seen(ct("a.example.com"))
    failed = seen(None, status=status, at=AFTER)
    assert changes(good, failed, FACTS) == []
    assert changes(failed, seen(ct(), at=AFTER), FACTS) == []
    assert target_changes([(None, failed)], FACTS) == []


def test_nothing_before_is_first_seen_once_per_target_not_per_adapter_or_fact() -> None:
    current = [seen(ct("a.example.com"), at=AFTER), seen({"ports": [80]}, adapter="shodan", at=AFTER)]
    (event,) = plain(target_changes([(None, current[0]), (None, current[1])], FACTS))
    assert event == {
        "target": "example.com",
        "adapter": None,
        "change": "first_seen",
        "after_at": "2026-11-23T02:15:00Z",
    }
    jsonschema.validate(event, CHANGES_SCHEMA)
    known = target_changes([(seen(ct("a.example.com")), current[0]), (None, current[1])], FACTS)
    assert plain(known) == [
        {"target": "example.com", "adapter": "shodan", "change": "first_seen", "after_at": "2026-11-23T02:15:00Z"}
    ]


def test_a_fact_missing_on_one_side_is_unknown_there_not_removed() -> None:
    dns_before = {"records": {"A": ["192.0.2.1"], "TXT": ["v=spf1 -all"]}, "spf": "v=spf1 -all", "errors": {}}
    dns_after = {"records": {"A": ["192.0.2.2"]}, "spf": None, "errors": {"TXT": "timeout"}}  # TXT failed
    events = plain(changes(seen(dns_before, adapter="dns"), seen(dns_after, adapter="dns", at=AFTER), FACTS))
    assert [(e["fact"], e["change"], e.get("value")) for e in events] == [
        ("A", "added", "192.0.2.2"),
        ("A", "removed", "192.0.2.1"),
    ]


def test_ok_to_empty_says_the_status_changed_and_what_went() -> None:
    events = plain(changes(seen(ct("a.example.com")), seen(None, status="empty", at=AFTER), FACTS))
    assert [(e["fact"], e["change"]) for e in events] == [
        ("status", "changed"),
        ("subdomains", "removed"),
    ]
    assert events[0]["before"] == "ok" and events[0]["after"] == "empty"
    back = plain(changes(seen(None, status="empty"), seen(ct("a.example.com"), at=AFTER), FACTS))
    assert [(e["fact"], e["change"], e.get("value")) for e in back] == [
        ("status", "changed", None),
        ("subdomains", "added", "a.example.com"),
    ]


def test_an_adapter_without_facts_reports_only_that_its_data_changed() -> None:
    old, new = {"a": 1, "b": [1, 2]}, {"b": [1, 2], "a": 1}
    assert data_hash(old) == data_hash(new)
    assert changes(seen(old, adapter="plugin"), seen(new, adapter="plugin", at=AFTER), FACTS) == []
    (event,) = plain(changes(seen(old, adapter="plugin"), seen({"a": 2}, adapter="plugin", at=AFTER), FACTS))
    assert event["fact"] == "data" and event["change"] == "changed"
    assert (event["before"], event["after"]) == (data_hash(old), data_hash({"a": 2}))


def test_an_adapter_whose_facts_fail_falls_back_to_the_data() -> None:
    class Broken(Adapter):  # type: ignore[type-arg]
        name = "broken"

        async def lookup(self, target: Any, ctx: Any) -> dict[str, Any]:
            return {}

        def facts(self, data: dict[str, Any]) -> Any:
            raise KeyError("bug")

    facts = facts_from({"broken": Broken(None)})  # type: ignore[arg-type]
    events = changes(seen({"x": 1}, adapter="broken"), seen({"x": 2}, adapter="broken", at=AFTER), facts)
    assert [e.fact for e in events] == ["data"]  # type: ignore[union-attr]


def test_change_events_round_trip_through_their_schema_model() -> None:
    events = changes(seen(ct("a.example.com")), seen(ct("b.example.com"), at=AFTER), FACTS)
    adapter: TypeAdapter[Any] = TypeAdapter(list[ChangeEvent])
    assert adapter.validate_python(adapter.dump_python(events, mode="json")) == events


# -- the built-in adapters' facts -------------------------------------------------


def test_dns_facts_are_records_by_type_spf_and_dmarc() -> None:
    data = {
        "records": {
            "A": ["192.0.2.1"],
            "MX": [{"preference": 10, "exchange": "mail.example.com"}],
            "SOA": [{"mname": "ns1.example.com", "rname": "hostmaster.example.com", "serial": 7, "refresh": 1}],
            "CAA": [{"flags": 0, "tag": "issue", "value": "letsencrypt.org"}],
        },
        "spf": None,
        "dmarc": "v=DMARC1; p=reject",
        "errors": {"AAAA": "timeout"},
    }
    facts = ADAPTERS["dns"].facts(data)
    assert facts is not None and "AAAA" not in facts
    assert facts["A"] == frozenset({"192.0.2.1"}) and facts["TXT"] == frozenset()
    assert facts["MX"] == frozenset({"10 mail.example.com"})
    assert facts["SOA"] == frozenset({"ns1.example.com hostmaster.example.com"})  # no serial: no noise
    assert facts["CAA"] == frozenset({"0 issue letsencrypt.org"})
    assert (facts["spf"], facts["dmarc"]) == (None, "v=DMARC1; p=reject")
    assert ADAPTERS["dns"].facts({"address": "198.51.100.7", "ptr": ["host.example.net"]}) == {
        "PTR": frozenset({"host.example.net"})
    }


def test_ct_facts_are_subdomains_and_certificates_when_all_are_listed() -> None:
    certs = [{"id": 11}, {"id": "12"}]
    facts = ADAPTERS["ct"].facts(ct("a.example.com", certificates=certs))
    assert facts == {"subdomains": frozenset({"a.example.com"}), "certificates": frozenset({"11", "12"})}
    assert "certificates" not in (ADAPTERS["ct"].facts(ct("a.example.com", certificates=certs, truncated=True)) or {})
    spotter = ADAPTERS["ct"].facts(ct(source="certspotter", certificates=certs))
    assert spotter is not None and set(spotter) == {"subdomains", "certspotter_certificates"}


def test_shodan_facts_are_ports_vulns_and_hostnames() -> None:
    host = {"ports": [443, 80], "vulns": ["CVE-2024-1"], "hostnames": ["h.example.com"], "last_update": "now"}
    assert ADAPTERS["shodan"].facts(host) == {
        "ports": frozenset({"80", "443"}),
        "vulns": frozenset({"CVE-2024-1"}),
        "hostnames": frozenset({"h.example.com"}),
    }
    domain = {
        "subdomains": ["a.example.com"],
        "records": [{"name": "a.example.com", "type": "A", "value": "192.0.2.1"}],
    }
    assert ADAPTERS["shodan"].facts(domain) == {
        "subdomains": frozenset({"a.example.com"}),
        "records": frozenset({"a.example.com A 192.0.2.1"}),
    }


def test_virustotal_facts_are_malicious_and_suspicious_counts_and_categories() -> None:
    data = {
        "last_analysis_stats": {"malicious": 2, "suspicious": 1, "harmless": 60},
        "categories": {"Forcepoint ThreatSeeker": "phishing"},
        "reputation": -5,
        "last_analysis_date": "2026-11-23T00:00:00+00:00",
    }
    assert ADAPTERS["virustotal"].facts(data) == {
        "malicious": 2,
        "suspicious": 1,
        "categories": frozenset({"Forcepoint ThreatSeeker: phishing"}),
    }


def test_whois_facts_are_registrar_name_servers_expiry_and_status() -> None:
    data = {
        "source": "rdap",
        "registrar": "Example Registrar",
        "expires": "2027-08-13T04:00:00Z",
        "nameservers": ["a.iana-servers.net", "B.IANA-SERVERS.NET"],
        "status": ["client transfer prohibited"],
        "updated": "2026-08-14T07:01:44Z",
    }
    assert ADAPTERS["whois"].facts(data) == {
        "registrar": "Example Registrar",
        "expires": "2027-08-13",
        "nameservers": frozenset({"a.iana-servers.net", "b.iana-servers.net"}),
        "status": frozenset({"client transfer prohibited"}),
    }
    network = {"source": "rdap", "range": "192.0.2.0 - 192.0.2.255", "country": "US", "status": ["active"]}
    assert ADAPTERS["whois"].facts(network) == {
        "range": "192.0.2.0 - 192.0.2.255",
        "country": "US",
        "status": frozenset({"active"}),
    }


def test_the_same_stored_text_is_not_even_decoded() -> None:
    def refuse(adapter: str, data: dict[str, Any]) -> Any:
        raise AssertionError("facts were computed for identical data")

    text = json.dumps({"subdomains": ["a.example.com"]})
    old = StoredResult(
        target="example.com", kind="domain", adapter="ct", status="ok", recorded_at=BEFORE, data_text=text
    )
    new = StoredResult(
        target="example.com", kind="domain", adapter="ct", status="ok", recorded_at=AFTER, data_text=text
    )
    assert changes(old, new, refuse) == []
    assert "data" not in new.__dict__  # never decoded
    assert new.data == {"subdomains": ["a.example.com"]}
