"""What RDAP answers say (RFC 9083): domains and IP networks, and a registrar's own record.

Pure functions over parsed JSON, for whois.py, which does the asking. An RDAP answer is upstream
data of any shape: every member is checked before it is used, and a member of the wrong type
counts as absent. Role and event names are matched whatever their case (a registrar's server may
write "Registrant"); an entity is looked for breadth-first, so that the one closest to the object
asked about wins (a network's own abuse contact over one nested in its registrant); dates take
the normal form of whois_dates.py, the port-43 path's as well.
"""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from osint_fanout import AdapterError

from .whois_dates import read_date

__all__ = ["add_registrar_record", "rdap_data", "registrar_link"]

RDAP_TYPE = "application/rdap+json"
_LISTS = ("entities", "events", "status", "nameservers", "cidr0_cidrs")  # RFC 9083 arrays we read
_EVENTS = {"created": "registration", "updated": "last changed", "expires": "expiration"}  # RFC 9083 4.8
_DEPTH = 8  # how deep entities are looked for: a hostile answer may nest them without end
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def rdap_data(doc: Any, where: str, network: bool) -> dict[str, Any]:
    """What an RDAP domain or "ip network" object (RFC 9083 sections 5.3, 5.4) says; `where` is
    the host and path that answered."""
    object_class, key = ("ip network", "startAddress") if network else ("domain", "ldhName")
    ok = isinstance(doc, dict) and (doc.get("objectClassName") == object_class or key in doc)
    if not ok or not isinstance(doc.get(key, ""), str) or any(not isinstance(doc.get(m, []), list) for m in _LISTS):
        raise AdapterError("parse", f"{where} did not answer an RDAP {object_class} object")
    dates = _dates(doc, network)
    warnings = dates.pop("warnings")
    common = {
        "source": "rdap",
        "server": where.split("/", 1)[0],
        "handle": doc.get("handle"),
        "status": [status for status in doc.get("status", []) if isinstance(status, str)],
        **dates,
    }
    if network:
        data = common | _network(doc)
        return data | {"warnings": [*warnings, *data["warnings"]]}
    registrar = _role(doc, "registrar") or {}
    ids = [
        _get(p, "identifier") for p in _list(registrar.get("publicIds")) if _same(_get(p, "type"), "IANA Registrar ID")
    ]
    nameservers = [_get(ns, "ldhName") for ns in doc.get("nameservers", [])]
    return common | {
        "name": str(doc.get("ldhName") or "").lower() or None,
        "registrar": name_of(registrar),
        "registrar_iana_id": ids[0] if ids else None,
        "nameservers": sorted({ns.lower().rstrip(".") for ns in nameservers if isinstance(ns, str)}),
        "dnssec": _get(doc.get("secureDNS"), "delegationSigned"),
        "abuse_email": _vcard(_role(registrar, "abuse") or _role(doc, "abuse") or {}, "email"),
        **_registrant(doc),
        "registrar_server": None,
        "registrar_added": [],
        "warnings": warnings,
    }


def _dates(doc: dict[str, Any], network: bool) -> dict[str, Any]:
    """The object's registration, last change and (a domain's) expiration, from its events, in the
    normal form (whois_dates.py); `no_time_zone` names the dates the registry gave without one."""
    events: dict[str, Any] = {}
    for event in reversed(doc.get("events", [])):  # the first of each action wins
        action = _get(event, "eventAction")
        if isinstance(action, str):
            events[action.strip().lower()] = _get(event, "eventDate")
    found: dict[str, Any] = {"no_time_zone": [], "warnings": []}
    for field, action in _EVENTS.items():
        if network and field == "expires":
            continue
        text = events.get(action)
        reading = read_date(text) if isinstance(text, str) and text.strip() else None
        found[field] = reading and reading.value
        if reading and reading.problem:
            found["warnings"].append(f"{field}: {reading.problem} {text[:80]!r}")
        if reading and reading.no_zone:
            found["no_time_zone"].append(field)
    return found


def _registrant(doc: dict[str, Any]) -> dict[str, Any]:
    """The holder, named only as the answer names it (its vCard's fn or org): a handle alone, such
    as a RIPE maintainer ("EXAMPLE-MNT") or a registry's contact ID, is no name, and is kept as
    `registrant_handle`."""
    owner = _role(doc, "registrant") or {}
    handle = owner.get("handle")
    return {
        "registrant": _card_name(owner),
        "registrant_org": _vcard(owner, "org"),
        "registrant_country": _country(owner),
        "registrant_handle": (handle.strip() or None) if isinstance(handle, str) else None,
    }


def _network(doc: dict[str, Any]) -> dict[str, Any]:
    """An IP network's own members. Older RIR answers write addresses their own way (ARIN's
    "074.125.000.000", RIPE's "62.239.237.0/32"): each is given in its canonical form, with the
    network's CIDR prefixes (cidr0_cidrs when there, else computed from the range)."""
    warnings: list[str] = []
    start, end = (_address(doc.get(member), member, warnings) for member in ("startAddress", "endAddress"))
    cidrs = []
    for item in doc.get("cidr0_cidrs", []):
        prefix, length = _get(item, "v4prefix") or _get(item, "v6prefix"), _get(item, "length")
        found = _address(prefix, "cidr0_cidrs", warnings)
        if found is not None and isinstance(length, int) and 0 <= length <= found.max_prefixlen:
            cidrs.append(str(ipaddress.ip_network(f"{found}/{length}", strict=False)))
    if not cidrs and start is not None and end is not None:
        try:
            cidrs = [str(net) for net in ipaddress.summarize_address_range(start, end)]  # type: ignore[type-var]
        except (TypeError, ValueError):  # of two versions, or the start after the end
            warnings.append(f"no CIDR prefixes for the range {start} - {end}")
    holder = _registrant(doc)
    return {
        "name": doc.get("name"),
        "type": doc.get("type"),
        "range": f"{start} - {end}" if start is not None and end is not None else None,
        "cidrs": cidrs,
        "country": doc.get("country"),
        "registrant": holder["registrant"],
        "registrant_handle": holder["registrant_handle"],
        "abuse_email": _vcard(_role(doc, "abuse") or {}, "email"),
        "warnings": warnings,
    }


