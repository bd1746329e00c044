"""The loopback world itself (tests/world), and the first end-to-end runs of the CLI in it."""

from __future__ import annotations

import json
import socket
import threading
import time
import tomllib
from collections.abc import Iterator
from typing import Any

import dns.exception
import dns.message
import dns.rcode
import httpx
import pytest
import whois.parser

from osint_fanout import TargetKind
from osint_fanout._plugins import discover
from osint_fanout._settings import load_settings
from tests.timing import assert_ends_by
from tests.world.probe import dns_ask, dns_values, whois_query
from tests.world.world import CliResult, World

IP = "198.51.100.7"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=5.0) as client:
        yield client


def ask(world: World, name: str, rdtype: str, **options: Any) -> dns.message.Message:
    return dns_ask(world.dns.port, name, rdtype, **options)


# -- each service answers in its format ------------------------------------------------


def test_start_and_stop_are_fast_and_leave_no_thread() -> None:
    before = set(threading.enumerate())
    started = time.monotonic()
    world = World().start()
    assert time.monotonic() - started < 0.5
    ports = [server.port for server in world.servers.values()]  # type: ignore[attr-defined]
    assert len(ports) == len(world.services) + 1  # and the trap
    world.stop()
    assert set(threading.enumerate()) <= before
    for port in ports:  # every port is free again
        with socket.create_server(("127.0.0.1", port)):
            pass


def test_dns_zone_has_every_record_type(world: World) -> None:
    assert dns_values(ask(world, "example.com", "A")) == [IP]
    assert dns_values(ask(world, "example.com", "AAAA")) == ["2001:db8::7"]
    assert dns_values(ask(world, "example.com", "MX")) == ["10 mail.example.com."]
    assert sorted(dns_values(ask(world, "example.com", "NS"))) == ["ns1.example.com.", "ns2.example.com."]
    assert '"v=spf1 ip4:198.51.100.0/24 -all"' in dns_values(ask(world, "example.com", "TXT"))
    assert dns_values(ask(world, "example.com", "SOA"))[0].startswith("ns1.example.com. hostmaster.example.com.")
    assert '0 issue "letsencrypt.org"' in dns_values(ask(world, "example.com", "CAA"))
    assert dns_values(ask(world, "_dmarc.example.com", "TXT")) == ['"v=DMARC1; p=reject; rua=mailto:dmarc@example.com"']
    assert dns_values(ask(world, "7.100.51.198.in-addr.arpa", "PTR")) == ["host.example.com."]
    assert dns_values(ask(world, "any.name.test", "A", tcp=True)) == [IP]  # every test name, over TCP too
    assert ask(world, "example.invalid", "A").rcode() == dns.rcode.NXDOMAIN
    world.add_records("odd.example.com", {"TXT": ['"\\027[2J hostile"']})
    assert dns_values(ask(world, "odd.example.com", "TXT")) == ['"\\027[2J hostile"']
    assert ("udp", "example.com", "A") in world.dns.queries


def test_shodan_host_and_dns_domain(world: World, http: httpx.Client) -> None:
    key = {"key": world.keys["shodan"]}
    host = http.get(f"{world.url('shodan')}/shodan/host/192.0.2.9", params=key).json()
    assert host["ip_str"] == "192.0.2.9"
    assert {"ports", "hostnames", "org", "isp", "asn", "country_name", "last_update", "data"} <= set(host)
    assert {"port", "transport", "product"} <= set(host["data"][0])
    domain = http.get(f"{world.url('shodan')}/dns/domain/foo.test", params=key).json()
    assert domain["domain"] == "foo.test"
    assert isinstance(domain["subdomains"], list) and domain["more"] is False
    assert {"subdomain", "type", "value", "last_seen"} <= set(domain["data"][0])
    refused = http.get(f"{world.url('shodan')}/shodan/host/{IP}", params={"key": "wrong"})
    assert refused.status_code == 401 and "error" in refused.json()
    world.behave("shodan", IP, "not_found")
    missing = http.get(f"{world.url('shodan')}/shodan/host/{IP}", params=key)
    assert (missing.status_code, missing.json()) == (404, {"error": "No information available for that IP."})


