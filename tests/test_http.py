"""The shared HTTP layer: retries, caps, redirects, rate limits, and keys kept in place."""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import time
import zlib
from typing import Any

import httpx
import pytest
import respx
from pydantic import Field

from osint_fanout import (
    Adapter,
    AdapterError,
    AdapterOptions,
    Context,
    KeyPolicy,
    NotFound,
    Target,
    TargetKind,
    __version__,
)
from osint_fanout._engine import Investigation
from osint_fanout._http import HttpPool
from osint_fanout._plan import Flags, ReadyAdapter, ready
from osint_fanout._results import Result, Status
from osint_fanout._settings import RunSettings
from osint_fanout._targets import parse_target
from osint_fanout.testing import run_adapter

BASE = "https://api.example.test"
KEY = "test-key-0123456789"


class EchoOptions(AdapterOptions):
    base_url: str = Field(BASE, description="API base.")
    key_in: str = Field("query", description="query or header.")


class Echo(Adapter[EchoOptions]):
    name = "echo"
    description = "GETs {base_url}/d/{target} and returns the JSON"
    kinds = frozenset({TargetKind.DOMAIN})
    key = KeyPolicy.OPTIONAL
    key_env = "ECHO_KEY"
    Options = EchoOptions

    async def lookup(self, target: Target, ctx: Context) -> dict[str, Any]:
        params, headers = {}, {}
        if self.api_key and self.options.key_in == "query":
            params["key"] = self.api_key
        elif self.api_key:
            headers["x-apikey"] = self.api_key
        response = await ctx.http.get(f"{self.options.base_url}/d/{target.value}", params=params, headers=headers)
        if response.status == 404:
            raise NotFound()
        response.raise_for_status()
        return response.json()


def url(name: str) -> str:
    return f"{BASE}/d/{name}"


@respx.mock
def test_sends_a_user_agent_naming_the_tool() -> None:
    route = respx.get(url("ua.com")).mock(return_value=httpx.Response(200, json={"ok": True}))
    assert run_adapter(Echo, "ua.com").status is Status.OK
    assert route.calls.last.request.headers["user-agent"].startswith(f"osint-fanout/{__version__}")


@respx.mock
@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retries_transient_statuses_then_succeeds(status: int) -> None:
    route = respx.get(url("flaky.com")).mock(
        side_effect=[httpx.Response(status, text="busy"), httpx.Response(200, json={"n": 1})]
    )
    result = run_adapter(Echo, "flaky.com")
    assert result.status is Status.OK and result.data == {"n": 1}
    assert route.call_count == 2
    assert result.waited_ms > 0


@respx.mock
def test_retry_after_is_honoured_with_a_floor() -> None:
    route = respx.get(url("zero.com")).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "0"}), httpx.Response(200, json={})]
    )
    started = time.monotonic()
    result = run_adapter(Echo, "zero.com")
    assert result.status is Status.OK and route.call_count == 2
    assert time.monotonic() - started >= 1.0  # "Retry-After: 0" still waits the 1 s floor


@respx.mock
def test_a_retry_after_longer_than_the_budget_ends_as_rate_limited_at_once() -> None:
    route = respx.get(url("later.com")).mock(return_value=httpx.Response(429, headers={"Retry-After": "3600"}))
    result = run_adapter(Echo, "later.com", timeout_s=5)
    assert result.status is Status.ERROR and result.error and result.error.type == "rate_limited"
    assert route.call_count == 1 and result.waited_ms == 0  # it did not wait for the hour


@respx.mock
def test_persistent_failure_stops_after_a_bounded_number_of_attempts() -> None:
    route = respx.get(url("down.com")).mock(return_value=httpx.Response(503, text="<html><b>down</b></html>"))
    result = run_adapter(Echo, "down.com", timeout_s=20, deadline_s=30)
    assert result.status is Status.ERROR and result.error and result.error.type == "http"
    assert "HTTP 503 from api.example.test/d/down.com" in result.error.message
    assert route.call_count == 4


@respx.mock
def test_connection_errors_are_retried_then_reported_as_network() -> None:
    route = respx.get(url("refused.com")).mock(side_effect=httpx.ConnectError("connection refused"))
    result = run_adapter(Echo, "refused.com", timeout_s=10)
    assert result.status is Status.ERROR and result.error and result.error.type == "network"
    assert route.call_count >= 2


