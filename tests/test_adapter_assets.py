"""Each built-in adapter's `assets()`: what its data says, as typed assets and named relations."""

from __future__ import annotations

from typing import Any

import pytest

from osint_fanout import Adapter
from osint_fanout._targets import parse_target
from osint_fanout.assets import AssetRef, AssetType, Findings
from osint_fanout_adapters.ct import CtAdapter, CtOptions
from osint_fanout_adapters.dns import DnsAdapter, DnsOptions
from osint_fanout_adapters.shodan import ShodanAdapter, ShodanOptions
from osint_fanout_adapters.virustotal import VirusTotalAdapter, VirusTotalOptions
from osint_fanout_adapters.whois import WhoisAdapter, WhoisOptions

D, V4, NET, AS, ORG, CERT, SVC = (
    AssetType.DOMAIN,
    AssetType.IPV4,
    AssetType.NETBLOCK,
    AssetType.AS,
    AssetType.ORGANIZATION,
    AssetType.CERTIFICATE,
    AssetType.SERVICE,
)


def _found(adapter: Adapter[Any], target: str, data: dict[str, Any]) -> Findings:
    found = adapter.assets(parse_target(target), data)
    assert found is not None
    return found


def _edges(found: Findings) -> set[tuple[str, str, str]]:
    return {(str(r.source), str(r.kind), str(r.target)) for r in found.relations}


def _attrs(found: Findings, kind: AssetType, value: str) -> dict[str, Any]:
    return next(asset.attrs for asset in found.assets if asset.ref == AssetRef(kind, value))


def test_dns_records_are_relations() -> None:
    data = {
        "name": "example.com",
        "records": {
            "A": ["198.51.100.7", "not-an-ip"],
            "AAAA": ["2001:DB8::7"],
            "CNAME": ["Edge.Example.NET"],
            "MX": [{"preference": 10, "exchange": "mail.example.com"}, {"preference": 0, "exchange": "."}],
            "NS": ["ns1.other.org"],
            "TXT": ["v=spf1 -all"],
        },
    }
    found = _found(DnsAdapter(DnsOptions()), "example.com", data)
    assert _edges(found) == {
        ("domain-name:example.com", "resolves-to", "ipv4-addr:198.51.100.7"),
        ("domain-name:example.com", "resolves-to", "ipv6-addr:2001:db8::7"),
        ("domain-name:example.com", "alias-of", "domain-name:edge.example.net"),
        ("domain-name:mail.example.com", "mail-exchanger-of", "domain-name:example.com"),
        ("domain-name:ns1.other.org", "name-server-of", "domain-name:example.com"),
    }
    assert found.dropped == 1  # the bad A value, never the others


def test_dns_ptr_is_a_reverse_name() -> None:
    found = _found(DnsAdapter(DnsOptions()), "198.51.100.7", {"address": "198.51.100.7", "ptr": ["host.example.net"]})
    assert _edges(found) == {("domain-name:host.example.net", "reverse-name-of", "ipv4-addr:198.51.100.7")}


def test_ct_subdomains_and_certificates() -> None:
    data = {
        "source": "crtsh",
        "subdomains": ["www.example.com", "api.example.com"],
        "certificates": [
            {
                "id": "1",
                "issuer": "C=US, O=Let's Encrypt, CN=R3",
                "not_before": "2024-01-30T00:00:00",
                "not_after": "2024-04-29T23:59:59",
                "names": ["*.example.com", "example.com"],
                "serial": "075BCEF3",
            },
            {"id": "2", "issuer": None, "not_before": None, "not_after": None, "names": ["api.example.com"]},
        ],
    }
    found = _found(CtAdapter(CtOptions()), "example.com", data)
    cert = "C=US, O=Let's Encrypt, CN=R3 serial 075BCEF3"  # as the issuer wrote it
    assert _edges(found) == {
        ("domain-name:www.example.com", "subdomain-of", "domain-name:example.com"),
        ("domain-name:api.example.com", "subdomain-of", "domain-name:example.com"),
        (f"x509-certificate:{cert}", "covers", "domain-name:example.com"),
        ("x509-certificate:crt.sh 2", "covers", "domain-name:api.example.com"),
    }
    attrs = _attrs(found, CERT, cert)
    assert attrs["not_after"] == "2024-04-29T23:59:59Z" and attrs["names"] == ["*.example.com", "example.com"]


def test_ct_prefers_the_fingerprint() -> None:
    data = {"source": "certspotter", "subdomains": [], "certificates": [{"id": "9", "sha256": "AB12", "names": []}]}
    found = _found(CtAdapter(CtOptions()), "example.com", data)
    assert AssetRef(CERT, "ab12") in {asset.ref for asset in found.assets}


