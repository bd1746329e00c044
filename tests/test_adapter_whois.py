"""whois adapter: RDAP through the IANA bootstrap, the port-43 fallback, every failure status.

No test leaves the machine: RDAP and the bootstrap refresh meet respx (bootstrap_url points at
iana.test), the user cache is a tmp dir, and port 43 is a loopback server started here.

Where each fixture's format comes from (tests/fixtures/whois/):
- rdap_domain.json: Verisign's RDAP answer for a .com domain, as recorded from
  https://rdap.verisign.com/com/v1/domain/EXAMPLE.COM in meeb/whoisit
  tests/data_rdap_response_domain.json; members per RFC 9083 section 5.3 and the ICANN gTLD RDAP
  Response Profile (registrar entity with an "IANA Registrar ID" publicId, abuse entity nested in
  it). Registrar, ID, dates and e-mail are made up.
- rdap_ip.json: ARIN's RDAP "ip network" answer (rdapConformance nro_rdap_profile_0, cidr0,
  arin_originas0; handle NET-..., parentHandle, nested abuse entity), members per RFC 9083
  section 5.4 and the NRO cidr0 extension (cidr0_cidrs: v4prefix, length); owner made up.
- rdap_not_found.json: an RFC 9083 section 6 error response (errorCode, title, description).
- whois_com.txt: whois.verisign-grs.com's port-43 answer, CRLF lines as on the wire, as recorded in
  richardpenman/whois test/samples/whois/urlowl.com; values made up.
- whois_com_nomatch.txt: the same server's answer for an unregistered name ('No match for "X".').
- iana_com.txt: whois.iana.org's answer for "com" (the record with its "refer:" and "whois:"
  lines), from a recorded `whois` session (2020 CTF write-up, "New Years Resolution").
- iana_unknown_tld.txt: whois.iana.org's answer for a TLD it does not hold: its "% IANA WHOIS
  server" header and "% This query returned 0 objects." (the marker WHOIS clients test for, e.g.
  a Ruby WHOIS client's whois.iana.org parser), then "You queried for X but this server does not have any data".
- The IANA bootstrap files in adapters/data/ follow RFC 9224 section 3 ("services": [[entries],
  [base URLs]]); test_bootstrap_* write small ones of the same shape into the user cache.
"""

from __future__ import annotations

import asyncio
import json
import socketserver
import threading
import time
from pathlib import Path

import httpx
import pytest
import respx
from pydantic import ValidationError

import osint_fanout_adapters.whois as whois_adapter
from osint_fanout._adapter import metadata_problems
from osint_fanout_adapters.whois import WhoisAdapter, WhoisOptions
from tests.helpers import run_adapter

FIXTURES = Path(__file__).parent / "fixtures" / "whois"
IANA = "https://iana.test/rdap"
VERISIGN = "https://rdap.verisign.com/com/v1/domain/example.com"
ARIN = "https://rdap.arin.net/registry/ip/198.51.100.7"
NOBODY = "127.0.0.1:1"  # nothing listens there: a port-43 query no test expects fails at once


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def run(target: str, **options: object):
    options.setdefault("bootstrap_url", IANA)
    options.setdefault("iana_whois_server", NOBODY)
    return run_adapter(WhoisAdapter, target, **options)