def test_internetdb(world: World, http: httpx.Client) -> None:
    answer = http.get(f"{world.url('internetdb')}/192.0.2.9").json()
    assert set(answer) == {"ip", "ports", "cpes", "hostnames", "tags", "vulns"} and answer["ip"] == "192.0.2.9"
    world.behave("internetdb", "192.0.2.9", "not_found")
    missing = http.get(f"{world.url('internetdb')}/192.0.2.9")
    assert (missing.status_code, missing.json()) == (404, {"detail": "No information available"})


def test_virustotal_objects_and_errors(world: World, http: httpx.Client) -> None:
    base, key = f"{world.url('virustotal')}/api/v3", {"x-apikey": world.keys["virustotal"]}
    domain = http.get(f"{base}/domains/foo.test", headers=key).json()["data"]
    assert (domain["id"], domain["type"]) == ("foo.test", "domain")
    stats = domain["attributes"]["last_analysis_stats"]
    assert {"harmless", "malicious", "suspicious", "undetected"} <= set(stats)
    address = http.get(f"{base}/ip_addresses/{IP}", headers=key).json()["data"]
    assert (address["id"], address["type"]) == (IP, "ip_address")
    assert {"as_owner", "asn", "country", "network"} <= set(address["attributes"])

    def error(response: httpx.Response) -> tuple[int, str]:
        return response.status_code, response.json()["error"]["code"]

    assert error(http.get(f"{base}/domains/foo.test")) == (401, "AuthenticationRequiredError")
    assert error(http.get(f"{base}/domains/foo.test", headers={"x-apikey": "no"})) == (401, "WrongCredentialsError")
    world.behave("virustotal", "foo.test", "not_found")
    assert error(http.get(f"{base}/domains/foo.test", headers=key)) == (404, "NotFoundError")
    world.behave("virustotal", "foo.test", "unauthorized", status=403)
    assert error(http.get(f"{base}/domains/foo.test", headers=key)) == (403, "ForbiddenError")
    world.behave("virustotal", "foo.test", "rate_limit")
    assert error(http.get(f"{base}/domains/foo.test", headers=key)) == (429, "QuotaExceededError")


def test_crtsh_rows(world: World, http: httpx.Client) -> None:
    rows = http.get(f"{world.url('crtsh')}/", params={"q": "%.foo.test", "output": "json"}).json()
    fields = {"issuer_name", "common_name", "name_value", "id", "entry_timestamp", "not_before", "not_after"}
    assert rows and all(fields <= set(row) for row in rows)
    assert any("foo.test" in row["name_value"].split("\n") for row in rows)
    page = http.get(f"{world.url('crtsh')}/", params={"q": "%.foo.test"})  # no output=json: the web page
    assert page.headers["content-type"].startswith("text/html")
    assert world.requests("crtsh", "foo.test")[0].query == {"q": ["%.foo.test"], "output": ["json"]}


def test_certspotter_issuances(world: World, http: httpx.Client) -> None:
    url = f"{world.url('certspotter')}/v1/issuances"
    params = {"domain": "foo.test", "include_subdomains": "true", "expand": ["dns_names", "issuer"]}
    issuances = http.get(url, params=params).json()
    assert issuances and all({"id", "dns_names", "issuer", "not_before", "not_after"} <= set(i) for i in issuances)
    assert "foo.test" in issuances[0]["dns_names"] + issuances[1]["dns_names"]
    good = {"authorization": f"Bearer {world.keys['ct']}"}
    assert http.get(url, params=params, headers=good).status_code == 200
    assert http.get(url, params=params, headers={"authorization": "Bearer nope"}).status_code == 401


