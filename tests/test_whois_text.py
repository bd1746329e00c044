"""The generic port-43 reader (adapters/whois_text.py) and its dates (adapters/whois_dates.py).

Every text here is synthetic: small answers written for one structure each (indented blocks,
section headers with and without colons, continuation lines, bracketed keys, "X on DATE"
phrases, imprecise dates, dates with time zones, dates that cannot be read), in the shapes
registries use, with made-up names. Real registries' answers are checked in test_real_samples.py.
"""

from __future__ import annotations

import time

import pytest

from osint_fanout_adapters.whois_dates import read_date, slash_order
from osint_fanout_adapters.whois_text import (
    WHOIS_LINE_MAX,
    WHOIS_TEXT_MAX,
    entries,
    fields,
    host_names,
    status_words,
    trimmed,
)


def read(text: str, **parsed: list[str]) -> tuple[dict, list[str]]:
    return fields(trimmed(text), parsed)


def test_an_indented_block_under_a_header_is_its_value():
    data, warnings = read(
        "Domain name:\n    example.test\n\n"
        "    Registrar:\n        Example Registrar Ltd [Tag = EXAMPLE]\n        URL: https://registrar.example\n\n"
        "Name servers:\n    ns1.example.net\n    ns2.example.net      192.0.2.1  2001:db8:0:0:0:0:0:1\n"
    )
    assert data["registrar"] == "Example Registrar Ltd [Tag = EXAMPLE]"
    assert data["nameservers"] == ["ns1.example.net", "ns2.example.net"]  # the addresses are left out
    assert warnings == []


def test_key_values_in_a_tab_indented_section():
    data, _ = read(
        "Registrar Technical Contacts:\n\tOrganisation:\tNot The Registrar Inc.\n\n"
        "Registrar:\n\tName:\t Example Registrar Inc.\n\tWebsite: http://registrar.example\n\n"
        "Nameservers:\n\tns2.example.net\n\tns1.example.net\n\nFlags:\n\tclientTransferProhibited\n"
    )
    assert data["registrar"] == "Example Registrar Inc."
    assert data["nameservers"] == ["ns1.example.net", "ns2.example.net"]
    assert data["status"] == ["client transfer prohibited"]


def test_bare_headers_after_an_empty_line():
    # A title without a colon, then (after an empty line or not) the section's lines.
    data, _ = read(
        "domain.............: example.test\ncreated............: 30.6.2006 00:00:00\n\n"
        "Nameservers\n\nnserver............: ns1.example.net [OK]\nnserver............: ns2.example.net [OK]\n\n"
        "Holder\n\nname...............: Example Holder Oy\ncountry............: Finland\n\n"
        "Registrar\n\nregistrar..........: Example Registrar Oy\nwww................: www.registrar.example\n"
    )
    assert data["created"] == "2006-06-30T00:00:00Z"
    assert data["nameservers"] == ["ns1.example.net", "ns2.example.net"]
    assert (data["registrant"], data["registrant_country"]) == ("Example Holder Oy", "Finland")
    assert data["registrar"] == "Example Registrar Oy"


def test_bare_headers_over_indented_lines():
    data, _ = read(
        "Domain:             example.test\nCreated:            1999-12-10 00:00:00\n\n"
        "Registrant\n  Organization:     Example Holder S.p.A.\n  Created:          2018-03-02 19:04:02\n\n"
        "Registrar\n  Organization:     Example Registrar Srl\n  Name:             EXAMPLE-REG\n\n"
        "Nameservers\n  ns1.example.net\n  ns2.example.net\n"
    )
    assert data["registrar"] == "Example Registrar Srl"  # the organisation before the handle
    assert data["registrant_org"] == "Example Holder S.p.A."
    assert data["nameservers"] == ["ns1.example.net", "ns2.example.net"]
    assert data["created"] == "1999-12-10T00:00:00Z"


