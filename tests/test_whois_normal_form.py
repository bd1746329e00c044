"""whois adapter, end to end in-process: RDAP answers in one normal form (issue 23) and port-43
answers in every registry's layout (issue 19), over the recorded-format fixtures below.

Where each fixture's format comes from (tests/fixtures/whois/; names, handles, addresses and
e-mails are made up):
- rdap_registrar_capitalised.json: a registrar's own RDAP server answering for a domain, in the
  shape of rdap_registrar_domain.json (ICANN RDAP Response Profile), with its role values and
  event actions capitalised ("Registrant", "Registrar", "Abuse", "Registration") and its dates in
  three of the spellings seen on real servers: no time zone ("2008-08-18T13:19:55"), a basic
  offset with milliseconds ("....000+0000"), a day alone.
- rdap_ip_ripe_maintainer.json: RIPE's 2016 RDAP "ip network" answer (no objectClassName, "/32"
  on the addresses, the range as handle), where the registrant role is a maintainer object
  ("...-MNT") with no vCard; an abuse entity nested in the technical role comes before the
  network's own abuse-c role ("Abuse").
- rdap_ip_arin_two_abuse.json: ARIN's 2024 RDAP answer for an IPv6 network (as rdap_ip.json): the
  registrant organisation with its own abuse POC nested in it, and the network's own NOC entity
  (roles noc, technical, abuse) at the top level.
- whois_tab_layout.txt: a port-43 layout where key and value are apart by a tab with no colon,
  and keys stand alone over tab-indented values (issue 19), CRLF lines.
- whois_month_first.txt: Freenom's port-43 layout (.tk, .ml, .ga, .cf, .gq: indented "Domain
  registered:" and "Record will expire on:" with month-first slashed dates), as recorded in
  pogzyb/asyncwhois tests/samples/tld_tk.txt.
- whois_boilerplate.txt: EURid's port-43 layout (sections under "Registrar:", "Name servers:",
  "Keys:"; "Please visit ... for more info." at the end), as recorded in richardpenman/whois
  test/samples/whois/eurid.eu.
"""

from __future__ import annotations

import pytest

from tests.test_adapter_whois import fixture, fresh_process, http, port43, run  # noqa: F401 (fixtures)

RDAP = "https://rdap.test/rdap"


def test_rdap_roles_and_events_in_any_case_and_dates_in_one_form(http):  # noqa: F811
    http.get(f"{RDAP}/domain/example.net").respond(200, content=fixture("rdap_registrar_capitalised.json"))
    result = run("example.net", rdap_url=RDAP)
    assert result.status == "ok", result.error
    data = result.data
    assert (data["registrar"], data["registrar_iana_id"]) == ("Example Registrar, LLC", "9999")
    assert (data["registrant"], data["registrant_handle"]) == ("Example Holdings Ltd", "C-EX-0001")
    assert (data["registrant_country"], data["abuse_email"]) == ("GB", "abuse@registrar.example")
    assert (data["created"], data["expires"], data["updated"]) == (
        "2008-08-18T13:19:55Z",  # no time zone given: read as UTC, and said so
        "2027-08-18T13:19:55.000Z",  # the registry's precision kept
        "2026-01-05",  # a day stays a day
    )
    assert (data["no_time_zone"], data["warnings"]) == (["created"], [])


def test_a_maintainer_is_no_holder_and_the_networks_own_abuse_contact_wins(http):  # noqa: F811
    http.get(f"{RDAP}/ip/192.0.2.1").respond(200, content=fixture("rdap_ip_ripe_maintainer.json"))
    result = run("192.0.2.1", rdap_url=RDAP)
    assert result.status == "ok", result.error
    data = result.data
    assert (data["registrant"], data["registrant_handle"]) == (None, "EXAMPLE-MNT")
    assert data["abuse_email"] == "abuse@transit.example"  # top level, before the one nested in "technical"
    assert (data["range"], data["updated"], data["created"]) == (
        "192.0.2.0 - 192.0.2.255",
        "2015-11-05T09:12:48Z",
        None,
    )
    assert result.summary == "192.0.2.0 - 192.0.2.255 192.0.2.0 - 192.0.2.255 · DE"


def test_the_abuse_contact_closest_to_the_network(http):  # noqa: F811
    http.get(f"{RDAP}/ip/2001:db8::1").respond(200, content=fixture("rdap_ip_arin_two_abuse.json"))
    data = run("2001:db8::1", rdap_url=RDAP).data
    assert data["abuse_email"] == "net-abuse@hosting.example"  # not the organisation's, nested in the registrant
    assert (data["registrant"], data["registrant_handle"]) == ("Example Hosting, Inc.", "EXHO")
    assert (data["created"], data["updated"]) == ("2005-03-14T16:31:08Z", "2012-02-24T14:44:34Z")