def test_rdap_domain_ip_fallback_and_bootstrap(world: World, http: httpx.Client) -> None:
    domain = http.get(f"{world.url('rdap')}/domain/foo.test")
    assert domain.headers["content-type"] == "application/rdap+json"
    assert (domain.json()["objectClassName"], domain.json()["ldhName"].lower()) == ("domain", "foo.test")
    network = http.get(f"{world.url('rdap')}/ip/{IP}").json()
    assert network["objectClassName"] == "ip network" and network["ipVersion"] == "v4"
    world.behave("rdap", "gone.test", "not_found")
    gone = http.get(f"{world.url('rdap')}/domain/gone.test")
    assert gone.status_code == 404 and gone.json()["errorCode"] == 404
    redirected = http.get(f"{world.url('rdap_fallback')}/domain/foo.test", follow_redirects=True)
    assert redirected.json()["ldhName"].lower() == "foo.test"
    assert [r.service for r in world.requests(target="foo.test")][-2:] == ["rdap_fallback", "rdap"]
    for name, entry in (("dns.json", "com"), ("ipv4.json", "198.51.100.0/24"), ("ipv6.json", "2001:db8::/32")):
        registry = http.get(f"{world.url('bootstrap')}/{name}").json()
        assert registry["version"] == "1.0" and "publication" in registry
        entries, urls = registry["services"][0]
        assert entry in entries and urls == [f"{world.url('rdap')}/"]


def test_whois_referral_and_registry_answer(world: World) -> None:
    referral = whois_query(world.url("iana_whois"), "foo.test").decode()
    assert f"refer:        {world.url('whois')}" in referral and "domain:       TEST" in referral
    text = whois_query(world.url("whois"), "foo.test").decode()
    assert "Domain Name: FOO.TEST" in text and "\r\n" in text
    entry = whois.parser.WhoisEntry.load("foo.test", text)
    assert entry.registrar == "Example Registrar, LLC"
    assert whois_query(world.url("whois"), "test").startswith(b'No match for "TEST".')
    assert [(r.service, r.path) for r in world.requests()] == [
        ("iana_whois", "foo.test"),
        ("whois", "foo.test"),
        ("whois", "test"),
    ]


# -- behaviours --------------------------------------------------------------------------


def test_slow_hang_and_reset(world: World, http: httpx.Client) -> None:
    url = world.url("internetdb")
    world.behave("internetdb", "192.0.2.1", "slow", delay_s=0.3)
    started = time.monotonic()
    assert http.get(f"{url}/192.0.2.1").status_code == 200
    assert time.monotonic() - started >= 0.3
    world.behave("internetdb", "192.0.2.2", "hang")
    with pytest.raises(httpx.ReadTimeout):
        http.get(f"{url}/192.0.2.2", timeout=0.3)
    world.behave("internetdb", "192.0.2.3", "reset")
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        http.get(f"{url}/192.0.2.3")
    assert [r.target for r in world.requests("internetdb")] == ["192.0.2.1", "192.0.2.2", "192.0.2.3"]


def test_rate_limit_with_and_without_retry_after_then_success(world: World, http: httpx.Client) -> None:
    url = f"{world.url('internetdb')}/{IP}"
    world.behave("internetdb", IP, "rate_limit", retry_after=7, times=1)
    first, second = http.get(url), http.get(url)
    assert (first.status_code, first.headers["retry-after"], second.status_code) == (429, "7", 200)
    world.behave("internetdb", IP, "rate_limit")
    assert [http.get(url).status_code for _ in range(3)] == [429, 429, 429]
    assert "retry-after" not in http.get(url).headers


def test_server_error_malformed_wrong_shape_and_custom(world: World, http: httpx.Client) -> None:
    url = f"{world.url('internetdb')}/{IP}"
    world.behave("internetdb", IP, "server_error", status=502)
    response = http.get(url)
    assert (response.status_code, response.headers["content-type"]) == (502, "text/html")
    assert "<h1>502 Bad Gateway</h1>" in response.text
    world.behave("internetdb", IP, "malformed")
    with pytest.raises(json.JSONDecodeError):
        json.loads(http.get(url).content)
    world.behave("internetdb", IP, "wrong_shape")
    assert not isinstance(http.get(url).json()["ports"], list)
    world.behave("internetdb", IP, "custom", status=418, json={"x": "[bold]y[/]"}, headers={"X-Test": "1"})
    response = http.get(url)
    assert (response.status_code, response.json(), response.headers["x-test"]) == (418, {"x": "[bold]y[/]"}, "1")
    world.behave("internetdb", IP, "normal", replace={"cloud": "\x1b]0;title\x07"})
    assert http.get(url).json()["tags"] == ["\x1b]0;title\x07"]