def test_dates_of_contacts_and_registrars_are_not_the_domains():
    # Sections as paragraphs: a header, then key/values at the same indent up to an empty line.
    data, _ = read(
        "Domain:\nname:       example.test\nstatus:     ok (paid and in zone)\nexpire:     2030-11-09\n\n"
        "Registrant:\nname:       Example Holder\ncountry:    EE\nchanged:    2019-10-07 17:50:09 +03:00\n\n"
        "Registrar:\nname:       Example Registrar AS\nchanged:    2016-01-04 18:23:09 +02:00\n\n"
        "Name servers:\nnserver:   ns1.example.net\nchanged:   2010-11-10 14:15:06 +02:00\n"
    )
    assert (data["expires"], data["status"]) == ("2030-11-09", ["ok"])
    assert (data["registrar"], data["registrant"], data["registrant_country"]) == (
        "Example Registrar AS",
        "Example Holder",
        "EE",
    )
    assert data["updated"] is None  # every "changed" here is another object's
    assert data["nameservers"] == ["ns1.example.net"]


def test_an_empty_field_is_not_a_section():
    # ICANN's format: "Key:" with nothing after it, then the next field. What follows is not under it.
    data, _ = read(
        "Domain Name: example.test\nRegistrar: Example Registrar, LLC\nRegistrar IANA ID:\n"
        "Registrar Abuse Contact Email:\nDomain Status: clientHold https://icann.org/epp#clientHold\n"
        "Registrant Organization:\nRegistrant Country: NL\nBilling Fax Ext:\nName Server: NS1.EXAMPLE.NET\n"
        "DNSSEC: unsigned\nCreation Date: 2020-01-02T03:04:05Z\n"
    )
    assert (data["registrar_iana_id"], data["abuse_email"]) == (None, None)
    assert data["status"] == ["client hold"]
    assert (data["registrant_org"], data["registrant_country"]) == (None, "NL")
    assert (data["nameservers"], data["dnssec"]) == (["ns1.example.net"], False)
    assert data["created"] == "2020-01-02T03:04:05Z"


def test_indented_lines_continue_a_value():
    data, _ = read(
        "DOMAIN NAME:           example.test\nnameservers:           ns1.example.net.\n"
        "                       ns2.example.net.\ncreated:               2002.09.19 13:00:00\n\n"
        "REGISTRAR:\nExample Registrar, Inc.\n3540 Some Lane, Suite 300\n+1.5555550100\n"
    )
    assert data["nameservers"] == ["ns1.example.net", "ns2.example.net"]
    assert data["created"] == "2002-09-19T13:00:00Z"
    assert data["registrar"] == "Example Registrar, Inc."  # the first line of the section's paragraph


def test_bracketed_keys():
    data, _ = read(
        "[ A banner in brackets, long enough to be prose and not a key at all, of course ]\n"
        "Domain Information:\na. [Domain Name]                EXAMPLE.TEST\n"
        "p. [Name Server]                ns1.example.net\np. [Name Server]                ns2.example.net\n"
        "s. [Signing Key]\n[State]                         Connected (2030/03/31)\n"
        "[Registered Date]               2001/03/22\n[Last Update]                   2023/04/01 01:05:57 (JST)\n"
    )
    assert data["nameservers"] == ["ns1.example.net", "ns2.example.net"]
    assert data["status"] == ["connected"]
    assert (data["created"], data["updated"]) == ("2001-03-22", "2023-03-31T16:05:57Z")


def test_date_phrases_without_a_colon():
    tw = read(
        "Domain Name: example.test\n   Registrant:\n      Example Holder Ltd\n   Technical Contact:\n      Admin\n"
        "   Record expires on 2031-11-09 00:00:00 (UTC+8)\n   Record created on 2000-08-29 00:00:00 (UTC+8)\n"
    )[0]
    assert (tw["created"], tw["expires"]) == ("2000-08-28T16:00:00Z", "2031-11-08T16:00:00Z")
    assert tw["registrant"] == "Example Holder Ltd"
    gg = read("Relevant dates:\n     Registered on 30th April 2003 at 00:00:00.000\n     Fee due on 30th April\n")[0]
    assert (gg["created"], gg["created_text"]) == ("2003-04-30T00:00:00.000Z", "30th April 2003 at 00:00:00.000")


