"""The virustotal adapter against respx, in VirusTotal API v3's documented formats.

Fixture formats and their sources: tests/fixtures/virustotal/README.md.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from osint_fanout import _retry
from osint_fanout._adapter import metadata_problems
from osint_fanout._results import Result, Status
from osint_fanout.testing import run_adapter
from osint_fanout_adapters.virustotal import VirusTotalAdapter

FIXTURES = Path(__file__).parent / "fixtures" / "virustotal"
KEY = "vtTESTkey0123456789abcdef0123456789abcdef0123456789abcdefXYZ"
BASE = "https://www.virustotal.com/api/v3"
DOMAIN_URL = f"{BASE}/domains/example.com"
IP_URL = f"{BASE}/ip_addresses/198.51.100.7"


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


def run(target: str = "example.com", *, key: str | None = KEY, **options: Any) -> Result:
    if key:
        options["api_key"] = key
    result = run_adapter(VirusTotalAdapter, target, **options)
    assert KEY not in result.model_dump_json()
    return result


def error_response(code: str) -> httpx.Response:
    return httpx.Response(ERRORS[code]["status"], json=ERRORS[code]["body"])


def test_domain(mock: respx.MockRouter) -> None:
    route = mock.get(DOMAIN_URL).respond(200, json=fixture("domain.json"))
    result = run()
    assert result.status is Status.OK
    data = result.data or {}
    assert data["last_analysis_stats"] == {
        "malicious": 3,
        "suspicious": 1,
        "harmless": 62,
        "undetected": 28,
        "timeout": 0,
    }
    assert data["engines"] == 94
    assert data["reputation"] == -12
    assert data["categories"]["BitDefender"] == "computersandsoftware"
    assert data["registrar"] == "RESERVED-Internet Assigned Numbers Authority"
    assert data["creation_date"] == "1995-08-14"
    assert data["last_dns_records"][2] == {"type": "MX", "value": "mail.example.com", "ttl": 3600, "priority": 10}
    assert result.summary.startswith("3 malicious, 1 suspicious / 94 · reputation -12")
    # The key travels in the x-apikey header, and nowhere else.
    request = route.calls.last.request
    assert request.headers["x-apikey"] == KEY
    assert KEY not in str(request.url)


def test_ip_address(mock: respx.MockRouter) -> None:
    mock.get(IP_URL).respond(200, json=fixture("ip_address.json"))
    result = run("198.51.100.7")
    assert result.status is Status.OK
    data = result.data or {}
    assert (data["as_owner"], data["asn"], data["country"], data["network"]) == (
        "EXAMPLE-NET",
        64500,
        "US",
        "198.51.100.0/24",
    )
    assert "registrar" not in data
    assert result.summary == "0 malicious / 94 · reputation 0 · EXAMPLE-NET"


def test_no_key_is_skipped(mock: respx.MockRouter) -> None:
    result = run(key=None)
    assert result.status is Status.SKIPPED
    assert "VT_API_KEY" in (result.reason or "")
    assert not mock.calls


def test_not_found_is_empty(mock: respx.MockRouter) -> None:
    mock.get(DOMAIN_URL).mock(return_value=error_response("NotFoundError"))
    assert run().status is Status.EMPTY


@pytest.mark.parametrize(
    ("code", "error_type"),
    [
        ("WrongCredentialsError", "auth"),
        ("AuthenticationRequiredError", "auth"),
        ("ForbiddenError", "auth"),
        ("QuotaExceededError", "rate_limited"),
    ],
)
def test_error_codes(mock: respx.MockRouter, code: str, error_type: str) -> None:
    mock.get(DOMAIN_URL).mock(return_value=error_response(code))
    result = run()
    assert result.error is not None
    assert (result.status, result.error.type) == (Status.ERROR, error_type)
    assert code in result.error.message
    assert ERRORS[code]["body"]["error"]["message"] in result.error.message


def test_429_then_success(mock: respx.MockRouter) -> None:
    mock.get(DOMAIN_URL).mock(
        side_effect=[error_response("QuotaExceededError"), httpx.Response(200, json=fixture("domain.json"))]
    )
    result = run()
    assert result.status is Status.OK
    assert mock.calls.call_count == 2


@pytest.mark.parametrize("status", [500, 503])
def test_server_error_is_http(mock: respx.MockRouter, status: int) -> None:
    mock.get(DOMAIN_URL).respond(status, text="<html><body>Server Error</body></html>")
    result = run()
    assert result.error is not None
    assert result.error.type == "http"
    assert f"HTTP {status}" in result.error.message


def test_bare_404_without_error_object_is_http(mock: respx.MockRouter) -> None:
    # e.g. a wrong base_url: a 404 HTML page is not VirusTotal saying "unknown"
    mock.get(DOMAIN_URL).respond(404, text="<html>Not Found</html>")
    result = run()
    assert result.error is not None
    assert result.error.type == "http"


@pytest.mark.parametrize(
    "body",
    [
        "{not json",  # malformed JSON
        "<!DOCTYPE html><html><title>Service unavailable</title></html>",  # an HTML page with 200
        '{"data": []}',  # JSON, wrong shape
        '{"data": {"id": "example.com", "type": "domain", "attributes": {"reputation": "bad"}}}',
        '{"data": {"id": "example.com", "type": "domain", "attributes": {"last_dns_records": [{"ttl": 1}]}}}',
    ],
)
def test_unreadable_answer_is_parse(mock: respx.MockRouter, body: str) -> None:
    mock.get(DOMAIN_URL).respond(200, text=body)
    result = run()
    assert result.error is not None
    assert result.error.type == "parse"


def test_oversized_body_is_too_large(mock: respx.MockRouter) -> None:
    mock.get(DOMAIN_URL).respond(200, json=fixture("domain.json"))
    result = run(max_body_bytes=512)
    assert result.error is not None
    assert result.error.type == "too_large"


def test_oversized_body_without_length_is_too_large(mock: respx.MockRouter) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b" " * 100

    mock.get(DOMAIN_URL).mock(return_value=httpx.Response(200, content=chunks()))
    result = run(max_body_bytes=512)
    assert result.error is not None
    assert result.error.type == "too_large"


@pytest.mark.parametrize("status", [301, 307])
def test_redirect_to_another_host_is_refused(mock: respx.MockRouter, status: int) -> None:
    elsewhere = mock.get(url__startswith="https://collector.example.net/")
    mock.get(DOMAIN_URL).respond(status, headers={"Location": "https://collector.example.net/domains/example.com"})
    result = run()
    assert result.error is not None
    assert result.error.type == "redirect"
    assert not elsewhere.called


def test_key_echoed_by_upstream_is_redacted(mock: respx.MockRouter) -> None:
    body = {"error": {"code": "WrongCredentialsError", "message": f"Wrong API key {KEY}\x1b]8;;evil\x07"}}
    mock.get(DOMAIN_URL).respond(401, json=body)
    result = run()  # run() asserts the key is nowhere in the Result
    assert result.error is not None
    assert "\x1b" not in result.error.message


def test_metadata() -> None:
    assert metadata_problems(VirusTotalAdapter) == []
    assert VirusTotalAdapter.rate_limits == {"api": "4/m"}


def test_redirect_on_the_same_host_is_followed(mock: respx.MockRouter) -> None:
    mock.get(DOMAIN_URL).respond(301, headers={"Location": "/api/v3/domains/example.com/"})
    moved = mock.get(f"{DOMAIN_URL}/").respond(200, json=fixture("domain.json"))
    assert run().status is Status.OK
    assert moved.calls.last.request.headers["x-apikey"] == KEY
