"""RDAP answers read by adapters/rdap.py: entity names, addresses and prefixes, the registrar link.

The objects here are small and synthetic, in the shapes of RFC 9083 and of the answers that
registries and RIRs give (ARIN's zero-padded addresses, RIPE's "/32" suffixes, CZ.NIC's registrar
with only a handle, a registrar's own record with "org" and no "fn"); real answers are checked in
test_real_samples.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from osint_fanout import AdapterError, inward_reason
from osint_fanout_adapters.rdap import add_registrar_record, name_of, rdap_data, registrar_link


def card(*props: list[Any]) -> list[Any]:
    return ["vcard", [["version", {}, "text", "4.0"], *props]]


@pytest.mark.parametrize(
    ("entity", "name"),
    [
        (
            {"vcardArray": card(["fn", {}, "text", "Example Registrar"], ["org", {}, "text", "Org"])},
            "Example Registrar",
        ),
        ({"vcardArray": card(["fn", {}, "text", "REDACTED FOR PRIVACY"], ["org", {}, "text", "Holder"])}, "Holder"),
        ({"vcardArray": card(["fn", {}, "text", ""], ["org", {}, "text", "Example Org"])}, "Example Org"),
        ({"handle": "REG-EXAMPLE-CZ", "roles": ["registrar"]}, "REG-EXAMPLE-CZ"),
        ({"handle": "", "publicIds": [{"type": "IANA Registrar ID", "identifier": "9999"}]}, "9999"),
        ({"vcardArray": "not a card", "handle": 42}, None),
    ],
)
def test_an_entity_is_named_by_fn_else_org_else_its_ids(entity, name):
    assert name_of(entity) == name


def domain(**members: Any) -> dict[str, Any]:
    return {"objectClassName": "domain", "ldhName": "EXAMPLE.TEST"} | members


def test_registrar_and_registrant_alike():
    doc = domain(
        entities=[
            {"roles": ["registrar"], "handle": "REG-EXAMPLE"},
            {
                "roles": ["registrant"],
                "vcardArray": card(
                    ["org", {}, "text", "Example Holder"], ["adr", {"cc": "CZ"}, "text", ["", "", "", "", "", "", ""]]
                ),
            },
        ]
    )
    data = rdap_data(doc, "rdap.example/domain/example.test", network=False)
    assert (data["registrar"], data["registrant"]) == ("REG-EXAMPLE", "Example Holder")
    assert (data["registrant_org"], data["registrant_country"]) == ("Example Holder", "CZ")
    assert (data["name"], data["server"], data["warnings"]) == ("example.test", "rdap.example", [])


def network(start: Any, end: Any, **members: Any) -> dict[str, Any]:
    return rdap_data({"objectClassName": "ip network", "startAddress": start, "endAddress": end} | members, "x", True)


@pytest.mark.parametrize(
    ("start", "end", "cidr0", "range_", "cidrs"),
    [
        ("074.125.000.000", "074.125.255.255", None, "74.125.0.0 - 74.125.255.255", ["74.125.0.0/16"]),  # ARIN, 2016
        ("62.239.237.0/32", "62.239.237.255/32", None, "62.239.237.0 - 62.239.237.255", ["62.239.237.0/24"]),  # RIPE
        (
            "2001:4860:0000:0000:0000:0000:0000:0000",
            "2001:4860:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF",
            None,
            "2001:4860:: - 2001:4860:ffff:ffff:ffff:ffff:ffff:ffff",
            ["2001:4860::/32"],
        ),
        ("196.11.239.0", "196.11.246.255", None, "196.11.239.0 - 196.11.246.255", None),  # not one prefix
        (
            "13.64.0.0",
            "13.107.255.255",
            [{"v4prefix": "13.64.0.0", "length": 11}, {"v4prefix": "13.96.0.0", "length": 13}],
            "13.64.0.0 - 13.107.255.255",
            ["13.64.0.0/11", "13.96.0.0/13"],  # cidr0 as given, even when it does not cover the range
        ),
        ("2606:4700::", "2606:4700::ffff", [{"v6prefix": "2606:4700:0::", "length": 112}], None, ["2606:4700::/112"]),
    ],
)
def test_addresses_are_canonical_and_prefixes_given(start, end, cidr0, range_, cidrs):
    data = network(start, end, **({"cidr0_cidrs": cidr0} if cidr0 else {}))
    assert data["range"] == (range_ or f"{start} - {end}")
    if cidrs is None:
        assert data["cidrs"] == ["196.11.239.0/24", "196.11.240.0/22", "196.11.244.0/23", "196.11.246.0/24"]
    else:
        assert data["cidrs"] == cidrs
    assert data["warnings"] == []


def test_addresses_that_cannot_be_read_are_warnings():
    data = network("192.0.2.300", "192.0.2.255")
    assert (data["range"], data["cidrs"]) == (None, [])
    assert data["warnings"] == ["startAddress: not an IP address '192.0.2.300'"]
    backwards = network("192.0.2.255", "192.0.2.0")
    assert backwards["cidrs"] == [] and backwards["warnings"] == [
        "no CIDR prefixes for the range 192.0.2.255 - 192.0.2.0"
    ]
    mixed = network("192.0.2.0", "2001:db8::")
    assert mixed["cidrs"] == [] and len(mixed["warnings"]) == 1


def test_the_wrong_shape_is_a_parse_error():
    with pytest.raises(AdapterError) as caught:
        rdap_data({"objectClassName": "ip network", "startAddress": "x", "cidr0_cidrs": "x"}, "rdap.test/ip/x", True)
    assert caught.value.type == "parse"


ASKED = "https://rdap.registry.example/domain/example.test"


@pytest.mark.parametrize(
    ("links", "found"),
    [
        ([{"rel": "related", "type": "application/rdap+json", "href": "https://rdap.reg.example/d/x"}], True),
        ([{"rel": "related", "href": "https://rdap.reg.example/d/x"}], True),  # no type: taken as RDAP
        ([{"rel": "related", "type": "text/html", "href": "https://netox.example/search"}], False),
        ([{"rel": "self", "type": "application/rdap+json", "href": "https://rdap.reg.example/d/x"}], False),
        ([{"rel": "related", "type": "application/rdap+json", "href": ASKED + "/"}], False),  # itself
        ([{"rel": "related", "type": "application/rdap+json", "href": "ftp://rdap.reg.example/d/x"}], False),
        ([{"rel": "related", "type": "application/rdap+json", "href": 42}], False),
        ("not a list", False),
    ],
)
def test_the_registrar_link(links, found):
    link = registrar_link(domain(links=links), ASKED)
    assert (link == "https://rdap.reg.example/d/x") if found else link is None


@pytest.mark.parametrize(
    ("configured", "link", "why"),
    [
        ("https://rdap.registry.example", "https://rdap.registrar.example/x", None),
        ("https://rdap.registry.example", "http://rdap.registrar.example/x", "it leads from https to http"),
        (
            "https://rdap.registry.example",
            "https://192.168.1.1/x",
            "it leads from rdap.registry.example to 192.168.1.1",
        ),
        ("https://rdap.registry.example", "https://[fe80::1]/x", "it leads from rdap.registry.example to fe80::1"),
        ("https://rdap.registry.example", "https://0.0.0.0/x", "it leads from rdap.registry.example to 0.0.0.0"),
        ("https://rdap.registry.example", "https://rdap/x", "it leads from rdap.registry.example to rdap"),
        (
            "https://rdap.registry.example",
            "https://[::ffff:127.0.0.1]/x",
            "it leads from rdap.registry.example to ::ffff:127.0.0.1",
        ),
        ("https://10.0.0.1", "https://127.0.0.1/x", "it leads from 10.0.0.1 to 127.0.0.1"),
        ("https://10.0.0.1", "https://rdap.registrar.example/x", None),
        ("http://127.0.0.1:8080", "https://127.0.0.1:9090/x", None),  # a mirror on loopback: loopback is no further in
        ("http://127.0.0.1:8080", "http://rdap.registrar.example/x", None),
    ],
)
def test_a_link_may_not_lead_further_inward(configured, link, why):
    assert (inward_reason(configured, link) is None) is (why is None)  # the core's rule, as every request


def test_the_registrars_record_adds_only_what_is_missing():
    data = {"name": "example.test", "registrar": "Registry's Name", "abuse_email": None, "registrant": None}
    record = domain(
        entities=[
            {"roles": ["registrar"], "vcardArray": card(["org", {}, "text", "Registrar's Name"])},
            {"roles": ["abuse"], "vcardArray": card(["email", {}, "text", "abuse@registrar.example"])},
            {"roles": ["registrant"], "vcardArray": card(["adr", {}, "text", ["", "", "", "", "", "", "Norway"]])},
        ]
    )
    added = add_registrar_record(data, record)
    assert added == ["registrant_country", "abuse_email"]
    assert (data["registrar"], data["abuse_email"], data["registrant_country"]) == (
        "Registry's Name",
        "abuse@registrar.example",
        "Norway",
    )
    with pytest.raises(ValueError, match=r"not 'example\.test'"):
        add_registrar_record(data, domain(ldhName="other.test"))
    with pytest.raises(ValueError, match="not an RDAP domain object"):
        add_registrar_record(data, {"errorCode": 404})


# Issue 23: one normal form for dates, roles in any case, a holder only when named, the abuse
# contact closest to the object.

SPELLINGS = [  # the domain dates of real RDAP answers come in these spellings
    ("2019-09-09T08:39:04Z", "2019-09-09T08:39:04Z", []),
    ("2019-09-09T08:39:04+00:00", "2019-09-09T08:39:04Z", []),
    ("2019-09-09T08:39:04.000+0000", "2019-09-09T08:39:04.000Z", []),
    ("2019-09-09T10:39:04.5+02:00", "2019-09-09T08:39:04.5Z", []),
    ("2019-09-09T08:39:04", "2019-09-09T08:39:04Z", ["expires"]),  # no time zone: read as UTC, and said
    ("2019-09-09", "2019-09-09", []),  # a day stays a day
]


@pytest.mark.parametrize(("written", "value", "no_zone"), SPELLINGS)
def test_every_date_in_one_form(written, value, no_zone):
    data = rdap_data(domain(events=[{"eventAction": "expiration", "eventDate": written}]), "x", network=False)
    assert (data["expires"], data["no_time_zone"], data["warnings"]) == (value, no_zone, [])


def test_events_in_any_case_and_unreadable_dates():
    events = [
        {"eventAction": "Registration", "eventDate": "2001-02-03T04:05:06Z"},
        {"eventAction": "LAST CHANGED", "eventDate": "yesterday"},
        {"eventAction": "expiration", "eventDate": 20270101},  # not a string: absent
        {"eventAction": "registration", "eventDate": "1999-01-01T00:00:00Z"},  # the first of each wins
    ]
    data = rdap_data(domain(events=events), "x", network=False)
    assert (data["created"], data["updated"], data["expires"]) == ("2001-02-03T04:05:06Z", None, None)
    assert data["warnings"] == ["updated: unknown date format 'yesterday'"]
    hostile = [{"eventAction": "last changed", "eventDate": "Jan 2001 " + "ab " * 300_000}]  # not read at all
    data = rdap_data(domain(events=hostile), "x", network=False)
    assert (data["updated"], data["warnings"]) == (
        None,
        [f"updated: unknown date format {('Jan 2001 ' + 'ab ' * 24)[:80]!r}"],
    )
    ip = network("192.0.2.0", "192.0.2.255", events=[{"eventAction": "registration", "eventDate": "2001-02-03"}])
    assert (ip["created"], "expires" in ip) == ("2001-02-03", False)


def test_roles_in_any_case():
    doc = domain(
        entities=[
            {"roles": ["Registrar"], "vcardArray": card(["fn", {}, "text", "Example Registrar"])},
            {"roles": [" REGISTRANT "], "vcardArray": card(["fn", {}, "text", "Example Holder"])},
        ]
    )
    data = rdap_data(doc, "x", network=False)
    assert (data["registrar"], data["registrant"]) == ("Example Registrar", "Example Holder")


@pytest.mark.parametrize(
    ("registrant", "name", "handle"),
    [
        ({"handle": "EXAMPLE-MNT"}, None, "EXAMPLE-MNT"),  # an older RIPE answer's maintainer, no vCard
        ({"handle": "C12345-EXAMPLE", "publicIds": [{"type": "x", "identifier": "77"}]}, None, "C12345-EXAMPLE"),
        ({"handle": "C1", "vcardArray": card(["fn", {}, "text", "REDACTED FOR PRIVACY"])}, None, "C1"),
        ({"handle": "C1", "vcardArray": card(["org", {}, "text", "Example Org"])}, "Example Org", "C1"),
        ({"vcardArray": card(["fn", {}, "text", "Example Person"])}, "Example Person", None),
        ({"handle": ["not", "a", "string"]}, None, None),
    ],
)
def test_a_holder_only_when_the_answer_names_one(registrant, name, handle):
    for data in (
        rdap_data(domain(entities=[registrant | {"roles": ["registrant"]}]), "x", network=False),
        network("192.0.2.0", "192.0.2.255", entities=[registrant | {"roles": ["registrant"]}]),
    ):
        assert (data["registrant"], data["registrant_handle"]) == (name, handle)


def abuse(email: str, **members: Any) -> dict[str, Any]:
    return {"roles": ["abuse"], "vcardArray": card(["email", {}, "text", email])} | members


def test_the_abuse_contact_closest_to_the_object_wins():
    nested = {"roles": ["registrant"], "handle": "ORG", "entities": [abuse("org@example.test")]}
    own = {"roles": ["noc", "technical", "abuse"], "vcardArray": card(["email", {}, "text", "net@example.test"])}
    assert network("192.0.2.0", "192.0.2.255", entities=[nested, own])["abuse_email"] == "net@example.test"
    assert network("192.0.2.0", "192.0.2.255", entities=[nested])["abuse_email"] == "org@example.test"
    deeper = {"roles": ["technical"], "entities": [{"roles": ["x"], "entities": [abuse("deep@example.test")]}]}
    assert network("192.0.2.0", "192.0.2.255", entities=[deeper, nested])["abuse_email"] == "org@example.test"
    # A domain: the registrar's own abuse contact first (ICANN's profile puts it there), then the domain's.
    registrar = {"roles": ["registrar"], "entities": [abuse("registrar@example.test")]}
    doc = domain(entities=[abuse("registry@example.test"), registrar])
    assert rdap_data(doc, "x", network=False)["abuse_email"] == "registrar@example.test"


def test_entities_nested_without_end_are_looked_into_only_so_deep():
    entity: dict[str, Any] = abuse("bottom@example.test")
    for _ in range(10_000):
        entity = {"roles": ["technical"], "entities": [entity]}
    assert network("192.0.2.0", "192.0.2.255", entities=[entity])["abuse_email"] is None