def test_comments_and_prose_are_not_read():
    data, _ = read(
        "% Registrar: Not This One\n# Creation Date: 1900-01-01\n"
        "The registry says: this line is prose and its colon makes no key of that sentence at all\n"
        "Registrar: Example Registrar\n"
    )
    assert (data["registrar"], data["created"]) == ("Example Registrar", None)


def test_an_imprecise_date_stays_imprecise():
    data, warnings = read("Relevant dates:\n    Registered on: before Aug-1996\n    Expiry date:  05-Dec-2030\n")
    assert (data["created"], data["created_text"]) == (None, "before Aug-1996")
    assert data["expires"] == "2030-12-05"
    assert warnings == ["created: imprecise date 'before Aug-1996'"]


def test_a_date_that_cannot_be_read_is_null_with_a_warning():
    data, warnings = read("Domain: example.test\nExpiry date: not disclosed\nUpdated: 2020-99-99\nStatus: active\n")
    assert (data["expires"], data["expires_text"], data["updated"]) == (None, "not disclosed", None)
    assert warnings == ["expires: unknown date format 'not disclosed'", "updated: unknown date format '2020-99-99'"]
    assert data["status"] == ["active"]  # the rest of the answer is read


def test_python_whois_values_are_checked_and_completed():
    parsed = {
        "name_servers": ["NS1.EXAMPLE.NET\n  ns2.example.net.\n ns3.example.net [OK]"],  # one block of lines
        "registrar": ["Example Registrar\n  123 Street"],
        "status": ["clientHold https://icann.org/epp#clientHold"],
        "creation_date": ["1996-08-01T00:00:00+00:00"],  # python-whois's reading of "before Aug-1996"
        "expiration_date": ["2030-01-01T00:00:00+00:00"],
        "dnssec": ["signedDelegation"],
    }
    data, warnings = read(
        "Domain: example.test\nRegistered on: before Aug-1996\nName servers:\n  ns4.example.net\n", **parsed
    )
    assert data["nameservers"] == ["ns1.example.net", "ns2.example.net", "ns3.example.net", "ns4.example.net"]
    assert (data["registrar"], data["status"], data["dnssec"]) == ("Example Registrar", ["client hold"], True)
    assert (data["created"], data["created_text"]) == (None, "before Aug-1996")  # the registry's words win
    assert (data["expires"], data["expires_text"]) == ("2030-01-01T00:00:00Z", None)  # no key of ours: theirs
    assert warnings == ["created: imprecise date 'before Aug-1996'"]


