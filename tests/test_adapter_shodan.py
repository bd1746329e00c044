"""The shodan adapter against respx: REST API with a key, InternetDB without one.

Fixture formats and their sources: tests/fixtures/shodan/README.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from osint_fanout import _retry
from osint_fanout._results import Result, Status
from osint_fanout.testing import run_adapter
from osint_fanout_adapters.shodan import ShodanAdapter

FIXTURES = Path(__file__).parent / "fixtures" / "shodan"
KEY = "shodanTESTkey0123456789abcdefXYZ"
IP = "198.51.100.7"
HOST_URL = f"https://api.shodan.io/shodan/host/{IP}"
DOMAIN_URL = "https://api.shodan.io/dns/domain/example.com"
IDB_URL = f"https://internetdb.shodan.io/{IP}"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


ERRORS = fixture("errors.json")


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_retry, "BACKOFF_BASE_S", 0.01)


@pytest.fixture
def mock() -> Iterator[respx.MockRouter]:
    # assert_all_mocked: a request to anything not routed fails instead of leaving the machine
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router


def run(target: str = IP, *, key: str | None = KEY, **options: Any) -> Result:
    if key:
        options["api_key"] = key
    result = run_adapter(ShodanAdapter, target, **options)
    assert KEY not in result.model_dump_json()
    return result


def test_host_with_key(mock: respx.MockRouter) -> None:
    route = mock.get(HOST_URL).respond(200, json=fixture("host.json"))
    result = run()
    assert result.status is Status.OK
    data = result.data or {}
    assert data["source"] == "api"
    assert data["ports"] == [22, 443]
    assert data["services"][0] == {
        "port": 22,
        "transport": "tcp",
        "product": "OpenSSH",
        "version": "8.9p1 Ubuntu-3ubuntu0.10",
    }
    assert data["vulns"] == ["CVE-2021-23017", "CVE-2023-38408"]
    assert (data["isp"], data["org"], data["asn"], data["country"]) == (
        "Example ISP",
        "Example Hosting",
        "AS64500",
        "United States",
    )
    assert data["hostnames"] == ["host7.example.net"]
    assert data["last_update"] == "2026-11-20T08:49:35.190817"
    assert result.summary == "ports 22, 443 · 2 vulns · Example ISP"
    # The key travels in the query string to Shodan, and nowhere else.
    request = route.calls.last.request
    assert request.url.params["key"] == KEY
    assert all(KEY not in value for value in request.headers.values())


def test_domain_with_key(mock: respx.MockRouter) -> None:
    route = mock.get(DOMAIN_URL).respond(200, json=fixture("dns_domain.json"))
    result = run("example.com")
    assert result.status is Status.OK
    data = result.data or {}
    assert data["subdomains"] == ["api.example.com", "dev.api.example.com", "mail.example.com", "www.example.com"]
    assert {"name": "www.example.com", "type": "CNAME", "value": "example.com"}.items() <= data["records"][4].items()
    assert data["records"][0]["name"] == "example.com"
    assert result.summary == "4 subdomains · 7 records"
    assert route.calls.last.request.url.params["key"] == KEY


def test_ipv6_host(mock: respx.MockRouter) -> None:
    route = mock.get("https://api.shodan.io/shodan/host/2001:db8::7").respond(200, json=fixture("host.json"))
    assert run("2001:DB8::7").status is Status.OK
    assert route.called


def test_keyless_ip_goes_to_internetdb(mock: respx.MockRouter) -> None:
    api = mock.get(HOST_URL)
    route = mock.get(IDB_URL).respond(200, json=fixture("internetdb.json"))
    result = run(key=None)
    assert result.status is Status.OK
    assert result.data == {"source": "internetdb", **fixture("internetdb.json")}
    assert result.summary == "ports 22, 443 · 2 vulns · host7.example.net"
    assert not api.called
    assert "key" not in route.calls.last.request.url.params


def test_keyless_domain_is_skipped(mock: respx.MockRouter) -> None:
    result = run("example.com", key=None)
    assert result.status is Status.SKIPPED
    assert "SHODAN_API_KEY" in (result.reason or "")
    assert not mock.calls


@pytest.mark.parametrize(
    ("url", "body", "key"),
    [(HOST_URL, ERRORS["host_not_found"], KEY), (IDB_URL, ERRORS["internetdb_not_found"], None)],
)
def test_not_found_is_empty(mock: respx.MockRouter, url: str, body: Any, key: str | None) -> None:
    mock.get(url).respond(404, json=body)
    assert run(key=key).status is Status.EMPTY


def test_bad_key_is_auth(mock: respx.MockRouter) -> None:
    mock.get(HOST_URL).respond(401, json=ERRORS["invalid_key"])
    result = run()
    assert result.error is not None
    assert (result.status, result.error.type) == (Status.ERROR, "auth")
    assert "Invalid API key" in result.error.message


def test_free_key_403_says_paid_plan_and_internetdb(mock: respx.MockRouter) -> None:
    mock.get(HOST_URL).respond(403, json=ERRORS["forbidden"])
    result = run()
    assert result.error is not None
    assert result.error.type == "auth"
    assert "paid plan" in result.error.message
    assert "InternetDB" in result.error.message


def test_keyless_403_is_auth_without_the_paid_plan_hint(mock: respx.MockRouter) -> None:
    mock.get(IDB_URL).respond(403, text="<html>Access denied</html>")
    result = run(key=None)
    assert result.error is not None
    assert result.error.type == "auth"
    assert "paid plan" not in result.error.message


def test_domain_without_any_record_is_empty(mock: respx.MockRouter) -> None:
    mock.get(DOMAIN_URL).respond(200, json={"domain": "example.com", "tags": [], "data": [], "subdomains": []})
    assert run("example.com").status is Status.EMPTY


def test_error_sent_with_200_is_http(mock: respx.MockRouter) -> None:
    mock.get(HOST_URL).respond(200, json={"error": "Unable to process the request"})
    result = run()
    assert result.error is not None
    assert (result.error.type, "Unable to process" in result.error.message) == ("http", True)


def test_summary_bounds_the_port_list(mock: respx.MockRouter) -> None:
    mock.get(IDB_URL).respond(200, json={**fixture("internetdb.json"), "ports": list(range(1, 13)), "vulns": []})
    assert run(key=None).summary == "ports 1, 2, 3, 4, 5, 6, 7, 8 (+4) · host7.example.net"


def test_429_then_success(mock: respx.MockRouter) -> None:
    mock.get(HOST_URL).mock(side_effect=[httpx.Response(429), httpx.Response(200, json=fixture("host.json"))])
    result = run()
    assert result.status is Status.OK
    assert mock.calls.call_count == 2


def test_429_that_persists_is_rate_limited(mock: respx.MockRouter) -> None:
    mock.get(HOST_URL).respond(429, json={"error": "Rate limit reached"})
    result = run()
    assert result.error is not None
    assert result.error.type == "rate_limited"


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_is_http(mock: respx.MockRouter, status: int) -> None:
    mock.get(HOST_URL).respond(status, text="<html><body><h1>Internal error</h1></body></html>")
    result = run()
    assert result.error is not None
    assert result.error.type == "http"
    assert f"HTTP {status}" in result.error.message


@pytest.mark.parametrize(
    "body",
    [
        "{not json",  # malformed JSON
        "<!DOCTYPE html><html><title>Just a moment...</title></html>",  # an HTML page with 200
        "[1, 2, 3]",  # JSON, wrong shape
        '{"ports": "twenty-two", "data": []}',
        '{"ip_str": "198.51.100.7", "data": [{"transport": "tcp"}]}',  # a banner without a port
    ],
)
def test_unreadable_answer_is_parse(mock: respx.MockRouter, body: str) -> None:
    mock.get(HOST_URL).respond(200, text=body)
    result = run()
    assert result.error is not None
    assert result.error.type == "parse"


def test_oversized_body_is_too_large(mock: respx.MockRouter) -> None:
    mock.get(IDB_URL).respond(200, json=fixture("internetdb.json"))
    result = run(key=None, max_body_bytes=64)
    assert result.error is not None
    assert result.error.type == "too_large"


def test_redirect_to_another_host_is_refused(mock: respx.MockRouter) -> None:
    elsewhere = mock.get(url__startswith="https://collector.example.net/")
    mock.get(HOST_URL).respond(302, headers={"Location": f"https://collector.example.net/x?key={KEY}"})
    result = run()
    assert result.error is not None
    assert result.error.type == "redirect"
    assert not elsewhere.called


def test_key_echoed_by_upstream_is_redacted(mock: respx.MockRouter) -> None:
    mock.get(HOST_URL).respond(401, json={"error": f"Invalid API key {KEY} \x1b[31m[bold]"})
    result = run()  # run() asserts the key is nowhere in the Result
    assert result.error is not None
    assert "\x1b" not in result.error.message


def test_metadata() -> None:
    from osint_fanout._adapter import metadata_problems

    assert metadata_problems(ShodanAdapter) == []
    assert ShodanAdapter.rate_limits == {"api": "1/s", "internetdb": "1/s"}
