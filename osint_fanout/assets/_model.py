"""Typed assets and named relations: what a lookup found, and how it connects.

The vocabulary is STIX 2.1's cyber-observables where STIX has a name (`domain-name`,
`ipv4-addr`, `autonomous-system`, `x509-certificate`, `email-addr`, `resolves_to`,
`belongs_to`), else the OWASP Open Asset Model's (Netblock, Organization, Service). The
mapping is written down once, in docs/assets.md, and the exports follow it.

An adapter returns `Findings` from `Adapter.assets(target, data)`: assets, and relations
between them (the target itself is an asset too: `Findings.target_ref(target)`). Values are
canonical (see `canonical`), so the same thing found by two adapters is one asset.
Provenance (which adapter, target and time found it) is added by the core, never by the
adapter.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .._targets import InvalidTarget, Target, TargetKind, parse_target

__all__ = [
    "Asset",
    "AssetRef",
    "AssetType",
    "Findings",
    "Relation",
    "RelationKind",
    "canonical",
]


class AssetType(StrEnum):
    """What an asset is. Values are STIX 2.1 object types where one exists."""

    DOMAIN = "domain-name"  # value: lowercase ASCII (punycode) name, no trailing dot
    IPV4 = "ipv4-addr"  # value: dotted quad
    IPV6 = "ipv6-addr"  # value: compressed form
    NETBLOCK = "netblock"  # value: CIDR, e.g. 198.51.100.0/24 (STIX: an ipv4/6-addr holding a CIDR)
    AS = "autonomous-system"  # value: "AS64500"
    ORGANIZATION = "organization"  # value: the name as the upstream wrote it (STIX: identity)
    CERTIFICATE = "x509-certificate"  # value: SHA-256 fingerprint, lowercase hex (else issuer + serial)
    SERVICE = "service"  # value: "198.51.100.7:443/tcp" (STIX: network-traffic; OAM: Service)
    EMAIL = "email-addr"  # value: lowercase address


class RelationKind(StrEnum):
    """How a source asset relates to a target asset (read: SOURCE <kind> TARGET)."""

    SUBDOMAIN_OF = "subdomain-of"  # domain -> its parent domain (the seed or registered domain)
    RESOLVES_TO = "resolves-to"  # domain -> ip (A/AAAA)            STIX resolves_to_refs
    ALIAS_OF = "alias-of"  # domain -> domain it is a CNAME for       STIX resolves_to_refs
    NAME_SERVER_OF = "name-server-of"  # ns domain -> domain (NS)
    MAIL_EXCHANGER_OF = "mail-exchanger-of"  # mx domain -> domain (MX)
    REVERSE_NAME_OF = "reverse-name-of"  # domain -> ip it is the PTR name of
    COVERS = "covers"  # certificate -> domain named in its subject/SANs
    IN_NETBLOCK = "in-netblock"  # ip -> netblock                       STIX belongs_to_refs
    ANNOUNCED_BY = "announced-by"  # netblock or ip -> autonomous system STIX belongs_to_refs
    REGISTERED_WITH = "registered-with"  # domain -> organization (registrar)
    HELD_BY = "held-by"  # netblock, AS or domain -> organization (holder, registrant)
    HAS_SERVICE = "has-service"  # ip -> service
    CONTACT_OF = "contact-of"  # email -> domain, netblock or AS it is a contact for (abuse, registrant)


@dataclass(frozen=True, slots=True, order=True)
class AssetRef:
    """An asset's identity: its type and canonical value."""

    type: AssetType
    value: str

    def __str__(self) -> str:
        return f"{self.type}:{self.value}"


@dataclass(frozen=True, slots=True)
class Asset:
    """A found thing. `attrs` holds JSON-able details (a service's product and CVEs, a
    certificate's validity, an AS's holder); they are not part of its identity."""

    ref: AssetRef
    attrs: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def type(self) -> AssetType:
        return self.ref.type

    @property
    def value(self) -> str:
        return self.ref.value


@dataclass(frozen=True, slots=True, order=True)
class Relation:
    source: AssetRef
    kind: RelationKind
    target: AssetRef


_AS = re.compile(r"^(?:AS)?(\d{1,10})$", re.IGNORECASE)
_HEX = re.compile(r"^[0-9a-fA-F:]+$")
_NOT_IN_A_NAME = re.compile(r"[\s:/?#@\[\](){}*\\'\"<>]")