# More shapes, each as some registry writes it (names made up): what the reader must find.
SHAPES = {
    "value lines under headers; an imprecise date under one": (
        "Domain name:\nexample.test\n\nHolder of domain name:\nExample AG\nBahnhofstrasse 1\n\n"
        "Registrar:\nExample Registrar Inc.\n\nDNSSEC:N\n\nName servers:\nns1.example.net\nns2.example.net\n\n"
        "First registration date:\nbefore 1 January 1996\n",
        {"registrar": "Example Registrar Inc.", "registrant": "Example AG", "dnssec": False, "created": None,
         "created_text": "before 1 January 1996", "nameservers": ["ns1.example.net", "ns2.example.net"]},
    ),
    "an empty line between a header and its lines; day-first dashes": (
        "Domain Name:  EXAMPLE.TEST\nDomain Status: Active\nRegistrar Name: Example Registration Ltd\n\n"
        "Registrant Contact Information:\n\nCompany English Name (as registered): Example LLC\n\n"
        "Domain Name Commencement Date: 06-04-2004\nExpiry Date: 31-03-2031\n\n"
        "Name Servers Information:\n\nNS1.EXAMPLE.NET\nNS2.EXAMPLE.NET\n",
        {"registrar": "Example Registration Ltd", "created": "2004-04-06", "expires": "2031-03-31",
         "status": ["active"], "nameservers": ["ns1.example.net", "ns2.example.net"]},
    ),
    "spaces before colons; dotted dates with spaces; titles over indented keys": (
        "Domain Name                 : example.test\nRegistrant                  : Example Korea, LLC\n"
        "Registered Date             : 1999. 08. 23.\nExpiration Date             : 2031. 08. 23.\n"
        "Authorized Agency           : Example Corp.\n\n"
        "Primary Name Server\n   Host Name                : ns1.example.net\n\n"
        "Secondary Name Server\n   Host Name                : ns2.example.net\n",
        {"registrar": "Example Corp.", "registrant": "Example Korea, LLC", "created": "1999-08-23",
         "expires": "2031-08-23", "nameservers": ["ns1.example.net", "ns2.example.net"]},
    ),
    "starred headers over key/values and lines": (
        "** Domain Name: example.test\n\n** Registrant:\n   Example LLC\n   1 Example Parkway\n\n"
        "** Registrar:\nNIC Handle\t\t: exa14\nOrganization Name\t: Example Registrar A.S.\n\n"
        "** Domain Servers:\nns1.example.net\nns2.example.net\n\n"
        "** Additional Info:\nCreated on..............: 2001-Aug-23.\nExpires on..............: 2031-Aug-22.\n",
        {"registrar": "Example Registrar A.S.", "registrant": "Example LLC", "created": "2001-08-23",
         "expires": "2031-08-22", "nameservers": ["ns1.example.net", "ns2.example.net"]},
    ),
    "DNS: the domain's own name, not a name server; Hostname in a name-server section": (
        "Domain:               example.test\nDNS:                  example.test\nRegistered:           1999-01-10\n"
        "Dnssec:               Signed delegation\nStatus:               Active\n\nRegistrant\n"
        "Name:                 Example LLC\nCountry:              US\n\nNameservers\n"
        "Hostname:             ns1.example.net\nHostname:             ns2.example.net\n",
        {"created": "1999-01-10", "dnssec": True, "registrant": "Example LLC", "registrant_country": "US",
         "nameservers": ["ns1.example.net", "ns2.example.net"]},
    ),
    "DNS: in a name-server section; EPP Status": (
        "Domain Name:       example.test\n\nCreated On:        2009-05-12\nEPP Status:        ok\n\n"
        "Name Servers:\n   DNS:            ns1.example.net\n   DNS:            ns2.example.net\n",
        {"created": "2009-05-12", "status": ["ok"], "nameservers": ["ns1.example.net", "ns2.example.net"]},
    ),
    "usual keys alone over their values, no colon, no empty line": (
        "Domain Name\nexample.test\nRegistrar\nExample Registrar\nDate Registered\n2001-06-14\n"
        "Date Expires\n2031-06-14\nName Servers\nns1.example.net\nns2.example.net\nStatus\nactive\n",
        {"registrar": "Example Registrar", "created": "2001-06-14", "expires": "2031-06-14", "status": ["active"],
         "nameservers": ["ns1.example.net", "ns2.example.net"]},
    ),
}  # fmt: skip


@pytest.mark.parametrize("shape", SHAPES)
def test_more_shapes(shape):
    text, wanted = SHAPES[shape]
    data, _ = read(text)
    assert {key: data[key] for key in wanted} == wanted