@respx.mock
@pytest.mark.parametrize(("status", "error_type"), [(401, "auth"), (403, "auth"), (429, "rate_limited"), (500, "http")])
def test_status_codes_map_to_error_types(status: int, error_type: str) -> None:
    respx.get(url("code.com")).mock(return_value=httpx.Response(status, headers={"Retry-After": "9999"}))
    result = run_adapter(Echo, "code.com")
    assert result.error is not None and result.error.type == error_type


@respx.mock
def test_body_over_the_cap_is_too_large_by_header_or_while_streaming() -> None:
    respx.get(url("declared.com")).mock(return_value=httpx.Response(200, content=b"x" * 5000))
    result = run_adapter(Echo, "declared.com", max_body_bytes=1000)
    assert result.error is not None and result.error.type == "too_large"

    def endless(request: httpx.Request) -> httpx.Response:
        async def chunks() -> Any:
            while True:
                yield b"[" * 1024

        return httpx.Response(200, content=chunks())  # no Content-Length: streamed

    respx.get(url("endless.com")).mock(side_effect=endless)
    result = run_adapter(Echo, "endless.com", max_body_bytes=64 * 1024)
    assert result.error is not None and result.error.type == "too_large"


@respx.mock
def test_not_json_is_a_parse_error_quoting_the_body_safely() -> None:
    respx.get(url("html.com")).mock(return_value=httpx.Response(200, text="<html>\x1b[2J[bold]x</html>"))
    result = run_adapter(Echo, "html.com")
    assert result.error is not None and result.error.type == "parse"
    assert "\x1b" not in result.error.message and "did not answer JSON" in result.error.message


@respx.mock
def test_same_host_redirects_are_followed_with_the_key() -> None:
    respx.get(url("moved.com")).mock(return_value=httpx.Response(301, headers={"Location": "/d/new.com?key=" + KEY}))
    final = respx.get(url("new.com")).mock(return_value=httpx.Response(200, json={"moved": True}))
    result = run_adapter(Echo, "moved.com", api_key=KEY)
    assert result.status is Status.OK and final.call_count == 1


@respx.mock
@pytest.mark.parametrize("key_in", ["query", "header"])
def test_a_redirect_to_another_host_never_carries_the_key(key_in: str) -> None:
    respx.get(url("trap.com")).mock(return_value=httpx.Response(302, headers={"Location": "https://trap.test/x"}))
    trap = respx.get("https://trap.test/x").mock(return_value=httpx.Response(200, json={}))
    result = run_adapter(Echo, "trap.com", api_key=KEY, key_in=key_in)
    assert result.error is not None and result.error.type == "redirect"
    assert "trap.test" in result.error.message
    assert trap.call_count == 0


@respx.mock
def test_keyless_requests_follow_redirects_to_other_hosts() -> None:
    respx.get(url("keyless.com")).mock(return_value=httpx.Response(302, headers={"Location": "https://other.test/y"}))
    other = respx.get("https://other.test/y").mock(return_value=httpx.Response(200, json={"there": 1}))
    result = run_adapter(Echo, "keyless.com")
    assert result.status is Status.OK and other.call_count == 1


@respx.mock
def test_redirect_loops_end() -> None:
    respx.get(url("loop.com")).mock(return_value=httpx.Response(302, headers={"Location": "/d/loop.com"}))
    result = run_adapter(Echo, "loop.com")
    assert result.error is not None and result.error.type == "redirect"


@respx.mock
def test_the_key_never_appears_in_results_or_messages() -> None:
    respx.get(url("leak.com")).mock(return_value=httpx.Response(500, text=f"bad request for key={KEY}"))
    respx.get(url("conn.com")).mock(side_effect=httpx.ConnectError(f"failed GET {BASE}/d/conn.com?key={KEY}"))
    for target in ("leak.com", "conn.com"):
        result = run_adapter(Echo, target, api_key=KEY, timeout_s=3)
        assert result.status is Status.ERROR
        assert KEY not in result.model_dump_json()