def port43_data(http, port43, name: str, answer: bytes) -> dict:  # noqa: F811
    """The data of `answer`, served by a port-43 server for `name` while RDAP fails."""
    http.get(f"{RDAP}/domain/{name}").respond(500)
    registry = port43({name: answer})
    result = run(name, rdap_url=RDAP, whois_server=registry.address)
    assert result.status == "ok", result.error
    return result.data


def test_port43_keys_apart_by_a_tab_and_keys_standing_alone(http, port43):  # noqa: F811
    data = port43_data(http, port43, "example.zz", fixture("whois_tab_layout.txt"))
    assert (data["registrar"], data["created"], data["expires"]) == (
        "Example Registrar Ltd",
        "2001-06-14T10:32:43Z",
        "2031-06-14",
    )
    assert (data["status"], data["nameservers"]) == (["active"], ["ns1.example.net", "ns2.example.net"])
    assert (data["registrant"], data["no_time_zone"]) == ("Example Holder SA", ["created"])


def test_port43_month_first_from_the_answers_own_evidence(http, port43):  # noqa: F811
    data = port43_data(http, port43, "example.zz", fixture("whois_month_first.txt"))  # 09/17/2014: month first
    assert (data["created"], data["expires"]) == ("2014-09-17", "2031-12-11")  # not 12 November
    assert data["nameservers"] == ["ns1.example.net", "ns2.example.net"]


@pytest.mark.parametrize(
    ("name", "created", "expires"),
    [
        ("example.tk", "2014-10-09", "2031-12-11"),  # Freenom's registries write the month first
        ("example.pt", "2014-09-10", "2031-11-12"),  # DNS.PT the day first
        ("example.zz", None, None),  # nothing says: ambiguous, not misread
    ],
)
def test_port43_ambiguous_slashed_dates_by_the_registrys_habit(http, port43, name, created, expires):  # noqa: F811
    answer = fixture("whois_month_first.txt").replace(b"09/17/2014", b"10/09/2014")  # no part above 12 left
    data = port43_data(http, port43, name, answer)
    assert (data["created"], data["expires"]) == (created, expires)
    assert (data["created_text"], data["expires_text"]) == ("10/09/2014", "12/11/2031")
    if created is None:
        assert data["warnings"] == [
            "created: ambiguous date (day or month first) '10/09/2014'",
            "expires: ambiguous date (day or month first) '12/11/2031'",
        ]


def test_port43_boilerplate_prose_is_no_name_server(http, port43):  # noqa: F811
    data = port43_data(http, port43, "example.eu", fixture("whois_boilerplate.txt"))
    assert data["nameservers"] == ["ns1.example.net", "ns2.example.org"]  # not www.registry.example
    assert data["registrar"] == "Example Registrar BV"


def test_port43_a_date_we_cannot_read_does_not_replace_python_whois_reading(http, port43):  # noqa: F811
    # "...Z[UTC]" is a form python-whois knows and this reader does not: its reading is kept.
    answer = fixture("whois_com.txt").replace(b"Date: 1995-08-14T04:00:00Z", b"Date: 1995-08-14T04:00:00Z[UTC]")
    data = port43_data(http, port43, "example.com", answer)
    assert (data["created"], data["created_text"]) == ("1995-08-14T04:00:00Z", "1995-08-14T04:00:00Z[UTC]")
    assert data["warnings"] == ["created: unknown date format '1995-08-14T04:00:00Z[UTC]', python-whois's reading kept"]
    assert data["expires"] == "2027-08-13T04:00:00Z"  # the registry's own words, read here


def test_diff_stays_quiet_for_an_answer_stored_before_the_normal_form():
    from osint_fanout._plugins import discover

    whois = discover().adapters["whois"]
    adapter = whois(whois.Options.model_validate({}))
    stored = {"registrar": "R", "expires": "2023-12-04T00:00:00+02:00", "nameservers": [], "status": []}  # before
    now = stored | {"expires": "2023-12-03T22:00:00Z"}  # the same answer read today
    assert adapter.facts(stored) == adapter.facts(now)
    assert adapter.facts(now)["expires"] == "2023-12-03"
    assert adapter.facts(stored | {"expires": "not a date"})["expires"] == "not a date"
    assert adapter.facts(stored | {"expires": None})["expires"] is None