@pytest.mark.parametrize(
    ("text", "value", "problem"),
    [
        ("2019-09-09T08:39:04-0700", "2019-09-09T15:39:04Z", None),
        ("2004-03-03T21:00:00Z", "2004-03-03T21:00:00Z", None),
        ("2002-12-04 00:00:00+02", "2002-12-03T22:00:00Z", None),
        ("2010-07-04 04:34:46 +03:00", "2010-07-04T01:34:46Z", None),
        ("1999-06-07 13:01:43 (GMT+0:00)", "1999-06-07T13:01:43Z", None),
        ("2021-11-09 00:00:00 (UTC+8)", "2021-11-08T16:00:00Z", None),  # east, not POSIX's west
        ("2021-11-09 00:00:00 UTC-03:30", "2021-11-09T03:30:00Z", None),
        ("2023/04/01 01:05:57 (JST)", "2023-03-31T16:05:57Z", None),
        ("4.1.2021 23:15:09 (EET)", "2021-01-04T21:15:09Z", None),
        ("2019-09-09 08:39:04 CEST", "2019-09-09T06:39:04Z", None),
        ("2019-09-09 08:39:04 XYZ", "2019-09-09T08:39:04Z", "unknown time zone 'XYZ' in"),
        ("2003-03-17 12:20:05", "2003-03-17T12:20:05Z", None),  # no zone given: read as UTC, and said
        ("2030-11-09", "2030-11-09", None),  # a day stays a day
        ("19961206 #24302", "1996-12-06", None),
        ("2002.09.19 13:00:00", "2002-09-19T13:00:00Z", None),
        ("2001/03/22", "2001-03-22", None),
        ("12.01.2017 16:58:49", "2017-01-12T16:58:49Z", None),  # day first
        ("4.7.2021", "2021-07-04", None),
        ("09/15/1997", "1997-09-15", None),  # a month first cannot be mistaken: 15 is no month
        ("2000-08-29 (YYYY-MM-DD)", "2000-08-29", None),
        ("11-Jun-2014", "2014-06-11", None),
        ("Tue Dec 12 2000", "2000-12-12", None),
        ("Tue Feb 23 08:27:34 2021", "2021-02-23T08:27:34Z", None),
        ("30th April 2003 at 00:00:00.000", "2003-04-30T00:00:00.000Z", None),
        ("before Aug-1996", None, "imprecise date"),
        ("Aug-1996", None, "imprecise date"),
        ("1996", None, "imprecise date"),
        ("1996-08", None, "imprecise date"),
        ("circa 2001-01-01", None, "imprecise date"),
        ("Not Disclosed - Visit www.registry.example", None, "unknown date format"),
        ("2020-13-45", None, "unknown date format"),
        ("", None, "unknown date format"),
        ("2001-06-14-T10:32:43Z", "2001-06-14T10:32:43Z", None),  # a dash before the T
        ("2008-08-18T13:19:55.000+0000", "2008-08-18T13:19:55.000Z", None),  # the precision given is kept
        ("2008-08-18T13:19:55.1234567Z", "2008-08-18T13:19:55.123456Z", None),  # to the microsecond
        ("2008-08-18 13:19", "2008-08-18T13:19:00Z", None),
        ("12/18/2001", "2001-12-18", None),  # 18 is no month: month first
        ("18/12/2001", "2001-12-18", None),
        ("05/05/2020", "2020-05-05", None),  # either way the same
        ("03/02/2020", None, "ambiguous date (day or month first)"),  # day or month first: nothing says
        ("03-02-2020", "2020-02-03", None),  # dashes and dots: day first, as registries write them
        ("0001-01-01T00:30:00+01:00", None, "unknown date format"),  # not a year UTC has
    ],
)
def test_dates(text, value, problem):
    reading = read_date(text)
    assert (reading.value, reading.problem) == (value, problem)


@pytest.mark.parametrize(
    ("text", "no_zone"),
    [("2003-03-17 12:20:05", True), ("2003-03-17 12:20:05 XYZ", True), ("2003-03-17T12:20:05Z", False),
     ("2003-03-17", False), ("2003-03-17 12:20:05 CET", False)],
)  # fmt: skip
def test_a_time_without_a_time_zone_says_so(text, no_zone):
    assert read_date(text).no_zone is no_zone


def test_slashed_dates_read_as_the_registry_writes_them():
    assert read_date("03/02/2020 10:00:00", "day").value == "2020-02-03T10:00:00Z"
    assert read_date("03/02/2020", "month").value == "2020-03-02"
    assert read_date("12/18/2001", "day").value == "2001-12-18"  # the parts outvote the habit


