"""The dns adapter against a real DNS server on loopback (UDP and TCP)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import dns.message
import dns.name
import dns.rdatatype
import dns.rrset
import pytest

from osint_fanout._results import Status
from osint_fanout.testing import run_adapter
from osint_fanout_adapters.dns import DnsAdapter, DnsOptions, split_server
from tests.world.dns_server import DnsServer

ZONE = {
    "example.com": {
        "A": ["93.184.215.14", "93.184.215.15"],
        "AAAA": ["2606:2800:21f:cb07:6820:80da:af6b:8b2c"],
        "MX": ["10 mail.example.com.", "20 backup.example.com."],
        "NS": ["a.iana-servers.net.", "b.iana-servers.net."],
        "TXT": [
            '"v=spf1 include:_spf.example.com -all"',
            '"google-site-verification=abc"',
            '"[bold red]x[/] \\027[2J"',
        ],
        "SOA": ["ns.icann.org. noc.dns.icann.org. 2024081464 7200 3600 1209600 3600"],
        "CAA": ['0 issue "letsencrypt.org"'],
    },
    "_dmarc.example.com": {"TXT": ['"v=DMARC1; p=reject; rua=mailto:d@example.com"']},
    "www.example.com": {"CNAME": ["example.com."]},
    "partial.example.com": {"A": ["192.0.2.1"]},
    "7.100.51.198.in-addr.arpa": {"PTR": ["host.example.net."]},
    "big.example.com": {"TXT": [f'"{n}{"x" * 200}"' for n in range(6)]},
}


@pytest.fixture
def server() -> Iterator[DnsServer]:
    dns = DnsServer(ZONE, {"hang.test": "drop", "fail.test": "servfail", "partial.example.com": ""}).start()
    yield dns
    dns.stop()


def lookup(server: DnsServer, target: str, **options: object):
    return run_adapter(DnsAdapter, target, nameservers=[server.address], **options)


def test_domain_records_spf_and_dmarc(server: DnsServer) -> None:
    result = lookup(server, "example.com")
    assert result.status is Status.OK
    data = result.data or {}
    records = data["records"]
    assert records["A"] == ["93.184.215.14", "93.184.215.15"]
    assert records["MX"] == [
        {"preference": 10, "exchange": "mail.example.com"},
        {"preference": 20, "exchange": "backup.example.com"},
    ]
    assert records["NS"] == ["a.iana-servers.net", "b.iana-servers.net"]
    assert records["SOA"][0]["serial"] == 2024081464
    assert records["CAA"] == [{"flags": 0, "tag": "issue", "value": "letsencrypt.org"}]
    assert data["spf"] == "v=spf1 include:_spf.example.com -all"
    assert data["dmarc"] == "v=DMARC1; p=reject; rua=mailto:d@example.com"
    assert "[bold red]x[/] \x1b[2J" in records["TXT"]  # kept exact; sinks make it inert
    assert data["nameservers"] == [server.address]
    assert result.summary.startswith("A 93.184.215.14 (+1), 1 AAAA, 2 MX, 2 NS, 3 TXT, 1 CAA")
    assert result.summary.endswith("SPF, DMARC")
    asked = {(name, rdtype) for _, name, rdtype in server.queries}
    assert ("_dmarc.example.com", "TXT") in asked
    assert {rdtype for name, rdtype in asked if name == "example.com"} == {
        "A",
        "AAAA",
        "CNAME",
        "MX",
        "NS",
        "TXT",
        "SOA",
        "CAA",
    }


def test_cname_is_reported(server: DnsServer) -> None:
    result = lookup(server, "www.example.com")
    assert result.status is Status.OK
    assert (result.data or {})["records"]["CNAME"] == ["example.com"]


def test_ip_gives_the_ptr_name(server: DnsServer) -> None:
    result = lookup(server, "198.51.100.7")
    assert result.status is Status.OK
    assert result.data == {"address": "198.51.100.7", "ptr": ["host.example.net"], "nameservers": [server.address]}
    assert result.summary == "PTR host.example.net"


def test_nxdomain_and_missing_ptr_are_empty(server: DnsServer) -> None:
    assert lookup(server, "nope.example.org").status is Status.EMPTY
    assert lookup(server, "192.0.2.99").status is Status.EMPTY


def test_servfail_is_an_error_with_the_reason(server: DnsServer) -> None:
    result = lookup(server, "x.fail.test")
    assert result.status is Status.ERROR
    assert result.error is not None and result.error.type == "servfail"
    assert "SERVFAIL" in result.error.message


def test_a_server_that_never_answers_times_out_within_the_budget(server: DnsServer) -> None:
    result = lookup(server, "www.hang.test", timeout_s=1.0)
    assert result.status is Status.TIMEOUT
    assert result.error is not None and "no answer" in result.error.message
    assert result.elapsed_ms < 1500


def test_over_tcp(server: DnsServer) -> None:
    result = lookup(server, "example.com", tcp=True)
    assert result.status is Status.OK
    assert {transport for transport, _, _ in server.queries} == {"tcp"}


def test_truncated_udp_answers_fall_back_to_tcp(server: DnsServer) -> None:
    result = lookup(server, "big.example.com")
    assert result.status is Status.OK
    assert len((result.data or {})["records"]["TXT"]) == 6


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.1.1.1", ("1.1.1.1", 53)),
        ("127.0.0.1:5353", ("127.0.0.1", 5353)),
        ("[::1]:5353", ("::1", 5353)),
        ("::1", ("::1", 53)),
    ],
)
def test_nameserver_syntax(text: str, expected: tuple[str, int]) -> None:
    assert split_server(text) == expected


@pytest.mark.parametrize("text", ["dns.google", "1.1.1.1:99999", "1.1.1.1:x", ""])
def test_bad_nameservers_are_refused_in_the_config(text: str) -> None:
    with pytest.raises(ValueError, match="nameserver"):
        DnsOptions(nameservers=[text])


def test_refused_is_named_as_such() -> None:
    server = DnsServer(ZONE, {"closed.test": "refused"}).start()
    try:
        result = lookup(server, "www.closed.test")
    finally:
        server.stop()
    assert result.status is Status.ERROR
    assert result.error is not None and result.error.type == "refused" and "REFUSED" in result.error.message


class RawServer:
    """A UDP server whose `answer(query)` gives the datagrams to send back, each as (wire,
    source address): for answers a real server would never send."""

    def __init__(self, answer) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.sock.getsockname()[1]}"
        self.answer = answer
        self.peers: list[tuple[str, int]] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                data, peer = self.sock.recvfrom(65535)
            except OSError:
                return
            self.peers.append(peer)
            for wire, source in self.answer(dns.message.from_wire(data)):
                if source is None:
                    self.sock.sendto(wire, peer)
                else:
                    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
                        other.bind((source, 0))
                        other.sendto(wire, peer)
                    time.sleep(0.01)  # the forged answer first

    def stop(self) -> None:
        self.sock.close()


def _answer(query: dns.message.Message, *values: str, name: str | None = None) -> bytes:
    response = dns.message.make_response(query)
    question = query.question[0]
    if name is not None:  # an answer to another question, with the query's ID
        response.question = [dns.rrset.RRset(dns.name.from_text(name), question.rdclass, question.rdtype)]
    if values:
        response.answer.append(dns.rrset.from_text(name or question.name, 300, "IN", question.rdtype, *values))
    return response.to_wire()


def _a_only(query: dns.message.Message) -> list[tuple[bytes, str | None]]:
    if query.question[0].rdtype == dns.rdatatype.A:
        return [(_answer(query, "192.0.2.10"), None)]
    return [(_answer(query), None)]


def test_a_lookup_asks_its_questions_together_from_one_socket() -> None:
    server = RawServer(_a_only)
    try:
        result = run_adapter(DnsAdapter, "example.com", nameservers=[server.address])
    finally:
        server.stop()
    assert result.status is Status.OK
    assert (result.data or {})["records"] == {"A": ["192.0.2.10"]}
    assert len(server.peers) == 9 and len(set(server.peers)) == 1  # one socket, one port, for this lookup


def test_an_answer_to_another_question_is_never_taken() -> None:
    def forged(query: dns.message.Message) -> list[tuple[bytes, str | None]]:
        if query.question[0].rdtype == dns.rdatatype.A:
            return [(_answer(query, "6.6.6.6", name="evil.example."), None)]
        return _a_only(query)

    server = RawServer(forged)
    try:  # the resolver too refuses it, and asks again until its time is up (as it always did)
        result = run_adapter(DnsAdapter, "example.com", nameservers=[server.address], timeout_s=1.0)
    finally:
        server.stop()
    assert "6.6.6.6" not in str(result.data)
    assert result.status is Status.TIMEOUT


def test_answers_from_another_address_are_ignored() -> None:
    def spoofed(query: dns.message.Message) -> list[tuple[bytes, str | None]]:
        if query.question[0].rdtype == dns.rdatatype.A:
            return [(_answer(query, "6.6.6.6"), "127.0.0.2"), (_answer(query, "192.0.2.10"), None)]
        return _a_only(query)

    server = RawServer(spoofed)
    try:
        result = run_adapter(DnsAdapter, "example.com", nameservers=[server.address])
    finally:
        server.stop()
    assert result.status is Status.OK
    assert (result.data or {})["records"] == {"A": ["192.0.2.10"]}