def test_shodan_host_services_and_holder() -> None:
    data = {
        "source": "api",
        "ports": [443, 3389],
        "services": [
            {"port": 443, "transport": "tcp", "product": "nginx", "version": "1.25"},
            {"port": 3389, "transport": None, "product": None, "version": None},
        ],
        "vulns": ["CVE-2024-0001"],
        "hostnames": ["host.example.com"],
        "asn": "AS64500",
        "org": "World Example Networks",
    }
    found = _found(ShodanAdapter(ShodanOptions()), "198.51.100.7", data)
    assert _edges(found) == {
        ("ipv4-addr:198.51.100.7", "has-service", "service:198.51.100.7:443/tcp"),
        ("ipv4-addr:198.51.100.7", "has-service", "service:198.51.100.7:3389/tcp"),
        ("domain-name:host.example.com", "resolves-to", "ipv4-addr:198.51.100.7"),
        ("ipv4-addr:198.51.100.7", "announced-by", "autonomous-system:AS64500"),
        ("ipv4-addr:198.51.100.7", "held-by", "organization:World Example Networks"),
    }
    assert _attrs(found, SVC, "198.51.100.7:443/tcp") == {
        "port": 443,
        "protocol": "tcp",
        "product": "nginx",
        "version": "1.25",
    }
    assert _attrs(found, V4, "198.51.100.7") == {"cves": ["CVE-2024-0001"]}
    assert _attrs(found, ORG, "World Example Networks") == {"role": "network holder"}


def test_shodan_internetdb_ports_are_services() -> None:
    data = {"source": "internetdb", "ip": "2001:db8::7", "ports": [22], "vulns": [], "hostnames": []}
    found = _found(ShodanAdapter(ShodanOptions()), "2001:db8::7", data)
    assert _edges(found) == {("ipv6-addr:2001:db8::7", "has-service", "service:2001:db8::7:22/tcp")}


def test_shodan_domain_records() -> None:
    data = {
        "subdomains": ["www.example.com"],
        "records": [
            {"name": "www.example.com", "type": "A", "value": "198.51.100.7"},
            {"name": "example.com", "type": "MX", "value": "mail.example.com"},
            {"name": "example.com", "type": "TXT", "value": "hello"},
        ],
    }
    found = _found(ShodanAdapter(ShodanOptions()), "example.com", data)
    assert _edges(found) == {
        ("domain-name:www.example.com", "subdomain-of", "domain-name:example.com"),
        ("domain-name:www.example.com", "resolves-to", "ipv4-addr:198.51.100.7"),
        ("domain-name:mail.example.com", "mail-exchanger-of", "domain-name:example.com"),
    }


def test_virustotal_verdict_registrar_and_network() -> None:
    domain = {
        "last_analysis_stats": {"malicious": 3, "suspicious": 1},
        "reputation": -20,
        "registrar": "Example Registrar, Inc.",
        "last_dns_records": [{"type": "A", "value": "198.51.100.7"}, {"type": "NS", "value": "ns1.example.com"}],
    }
    found = _found(VirusTotalAdapter(VirusTotalOptions()), "example.com", domain)
    assert _attrs(found, D, "example.com") == {"malicious": 3, "suspicious": 1, "reputation": -20}
    assert _edges(found) == {
        ("domain-name:example.com", "registered-with", "organization:Example Registrar, Inc."),
        ("domain-name:example.com", "resolves-to", "ipv4-addr:198.51.100.7"),
        ("domain-name:ns1.example.com", "name-server-of", "domain-name:example.com"),
    }
    ip = {"reputation": 0, "asn": 64500, "as_owner": "WORLD-NET", "network": "198.51.100.0/24"}
    found = _found(VirusTotalAdapter(VirusTotalOptions()), "198.51.100.7", ip)
    assert _edges(found) == {
        ("ipv4-addr:198.51.100.7", "in-netblock", "netblock:198.51.100.0/24"),
        ("netblock:198.51.100.0/24", "announced-by", "autonomous-system:AS64500"),
    }
    assert _attrs(found, AS, "AS64500") == {"name": "WORLD-NET"}


def test_whois_domain_registration() -> None:
    data = {
        "source": "rdap",
        "registrar": "Example Registrar, Inc.",
        "nameservers": ["a.iana-servers.net"],
        "registrant": None,
        "registrant_org": "Example Org",
        "abuse_email": "Abuse@Registrar.example",
    }
    found = _found(WhoisAdapter(WhoisOptions()), "example.com", data)
    assert _edges(found) == {
        ("domain-name:example.com", "registered-with", "organization:Example Registrar, Inc."),
        ("domain-name:a.iana-servers.net", "name-server-of", "domain-name:example.com"),
        ("domain-name:example.com", "held-by", "organization:Example Org"),
        ("email-addr:abuse@registrar.example", "contact-of", "domain-name:example.com"),
    }
    assert _attrs(found, ORG, "Example Registrar, Inc.") == {"role": "registrar"}