def run_many(
    options: dict[str, Any], targets: list[str], *, timeout_s: float | None = None, deadline_s: float = 20
) -> list[Result]:
    """Results of many targets through one Echo adapter sharing its limits, in completion order."""
    cls = Echo
    flags = Flags(timeout_s=timeout_s)
    one: ReadyAdapter = ready(cls, cls.Options.model_validate(options), RunSettings(), flags)
    engine = Investigation([one], concurrency=8, deadline_s=deadline_s)

    async def go() -> list[Result]:
        pool = HttpPool()
        try:
            events = [e async for e in engine.events([parse_target(t) for t in targets], pool=pool)]
        finally:
            await pool.aclose()
        return [e for e in events if isinstance(e, Result)]

    return asyncio.run(go())


@respx.mock
def test_rate_limit_is_shared_by_all_targets_and_never_exceeded() -> None:
    times: list[float] = []

    def record(request: httpx.Request) -> httpx.Response:
        times.append(time.monotonic())
        return httpx.Response(200, json={})

    respx.get(url__regex=rf"{BASE}/d/.*").mock(side_effect=record)
    results = run_many({"rate_limit": "5/s"}, [f"t{n}.com" for n in range(8)])
    assert all(r.status is Status.OK for r in results)
    assert len(times) == 8
    for first in range(len(times)):  # at most 5 in any one-second window
        assert sum(1 for t in times if 0 <= t - times[first] < 1.0) <= 5
    assert times[-1] - times[0] >= 1.0
    assert sum(1 for r in results if r.queued_ms >= 900) == 3  # the wait is visible on the result, as queued


@respx.mock
def test_without_retry_a_503_is_returned_at_once() -> None:
    route = respx.get(url("once.com")).mock(return_value=httpx.Response(503, text="ERROR"))

    class Once(Echo):
        async def lookup(self, target: Target, ctx: Context) -> dict[str, Any]:
            response = await ctx.http.get(url(target.value), retry=False)
            return {"status": response.status}

    result = run_adapter(Once, "once.com")
    assert result.data == {"status": 503} and route.call_count == 1


@respx.mock
def test_a_request_timeout_leaves_time_for_a_fallback() -> None:
    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, json={})

    respx.get(url("slow.com")).mock(side_effect=slow)
    respx.get(url("fallback.com")).mock(return_value=httpx.Response(200, json={"from": "fallback"}))

    class Fallback(Echo):
        async def lookup(self, target: Target, ctx: Context) -> dict[str, Any]:
            try:
                await ctx.http.get(url("slow.com"), timeout_s=0.3)
            except AdapterError as exc:
                first = f"{exc.type}: {exc.message}"
            response = await ctx.http.get(url("fallback.com"))
            return {"first": first, **response.json()}

    result = run_adapter(Fallback, "slow.com", timeout_s=3)
    assert result.status is Status.OK  # the fallback answered within the call's 3 s
    assert result.data == {"first": "timeout: api.example.test/d/slow.com: no answer within 0.3 s", "from": "fallback"}


@respx.mock
def test_max_concurrency_bounds_requests_in_flight_per_upstream() -> None:
    state = {"now": 0, "peak": 0}

    async def slow(request: httpx.Request) -> httpx.Response:
        state["now"] += 1
        state["peak"] = max(state["peak"], state["now"])
        await asyncio.sleep(0.05)
        state["now"] -= 1
        return httpx.Response(200, json={})

    respx.get(url__regex=rf"{BASE}/d/.*").mock(side_effect=slow)
    results = run_many({"rate_limit": "off", "max_concurrency": 2}, [f"t{n}.com" for n in range(8)])
    assert all(r.status is Status.OK for r in results)
    assert state["peak"] == 2