@pytest.fixture(autouse=True)
def fresh_process(monkeypatch, tmp_path):
    """A user cache of our own, and the adapter's per-process bootstrap state reset."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(whois_adapter, "_bootstrap", None)
    monkeypatch.setattr(whois_adapter, "_refresh_task", None)


@pytest.fixture
def http():
    """respx for every HTTP request. The snapshot is older than 30 days, so each run first tries
    a refresh: it meets this 404 and keeps the snapshot."""
    with respx.mock(assert_all_called=False) as router:
        router.get(url__startswith=IANA, name="iana").respond(404)
        yield router


class Whois43(socketserver.ThreadingTCPServer):
    """A port-43 server on loopback: answers[query] is the reply, None never replies."""

    daemon_threads = True

    def __init__(self, answers: dict[str, bytes | None]) -> None:
        self.answers = answers
        self.queries: list[str] = []
        self.release = threading.Event()
        super().__init__(("127.0.0.1", 0), Whois43Handler)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"


class Whois43Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        query = self.rfile.readline().decode().strip()
        self.server.queries.append(query)
        answer = self.server.answers.get(query.lower(), b"")
        if answer is None:
            self.server.release.wait(10)
        else:
            self.wfile.write(answer)


@pytest.fixture
def port43():
    servers: list[Whois43] = []

    def start(answers: dict[str, bytes | None]) -> Whois43:
        server = Whois43(answers)
        threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.release.set()
        server.shutdown()
        server.server_close()


def test_metadata_and_option_checks():
    assert metadata_problems(WhoisAdapter) == []
    assert WhoisOptions(whois_server="127.0.0.1:4343", iana_whois_server="whois.iana.org").whois_server
    for bad in ({"whois_server": "whois example:43"}, {"whois_server": "host:99999"}, {"rdap_url": "ftp://x"}):
        with pytest.raises(ValidationError):
            WhoisOptions(**bad)


def test_domain_answer(http):
    route = http.get(VERISIGN).respond(200, content=fixture("rdap_domain.json"))
    result = run("example.com")
    assert result.status == "ok", result.error
    assert route.calls.last.request.headers["accept"] == "application/rdap+json"
    assert result.data == {
        "source": "rdap",
        "server": "rdap.verisign.com",
        "name": "example.com",
        "handle": "2336799_DOMAIN_COM-VRSN",
        "registrar": "Example Registrar, LLC",
        "registrar_iana_id": "9999",
        "created": "1995-08-14T04:00:00Z",
        "expires": "2027-08-13T04:00:00Z",
        "updated": "2026-08-14T07:01:38Z",
        "status": ["client delete prohibited", "client transfer prohibited", "client update prohibited"],
        "nameservers": ["a.iana-servers.net", "b.iana-servers.net"],
        "dnssec": True,
        "abuse_email": "abuse@registrar.example",
        "registrant": None,
    }
    assert result.summary == "registrar Example Registrar, LLC · created 1995-08-14 · expires 2027-08-13"


def test_ip_answer(http):
    http.get(ARIN).respond(200, content=fixture("rdap_ip.json"))
    result = run("198.51.100.7")
    assert result.status == "ok", result.error
    assert result.data["source"] == "rdap"
    assert result.data["handle"] == "NET-198-51-100-0"
    assert result.data["name"] == "EXAMPLE-NET"
    assert result.data["range"] == "198.51.100.0 - 198.51.100.255"
    assert result.data["cidrs"] == ["198.51.100.0/24"]
    assert result.data["country"] == "US"
    assert result.data["registrant"] == "Example Hosting, Inc."
    assert result.data["abuse_email"] == "abuse@hosting.example"
    assert result.summary == "NET-198-51-100-0 198.51.100.0 - 198.51.100.255 · US · Example Hosting, Inc."


@pytest.mark.parametrize(
    ("target", "url"),
    [
        ("example.com", VERISIGN),
        ("www.example.org", "https://rdap.publicinterestregistry.org/rdap/domain/www.example.org"),
        ("example.berlin", "https://rdap.nic.berlin/v1/domain/example.berlin"),
        ("example.kg", "http://rdap.cctld.kg/domain/example.kg"),  # the only URL it lists
        ("193.0.6.139", "https://rdap.db.ripe.net/ip/193.0.6.139"),
        ("2001:db8::1", "https://rdap.apnic.net/ip/2001:db8::1"),  # inside 2001:c00::/23
    ],
)
def test_snapshot_routes_each_target(http, target, url):
    route = http.get(url).respond(404, content=fixture("rdap_not_found.json"))
    result = run(target)
    assert route.called
    assert result.status == "empty"  # a 404 is "not found", never a port-43 retry (NOBODY would fail)


def test_tld_missing_from_the_bootstrap_goes_to_rdap_org(http):
    answer = json.loads(fixture("rdap_domain.json"))
    answer["ldhName"] = "example.de"
    http.get("https://rdap.org/domain/example.de").respond(
        302, headers={"Location": "https://rdap.denic.de/domain/example.de"}
    )
    http.get("https://rdap.denic.de/domain/example.de").respond(200, json=answer)
    result = run("example.de")
    assert result.status == "ok", result.error
    assert result.data["server"] == "rdap.denic.de"
    assert result.data["name"] == "example.de"


def test_rdap_org_without_a_server_falls_back_to_port43(http, port43):
    http.get("https://rdap.org/domain/example.zz").respond(404)
    iana = port43({"zz": fixture("iana_unknown_tld.txt")})
    result = run("example.zz", iana_whois_server=iana.address)
    assert iana.queries == ["zz"]  # only the TLD goes to IANA
    assert result.status == "empty"


def test_tld_without_rdap_or_whois_is_skipped(http, port43):
    http.get("https://rdap.org/domain/example.zz").respond(404)
    no_server = fixture("iana_com.txt").replace(b"whois.verisign-grs.com", b"")  # "refer:" and "whois:" empty
    iana = port43({"zz": no_server})
    result = run("example.zz", iana_whois_server=iana.address)
    assert result.status == "skipped"
    assert result.reason == "no RDAP or WHOIS service for .zz"


def test_rdap_url_sends_every_query_to_one_base(http):
    domain = http.get("https://rdap.test/rdap/domain/example.com").respond(200, content=fixture("rdap_domain.json"))
    ip = http.get("https://rdap.test/rdap/ip/198.51.100.7").respond(200, content=fixture("rdap_ip.json"))
    assert run("example.com", rdap_url="https://rdap.test/rdap/").status == "ok"
    assert run("198.51.100.7", rdap_url="https://rdap.test/rdap").status == "ok"
    assert domain.call_count == ip.call_count == 1
    assert not http.routes["iana"].called  # no bootstrap needed, so no refresh either


def write_cache(tmp_path: Path, dns: list, ipv4: list, ipv6: list) -> None:
    folder = tmp_path / "cache" / "osint-fanout" / "rdap-bootstrap"
    folder.mkdir(parents=True)
    for name, services in (("dns", dns), ("ipv4", ipv4), ("ipv6", ipv6)):
        doc = {"description": name, "publication": "2026-11-01T00:00:00Z", "services": services, "version": "1.0"}
        (folder / f"{name}.json").write_text(json.dumps(doc))


def test_bootstrap_longest_match_from_a_fresh_cache(http, tmp_path):
    special = ["http://rdap.special.test/", "https://rdap.special.test/"]  # https wins
    write_cache(
        tmp_path,
        dns=[[["com"], ["https://rdap.verisign.com/com/v1/"]], [["example.com"], special]],
        ipv4=[[["198.0.0.0/8"], ["https://rdap.arin.net/registry/"]], [["198.51.100.0/24"], special]],
        ipv6=[[["2001:db8::/32"], ["https://rdap.apnic.net/"]]],
    )
    routes = [
        http.get("https://rdap.special.test/domain/www.example.com").respond(404),
        http.get("https://rdap.verisign.com/com/v1/domain/other.com").respond(404),
        http.get("https://rdap.special.test/ip/198.51.100.7").respond(404),
        http.get("https://rdap.arin.net/registry/ip/198.1.2.3").respond(404),
    ]
    for target in ("www.example.com", "other.com", "198.51.100.7", "198.1.2.3"):
        assert run(target).status == "empty"
    assert all(route.call_count == 1 for route in routes)
    assert not http.routes["iana"].called  # the cache is fresh: no refresh


def test_rate_limited_then_success(http):
    route = http.get(VERISIGN)
    route.side_effect = [httpx.Response(429), httpx.Response(200, content=fixture("rdap_domain.json"))]
    result = run("example.com")
    assert result.status == "ok", result.error
    assert route.call_count == 2


def test_malformed_json_is_a_parse_error(http):
    http.get(VERISIGN).respond(200, content=b'{"objectClassName": "domain", "ldhName": ')
    result = run("example.com")
    assert (result.status, result.error.type) == ("error", "parse")


def test_html_error_page_is_a_parse_error(http):
    page = b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head><body>Try later</body></html>"
    http.get(VERISIGN).respond(200, content=page, headers={"Content-Type": "text/html"})
    result = run("example.com")
    assert (result.status, result.error.type) == ("error", "parse")
    assert "did not answer JSON" in result.error.message


@pytest.mark.parametrize(
    "body",
    [
        ["not", "an", "object"],
        {"objectClassName": "autnum", "handle": "AS64496"},
        {"objectClassName": "domain", "ldhName": 42, "events": "yesterday", "entities": {"fn": "x"}},
    ],
)
def test_json_of_the_wrong_shape_is_a_parse_error(http, body):
    http.get(VERISIGN).respond(200, json=body)
    result = run("example.com")
    assert (result.status, result.error.type) == ("error", "parse")


def test_oversized_body_is_too_large(http):
    http.get(VERISIGN).respond(200, content=fixture("rdap_domain.json"))
    result = run("example.com", max_body_bytes=1000)
    assert (result.status, result.error.type) == ("error", "too_large")


def test_server_error_falls_back_to_port43(http, port43):
    http.get(VERISIGN).respond(500, text="Internal Server Error")
    registry = port43({"example.com": fixture("whois_com.txt")})
    result = run("example.com", whois_server=registry.address)
    assert result.status == "ok", result.error
    assert registry.queries == ["example.com"]
    data = result.data
    assert (data["source"], data["server"]) == ("whois", registry.address)
    assert data["registrar"] == "Example Registrar, LLC"
    assert data["registrar_iana_id"] == "9999"
    assert data["created"].startswith("1995-08-14")
    assert data["expires"].startswith("2027-08-13")
    assert data["status"] == ["client delete prohibited", "client transfer prohibited", "client update prohibited"]
    assert data["nameservers"] == ["a.iana-servers.net", "b.iana-servers.net"]
    assert (data["dnssec"], data["abuse_email"]) == (True, "abuse@registrar.example")
    assert "HTTP 500" in data["rdap_error"]
    assert result.summary == "registrar Example Registrar, LLC · created 1995-08-14 · expires 2027-08-13 · via port 43"


def test_unreachable_rdap_falls_back_to_port43(http, port43):
    http.get(VERISIGN).side_effect = httpx.ConnectTimeout("timed out")
    registry = port43({"example.com": fixture("whois_com.txt")})
    result = run("example.com", whois_server=registry.address)
    assert result.status == "ok", result.error
    assert result.data["source"] == "whois"


def test_port43_referral_from_iana(http, port43, monkeypatch):
    http.get(VERISIGN).respond(500)
    server = port43({"com": fixture("iana_com.txt"), "example.com": fixture("whois_com.txt")})
    connects: list[tuple[str, int]] = []
    real_open = asyncio.open_connection

    async def loopback(host: str, port: int, **kwargs: object):  # every WHOIS host is our server
        connects.append((host, port))
        return await real_open("127.0.0.1", server.server_address[1], **kwargs)

    monkeypatch.setattr(asyncio, "open_connection", loopback)
    result = run("example.com", iana_whois_server="whois.iana.org")
    assert result.status == "ok", result.error
    assert connects == [("whois.iana.org", 43), ("whois.verisign-grs.com", 43)]
    assert server.queries == ["com", "example.com"]
    assert result.data["server"] == "whois.verisign-grs.com:43"


def test_port43_no_match_is_empty(http, port43):
    http.get("https://rdap.verisign.com/com/v1/domain/no-such-name-7f3a.com").respond(500)
    registry = port43({"no-such-name-7f3a.com": fixture("whois_com_nomatch.txt")})
    assert run("no-such-name-7f3a.com", whois_server=registry.address).status == "empty"


def test_port43_garbage_is_a_parse_error(http, port43):
    http.get(VERISIGN).respond(500)
    registry = port43({"example.com": b"\xff\xfe lorem ipsum \x00\x1b[31m dolor sit amet\r\n"})
    result = run("example.com", whois_server=registry.address)
    assert (result.status, result.error.type) == ("error", "parse")
    assert "HTTP 500" in result.error.message  # the RDAP failure is part of the story


def test_port43_answer_over_the_cap_is_too_large(http, port43):
    http.get(VERISIGN).respond(500)
    registry = port43({"example.com": b"Domain Name: EXAMPLE.COM\r\n" * 200})
    result = run("example.com", whois_server=registry.address, max_body_bytes=1000)
    assert (result.status, result.error.type) == ("error", "too_large")


def test_port43_server_that_never_answers_times_out_within_the_budget(http, port43):
    http.get(VERISIGN).respond(500)
    registry = port43({"example.com": None})
    started = time.monotonic()
    result = run("example.com", whois_server=registry.address, timeout_s=0.5)
    assert time.monotonic() - started < 1.0
    assert result.status == "timeout"
    assert registry.queries == ["example.com"]


def test_stale_bootstrap_is_refreshed_into_the_user_cache(http, tmp_path):
    dns = {"publication": "2026-11-20T00:00:00Z", "services": [[["com"], ["https://rdap.fresh.test/"]]]}
    ipv4 = {"services": [[["198.0.0.0/8"], ["https://rdap.arin.net/registry/"]]]}
    ipv6 = {"services": [[["2001:db8::/32"], ["https://rdap.apnic.net/"]]]}
    files = {f"{IANA}/{name}.json": doc for name, doc in (("dns", dns), ("ipv4", ipv4), ("ipv6", ipv6))}
    http.routes["iana"].side_effect = lambda request: httpx.Response(200, json=files[str(request.url)])
    fresh = http.get("https://rdap.fresh.test/domain/example.com").respond(200, content=fixture("rdap_domain.json"))
    assert run("example.com").status == "ok"
    assert fresh.call_count == 1
    assert {str(call.request.url) for call in http.routes["iana"].calls} == set(files)
    cached = tmp_path / "cache" / "osint-fanout" / "rdap-bootstrap"
    assert json.loads((cached / "dns.json").read_text()) == dns
    # A new process reads the cache, finds it fresh and asks nobody for it.
    whois_adapter._bootstrap, whois_adapter._refresh_task = None, None
    http.routes["iana"].reset()
    assert run("example.com").status == "ok"
    assert fresh.call_count == 2
    assert not http.routes["iana"].called


def test_failed_refresh_keeps_the_snapshot_and_is_not_retried(http, tmp_path):
    http.routes["iana"].respond(500)
    verisign = http.get(VERISIGN).respond(200, content=fixture("rdap_domain.json"))
    assert run("example.com").status == "ok"
    assert run("example.com").status == "ok"  # the same process: no second attempt
    assert http.routes["iana"].call_count <= 3  # one attempt: one GET per bootstrap file at most
    whois_adapter._refresh_task = None  # a new process, within a day of the failure: no attempt
    http.routes["iana"].reset()
    assert run("example.com").status == "ok"
    assert not http.routes["iana"].called
    assert verisign.call_count == 3
    assert (tmp_path / "cache" / "osint-fanout" / "rdap-bootstrap" / "refresh-failed").exists()


def test_refresh_only_ever_meets_the_mock(http):
    http.get(VERISIGN).respond(404)
    assert run("example.com").status == "empty"
    assert {call.request.url.host for call in http.calls} == {"iana.test", "rdap.verisign.com"}