def test_endless_body_streams_until_the_client_leaves(world: World, http: httpx.Client) -> None:
    world.behave("crtsh", "foo.test", "endless")
    read = 0
    with http.stream("GET", f"{world.url('crtsh')}/", params={"q": "%.foo.test", "output": "json"}) as response:
        assert "content-length" not in response.headers
        for chunk in response.iter_bytes():
            read += len(chunk)
            if read > 4_000_000:
                break
    assert read > 4_000_000
    world.behave("crtsh", "foo.test", "endless", content_length=10**12)
    with http.stream("GET", f"{world.url('crtsh')}/", params={"q": "%.foo.test", "output": "json"}) as response:
        assert response.headers["content-length"] == str(10**12)


def test_redirect_goes_to_the_trap_which_logs_everything(world: World, http: httpx.Client) -> None:
    world.behave("shodan", "*", "redirect")
    url = f"{world.url('shodan')}/shodan/host/{IP}"
    first = http.get(url, params={"key": "k-123"})
    assert first.status_code == 302
    assert first.headers["location"] == f"{world.url('trap')}/shodan/host/{IP}?key=k-123"
    assert world.url("trap").startswith("http://127.0.0.2:")
    http.get(url, params={"key": "k-123"}, headers={"x-apikey": "secret-9"}, follow_redirects=True)
    (trapped,) = world.requests("trap")
    assert (trapped.path, trapped.query, trapped.headers["x-apikey"]) == (
        f"/shodan/host/{IP}",
        {"key": ["k-123"]},
        "secret-9",
    )
    assert "secret-9" in trapped.raw and trapped.client[0] == "127.0.0.1"


def test_wildcards_times_and_validation(world: World, http: httpx.Client) -> None:
    url = world.url("internetdb")
    world.behave("internetdb", "*", "not_found")
    world.behave("internetdb", IP, "normal", times=None)  # back to normal: the wildcard still holds
    assert http.get(f"{url}/{IP}").status_code == 404
    world.behave("internetdb", IP, "server_error", times=2)  # a target wins over "*"
    assert [http.get(f"{url}/{IP}").status_code for _ in range(3)] == [503, 503, 404]
    with pytest.raises(ValueError, match="no behaviour 'sluggish'"):
        world.behave("internetdb", IP, "sluggish")
    with pytest.raises(ValueError, match="takes no"):
        world.behave("internetdb", IP, "rate_limit", retry=1)
    with pytest.raises(ValueError, match="unknown service"):
        world.behave("nosuch", IP, "hang")
    world.behave("*", "*", "hang")  # every service that can hang
    assert world.dns.behaviours == {"*": "drop"}
    assert all(server.behaviours.take("x").name == "hang" for server in world.whois.values())
    world.clear()
    assert http.get(f"{url}/{IP}").status_code == 200


def test_whois_behaviours(world: World) -> None:
    address = world.url("whois")
    world.behave("whois", "garbage.test", "garbage")
    assert b"\x1b[2J" in whois_query(address, "garbage.test")
    world.behave("whois", "gone.test", "not_found")
    assert whois_query(address, "gone.test").startswith(b'No match for "GONE.TEST".')
    world.behave("whois", "slow.test", "slow", delay_s=0.3)
    started = time.monotonic()
    assert b"Domain Name: SLOW.TEST" in whois_query(address, "slow.test")
    assert time.monotonic() - started >= 0.3
    world.behave("whois", "hang.test", "hang")
    with pytest.raises(TimeoutError):
        whois_query(address, "hang.test", timeout=0.3)
    world.behave("whois", "reset.test", "reset")
    with pytest.raises(ConnectionResetError):
        whois_query(address, "reset.test")
    world.behave("iana_whois", "*", "custom", body="refer: whois.elsewhere.test\n")
    assert whois_query(world.url("iana_whois"), "x.test") == b"refer: whois.elsewhere.test\n"


