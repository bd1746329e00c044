"""A zone of a few hundred names for pivot tests (search --depth N), served by the world's
DNS server (records, and a wildcard) and listed by its crt.sh (the names a certificate
search would find for the seed).

Under the seed `acme.invalid` (RFC 6761's reserved TLD, outside the world's catch-all test
domains, so only what is written here exists):
- `hosts` names h000.acme.invalid ... with A records; every address is shared by several names;
- a wildcard `*.wild.acme.invalid`, with names crt.sh lists that only it answers for, and
  `real.wild.acme.invalid`, a name of its own under it;
- a CNAME chain www -> edge -> acme.cdn-partner.invalid (another registered domain);
- name servers ns1/ns2.dnshost.invalid (another registered domain), and mail.acme.invalid (MX);
- names crt.sh lists in other registered domains (out of scope), and dev-* names (for
  --exclude-pattern).
`layout()` says what a pivot should follow at each depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .dns_server import Records, Zone

__all__ = ["PivotZone", "pivot_zone"]

SEED = "acme.invalid"
WILDCARD_IP = "203.0.113.250"


@dataclass
class PivotZone:
    seed: str
    records: Zone
    listed: dict[str, list[str]]
    """Names crt.sh lists for a searched domain."""
    depth1_names: set[str] = field(default_factory=set)
    """The names under the seed a depth-1 pivot follows (listed, in scope, not wildcard-made)."""
    made_up: set[str] = field(default_factory=set)
    """Listed names that only the wildcard answers for."""
    out_of_scope: set[str] = field(default_factory=set)
    """Names found from the seed that are in other registered domains."""

    def addresses(self, names: set[str]) -> set[str]:
        return {ip for name in names for ip in self.records.get(name, {}).get("A", [])}

    def crtsh(self, domain: str) -> list[dict[str, object]] | None:
        """crt.sh's JSON for a search under `domain`, or None when this zone has none."""
        names = self.listed.get(domain)
        if names is None:
            return None
        shared = {  # the newest certificate: the seed with names in other registered domains
            "issuer_ca_id": 1,
            "issuer_name": "C=US, O=Pivot World, CN=Pivot World CA",
            "common_name": domain,
            "name_value": "\n".join([domain, *sorted(self.out_of_scope)]),
            "id": 8_999_999,
            "entry_timestamp": "2026-06-01T00:00:00.000",
            "not_before": "2026-06-01T00:00:00",
            "not_after": "2027-06-01T00:00:00",
            "serial_number": "ff" * 16,
            "result_count": 1,
        }
        in_domain = [name for name in names if name not in self.out_of_scope]
        return [shared] + [
            {
                "issuer_ca_id": 1,
                "issuer_name": "C=US, O=Pivot World, CN=Pivot World CA",
                "common_name": name,
                "name_value": name,
                "id": 9_000_000 + number,
                "entry_timestamp": "2026-01-01T00:00:00.000",
                "not_before": "2026-01-01T00:00:00",
                "not_after": "2027-01-01T00:00:00",
                "serial_number": f"{number:032x}",
                "result_count": 1,
            }
            for number, name in enumerate(in_domain)
        ]


def _a(*addresses: str) -> Records:
    return {"A": list(addresses)}


def pivot_zone(hosts: int = 240, *, seed: str = SEED, shared_by: int = 6, version: int = 1) -> PivotZone:
    """The zone; `version` 2 changes it (a new host, one gone, one address changed)."""
    records: Zone = {
        seed: {
            "A": ["203.0.113.1"],
            "NS": ["ns1.dnshost.invalid.", "ns2.dnshost.invalid."],
            "MX": [f"10 mail.{seed}."],
            "SOA": [f"ns1.dnshost.invalid. hostmaster.{seed}. 2026010101 7200 3600 1209600 3600"],
        },
        f"mail.{seed}": _a("203.0.113.1"),  # shares the apex's address
        f"www.{seed}": {"CNAME": [f"edge.{seed}."]},
        f"edge.{seed}": {"CNAME": ["acme.cdn-partner.invalid."]},
        "acme.cdn-partner.invalid": _a("198.51.100.80"),
        "ns1.dnshost.invalid": _a("192.0.2.53"),
        "ns2.dnshost.invalid": _a("192.0.2.54"),
        f"*.wild.{seed}": _a(WILDCARD_IP),
        f"real.wild.{seed}": _a("203.0.113.251"),
        f"dev-1.{seed}": _a("203.0.113.201"),
        f"dev-2.{seed}": _a("203.0.113.202"),
    }
    count = hosts + (1 if version == 2 else 0)  # v2: h000 gone, a new host at the end
    numbers = [number for number in range(count) if not (version == 2 and number == 0)]
    names = [f"h{number:03d}.{seed}" for number in numbers]
    for number, name in zip(numbers, names, strict=True):
        records[name] = _a(f"203.0.113.{10 + number // shared_by}")
    if version == 2:  # and the last old host moved to an address of its own
        records[f"h{hosts - 1:03d}.{seed}"] = _a("203.0.113.199")
    made_up = {f"{label}.wild.{seed}" for label in ("a", "b", "c", "d")}
    out_of_scope = {"shop.partner.invalid", "acme-status.invalid", f"{seed}.evil.invalid"}
    listed = sorted(
        {f"www.{seed}", f"mail.{seed}", f"real.wild.{seed}", f"dev-1.{seed}", f"dev-2.{seed}", *names}
        | made_up
        | out_of_scope
    )
    depth1 = {name for name in listed if name.endswith("." + seed)} - made_up
    return PivotZone(
        seed=seed,
        records=records,
        listed={seed: listed},
        depth1_names=depth1,
        made_up=made_up,
        out_of_scope=out_of_scope,
    )