@pytest.mark.parametrize(
    ("values", "name", "order"),
    [
        (["09/17/2014", "12/11/2021"], "example.zz", "month"),  # evidence in the answer
        (["17/09/2014 10:00", "12/11/2021"], "example.tk", "day"),  # evidence over the table
        (["12/11/2021"], "example.tk", "month"),  # the table: Freenom
        (["12/11/2021"], "example.com.pt", "day"),  # DNS.PT
        (["12/11/2021"], "example.zz", None),
        (["09/17/2014", "17/09/2014"], "example.tk", None),  # evidence both ways: nothing decides
        (["2014/09/17", "1/2/33333", "version 1/13/2014a"], "example.zz", None),  # no slashed day-month-year
        (["Suite 12/34/5678", "00/13/2014", "12/11/2021"], "example.zz", None),  # no day above 31, no month 0
    ],
)
def test_slash_order_per_registry(values, name, order):
    assert slash_order(values, name) == order


def test_an_answers_slashed_dates_are_read_in_its_own_order():
    answer = "Domain registered: 10/09/2014\nRecord will expire on: 12/11/2031\nUpdated: 11/30/2020\n"
    data, warnings = fields(trimmed(answer), {}, "example.zz")
    assert (data["created"], data["expires"], data["updated"], warnings) == (
        "2014-10-09",
        "2031-12-11",
        "2020-11-30",
        [],
    )
    data, warnings = fields(trimmed(answer.replace("11/30/2020", "11/10/2020")), {}, "example.zz")
    assert (data["created"], data["expires"], data["updated"]) == (None, None, None)
    assert len(warnings) == 3 and all("ambiguous date" in warning for warning in warnings)


def test_python_whois_reading_stays_where_ours_fails_only():
    parsed = {"creation_date": ["2007-01-26T19:10:31+00:00"], "expiration_date": ["2031-01-26T00:00:00+00:00"],
              "updated_date": ["2020-03-02T00:00:00+00:00"]}  # fmt: skip
    data, warnings = read(
        "Creation Date: 2007-01-26T19:10:31Z[UTC]\nExpiry Date: circa 2031\nUpdated: 03/02/2020\n", **parsed
    )
    assert data["created"] == "2007-01-26T19:10:31Z"  # a form we do not know: python-whois's reading kept
    assert (data["expires"], data["updated"]) == (None, None)  # imprecise, ambiguous: not python-whois's guess
    assert warnings == [
        "created: unknown date format '2007-01-26T19:10:31Z[UTC]', python-whois's reading kept",
        "expires: imprecise date 'circa 2031'",
        "updated: ambiguous date (day or month first) '03/02/2020'",
    ]


def test_keys_apart_from_their_values_by_a_tab_and_keys_standing_alone():
    data, warnings = read(
        "Domain Name\texample.test\nRegistrar\t\tExample Registrar Ltd\nCreated\t2001-06-14 10:32:43\n"
        "Expiry date   2031-06-14\nDomain Status\tok\nName Servers\n\tns1.example.net\n\tns2.example.net\n"
        "DNSSEC\n\tunsigned\nRegistrant\n\tExample Holder SA\nSome Unknown Key\tx: y\n"
    )
    assert (data["registrar"], data["created"], data["expires"]) == (
        "Example Registrar Ltd", "2001-06-14T10:32:43Z", "2031-06-14",
    )  # fmt: skip
    assert (data["status"], data["nameservers"]) == (["ok"], ["ns1.example.net", "ns2.example.net"])
    assert (data["dnssec"], data["registrant"], data["no_time_zone"], warnings) == (
        False, "Example Holder SA", ["created"], [],
    )  # fmt: skip
    spaced = entries("Registrant                  : Example Korea, LLC\nNIC Handle\t\t: exa14\n")
    assert [(e.key, e.value) for e in spaced] == [("registrant", "Example Korea, LLC"), ("nic handle", "exa14")]