def test_dns_behaviours(world: World) -> None:
    world.behave("dns", "fail.test", "servfail")
    world.behave("dns", "gone.example.com", "nxdomain")
    world.behave("dns", "no.test", "refused")
    world.behave("dns", "hang.test", "hang")
    world.behave("dns", "slow.test", "slow", delay_s=0.3)
    assert ask(world, "fail.test", "A").rcode() == dns.rcode.SERVFAIL
    assert ask(world, "_dmarc.gone.example.com", "TXT").rcode() == dns.rcode.NXDOMAIN  # subdomains too
    assert ask(world, "no.test", "A").rcode() == dns.rcode.REFUSED
    with pytest.raises(dns.exception.Timeout):
        ask(world, "hang.test", "A", timeout=0.3)
    started = time.monotonic()
    assert dns_values(ask(world, "slow.test", "A")) == [IP]
    assert time.monotonic() - started >= 0.3
    world.behave("dns", "slow.test", "normal")
    assert "slow.test" not in world.dns.behaviours


# -- the config and the CLI ----------------------------------------------------------------


def test_config_points_every_adapter_at_loopback(world: World) -> None:
    path = world.write_config(keys=True, run={"deadline_s": 5}, whois={"rdap_url": None}, ct={"rate_limit": "1/s"})
    config = tomllib.loads(path.read_text("utf-8"))
    assert config["run"] == {"deadline_s": 5}
    adapters = config["adapters"]
    assert list(adapters) == world.adapters() and len(adapters) >= 5
    assert "rdap_url" not in adapters["whois"] and adapters["ct"]["rate_limit"] == "1/s"
    assert all(section["rate_limit"] == "off" for name, section in adapters.items() if name != "ct")
    assert adapters["virustotal"]["api_key"] == world.keys["virustotal"]
    assert {name for name, section in adapters.items() if "api_key" in section} == set(world.keys)
    where = []
    for service in world.services.values():  # each option a service declares points at it
        assert service.serves is not None
        value = adapters[service.serves.adapter].get(service.serves.option)
        if service.name == "rdap":
            assert value is None  # removed above
            continue
        where += value if isinstance(value, list) else [value]
        assert world.url(service.name) in where[-1]
    assert len(where) == len(world.services) - 1
    assert all(url.removeprefix("http://").startswith("127.0.0.1:") for url in where)
    settings = load_settings(discover(), path, env={})  # the real loader accepts every key
    assert settings.run.deadline_s == 5