def _address(value: Any, member: str, warnings: list[str]) -> IpAddress | None:
    """An address as RIRs write it: canonical, or zero-padded IPv4 octets (decimal, as ARIN means
    them: ipaddress refuses them since other software reads them as octal), or with a "/len"."""
    if value is None:
        return None
    text = str(value).strip().split("/", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        octets = text.split(".")
        if len(octets) == 4 and all(o.isdigit() and len(o) <= 3 and int(o) <= 255 for o in octets):
            return ipaddress.IPv4Address(".".join(str(int(o)) for o in octets))
    warnings.append(f"{member}: not an IP address {str(value)[:60]!r}")
    return None


def registrar_link(doc: Any, asked: str) -> str | None:
    """The registrar's own RDAP record of the domain, which a registry's answer links to
    (`links` with rel "related" and the RDAP media type: the "thin" to "thick" step of ICANN's
    RDAP Response Profile), if there is one other than the URL `asked`."""
    for link in _list(_get(doc, "links")):
        href, kind = _get(link, "href"), str(_get(link, "type") or RDAP_TYPE).lower()
        if _get(link, "rel") != "related" or kind != RDAP_TYPE or not isinstance(href, str):
            continue
        if urlsplit(href).scheme in ("http", "https") and href.rstrip("/") != asked.rstrip("/"):
            return href
    return None


def add_registrar_record(data: dict[str, Any], doc: Any) -> list[str]:
    """Fill what the registry's `data` lacks from the registrar's own `doc`: registrant (name,
    organisation, country), the registrar's abuse e-mail, its name. Returns the fields added."""
    if not isinstance(doc, dict) or not (doc.get("objectClassName") == "domain" or "ldhName" in doc):
        raise ValueError("not an RDAP domain object")
    if str(doc.get("ldhName", "")).lower().rstrip(".") != data.get("name"):
        raise ValueError(f"an answer about {str(doc.get('ldhName'))[:80]!r}, not {data.get('name')!r}")
    registrar = _role(doc, "registrar") or {}
    theirs = _registrant(doc) | {
        "abuse_email": _vcard(_role(registrar, "abuse") or _role(doc, "abuse") or {}, "email"),
        "registrar": name_of(registrar),
    }
    added = [key for key, value in theirs.items() if value and not data.get(key)]
    data.update({key: theirs[key] for key in added})
    return added


def name_of(entity: dict[str, Any]) -> str | None:
    """What a registrar is called: its vCard's full name (fn), else its organisation (org), else
    its handle or first public ID (CZ.NIC names its registrars by handle only). A name the
    registry redacted does not count."""
    if name := _card_name(entity):
        return name
    handle = entity.get("handle")
    if isinstance(handle, str) and handle.strip():
        return handle.strip()
    ids = [_get(p, "identifier") for p in _list(entity.get("publicIds"))]
    return next((str(i) for i in ids if isinstance(i, str | int) and str(i).strip()), None)


def _card_name(entity: dict[str, Any]) -> str | None:
    """The name an entity's vCard gives it: fn, else org, unless redacted."""
    for prop in ("fn", "org"):
        value = _vcard(entity, prop)
        if value and "redacted" not in value.lower():
            return value
    return None


def _country(entity: dict[str, Any]) -> str | None:
    """The country of an entity's address: the adr's "cc" parameter (RFC 8605), else its country name."""
    card = _list(entity.get("vcardArray"))
    for item in _list(card[1]) if len(card) > 1 else []:
        if isinstance(item, list) and len(item) >= 4 and item[0] == "adr":
            code = _get(item[1], "cc")
            parts = item[3] if isinstance(item[3], list) else []
            country = code or (parts[6] if len(parts) > 6 else None)
            if isinstance(country, str) and country.strip() and "redacted" not in country.lower():
                return country.strip()
    return None


def _role(obj: dict[str, Any], role: str) -> dict[str, Any] | None:
    """The entity with `role` closest to `obj`: breadth-first, so that the object's own entities
    come before those nested in them (abuse often sits inside registrar), the first of a level
    winning; roles in any case."""
    level = [e for e in _list(obj.get("entities")) if isinstance(e, dict)]
    for _ in range(_DEPTH):
        for entity in level:
            if any(_same(r, role) for r in _list(entity.get("roles"))):
                return entity
        level = [e for parent in level for e in _list(parent.get("entities")) if isinstance(e, dict)]
    return None


def _same(value: Any, word: str) -> bool:
    """`value` is the registered value `word`, in any case (RFC 9083 values are matched so in practice)."""
    return isinstance(value, str) and value.strip().lower() == word.lower()


def _vcard(entity: dict[str, Any], prop: str) -> str | None:
    """A property of a jCard (RFC 7095): ["vcard", [["fn", {}, "text", "Example"], ...]]."""
    card = _list(entity.get("vcardArray"))
    for item in _list(card[1]) if len(card) > 1 else []:
        if isinstance(item, list) and len(item) >= 4 and item[0] == prop:
            value = " ".join(str(part) for part in item[3] if part) if isinstance(item[3], list) else item[3]
            if isinstance(value, str) and value.strip():
                return value.strip()
    return None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _get(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else None
