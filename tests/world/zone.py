"""The DNS zone of the world: a full record set for every test name, PTR for the test IPs."""

from __future__ import annotations

import dns.reversename

from .dns_server import Records
from .templates import DOMAIN, IP

IP6 = "2001:db8::7"
TEST_DOMAINS = ("example.com", "example.net", "example.org", "test", "example")
"""DNS answers for these names and every name under them (a full record set)."""
PTR_NAMES = {dns.reversename.from_address(address).to_text(omit_final_dot=True) for address in (IP, IP6)}


def zone_records(name: str) -> Records | None:
    """The DNS records of any test name: a full set for domains, PTR for the test IPs."""
    if name in PTR_NAMES:
        return {"PTR": [f"host.{DOMAIN}."]}
    base = name.removeprefix("_dmarc.")
    if not any(base == suffix or base.endswith("." + suffix) for suffix in TEST_DOMAINS):
        return None
    if base != name:
        return {"TXT": [f'"v=DMARC1; p=reject; rua=mailto:dmarc@{base}"']}
    return {
        "A": [IP],
        "AAAA": [IP6],
        "MX": [f"10 mail.{name}."],
        "NS": [f"ns1.{name}.", f"ns2.{name}."],
        "TXT": ['"v=spf1 ip4:198.51.100.0/24 -all"', '"world-site-verification=0123456789"'],
        "SOA": [f"ns1.{name}. hostmaster.{name}. 2024050101 7200 3600 1209600 3600"],
        "CAA": ['0 issue "letsencrypt.org"', '0 iodef "mailto:security@example.com"'],
    }