def test_prose_is_no_name_server():
    data, _ = read(
        "Name servers:\n        ns1.example.net (192.0.2.53)\n        ns2.example.org\n\n"
        "Please visit www.registry.example for more info.\n",
        name_servers=["ns1.example.net\n\nKeys:\n\nPlease visit www.registry.example for more info."],
    )
    assert data["nameservers"] == ["ns1.example.net", "ns2.example.org"]


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("NS1.Example.NET.", ["ns1.example.net"]),
        ("ns1.example.net 192.0.2.1 2001:db8::1", ["ns1.example.net"]),
        ("a.example.net, b.example.org", ["a.example.net", "b.example.org"]),
        ("xn--bcher-kva.example [OK]", ["xn--bcher-kva.example"]),
        ("192.0.2.1 localhost -bad-.example.net under_score.example", []),
        ("Please visit www.registry.example for more info.", []),  # prose
        ("see the list at www.registry.example", []),
        ("See www.registry.example", []),
        ("www.example.net", ["www.example.net"]),  # a host name alone is one, whatever its first label
        ("ns1.example.net ok active\nPlease visit www.registry.example", ["ns1.example.net"]),  # line by line
        ("- ns1.example.net", ["ns1.example.net"]),
        ("ns1.example.net (Example Hosting Name Servers)", ["ns1.example.net"]),
    ],
)
def test_host_names(value, names):
    assert host_names(value) == names


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("clientTransferProhibited https://icann.org/epp#clientTransferProhibited", ["client transfer prohibited"]),
        ("clientUpdateProhibited (https://www.icann.org/epp#clientUpdateProhibited)", ["client update prohibited"]),
        ("REGISTERED, DELEGATED, VERIFIED", ["registered", "delegated", "verified"]),
        (
            "client_delete_prohibited, client_update_prohibited",
            ["client delete prohibited", "client update prohibited"],
        ),
        ("ok - Normal state.", ["ok"]),
        ("NOT AVAILABLE", ["not available"]),
        ("Registered until expiry date.", ["registered until expiry date"]),
    ],
)
def test_status_words(value, words):
    assert status_words(value) == words


# Upstream text is hostile: the reader is one pass over at most WHOIS_TEXT_MAX of short lines.
LINES = WHOIS_TEXT_MAX // 8
HOSTILE = {
    "headers": "Header:\n" * LINES,
    "bare headers": "\nTitle\n" * LINES,
    "key values": "key: value\n" * LINES,
    "continuations": "key: value\n" + "    more\n" * LINES,
    "staircase": "".join(" " * (i % 200) + "A:\n" for i in range(LINES)),
    "colons": (":" * (WHOIS_LINE_MAX - 1) + "\n") * (WHOIS_TEXT_MAX // WHOIS_LINE_MAX),
    "brackets": ("[" * 100 + "]" * 100 + "\n") * (WHOIS_TEXT_MAX // 201),
    "on phrases": ("Record created on " + "on " * 70 + "\n") * (WHOIS_TEXT_MAX // 230),
    "dates": ("Created: " + "1" * 200 + "\n") * (WHOIS_TEXT_MAX // 210),
    "parentheses": ("Created: 2020-01-01 " + "(" * 100 + ")" * 100 + "\n") * (WHOIS_TEXT_MAX // 221),
    "name servers": "Name servers:\n" + ("    " + "a." * 120 + "\n") * (WHOIS_TEXT_MAX // 245),
}


@pytest.mark.parametrize("shape", HOSTILE)
def test_the_reader_is_fast_on_hostile_text(shape):
    text = trimmed(HOSTILE[shape])
    started = time.monotonic()
    fields(text, {})
    assert time.monotonic() - started < 0.5  # tens of milliseconds here
    assert len(entries(text)) <= text.count("\n") + 1


@pytest.mark.parametrize(
    ("answer", "registrant", "handle"),
    [
        ("domain:       example.test\nregistrant:   ACS25-IS\n", None, "ACS25-IS"),
        ("domain:       example.test\nregistrant:   CON000020360\n", None, "CON000020360"),
        ("Registrant Name: C-1234\nRegistrant Organization: Example Org\n", "Example Org", "C-1234"),
        ("Registrant Name: Example Holder 2\n", "Example Holder 2", None),
        ("Registrant:\n    Example3\n", None, "Example3"),  # one word with a digit reads as a handle
    ],
)
def test_a_registrant_given_as_a_contact_id_is_a_handle(answer, registrant, handle):
    data, _ = read(answer)
    assert (data["registrant"], data["registrant_handle"]) == (registrant, handle)
