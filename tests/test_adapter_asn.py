"""The asn adapter (Team Cymru's IP-to-ASN DNS) against the world's Cymru server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from osint_fanout._results import Status
from osint_fanout.assets import AssetRef, AssetType, RelationKind
from osint_fanout.testing import run_adapter
from osint_fanout_adapters.asn import AsnAdapter, AsnOptions, parse_as_name, parse_origin
from tests.world.cymru import CymruServer, cymru_records


@pytest.fixture
def server() -> Iterator[CymruServer]:
    made = CymruServer(zone={}, fallback=cymru_records).start()
    try:
        yield made
    finally:
        made.stop()


def _run(server: CymruServer, target: str, **options: object):  # type: ignore[no-untyped-def]
    return run_adapter(AsnAdapter, target, nameservers=[server.address], **options)


def test_ipv4_origin_prefix_and_as_name(server: CymruServer) -> None:
    result = _run(server, "198.51.100.7")
    assert result.status is Status.OK, result
    data = result.data
    assert data is not None
    assert (data["asn"], data["prefix"], data["country"]) == (64500, "198.51.100.0/24", "US")
    assert data["as_name"] == "WORLD-NET - World Example Networks, US"
    assert [o["prefix"] for o in data["origins"]] == ["198.51.100.0/24", "198.51.0.0/16"]  # most specific first
    assert set(data["as_names"]) == {"AS64500", "AS64501"}
    assert result.summary == "AS64500 · WORLD-NET - World Example Networks, US · 198.51.100.0/24 · US"
    names = [name for _, name, rdtype in server.queries if rdtype == "TXT"]
    assert "7.100.51.198.origin.asn.cymru.com" in names and "as64500.asn.cymru.com" in names


def test_ipv6_asks_origin6(server: CymruServer) -> None:
    result = _run(server, "2001:db8::7")
    assert result.status is Status.OK, result
    assert result.data is not None and result.data["prefix"] == "2001:db8::/32"
    assert any(name.endswith(".origin6.asn.cymru.com") for _, name, _ in server.queries)


def test_assets_netblocks_and_ases(server: CymruServer) -> None:
    result = _run(server, "198.51.100.7")
    assert result.data is not None
    found = AsnAdapter(AsnOptions()).assets(result.target, result.data)
    assert found is not None
    ip = AssetRef(AssetType.IPV4, "198.51.100.7")
    block, wide = AssetRef(AssetType.NETBLOCK, "198.51.100.0/24"), AssetRef(AssetType.NETBLOCK, "198.51.0.0/16")
    as1, as2 = AssetRef(AssetType.AS, "AS64500"), AssetRef(AssetType.AS, "AS64501")
    assert {(r.source, r.kind, r.target) for r in found.relations} == {
        (ip, RelationKind.IN_NETBLOCK, block),
        (ip, RelationKind.IN_NETBLOCK, wide),
        (block, RelationKind.ANNOUNCED_BY, as1),
        (wide, RelationKind.ANNOUNCED_BY, as2),
    }
    attrs = {asset.ref: asset.attrs for asset in found.assets}
    assert attrs[as1] == {"name": "WORLD-NET - World Example Networks, US", "country": "US"}
    assert attrs[block] == {"country": "US"}


def test_an_unannounced_address_is_empty(server: CymruServer) -> None:
    server.behaviours["198.51.100.9"] = "nxdomain"
    assert _run(server, "198.51.100.9").status is Status.EMPTY


def test_servfail_and_refused_are_errors(server: CymruServer) -> None:
    server.behaviours["198.51.100.8"] = "servfail"
    result = _run(server, "198.51.100.8")
    assert result.status is Status.ERROR and result.error is not None and result.error.type == "servfail"


def test_refused_is_named_and_a_silent_server_times_out_within_the_budget(server: CymruServer) -> None:
    server.behaviours["198.51.100.12"] = "refused"
    refused = _run(server, "198.51.100.12")
    assert refused.status is Status.ERROR and refused.error is not None and refused.error.type == "refused"
    server.behaviours["198.51.100.13"] = "drop"
    silent = _run(server, "198.51.100.13", timeout_s=1.0)
    assert silent.status is Status.TIMEOUT and silent.error is not None, silent
    assert "no answer" in silent.error.message


def test_a_missing_as_name_leaves_the_origin(server: CymruServer) -> None:
    server.zone["9.100.51.198.origin.asn.cymru.com"] = {"TXT": ['"64999 | 198.51.100.0/24 | US | arin | 2010-01-01"']}
    result = _run(server, "198.51.100.9")
    assert result.status is Status.OK and result.data is not None
    assert (result.data["asn"], result.data["as_name"]) == (64999, None)


def test_hostile_answers_are_checked_field_by_field(server: CymruServer) -> None:
    server.zone["10.100.51.198.origin.asn.cymru.com"] = {
        "TXT": ['"[red]x | not a prefix | US"', '"64500 | 198.51.100.0/24 | \\027[2J | ;rm | yesterday"']
    }
    result = _run(server, "198.51.100.10")
    assert result.status is Status.OK and result.data is not None
    origin = result.data["origins"] == [
        {"asns": [64500], "prefix": "198.51.100.0/24", "country": None, "registry": None, "allocated": None}
    ]
    assert origin and len(result.data["warnings"]) == 1


def test_nothing_readable_is_a_parse_error(server: CymruServer) -> None:
    server.zone["11.100.51.198.origin.asn.cymru.com"] = {"TXT": ['"<html>"']}
    result = _run(server, "198.51.100.11")
    assert result.status is Status.ERROR and result.error is not None and result.error.type == "parse"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15169 | 8.8.8.0/24 | US | arin | 2000-03-30", {"asns": [15169], "prefix": "8.8.8.0/24"}),
        ("3356 1299 | 4.0.0.0/9 | us | ARIN |", {"asns": [3356, 1299], "country": "US", "registry": "arin"}),
        ("99999999999 | 8.8.8.0/24", None),
        ("AS1 | 8.8.8.0/24", None),
        ("", None),
    ],
)
def test_parse_origin(text: str, expected: dict[str, object] | None) -> None:
    parsed = parse_origin(text)
    if expected is None:
        assert parsed is None
    else:
        assert parsed is not None and expected.items() <= parsed.items()


def test_parse_as_name_keeps_one_line() -> None:
    parsed = parse_as_name("15169 | US | arin | 2000-03-30 | GOOGLE -\n Google | LLC, US")
    assert parsed == {"asn": 15169, "name": "GOOGLE - Google | LLC, US", "country": "US"}
    assert parse_as_name("x | US | arin | 2000 | name") is None


def test_a_zone_that_is_no_domain_name_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="as_zone"):
        AsnOptions.model_validate({"as_zone": "not a zone!"})


def test_in_the_world(world) -> None:  # type: ignore[no-untyped-def]
    run = world.run_cli("search", "198.51.100.7", "-a", "asn", "-f", "ndjson")
    assert run.code == 0, run.stderr
    [line] = run.ndjson()
    assert line["status"] == "ok" and line["data"]["asn"] == 64500