def test_whois_ip_network() -> None:
    data = {
        "source": "rdap",
        "name": "WORLD-NET",
        "range": "198.51.100.0 - 198.51.100.255",
        "cidrs": ["198.51.100.0/24"],
        "country": "US",
        "registrant": "World Example Networks",
        "abuse_email": None,
    }
    found = _found(WhoisAdapter(WhoisOptions()), "198.51.100.7", data)
    assert _edges(found) == {
        ("ipv4-addr:198.51.100.7", "in-netblock", "netblock:198.51.100.0/24"),
        ("netblock:198.51.100.0/24", "held-by", "organization:World Example Networks"),
    }
    assert _attrs(found, NET, "198.51.100.0/24") == {"name": "WORLD-NET", "country": "US"}


def test_hostile_values_are_dropped_not_fatal() -> None:
    data = {"subdomains": ["<script>.example.com", "ok.example.com"], "records": []}
    found = _found(ShodanAdapter(ShodanOptions()), "example.com", data)
    assert AssetRef(D, "ok.example.com") in {a.ref for a in found.assets} and found.dropped == 1


def test_every_builtin_declares_assets_from_its_world_answer(world) -> None:  # type: ignore[no-untyped-def]
    """Against the loopback world, each built-in adapter's real data gives assets."""
    run = world.run_cli("search", "example.com", "198.51.100.7", "-f", "ndjson", env=world.key_env())
    assert run.code in (0, 1), run.stderr
    adapters = {cls.name: cls for cls in (CtAdapter, DnsAdapter, ShodanAdapter, VirusTotalAdapter, WhoisAdapter)}
    seen = set()
    for line in run.ndjson():
        if line["status"] != "ok" or line["adapter"] not in adapters:
            continue
        cls = adapters[line["adapter"]]
        adapter = cls(cls.Options())
        found = adapter.assets(parse_target(line["target"]["value"]), line["data"])
        assert found is not None and found.relations, line["adapter"]
        seen.add(line["adapter"])
    assert seen == set(adapters)


def test_the_testing_kit_checks_what_the_core_would_not_take() -> None:
    from osint_fanout._results import Result, Status
    from osint_fanout.testing import find_assets, relations

    result = Result(target=parse_target("example.com"), adapter="dns", status=Status.OK, elapsed_ms=1, data={})
    result = result.model_copy(update={"data": {"records": {"NS": ["ns1.example.net"]}}})
    assert relations(find_assets(DnsAdapter, result)) == {
        ("domain-name:ns1.example.net", "name-server-of", "domain-name:example.com")
    }

    class Wrong(DnsAdapter):
        def assets(self, target: Any, data: dict[str, Any]) -> Any:
            return {"hosts": []}

    class SetAttrs(DnsAdapter):
        def assets(self, target: Any, data: dict[str, Any]) -> Findings | None:
            found = Findings()
            found.add(D, "a.example.com", ports={1, 2})
            return found

    for broken, said in ((Wrong, "not Findings"), (SetAttrs, "not JSON")):
        with pytest.raises(AssertionError, match=said):
            find_assets(broken, result)


@pytest.mark.parametrize(
    "hostile",
    ["user@victim.example", "*.victim.example", ".victim.example", "victim.example:443", "https://victim.example/",
     "victim[.]example", "<img src=x onerror=alert(1)>", "victim.example/x"],
)
def test_an_asset_name_is_taken_strictly_not_as_a_pasted_target(hostile: str) -> None:
    """parse_target reads what people paste (user@host means host); an upstream's asset value
    must be a name as it stands, so a hostile answer cannot make another domain an asset."""
    found = Findings()
    assert found.add(AssetType.DOMAIN, hostile) is None
    assert found.dropped == 1 and not found.assets


def test_asset_names_are_canonical() -> None:
    found = Findings()
    refs = [found.add(AssetType.DOMAIN, name) for name in ("WWW.Example.com.", "bücher.de", "_dmarc.example.com")]
    assert [ref.value for ref in refs if ref] == ["www.example.com", "xn--bcher-kva.de", "_dmarc.example.com"]
    cert = found.add(AssetType.CERTIFICATE, "C=US, O=Example CA serial 0A")
    assert cert is not None and cert.value == "C=US, O=Example CA serial 0A"  # only a hex fingerprint is folded
    assert found.add(AssetType.CERTIFICATE, "AB:CD:EF") == AssetRef(AssetType.CERTIFICATE, "ab:cd:ef")