def canonical(kind: AssetType, value: str) -> str:
    """The canonical value of an asset of `kind`; ValueError when `value` is not one."""
    text = value.strip()
    if kind is AssetType.DOMAIN:
        return _domain(text)
    if kind in (AssetType.IPV4, AssetType.IPV6):
        ip = ipaddress.ip_address(text)
        if (ip.version == 4) != (kind is AssetType.IPV4):
            raise ValueError(f"{text!r} is not an {kind}")
        return ip.compressed
    if kind is AssetType.NETBLOCK:
        return ipaddress.ip_network(text, strict=False).compressed
    if kind is AssetType.AS:
        match = _AS.match(text)
        if not match or int(match.group(1)) >= 2**32:
            raise ValueError(f"{text!r} is not an AS number")
        return f"AS{int(match.group(1))}"
    if kind is AssetType.EMAIL:
        local, at, domain = text.rpartition("@")
        if not at or not local:
            raise ValueError(f"{text!r} is not an e-mail address")
        return f"{local.lower()}@{canonical(AssetType.DOMAIN, domain)}"
    if kind is AssetType.CERTIFICATE:  # a hex fingerprint in one case; issuer + serial as given
        return text.lower() if _HEX.match(text) else text
    if not text:
        raise ValueError(f"an empty {kind}")
    return text


def _domain(text: str) -> str:
    """A domain name's canonical form."""
    # Strict: a name as an upstream states it, not the forms a person pastes, which
    # parse_target reads (user@host, *.host, host:port, URLs, defanged names): a
    # hostile upstream must not turn "user@victim.example" into the asset victim.example.
    if _NOT_IN_A_NAME.search(text):
        raise ValueError(f"{text!r} is not a domain name")
    try:
        target = parse_target(text.rstrip("."))
    except InvalidTarget as exc:
        raise ValueError(str(exc)) from None
    if target.kind is not TargetKind.DOMAIN or target.note is not None:
        raise ValueError(f"{text!r} is not a domain name")
    return target.value


def ip_type(value: str) -> AssetType:
    """IPV4 or IPV6 for an address (ValueError when it is none)."""
    return AssetType.IPV4 if ipaddress.ip_address(value.strip()).version == 4 else AssetType.IPV6


class Findings:
    """What one lookup found: assets and relations, built by an adapter's `assets()`.

    Values that are not valid for their type are dropped (upstream data is hostile), and
    counted in `dropped`, so one bad name never costs the others.
    """

    def __init__(self) -> None:
        self._assets: dict[AssetRef, Asset] = {}
        self._relations: set[Relation] = set()
        self.dropped = 0

    @staticmethod
    def target_ref(target: Target) -> AssetRef:
        """The asset that the target of a lookup is."""
        if target.kind is TargetKind.DOMAIN:
            return AssetRef(AssetType.DOMAIN, target.value)
        return AssetRef(AssetType.IPV4 if target.kind is TargetKind.IPV4 else AssetType.IPV6, target.value)

    def add(self, kind: AssetType, value: str, **attrs: Any) -> AssetRef | None:
        """Add an asset (merging attrs with an earlier one); its ref, or None if invalid."""
        try:
            ref = AssetRef(kind, canonical(kind, str(value)))
        except ValueError:
            self.dropped += 1
            return None
        known = self._assets.get(ref)
        merged = {**known.attrs, **attrs} if known else attrs
        self._assets[ref] = Asset(ref, {k: v for k, v in merged.items() if v is not None})
        return ref

    def relate(self, source: AssetRef | None, kind: RelationKind, target: AssetRef | None) -> None:
        """Relate two assets (refs from `add` or `target_ref`); a None side is ignored."""
        if source is None or target is None or source == target:
            return
        for ref in (source, target):
            self._assets.setdefault(ref, Asset(ref))
        self._relations.add(Relation(source, kind, target))

    def link(
        self, kind: AssetType, value: str, relation: RelationKind, to: AssetRef | None, **attrs: Any
    ) -> AssetRef | None:
        """`add` an asset and relate it (as the source) to `to`, in one step."""
        ref = self.add(kind, value, **attrs)
        self.relate(ref, relation, to)
        return ref

    # Sorted by plain tuples, the order of the dataclasses' own comparison: compared in C, so
    # a result naming thousands of assets sorts in milliseconds, not in a tenth of a second.
    @property
    def assets(self) -> list[Asset]:
        return sorted(self._assets.values(), key=lambda asset: (asset.ref.type, asset.ref.value))

    @property
    def relations(self) -> list[Relation]:
        return sorted(
            self._relations, key=lambda r: (r.source.type, r.source.value, r.kind, r.target.type, r.target.value)
        )

    def __bool__(self) -> bool:
        return bool(self._assets)
