"""The graph as a STIX 2.1 bundle, built with the `stix2` library (docs/assets.md has the
mapping). Cyber-observables get the standard's deterministic ids (UUIDv5 of their
identifying properties, which stix2 computes); the SDOs (the tool's identity, organisations
as identities, relationships) and the bundle get UUIDv5 ids of ours, so exporting the same
graph twice gives the same ids."""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from ..assets import AssetGraph, AssetRef, AssetType, RelationKind, StoredAsset

__all__ = ["NAMESPACE", "stix_bundle"]

NAMESPACE = uuid.UUID("5f0f7e3e-6b44-5a53-9b1e-0f2a4e3c9d71")
"""osint-fanout's UUIDv5 namespace for the ids STIX leaves to the producer."""

EMBEDDED = {
    RelationKind.RESOLVES_TO: "resolves_to_refs",  # domain-name -> ipv4/ipv6-addr
    RelationKind.ALIAS_OF: "resolves_to_refs",  # domain-name -> domain-name (CNAME)
    RelationKind.ANNOUNCED_BY: "belongs_to_refs",  # ipv4/ipv6-addr (and netblocks) -> autonomous-system
}
"""Relations that STIX writes as references inside the source object; the others become
relationship objects."""

_ORDER = {AssetType.IPV4: 1, AssetType.IPV6: 1, AssetType.NETBLOCK: 1, AssetType.DOMAIN: 2, AssetType.SERVICE: 3}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def _id(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, '|'.join(parts))}"


def stix_bundle(graph: AssetGraph) -> str:
    """The STIX 2.1 bundle of `graph`, as JSON text."""
    from stix2 import v21

    tool = v21.Identity(
        id=_id("identity", "osint-fanout"),
        name="osint-fanout",
        identity_class="system",
        description="OSINT fan-out: DNS, WHOIS/RDAP, certificate transparency, Shodan, VirusTotal",
        created="2026-01-01T00:00:00Z",
        modified="2026-01-01T00:00:00Z",
    )
    refs: dict[AssetRef, list[tuple[str, AssetRef]]] = defaultdict(list)
    relationships = []
    for item in graph.relations:
        relation = item.relation
        field = EMBEDDED.get(relation.kind)
        if field and _embeds(relation.source, relation.target, relation.kind):
            refs[relation.source].append((field, relation.target))
        else:
            relationships.append(item)
    # Objects in the order their references need: ASes before addresses, addresses before
    # the names that resolve to them and the services on them. An SCO's id depends only on
    # its identifying properties, so a reference to one not made yet (a CNAME's target) is
    # resolved by making it bare.
    stored = {item.ref: item for item in graph.assets}
    ids: dict[AssetRef, str] = {}

    def id_of(ref: AssetRef) -> str:
        if ref not in ids:
            ids[ref] = _make(v21, stored[ref], {}, ids, tool.id).id
        return ids[ref]

    objects: list[Any] = [tool]
    for item in graph.assets:  # a service's address, when the graph lacks it
        address = service_address(item.ref.value)[0] if item.ref.type is AssetType.SERVICE else None
        if address is not None and address not in stored and address not in ids:
            made = _address(v21, address)
            ids[address] = made.id
            objects.append(made)
    for item in sorted(graph.assets, key=lambda asset: (_ORDER.get(asset.ref.type, 0), asset.ref)):
        embedded: dict[str, list[str]] = defaultdict(list)
        for field, target in sorted(refs.get(item.ref, [])):
            embedded[field].append(id_of(target))
        made = _make(v21, item, dict(embedded), ids, tool.id)
        ids[item.ref] = made.id
        objects.append(made)
    for item in sorted(relationships, key=lambda stored_relation: stored_relation.relation):
        relation = item.relation
        objects.append(
            v21.Relationship(
                id=_id("relationship", str(relation.source), str(relation.kind), str(relation.target)),
                relationship_type=str(relation.kind),
                source_ref=ids[relation.source],
                target_ref=ids[relation.target],
                created_by_ref=tool.id,
                created=_stamp(item.first_seen),
                modified=_stamp(max(item.last_seen, item.first_seen)),
                start_time=_stamp(item.first_seen),
                stop_time=_stamp(item.last_seen) if item.last_seen > item.first_seen else None,
            )
        )
    bundle = v21.Bundle(
        id=_id("bundle", graph.seed, *sorted(obj.id for obj in objects)), objects=objects, allow_custom=True
    )
    return bundle.serialize(sort_keys=True, indent=1)  # not pretty=True: its key ordering is quadratic


def _embeds(source: AssetRef, target: AssetRef, kind: RelationKind) -> bool:
    """Only where STIX allows the reference: resolves_to_refs from a domain-name to an
    address or a domain-name; belongs_to_refs from an address (or netblock) to an AS."""
    if kind is RelationKind.ANNOUNCED_BY:
        return target.type is AssetType.AS and source.type in (AssetType.IPV4, AssetType.IPV6, AssetType.NETBLOCK)
    return source.type is AssetType.DOMAIN and target.type in (AssetType.IPV4, AssetType.IPV6, AssetType.DOMAIN)


