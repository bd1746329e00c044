"""The ct adapter: crt.sh first, Cert Spotter when crt.sh fails, every failure a clear status.

Fixtures (tests/fixtures/ct/):
- crtsh.json: crt.sh `?q=%.example.com&output=json` rows. Fields as crt.sh serves them
  (issuer_ca_id, issuer_name, common_name, name_value with names separated by "\\n", id,
  entry_timestamp, not_before, not_after, serial_number, result_count); see e.g. the example
  output in storbeck/crtsh-query README.md and the Crt type in pektin-dns/pektin-js-client
  src/foreign-apis/crt/types.ts. Rows 1 and 2 are a precertificate and its certificate (one
  serial); the others add mixed case, a trailing dot, out-of-domain names, S/MIME e-mail
  identities and hostile strings (terminal escapes, Rich markup).
- certspotter.json: Cert Spotter `GET /v1/issuances?...&expand=dns_names&expand=issuer`, an
  array of issuance objects as documented at https://sslmate.com/certspotter/api/docs-v1
  (id, tbs_sha256, cert_sha256, dns_names, pubkey_sha256, issuer {friendly_name, caa_domains,
  pubkey_sha256, name}, not_before, not_after, revoked, revocation), values shaped like a real
  answer recorded in a public ctsearch.sh README.
- crtsh_error.html: an HTML error page of the kind crt.sh serves when its database query times
  out (shape only, not a verbatim capture).
Cert Spotter errors are JSON {"code": ..., "message": ...}, as its API answers (e.g. the
"rate_limited" and "api_discontinued" bodies quoted in nahamsec/lazyrecon#34 and
vincentcox/bypass-firewalls-by-dns-history#11).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
import respx
from pydantic import ValidationError

from osint_fanout import _retry
from osint_fanout._adapter import metadata_problems
from osint_fanout._plugins import discover
from osint_fanout._results import Status
from osint_fanout.testing import run_adapter
from osint_fanout_adapters.ct import CtAdapter, CtOptions

FIXTURES = Path(__file__).parent / "fixtures" / "ct"
CRTSH = {"host": "crt.sh", "path": "/"}
SPOTTER = {"host": "api.certspotter.com", "path": "/v1/issuances"}
KEY = "cs-test-key-5f2b9a7c01"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def crtsh_ok() -> httpx.Response:
    return httpx.Response(200, content=fixture("crtsh.json"), headers={"content-type": "application/json"})


def spotter_ok() -> httpx.Response:
    return httpx.Response(200, content=fixture("certspotter.json"), headers={"content-type": "application/json"})


def spotter_error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": message})


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """The core's retry backoff (0.5 s and up) would make these tests slow; the statuses
    and the number of attempts stay the same."""
    monkeypatch.setattr(_retry, "BACKOFF_BASE_S", 0.001)


# --- crt.sh answers ---------------------------------------------------------------------


@respx.mock
def test_crtsh_answer_gives_names_subdomains_and_certificates() -> None:
    crtsh = respx.get(**CRTSH).mock(return_value=crtsh_ok())
    spotter = respx.get(**SPOTTER).mock(return_value=spotter_ok())

    result = run_adapter(CtAdapter, "example.com")

    assert result.status is Status.OK, result.error
    data = result.data
    assert data is not None
    assert data["source"] == "crtsh"
    assert data["crtsh_error"] is None
    # Lowercased, wildcards reduced, trailing dot gone, e-mail identities, junk and
    # names outside the domain (example.org, notexample.com) dropped.
    assert data["names"] == [
        "api.example.com",
        "dev.example.com",
        "example.com",
        "mail.example.com",
        "www.example.com",
    ]
    assert data["subdomains"] == ["api.example.com", "dev.example.com", "mail.example.com", "www.example.com"]
    # The precertificate and its certificate (one issuer and serial) count once.
    assert data["total_certificates"] == 5
    assert data["truncated"] is False
    newest = data["certificates"][0]
    assert newest == {
        "id": "11912413862",
        "issuer": "C=US, O=DigiCert Inc, CN=DigiCert Global G2 TLS RSA SHA256 2020 CA1",
        "not_before": "2024-01-30T00:00:00",
        "not_after": "2025-03-01T23:59:59",
        "names": ["*.example.com", "example.com"],
        "serial": "075bcef30689c8addf13e51af4afe187",  # what names the certificate as an asset
        "sha256": None,
    }
    assert [cert["not_before"] for cert in data["certificates"]] == sorted(
        (cert["not_before"] for cert in data["certificates"]), reverse=True
    )
    # Hostile upstream text stays plain data here; the core escapes it for terminals.
    assert "\x1b[31mEvil CA" in data["certificates"][-1]["issuer"]
    assert result.summary == "4 subdomains · 5 certificates (crt.sh)"
    request = crtsh.calls.last.request
    assert request.url.params["q"] == "%.example.com"
    assert request.url.params["output"] == "json"
    assert "exclude" not in request.url.params
    assert not spotter.called


@respx.mock
def test_certificate_list_is_bounded_and_says_so() -> None:
    respx.get(**CRTSH).mock(return_value=crtsh_ok())

    result = run_adapter(CtAdapter, "example.com", max_certificates=2)

    assert result.status is Status.OK
    data = result.data
    assert data is not None
    assert [cert["id"] for cert in data["certificates"]] == ["11912413862", "10512345678"]  # newest first
    assert data["total_certificates"] == 5
    assert data["truncated"] is True
    assert len(data["names"]) == 5  # names come from every certificate, not only the listed ones


@respx.mock
def test_exclude_expired_asks_crtsh_for_unexpired_certificates() -> None:
    crtsh = respx.get(**CRTSH).mock(return_value=crtsh_ok())

    assert run_adapter(CtAdapter, "example.com", exclude_expired=True).status is Status.OK
    assert crtsh.calls.last.request.url.params["exclude"] == "expired"


@respx.mock
@pytest.mark.parametrize(
    "answer",
    [httpx.Response(200, json=[]), httpx.Response(404, text="Not Found")],
    ids=["empty-list", "404"],
)
def test_no_certificates_is_empty_without_asking_cert_spotter(answer: httpx.Response) -> None:
    respx.get(**CRTSH).mock(return_value=answer)
    spotter = respx.get(**SPOTTER).mock(return_value=spotter_ok())

    result = run_adapter(CtAdapter, "nothing-here.example")

    assert result.status is Status.EMPTY
    assert not spotter.called


@respx.mock
def test_429_then_success() -> None:
    crtsh = respx.get(**CRTSH).mock(side_effect=[httpx.Response(429, text="Too Many Requests"), crtsh_ok()])

    result = run_adapter(CtAdapter, "example.com")

    assert result.status is Status.OK
    assert result.data is not None and result.data["source"] == "crtsh"
    assert crtsh.call_count == 2


# --- crt.sh fails: Cert Spotter answers ------------------------------------------------


@respx.mock
@pytest.mark.parametrize(
    ("answer", "said"),
    [
        (httpx.Response(503, text="ERROR"), "HTTP 503"),
        (httpx.Response(502, text="<html><center><h1>502 Bad Gateway</h1></center><hr>nginx</html>"), "HTTP 502"),
        (httpx.Response(200, content=fixture("crtsh_error.html"), headers={"content-type": "text/html"}), "JSON"),
        (httpx.Response(500, content=fixture("crtsh_error.html"), headers={"content-type": "text/html"}), "HTTP 500"),
        (httpx.Response(200, text='[{"issuer_ca_id": 16418, "issuer_name": "C=US, O=Let'), "JSON"),
        (httpx.Response(200, json={"error": "unexpected"}), "JSON shape"),
    ],
    ids=["503-ERROR", "502-proxy", "html-200", "html-500", "malformed-json", "wrong-shape"],
)
def test_crtsh_failure_falls_back_to_cert_spotter(answer: httpx.Response, said: str) -> None:
    respx.get(**CRTSH).mock(return_value=answer)
    spotter = respx.get(**SPOTTER).mock(return_value=spotter_ok())

    result = run_adapter(CtAdapter, "example.com")

    assert result.status is Status.OK, result.error
    data = result.data
    assert data is not None
    assert data["source"] == "certspotter"
    assert said in data["crtsh_error"]
    assert data["names"] == ["example.com", "shop.example.com", "www.example.com"]  # cdn.other.net dropped
    assert data["subdomains"] == ["shop.example.com", "www.example.com"]
    assert data["total_certificates"] == 2
    assert data["certificates"][0] == {
        "id": "5235199122",
        "issuer": "C=US, O=Let's Encrypt, CN=R3",
        "not_before": "2024-04-02T11:20:05Z",
        "not_after": "2024-07-01T11:20:04Z",
        "names": ["shop.example.com", "www.example.com", "cdn.other.net"],
        "serial": None,
        "sha256": "8ef7ce931e87722fa7ccbd9c50dc50675b3977a875067bd63ea44f0528a4dfb6",  # the asset's value
    }
    assert result.summary == "2 subdomains · 2 certificates (Cert Spotter)"
    params = spotter.calls.last.request.url.params
    assert params["domain"] == "example.com"
    assert params["include_subdomains"] == "true"
    assert params.get_list("expand") == ["dns_names", "issuer"]
    assert "authorization" not in spotter.calls.last.request.headers  # no key configured


@respx.mock
def test_crtsh_slower_than_its_share_falls_back_in_time() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return crtsh_ok()

    respx.get(**CRTSH).mock(side_effect=slow)
    respx.get(**SPOTTER).mock(return_value=spotter_ok())

    result = run_adapter(CtAdapter, "example.com", timeout_s=1.0, crtsh_share=0.4)

    assert result.status is Status.OK, result.error
    assert result.data is not None
    assert result.data["source"] == "certspotter"
    assert "no answer within 0.4 s" in result.data["crtsh_error"]
    assert result.elapsed_ms < 1000


@respx.mock
def test_crtsh_network_error_falls_back() -> None:
    respx.get(**CRTSH).mock(side_effect=httpx.ConnectError("connection refused"))
    respx.get(**SPOTTER).mock(return_value=spotter_ok())

    result = run_adapter(CtAdapter, "example.com")

    assert result.status is Status.OK
    assert result.data is not None and "ConnectError" in result.data["crtsh_error"]


@respx.mock
def test_cert_spotter_empty_after_crtsh_failure_is_empty() -> None:
    respx.get(**CRTSH).mock(return_value=httpx.Response(503, text="ERROR"))
    respx.get(**SPOTTER).mock(return_value=httpx.Response(200, json=[]))

    assert run_adapter(CtAdapter, "example.com").status is Status.EMPTY


# --- both fail ----------------------------------------------------------------------------


@respx.mock
def test_both_failing_is_one_error_naming_both() -> None:
    respx.get(**CRTSH).mock(return_value=httpx.Response(502, text="Bad Gateway"))
    respx.get(**SPOTTER).mock(return_value=spotter_error(500, "internal_error", "Internal server error"))

    result = run_adapter(CtAdapter, "example.com")

    assert result.status is Status.ERROR
    assert result.error is not None
    assert result.error.type == "http"
    assert result.error.message.startswith("crt.sh: HTTP 502 from crt.sh/")
    assert "; Cert Spotter: HTTP 500 from api.certspotter.com/v1/issuances" in result.error.message
    assert "internal_error" in result.error.message


@respx.mock
def test_cert_spotter_bad_key_is_auth_and_the_key_stays_out() -> None:
    respx.get(**CRTSH).mock(return_value=httpx.Response(503, text="ERROR"))
    respx.get(**SPOTTER).mock(return_value=spotter_error(401, "unauthorized", "Invalid API key"))

    result = run_adapter(CtAdapter, "example.com", api_key=KEY)

    assert result.status is Status.ERROR
    assert result.error is not None
    assert result.error.type == "auth"
    assert "Cert Spotter: HTTP 401" in result.error.message
    assert KEY not in result.model_dump_json()


@respx.mock
def test_cert_spotter_quota_without_key_suggests_one() -> None:
    respx.get(**CRTSH).mock(return_value=httpx.Response(503, text="ERROR"))
    message = "You have exceeded the domain search rate limit for the Cert Spotter API."
    spotter = respx.get(**SPOTTER).mock(return_value=spotter_error(429, "rate_limited", message))

    result = run_adapter(CtAdapter, "example.com")

    assert result.status is Status.ERROR
    assert result.error is not None
    assert result.error.type == "rate_limited"
    assert "CERTSPOTTER_API_KEY" in result.error.message
    assert spotter.call_count >= 2  # the core retried the 429 first


@respx.mock
def test_wrong_json_shape_from_both_is_parse() -> None:
    respx.get(**CRTSH).mock(return_value=httpx.Response(200, json={"error": "unexpected"}))
    respx.get(**SPOTTER).mock(return_value=httpx.Response(200, json=[{"id": "1", "dns_names": "example.com"}]))

    result = run_adapter(CtAdapter, "example.com")

    assert result.status is Status.ERROR
    assert result.error is not None
    assert result.error.type == "parse"
    assert "crt.sh: crt.sh/: unexpected JSON shape" in result.error.message
    assert "Cert Spotter: api.certspotter.com/v1/issuances: unexpected JSON shape at 0.dns_names" in (
        result.error.message
    )


@respx.mock
def test_oversized_crtsh_body_falls_back_then_too_large_when_both_are() -> None:
    huge = json.dumps([json.loads(fixture("crtsh.json"))[0]] * 200).encode()  # about 80 KB
    respx.get(**CRTSH).mock(return_value=httpx.Response(200, content=huge))
    spotter = respx.get(**SPOTTER).mock(return_value=spotter_ok())

    result = run_adapter(CtAdapter, "example.com", max_body_bytes=10_000)

    assert result.status is Status.OK
    assert result.data is not None
    assert result.data["source"] == "certspotter"
    assert "more than 10000 bytes" in result.data["crtsh_error"]

    spotter.mock(return_value=httpx.Response(200, content=huge))
    result = run_adapter(CtAdapter, "example.com", max_body_bytes=10_000)

    assert result.status is Status.ERROR
    assert result.error is not None
    assert result.error.type == "too_large"
    assert "crt.sh" in result.error.message and "Cert Spotter" in result.error.message


@respx.mock
def test_both_too_slow_is_a_timeout_naming_both() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return crtsh_ok()

    respx.get(**CRTSH).mock(side_effect=slow)
    respx.get(**SPOTTER).mock(side_effect=slow)

    result = run_adapter(CtAdapter, "example.com", timeout_s=0.8)

    assert result.status is Status.TIMEOUT
    assert result.error is not None
    assert "crt.sh" in result.error.message and "Cert Spotter" in result.error.message
    assert result.elapsed_ms < 1500


# --- keys, metadata, options -------------------------------------------------------------


@respx.mock
def test_key_goes_to_cert_spotter_only() -> None:
    crtsh = respx.get(**CRTSH).mock(return_value=httpx.Response(503, text="ERROR"))
    spotter = respx.get(**SPOTTER).mock(return_value=spotter_ok())

    result = run_adapter(CtAdapter, "example.com", api_key=KEY)

    assert result.status is Status.OK
    assert crtsh.called
    for call in crtsh.calls:
        assert "authorization" not in call.request.headers
        assert KEY not in str(call.request.url)
    assert spotter.calls.last.request.headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in result.model_dump_json()


@respx.mock
def test_key_is_not_sent_to_crtsh_when_it_answers() -> None:
    crtsh = respx.get(**CRTSH).mock(return_value=crtsh_ok())
    spotter = respx.get(**SPOTTER).mock(return_value=spotter_ok())

    assert run_adapter(CtAdapter, "example.com", api_key=KEY).status is Status.OK
    assert "authorization" not in crtsh.calls.last.request.headers
    assert not spotter.called


def test_ip_targets_are_skipped() -> None:
    result = run_adapter(CtAdapter, "198.51.100.7")
    assert result.status is Status.SKIPPED


def test_metadata_is_complete_and_the_entry_point_loads() -> None:
    assert metadata_problems(CtAdapter) == []
    assert discover().adapters.get("ct") is CtAdapter
    assert set(CtAdapter.rate_limits) == {"crtsh", "certspotter"}


def test_options_check_urls_and_strip_the_trailing_slash() -> None:
    assert CtOptions(crtsh_url="http://127.0.0.1:8080/").crtsh_url == "http://127.0.0.1:8080"
    with pytest.raises(ValidationError, match="not an http"):
        CtOptions(certspotter_url="api.certspotter.com")


def test_summary_counts_in_singular_and_plural() -> None:
    adapter = CtAdapter(CtOptions())
    data = {"source": "certspotter", "subdomains": ["a.example.com"], "total_certificates": 1}
    assert adapter.summarize(data) == "1 subdomain · 1 certificate (Cert Spotter)"
