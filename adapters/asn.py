"""An address's origin AS, announced prefix and AS holder, from Team Cymru's keyless IP-to-ASN
DNS interface (https://www.team-cymru.com/ip-asn-mapping): TXT at
`<reversed address>.origin.asn.cymru.com` (`origin6` for IPv6) says
"ASN [ASN...] | PREFIX | CC | REGISTRY | ALLOCATED", and TXT at `AS<n>.asn.cymru.com` says
"ASN | CC | REGISTRY | ALLOCATED | AS NAME". The TXT strings are upstream text: every field is
checked, a line that does not parse is left out with a warning.

It asks through dnspython's resolver, the servers set as for the dns adapter (`nameservers`).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
from typing import TYPE_CHECKING, Any

from pydantic import Field, field_validator

from osint_fanout import Adapter, AdapterError, Context, Facts, NotFound, Target, TargetKind
from osint_fanout.assets import AssetType, Findings, RelationKind, canonical

from .dns import DnsOptions, make_resolver

if TYPE_CHECKING:
    import dns.asyncresolver

__all__ = ["AsnAdapter", "AsnOptions", "parse_as_name", "parse_origin"]

_ASN = re.compile(r"^\d{1,10}$")
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_REGISTRY = re.compile(r"^[A-Za-z]{2,16}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NAME_MAX = 200
"""Longest AS name kept (characters)."""
MAX_ASNS = 32
"""Most AS names asked for (an address announced by more origins is listed, not named)."""


class AsnOptions(DnsOptions):
    origin_zone: str = Field("origin.asn.cymru.com", description="Zone answering an IPv4 address's origin.")
    origin6_zone: str = Field("origin6.asn.cymru.com", description="Zone answering an IPv6 address's origin.")
    as_zone: str = Field("asn.cymru.com", description="Zone answering an AS number's name (AS<n>.<zone>).")

    @field_validator("origin_zone", "origin6_zone", "as_zone")
    @classmethod
    def _check_zone(cls, value: str) -> str:
        return canonical(AssetType.DOMAIN, value)  # ValueError: not a domain name


def _field(parts: list[str], index: int, pattern: re.Pattern[str]) -> str | None:
    value = parts[index].strip() if index < len(parts) else ""
    return value if pattern.match(value) else None


def parse_origin(text: str) -> dict[str, Any] | None:
    """'15169 | 8.8.8.0/24 | US | arin | 2000-03-30' as a dict; None when it is not one."""
    parts = text.split("|")
    asns = parts[0].split()
    if len(parts) < 2 or not asns or not all(_ASN.match(asn) and int(asn) < 2**32 for asn in asns):
        return None
    try:
        prefix = ipaddress.ip_network(parts[1].strip(), strict=False).compressed
    except ValueError:
        return None
    country = _field(parts, 2, _COUNTRY)
    return {
        "asns": [int(asn) for asn in asns],
        "prefix": prefix,
        "country": country.upper() if country else None,
        "registry": (_field(parts, 3, _REGISTRY) or "").lower() or None,
        "allocated": _field(parts, 4, _DATE),
    }


def parse_as_name(text: str) -> dict[str, Any] | None:
    """'15169 | US | arin | 2000-03-30 | GOOGLE - Google LLC, US' as a dict; None when it is not one."""
    parts = text.split("|", 4)
    if len(parts) < 5 or not _ASN.match(parts[0].strip()):
        return None
    name = " ".join(parts[4].split())[:NAME_MAX]  # one line: no control characters or runs of spaces
    country = _field(parts, 1, _COUNTRY)
    return {"asn": int(parts[0]), "name": name or None, "country": country.upper() if country else None}


class AsnAdapter(Adapter[AsnOptions]):
    name = "asn"
    description = "Origin AS, announced prefix and AS holder of an IP (Team Cymru's IP-to-ASN DNS, keyless)"
    kinds = frozenset({TargetKind.IPV4, TargetKind.IPV6})
    default_timeout_s = 5.0
    Options = AsnOptions

    def __init__(self, options: AsnOptions) -> None:
        super().__init__(options)
        self._made: dns.asyncresolver.Resolver | None = None

    async def lookup(self, target: Target, ctx: Context) -> dict[str, Any]:
        import dns.name
        import dns.reversename

        zone = self.options.origin_zone if target.kind is TargetKind.IPV4 else self.options.origin6_zone
        origin = dns.name.from_text(zone)
        question = dns.reversename.from_address(target.value, v4_origin=origin, v6_origin=origin)
        texts = await self._txt(question.to_text(omit_final_dot=True), ctx)
        if texts is None:
            raise NotFound(f"{target.value} is not announced (no origin in {zone})")
        warnings: list[str] = []
        origins = _parsed(texts, parse_origin, warnings)
        if not origins:
            raise AdapterError("parse", f"{zone}: no origin could be read for {target.value}")
        # the most specific prefix first (Team Cymru lists every covering announcement)
        origins.sort(key=lambda o: (-ipaddress.ip_network(o["prefix"]).prefixlen, o["prefix"]))
        asns = list(dict.fromkeys(asn for item in origins for asn in item["asns"]))
        names = await asyncio.gather(*(self._as_name(asn, ctx, warnings) for asn in asns[:MAX_ASNS]))
        return {
            "address": target.value,
            "asn": asns[0],
            "prefix": origins[0]["prefix"],
            "country": origins[0]["country"],
            "as_name": names[0]["name"] if names[0] else None,
            "origins": origins,
            "as_names": {f"AS{item['asn']}": item for item in names if item},
            "warnings": warnings,
        }

    def summarize(self, data: dict[str, Any]) -> str:
        parts = [f"AS{data.get('asn')}", data.get("as_name"), data.get("prefix"), data.get("country")]
        return " · ".join(str(part) for part in parts if part)

    def facts(self, data: dict[str, Any]) -> Facts | None:
        """The origin ASes and announced prefixes; the most specific prefix's AS."""
        origins = data.get("origins", [])
        return {
            "asn": data.get("asn"),
            "asns": frozenset(f"AS{asn}" for item in origins for asn in item.get("asns", [])),
            "prefixes": frozenset(str(item.get("prefix")) for item in origins),
        }

    def assets(self, target: Target, data: dict[str, Any]) -> Findings | None:
        """The address in each announced prefix (in-netblock), each prefix announced by its
        origin ASes, each AS with its name and country."""
        found = Findings()
        me = found.add(Findings.target_ref(target).type, target.value)
        names = data.get("as_names", {})
        for item in data.get("origins", []):
            block = found.add(AssetType.NETBLOCK, str(item.get("prefix")), country=item.get("country"))
            found.relate(me, RelationKind.IN_NETBLOCK, block)
            for asn in item.get("asns", []):
                about = names.get(f"AS{asn}", {})
                ref = found.add(AssetType.AS, str(asn), name=about.get("name"), country=about.get("country"))
                found.relate(block, RelationKind.ANNOUNCED_BY, ref)
        return found

    async def _as_name(self, asn: int, ctx: Context, warnings: list[str]) -> dict[str, Any] | None:
        texts = await self._txt(f"AS{asn}.{self.options.as_zone}", ctx, required=False)
        named = _parsed(texts or [], parse_as_name, warnings)
        return next((item for item in named if item["asn"] == asn), None)

    async def _txt(self, name: str, ctx: Context, *, required: bool = True) -> list[str] | None:
        """The TXT strings at `name`; None for NXDOMAIN. A failure raises when `required`,
        else gives None (an AS name is a detail: the origin stands without it)."""
        import dns.exception
        import dns.resolver

        resolver = self._resolver()
        lifetime = ctx.timeout_s()
        try:
            answer = await resolver.resolve(
                name, "TXT", tcp=self.options.tcp, lifetime=lifetime, search=False, raise_on_no_answer=False
            )
        except dns.resolver.NXDOMAIN:
            return None
        except dns.exception.Timeout:
            if not required:
                return None
            raise TimeoutError(f"no answer about {name} within {lifetime:.1f} s") from None
        except dns.resolver.NoNameservers as exc:  # every server answered with an error code
            if not required:
                return None
            codes = re.findall(r"answered (\w+)", str(exc))
            code = "refused" if codes and all(code == "REFUSED" for code in codes) else "servfail"
            raise AdapterError(code, f"{name}: the servers failed to answer ({code.upper()})") from None
        except dns.exception.DNSException as exc:
            if not required:
                return None
            raise AdapterError("dns", f"{name}: {type(exc).__name__}") from None
        if answer.rrset is None:
            return None
        return [b"".join(rdata.strings).decode("utf-8", "backslashreplace") for rdata in answer.rrset]

    def _resolver(self) -> dns.asyncresolver.Resolver:
        if self._made is None:
            self._made = make_resolver(self.options.nameservers)
        return self._made

def _parsed(texts: list[str], parse: Any, warnings: list[str]) -> list[dict[str, Any]]:
    out = []
    for text in texts:
        item = parse(text)
        if item is None:
            warnings.append(f"unreadable answer {text[:80]!r}")
        else:
            out.append(item)
    return out