@respx.mock
def test_a_rate_limit_wait_does_not_eat_the_adapters_own_timeout() -> None:
    respx.get(url__regex=rf"{BASE}/d/.*").mock(return_value=httpx.Response(200, json={}))
    results = run_many({"rate_limit": "1/s"}, [f"t{n}.com" for n in range(3)], timeout_s=0.5, deadline_s=10)
    assert [r.status for r in results] == [Status.OK] * 3  # queued ~1 s and ~2 s, timeout 0.5 s
    assert sorted(r.queued_ms // 500 for r in results) == [0, 2, 4]
    assert all(r.waited_ms == 0 for r in results)  # waited: what the upstream imposes (Retry-After)


@respx.mock
def test_time_queued_for_a_rate_limit_is_not_running_time() -> None:
    """The target's deadline bounds running time: a call queued for its upstream's own rate
    limit waits past it (only --max-time bounds a queue), and the wait shows as queued."""
    respx.get(url__regex=rf"{BASE}/d/.*").mock(return_value=httpx.Response(200, json={}))
    results = run_many({"rate_limit": "1/s"}, [f"t{n}.com" for n in range(3)], timeout_s=0.8, deadline_s=1.0)
    assert [r.status for r in results] == [Status.OK] * 3
    assert max(r.queued_ms for r in results) >= 1800  # the third waited ~2 s, twice its deadline


@respx.mock
def test_a_retry_after_longer_than_the_timeout_but_inside_the_deadline_is_waited_out() -> None:
    route = respx.get(url("later.com")).mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, json={"late": True})]
    )
    result = run_adapter(Echo, "later.com", timeout_s=1.0, deadline_s=10)
    assert result.status is Status.OK and result.data == {"late": True}
    assert route.call_count == 2 and result.waited_ms >= 1900


# -- bounded decoding, name failures, inward redirects, plain http -------------------------


def _gzip(data: bytes, layers: int = 1) -> bytes:
    for _ in range(layers):
        data = gzip.compress(data)
    return data


@respx.mock
@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "deflate-raw", "identity, gzip"])
def test_compressed_bodies_are_decoded(encoding: str) -> None:
    body = json.dumps({"n": list(range(1000))}).encode()
    if encoding == "deflate":
        content = zlib.compress(body)
    elif encoding == "deflate-raw":  # some servers send raw deflate under "deflate"
        squeeze = zlib.compressobj(wbits=-15)
        content, encoding = squeeze.compress(body) + squeeze.flush(), "deflate"
    else:
        content = _gzip(body)
    headers = {"Content-Encoding": encoding}
    respx.get(url("zip.com")).mock(return_value=httpx.Response(200, content=content, headers=headers))
    result = run_adapter(Echo, "zip.com")
    assert result.status is Status.OK and result.data == {"n": list(range(1000))}


@respx.mock
def test_two_gzip_members_in_a_row_are_one_body() -> None:
    content = gzip.compress(b'{"a": ') + gzip.compress(b"1}")
    respx.get(url("members.com")).mock(
        return_value=httpx.Response(200, content=content, headers={"Content-Encoding": "gzip"})
    )
    assert run_adapter(Echo, "members.com").data == {"a": 1}


@respx.mock
def test_a_bomb_is_cut_at_the_cap_while_it_decodes(monkeypatch: pytest.MonkeyPatch) -> None:
    steps: list[int] = []
    real = zlib.decompressobj

    class Spy:
        def __init__(self, *args: Any) -> None:
            self.obj = real(*args)

        def __getattr__(self, name: str) -> Any:
            return getattr(self.obj, name)

        def decompress(self, data: bytes, max_length: int = 0) -> bytes:
            out = self.obj.decompress(data, max_length)
            if max_length:  # ours (respx itself decodes the mock body whole, with httpx's decoder)
                steps.append(len(out))
            return out

    monkeypatch.setattr(zlib, "decompressobj", Spy)
    content = _gzip(bytes(64 << 20))  # 64 MiB of zeros in 64 KiB
    zipped = {"Content-Encoding": "gzip"}
    respx.get(url("bomb.com")).mock(return_value=httpx.Response(200, content=content, headers=zipped))
    result = run_adapter(Echo, "bomb.com", max_body_bytes=1 << 20)
    assert result.error is not None and result.error.type == "too_large"
    assert max(steps) <= 64 * 1024  # never more than one small step decoded at a time
    assert sum(steps) <= (1 << 20) + 64 * 1024


