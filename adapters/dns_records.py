"""DNS records as assets: the one mapping of a record type to a relation (A/AAAA: resolves-to,
CNAME: alias-of, MX: mail-exchanger-of, NS: name-server-of, PTR: reverse-name-of), shared by
the adapters that report DNS records (dns, shodan, virustotal)."""

from __future__ import annotations

from osint_fanout.assets import AssetRef, AssetType, Findings, RelationKind, ip_type

__all__ = ["add_record", "add_subdomains"]


def add_record(found: Findings, name: AssetRef | None, rdtype: str, value: str) -> None:
    """Add what a record of `name` (`rdtype` VALUE) says, related to `name`; other types are
    not assets. An MX value may be 'PREF HOST' or just 'HOST'."""
    rdtype = rdtype.upper()
    text = str(value).strip()
    if rdtype in ("A", "AAAA"):
        try:
            kind = ip_type(text)
        except ValueError:
            found.dropped += 1
            return
        found.relate(name, RelationKind.RESOLVES_TO, found.add(kind, text))
    elif rdtype == "CNAME":
        found.relate(name, RelationKind.ALIAS_OF, found.add(AssetType.DOMAIN, text))
    elif rdtype == "MX":
        host = text.split()[-1] if text else text
        if host not in ("", "."):  # a null MX (RFC 7505) names no host
            found.link(AssetType.DOMAIN, host, RelationKind.MAIL_EXCHANGER_OF, name)
    elif rdtype == "NS":
        found.link(AssetType.DOMAIN, text, RelationKind.NAME_SERVER_OF, name)
    elif rdtype == "PTR":
        found.link(AssetType.DOMAIN, text, RelationKind.REVERSE_NAME_OF, name)


def add_subdomains(found: Findings, parent: AssetRef, names: list[str]) -> None:
    """Names under `parent` (the target): each subdomain-of it; the parent itself is skipped."""
    for name in names:
        found.link(AssetType.DOMAIN, name, RelationKind.SUBDOMAIN_OF, parent)