def _make(v21: Any, item: StoredAsset, refs: dict[str, list[str]], ids: dict[AssetRef, str], tool: str) -> Any:
    """One asset as its STIX object; `ids` (when known) resolve a service's address."""
    kind, value, attrs = item.ref.type, item.ref.value, item.asset.attrs
    custom = _custom(item)
    if kind is AssetType.DOMAIN:
        return v21.DomainName(value=value, **refs, **custom)
    if kind in (AssetType.IPV4, AssetType.IPV6, AssetType.NETBLOCK):
        ipv6 = ":" in value
        factory = v21.IPv6Address if ipv6 else v21.IPv4Address
        return factory(value=value, **refs, **custom)
    if kind is AssetType.AS:
        return v21.AutonomousSystem(number=int(value.removeprefix("AS")), name=_text(attrs.get("name")), **custom)
    if kind is AssetType.EMAIL:
        return v21.EmailAddress(value=value, **custom)
    if kind is AssetType.CERTIFICATE:
        identity: dict[str, Any] = {"hashes": {"SHA-256": value}} if _SHA256.match(value) else {}
        if not identity or attrs.get("serial"):
            identity["serial_number"] = _text(attrs.get("serial")) or value
        return v21.X509Certificate(
            **identity,
            issuer=_text(attrs.get("issuer")),
            validity_not_before=_time(attrs.get("not_before")),
            validity_not_after=_time(attrs.get("not_after")),
            **custom,
        )
    if kind is AssetType.SERVICE:
        return _service(v21, item, ids, tool, custom)
    return v21.Identity(  # organization
        id=_id("identity", "organization", value),
        name=value,
        identity_class="organization",
        created_by_ref=tool,
        created=_stamp(item.first_seen),
        modified=_stamp(max(item.last_seen, item.first_seen)),
        **custom,
    )


def service_address(value: str) -> tuple[AssetRef | None, int | None, str]:
    """A service's address, port and protocol from its value ("198.51.100.7:443/tcp",
    "[2001:db8::1]:22/tcp"); the address None when the value holds none."""
    address, _, rest = value.rpartition(":")
    port_text, _, protocol = rest.partition("/")
    port = int(port_text) if port_text.isdigit() and int(port_text) <= 65535 else None
    protocol = protocol.lower() or "tcp"
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return None, port, protocol
    return AssetRef(AssetType.IPV4 if ip.version == 4 else AssetType.IPV6, ip.compressed), port, protocol


def _service(v21: Any, item: StoredAsset, ids: dict[AssetRef, str], tool: str, custom: dict[str, Any]) -> Any:
    """A service as network-traffic to its address and port (the address is in the bundle:
    stix_bundle adds those missing); infrastructure when its value names no address."""
    address, port, protocol = service_address(item.ref.value)
    if address is None:
        return v21.Infrastructure(
            id=_id("infrastructure", item.ref.value),
            name=item.ref.value,
            infrastructure_types=["unknown"],
            created_by_ref=tool,
            created=_stamp(item.first_seen),
            modified=_stamp(max(item.last_seen, item.first_seen)),
            **custom,
        )
    dst = ids.get(address) or _address(v21, address).id
    fields = {"dst_ref": dst, "dst_port": port, "protocols": [protocol]}
    return v21.NetworkTraffic(**{k: v for k, v in fields.items() if v is not None}, **custom)


def _address(v21: Any, ref: AssetRef) -> Any:
    return (v21.IPv6Address if ref.type is AssetType.IPV6 else v21.IPv4Address)(value=ref.value)


def _custom(item: StoredAsset) -> dict[str, Any]:
    """Our facts that STIX has no property for, as x_osint_fanout_* custom properties."""
    facts = {key: val for key, val in item.asset.attrs.items() if val not in (None, "", [], {})}
    found = {
        "x_osint_fanout_first_seen": _stamp(item.first_seen),
        "x_osint_fanout_last_seen": _stamp(item.last_seen),
        "x_osint_fanout_found_by": [
            {"adapter": seen.adapter, "target": seen.target, "at": _stamp(seen.at)} for seen in item.found_by
        ],
    }
    if item.ref.type is AssetType.NETBLOCK:
        found["x_osint_fanout_netblock"] = True
    if facts:
        found["x_osint_fanout_facts"] = _json(facts)
    if item.depth is not None:
        found["x_osint_fanout_depth"] = item.depth
    return {**found, "allow_custom": True}


def _json(value: Any) -> Any:
    import math

    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(key): _json(val) for key, val in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json(val) for val in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _time(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return _stamp(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _stamp(moment: datetime) -> str:
    from datetime import UTC

    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