@respx.mock
@pytest.mark.parametrize(
    ("encoding", "content"), [("gzip, gzip", _gzip(b"{}", 2)), ("br", b"\x0b\x02\x80{}\x03"), ("zstd", b"x")]
)
def test_stacked_and_unasked_encodings_are_refused(encoding: str, content: bytes) -> None:
    headers = {"Content-Encoding": encoding}
    respx.get(url("odd.com")).mock(return_value=httpx.Response(200, content=content, headers=headers))
    result = run_adapter(Echo, "odd.com")
    assert result.error is not None and result.error.type == "parse"
    assert "encoding" in result.error.message


@respx.mock
def test_only_bounded_encodings_are_asked_for() -> None:
    route = respx.get(url("ae.com")).mock(return_value=httpx.Response(200, json={}))
    run_adapter(Echo, "ae.com")
    assert route.calls.last.request.headers["accept-encoding"] == "gzip, deflate"


@respx.mock
def test_deep_json_is_a_parse_error() -> None:
    respx.get(url("deep.com")).mock(return_value=httpx.Response(200, content=b"[" * 100_000 + b"]" * 100_000))
    result = run_adapter(Echo, "deep.com")
    assert result.error is not None and result.error.type == "parse"


def test_a_name_that_does_not_resolve_is_not_retried() -> None:
    # no respx here: the autouse no_internet guard answers getaddrinfo with EAI_NONAME
    result = run_adapter(Echo, "nxdomain.com", timeout_s=10, base_url="https://api.nowhere.test")
    assert result.error is not None and result.error.type == "network"
    assert result.error.message.startswith("cannot resolve api.nowhere.test")
    assert result.waited_ms == 0  # no retry waited


def test_a_temporary_resolver_failure_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[object] = []

    def again(host: object, *args: object, **kwargs: object) -> object:
        calls.append(host)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", again)
    result = run_adapter(Echo, "again.com", timeout_s=3, base_url="https://api.nowhere.test")
    assert result.error is not None and result.error.type == "network"
    assert len(calls) >= 2 and result.waited_ms > 0


@respx.mock
@pytest.mark.parametrize(
    ("start", "location"),
    [
        ("https://rdap.example.net/d/in.com", "http://rdap.example.net/elsewhere"),  # https -> http
        ("https://rdap.example.net/d/in.com", "https://127.0.0.2/internal"),  # public -> loopback
        ("https://rdap.example.net/d/in.com", "https://10.0.0.5/internal"),  # public -> private
        ("https://rdap.example.net/d/in.com", "https://169.254.169.254/latest/meta-data/"),  # link-local
        ("https://rdap.example.net/d/in.com", "https://[::ffff:127.0.0.1]/"),  # loopback, IPv4-mapped
        ("https://rdap.example.net/d/in.com", "https://localhost/"),
        ("http://10.0.0.5/d/in.com", "http://127.0.0.1/"),  # private -> loopback
    ],
)
def test_keyless_redirects_may_not_lead_inward(start: str, location: str) -> None:
    base = start.rsplit("/d/", 1)[0]
    respx.get(start).mock(return_value=httpx.Response(302, headers={"Location": location}))
    inner = respx.get(location).mock(return_value=httpx.Response(200, json={"secret": "internal"}))
    result = run_adapter(Echo, "in.com", base_url=base)
    assert result.error is not None and result.error.type == "redirect", result
    assert not inner.called


@respx.mock
def test_keyless_redirects_outward_or_sideways_are_followed() -> None:
    respx.get("http://10.0.0.5/d/side.com").mock(return_value=httpx.Response(302, headers={"Location": "http://10.0.0.6/x"}))
    respx.get("http://10.0.0.6/x").mock(return_value=httpx.Response(200, json={"ok": 1}))
    assert run_adapter(Echo, "side.com", base_url="http://10.0.0.5").data == {"ok": 1}


@respx.mock
def test_an_adapter_built_url_never_gets_the_key_over_plain_http() -> None:
    route = respx.get("http://api.example.net/d/plain.com").mock(return_value=httpx.Response(200, json={}))
    result = run_adapter(Echo, "plain.com", base_url="http://api.example.net", api_key=KEY)
    assert result.error is not None and result.error.type == "config" and "allow_plain_http" in result.error.message
    assert not route.called
    allowed = run_adapter(Echo, "plain.com", base_url="http://api.example.net", api_key=KEY, allow_plain_http=True)
    assert allowed.status is Status.OK and route.called
