"""Team Cymru's IP-to-ASN DNS interface, as the asn adapter asks it: TXT at
`<reversed address>.origin.asn.cymru.com` (`origin6` for IPv6) and `AS<n>.asn.cymru.com`.

Every address is in AS64500's /24 (IPv4) or /32 (IPv6) and, for the test address, also in a
covering /16 announced by AS64501 (so an answer lists two origins, as real ones often do).
A fault set on an address (`world.behave("asn", "198.51.100.7", ...)`) applies to its origin
question."""

from __future__ import annotations

import ipaddress

import dns.name
import dns.reversename

from .dns_server import DnsServer, Records
from .templates import IP

ORIGIN, ORIGIN6, AS_ZONE = "origin.asn.cymru.com", "origin6.asn.cymru.com", "asn.cymru.com"
AS_NAMES = {
    64500: "WORLD-NET - World Example Networks, US",
    64501: "WORLD-TRANSIT - World Transit Ltd, GB",
}


def address_of(name: str) -> str | None:
    """The address an origin question is about, or None when `name` is not one."""
    for zone in (ORIGIN, ORIGIN6):
        if name.endswith("." + zone):
            origin = dns.name.from_text(zone)
            try:
                origins = {"v4_origin": origin} if zone == ORIGIN else {"v6_origin": origin}
                return dns.reversename.to_address(dns.name.from_text(name), **origins)
            except Exception:  # not a reversed address under the zone
                return None
    return None


def cymru_records(name: str) -> Records | None:
    address = address_of(name)
    if address is not None:
        ip = ipaddress.ip_address(address)
        own = ipaddress.ip_network(f"{ip}/{24 if ip.version == 4 else 32}", strict=False)
        lines = [f'"64500 | {own} | US | arin | 2010-01-01"']
        if address == IP:
            lines.append(f'"64501 | {ipaddress.ip_network(f"{ip}/16", strict=False)} | GB | ripencc | 2001-05-02"')
        return {"TXT": lines}
    label = name.removesuffix("." + AS_ZONE)
    if label != name and label.startswith("as") and label[2:].isdigit() and int(label[2:]) in AS_NAMES:
        asn = int(label[2:])
        country = AS_NAMES[asn][-2:]
        return {"TXT": [f'"{asn} | {country} | arin | 2010-01-01 | {AS_NAMES[asn]}"']}
    return None


class CymruServer(DnsServer):
    """The world's DNS server, with faults named by the address an origin question is about."""

    def _behaviour(self, name: str) -> str:
        address = address_of(name)
        return super()._behaviour(address if address is not None else name)