def test_cli_inherits_no_keys_and_runs_in_the_world_home(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VT_API_KEY", world.keys["virustotal"])
    monkeypatch.setenv("HTTPS_PROXY", "http://192.0.2.1:9")
    env = world.cli_env()
    assert "VT_API_KEY" not in env and "HTTPS_PROXY" not in env and env["HOME"] == str(world.home)
    run = world.run_cli("search", IP, "--adapters", "virustotal", "-f", "json")
    (result,) = run.json()["results"]
    assert (run.code, result["status"]) == (0, "skipped")
    run = world.run_cli("search", IP, "--adapters", "virustotal", "-f", "json", env=world.key_env())
    assert run.json()["results"][0]["status"] == "ok"


# -- end to end ----------------------------------------------------------------------------


def results(run: CliResult) -> dict[str, dict]:
    assert "Traceback" not in run.stderr, run.stderr
    return {result["adapter"]: result for result in run.json()["results"]}


def test_e2e_dns(world: World) -> None:
    run = world.run_cli("search", "example.com", "--adapters", "dns", "-f", "json")
    assert run.code == 0, run.stderr
    dns_result = results(run)["dns"]
    assert dns_result["status"] == "ok"
    records = dns_result["data"]["records"]
    assert records["A"] == [IP] and records["AAAA"] == ["2001:db8::7"]
    assert records["MX"] == [{"preference": 10, "exchange": "mail.example.com"}]
    assert {"NS", "TXT", "SOA", "CAA"} <= set(records)
    assert dns_result["data"]["spf"].startswith("v=spf1") and dns_result["data"]["dmarc"].startswith("v=DMARC1")
    run = world.run_cli("search", IP, "--adapters", "dns", "-f", "json")
    assert (run.code, results(run)["dns"]["data"]["ptr"]) == (0, ["host.example.com"])


def test_e2e_a_hanging_dns_name_ends_by_the_deadline(world: World) -> None:
    world.behave("dns", "hang.example.com", "hang")
    run = world.run_cli("search", "hang.example.com", "-a", "dns", "--deadline", "2", "-f", "json", "--no-store")
    assert_ends_by(run.wall_s, 2)  # --no-store: the deadline is under test, not the store's commit wait
    assert run.code == 1
    assert results(run)["dns"]["status"] in ("timeout", "cancelled")


def test_e2e_every_adapter_on_a_domain_and_an_ip(world: World) -> None:
    keys = world.key_env()
    assert set(keys) == {world.adapter(name).key_env for name in world.keys} and len(keys) >= 3
    domain = world.run_cli("search", "example.com", "-f", "json", env=keys)
    assert domain.code == 0, domain.stderr
    for_domains = {name for name in world.adapters() if TargetKind.DOMAIN in world.adapter(name).kinds}
    expected = {name: "ok" if name in for_domains else "skipped" for name in world.adapters()}
    assert {name: r["status"] for name, r in results(domain).items()} == expected
    assert expected["asn"] == "skipped"  # asn: addresses only
    address = world.run_cli("search", IP, "-f", "json", env=keys)
    statuses = {name: r["status"] for name, r in results(address).items()}
    handled = {name for name in world.adapters() if TargetKind.IPV4 in world.adapter(name).kinds}
    assert statuses == {name: "ok" if name in handled else "skipped" for name in world.adapters()}
    assert statuses["ct"] == "skipped"  # ct: domains only
    # Each key went to its own services only (those asked got it), and no output shows one.
    for adapter, key in world.keys.items():
        allowed = {s.name for s in world.services_of(adapter) if s.serves and s.serves.key}
        asked = {s for s in allowed if world.requests(s)}
        assert {r.service for r in world.requests() if key in r.raw} == asked, adapter
        for run in (domain, address):
            assert key not in run.stdout + run.stderr
    assert {"shodan", "virustotal"} <= {r.service for r in world.requests() if any(k in r.raw for k in keys.values())}


def test_e2e_whois_through_the_redirector_and_the_port43_referral(world: World) -> None:
    world.write_config(whois={"rdap_url": None, "whois_server": None})
    run = world.run_cli("search", "foo.example", "--adapters", "whois", "-f", "json")  # .example has no RDAP
    assert results(run)["whois"]["status"] == "ok"
    assert [r.service for r in world.requests(target="foo.example")] == ["rdap_fallback", "rdap"]
    world.behave("rdap", "*", "server_error", status=500)
    run = world.run_cli("search", "foo.example", "--adapters", "whois", "-f", "json")
    whois_result = results(run)["whois"]
    assert (whois_result["status"], whois_result["data"]["source"]) == ("ok", "whois")
    assert [(r.service, r.path) for r in world.requests()[-2:]] == [("iana_whois", "example"), ("whois", "foo.example")]


def test_e2e_no_key_for_the_trap(world: World) -> None:
    world.behave("virustotal", "*", "redirect")
    world.behave("shodan", "*", "redirect")
    run = world.run_cli("search", IP, "--adapters", "virustotal,shodan", "-f", "json", env=world.key_env())
    assert run.code == 1
    for result in results(run).values():
        assert (result["status"], result["error"]["type"]) == ("error", "redirect")
    assert world.requests("trap") == []
