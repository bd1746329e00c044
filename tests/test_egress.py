"""Where an upstream may send us: zones, redirects, referrals and bootstrap entries."""

from __future__ import annotations

import pytest

from osint_fanout import inward_reason, referral_reason
from osint_fanout._egress import Zone, zone_of


@pytest.mark.parametrize(
    ("host", "zone"),
    [
        ("rdap.verisign.com", Zone.PUBLIC),
        ("8.8.8.8", Zone.PUBLIC),
        ("2001:4860:4860::8888", Zone.PUBLIC),
        ("10.1.2.3", Zone.PRIVATE),
        ("192.168.0.1", Zone.PRIVATE),
        ("100.64.0.1", Zone.PRIVATE),  # shared address space: not global
        ("fd00::1", Zone.PRIVATE),
        ("intranet", Zone.PRIVATE),  # a single label resolves through search domains
        ("printer.local", Zone.PRIVATE),
        ("db.internal", Zone.PRIVATE),
        ("169.254.169.254", Zone.LINK_LOCAL),
        ("[fe80::1]", Zone.LINK_LOCAL),
        ("127.0.0.2", Zone.LOOPBACK),
        ("::1", Zone.LOOPBACK),
        ("::ffff:127.0.0.1", Zone.LOOPBACK),
        ("0.0.0.0", Zone.LOOPBACK),
        ("LOCALHOST.", Zone.LOOPBACK),
        ("api.localhost", Zone.LOOPBACK),
    ],
)
def test_zones(host: str, zone: Zone) -> None:
    assert zone_of(host) is zone


@pytest.mark.parametrize(
    ("origin", "target", "refused"),
    [
        ("https://rdap.org/domain/x", "https://rdap.verisign.com/com/v1/domain/x", False),
        ("https://rdap.org/domain/x", "http://rdap.verisign.com/com/v1/domain/x", True),  # https -> http
        ("http://rdap.example.net/", "http://127.0.0.2:18080/internal", True),
        ("https://data.iana.org/rdap", "http://10.0.0.1/", True),
        ("http://10.0.0.1/", "http://10.0.0.2/", False),  # sideways is fine
        ("http://127.0.0.1:8080/", "http://127.0.0.2:8080/", False),  # a loopback upstream may stay there
        ("http://127.0.0.1:8080/", "http://rdap.example.net/", False),  # outward is fine
        ("http://10.0.0.1/", "http://169.254.169.254/", True),
    ],
)
def test_inward_reason(origin: str, target: str, refused: bool) -> None:
    assert bool(inward_reason(origin, target)) is refused


@pytest.mark.parametrize(
    ("origin", "target", "refused"),
    [
        (("whois.iana.org", 43), ("whois.verisign-grs.com", 43), False),
        (("whois.iana.org", 43), ("127.0.0.2", 6379), True),  # another port, and inward
        (("whois.iana.org", 43), ("whois.example.net", 4343), True),  # another port
        (("whois.iana.org", 43), ("10.0.0.5", 43), True),  # inward
        (("127.0.0.1", 4343), ("127.0.0.1", 4344), False),  # the configured server uses its own port
    ],
)
def test_referral_reason(origin: tuple[str, int], target: tuple[str, int], refused: bool) -> None:
    assert bool(referral_reason(origin, target, default_port=43)) is refused
