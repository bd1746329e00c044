"""Exports of a stored asset graph: STIX 2.1 (stix2), GraphML (networkx), CSV."""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import replace

import networkx as nx
import pytest
import stix2
from stix2 import v21

from osint_fanout.assets import AssetGraph, AssetRef, AssetType, Relation, RelationKind, StoredRelation
from osint_fanout.export import export
from tests.report_kit import HOSTILE, T0, GraphBuilder, hostile_graph


def _objects(graph: AssetGraph) -> dict[str, dict]:
    bundle = json.loads(export(graph, "stix"))
    return {obj["id"]: obj for obj in bundle["objects"]}


def _shuffled(graph: AssetGraph) -> AssetGraph:
    assets, relations = list(graph.assets), list(graph.relations)
    random.Random(7).shuffle(assets)
    random.Random(8).shuffle(relations)
    return AssetGraph(graph.seed, assets, relations)


def test_stix_bundle_parses_with_stix2_and_holds_every_asset() -> None:
    graph = hostile_graph()
    text = export(graph, "stix")
    bundle = stix2.parse(text, allow_custom=True)
    assert bundle.type == "bundle"
    types = sorted(obj.type for obj in bundle.objects)
    assert types.count("domain-name") == 5 and types.count("ipv4-addr") == 5  # 4 addresses and the netblock
    assert {"ipv6-addr", "autonomous-system", "x509-certificate", "email-addr", "network-traffic"} <= set(types)
    names = {obj.name for obj in bundle.objects if obj.type == "identity"}
    assert names == {"osint-fanout", "Example Registrar, Inc.", "Example Hosting", *HOSTILE}  # hostile names: data


def test_stix_ids_are_deterministic_and_the_standards() -> None:
    graph = hostile_graph()
    first, again = export(graph, "stix"), export(_shuffled(graph), "stix")
    assert first == again  # same graph, same bytes, whatever order the store gave it in
    objects = _objects(graph)
    assert v21.DomainName(value="www.example.com").id in objects  # the SCO id STIX defines
    assert v21.IPv4Address(value="192.0.2.33").id in objects
    assert v21.AutonomousSystem(number=64500).id in objects


def test_stix_references_and_relationships() -> None:
    graph = hostile_graph()
    objects = _objects(graph)
    www = objects[v21.DomainName(value="www.example.com").id]
    assert sorted(www["resolves_to_refs"]) == sorted(
        [v21.IPv4Address(value="192.0.2.10").id, v21.IPv6Address(value="2001:db8::10").id]
    )
    netblock = objects[v21.IPv4Address(value="192.0.2.0/24").id]
    assert netblock["belongs_to_refs"] == [v21.AutonomousSystem(number=64500).id]
    rdp = [o for o in objects.values() if o["type"] == "network-traffic" and o.get("dst_port") == 3389]
    assert rdp and rdp[0]["dst_ref"] == v21.IPv4Address(value="192.0.2.33").id and rdp[0]["protocols"] == ["tcp"]
    cert = next(o for o in objects.values() if o["type"] == "x509-certificate")
    assert cert["hashes"] == {"SHA-256": "ab" * 32} and cert["issuer"] == "Example CA"
    kinds = sorted(o["relationship_type"] for o in objects.values() if o["type"] == "relationship")
    embedded = sum(len(o.get("resolves_to_refs", [])) + len(o.get("belongs_to_refs", [])) for o in objects.values())
    assert len(kinds) + embedded == len(graph.relations)  # every relation, once
    assert "subdomain-of" in kinds and "has-service" in kinds and "covers" in kinds
    for rel in (o for o in objects.values() if o["type"] == "relationship"):
        assert rel["source_ref"] in objects and rel["target_ref"] in objects


def test_stix_passes_the_oasis_validator() -> None:
    validator = pytest.importorskip("stix2validator")
    result = validator.validate_string(export(hostile_graph(), "stix"), validator.ValidationOptions(version="2.1"))
    assert result.is_valid, result.as_dict()


def test_a_relation_to_an_asset_the_store_did_not_list_still_exports() -> None:
    graph = hostile_graph()
    dangling = Relation(
        AssetRef(AssetType.DOMAIN, "example.com"), RelationKind.ALIAS_OF, AssetRef(AssetType.DOMAIN, "cdn.example.net")
    )
    graph = replace(graph, relations=[*graph.relations, StoredRelation(dangling, T0, T0)])
    objects = _objects(graph)
    assert v21.DomainName(value="cdn.example.net").id in objects
    assert (
        v21.DomainName(value="cdn.example.net").id
        in objects[v21.DomainName(value="example.com").id]["resolves_to_refs"]
    )
    assert "domain-name:cdn.example.net" in nx.read_graphml(io.StringIO(export(graph, "graphml")))


def test_graphml_opens_with_types_facts_and_relations() -> None:
    graph = hostile_graph()
    read = nx.read_graphml(io.StringIO(export(graph, "graphml")), force_multigraph=True)
    assert set(read.nodes) == {str(item.ref) for item in graph.assets}
    assert read.number_of_edges() == len(graph.relations)
    rdp = read.nodes["service:192.0.2.33:3389/tcp"]
    assert rdp["type"] == "service" and rdp["fact_port"] == 3389 and rdp["label"] == "192.0.2.33:3389/tcp"
    assert json.loads(read.nodes["service:192.0.2.66:22/tcp"]["fact_cves"]) == ["CVE-2023-48795"]
    assert read.nodes["domain-name:example.com"]["depth"] == 0
    assert "depth" not in read.nodes["ipv4-addr:192.0.2.33"]  # found, not followed
    edge = read.get_edge_data("domain-name:www.example.com", "ipv4-addr:192.0.2.10")
    assert [data["kind"] for data in edge.values()] == ["resolves-to"]


def test_graphml_stays_readable_with_control_characters_and_mixed_types() -> None:
    g = GraphBuilder("example.com")
    root = g.add(AssetType.DOMAIN, "example.com", depth=0, reputation=5)
    org = g.add(AssetType.ORGANIZATION, "Evil\x00 Corp\x1b[31m", adapter="whois", note="a\x01b")
    other = g.add(AssetType.DOMAIN, "www.example.com", reputation="high")
    g.relate(root, RelationKind.HELD_BY, org)
    g.relate(other, RelationKind.SUBDOMAIN_OF, root)
    read = nx.read_graphml(io.StringIO(export(g.graph(), "graphml")))
    assert "organization:Evil Corp[31m" in read.nodes
    assert read.nodes["organization:Evil Corp[31m"]["fact_note"] == "ab"
    assert read.nodes["domain-name:example.com"]["fact_reputation"] == "5"  # int here, text there: text


def test_csv_one_asset_per_row_and_no_formula() -> None:
    g = GraphBuilder("example.com")
    g.add(AssetType.DOMAIN, "example.com", depth=0)
    g.add(AssetType.ORGANIZATION, '=HYPERLINK("http://x.example","click")', adapter="whois")
    g.add(AssetType.ORGANIZATION, HOSTILE[0], adapter="whois")
    rows = list(csv.DictReader(io.StringIO(export(g.graph(), "csv"))))
    assert [row["type"] for row in rows] == ["domain-name", "organization", "organization"]
    assert rows[0]["depth"] == "0" and rows[0]["found_by"].startswith("dns on example.com at ")
    values = [row["value"] for row in rows]
    assert '\'=HYPERLINK("http://x.example","click")' in values  # a spreadsheet shows it, does not run it
    assert HOSTILE[0] in values
    assert rows[1]["depth"] == ""
