"""The one HTTP layer: a shared client, size caps, retries, rate limits, key safety.

One `HttpPool` per run; each adapter call gets its session (`pool.session(policy, budget)`),
and its adapter calls `ctx.http.get(...)` for an `HttpResponse`, or an `AdapterError` of type
network, http, auth, rate_limited, parse, too_large, redirect or config. The policy (caps,
limits, the key) is resolved once per adapter by the settings; the engine only passes it on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ._body import ACCEPT_ENCODING, content_coding, read_body
from ._budget import Budget, current_budget, using
from ._egress import inward_reason, is_loopback_host
from ._errors import AdapterError, Skip
from ._http_errors import request_error, url_logged, url_shown
from ._keys import KeyRing, QueueInfo, carries_key, fingerprint, with_key
from ._places import Place
from ._proxy import PROXY_VARS, check_proxies
from ._quota import Ledger, MemoryLedger, Quota, take
from ._ratelimit import RateLimit
from ._redact import secret_forms
from ._response import HttpResponse
from ._retry import MAX_ATTEMPTS, RETRY_AFTER_FLOOR_S, RETRY_STATUSES, backoff_s, retry_after_s, transient
from ._stream import Expired, call_with_deadline
from ._version import __version__

if TYPE_CHECKING:  # imported by the first request: a run without HTTP (only dns) never loads them
    import ssl

    import httpx
    from tenacity import RetryCallState

__all__ = ["DEFAULT_MAX_BODY_BYTES", "Http", "HttpPolicy", "HttpPool", "HttpResponse", "HttpSetupError", "QueueInfo"]

log = logging.getLogger("osint_fanout.http")
T = TypeVar("T")

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class HttpPolicy:
    """What the HTTP layer applies to one adapter's requests, resolved from its settings."""

    adapter: str
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    rates: Mapping[str, RateLimit | None] = field(default_factory=dict)
    """Rate limit by upstream name ("*": any other), None for none."""
    quotas: Mapping[str, Quota | None] = field(default_factory=dict)
    """Quota by upstream name ("*": any other), None for none; counted per key."""
    max_concurrency: int | None = None
    secrets: tuple[str, ...] = ()
    """The API keys: each request carrying the key stand-in gets one of them."""
    allow_plain_http: bool = False
    key_exhausted: Callable[[HttpResponse], bool] | None = None
    """True for an answer that says the key used is out of quota: it is set aside."""
    turn_within_deadline: bool = False
    """A shard's turn on the clock must come before the call's deadline (no --max-time
    bounds the run's queues): a call that would wait longer ends at once, rate_limited."""


@dataclass
class _Upstream:
    keys: KeyRing
    """One rate-limit window per key (one for keyless requests)."""
    slots: asyncio.Semaphore | None
    queued: int = 0
    """Requests waiting for this upstream's own limits (rate, max_concurrency) right now."""
    ledger_failure: str | None = None
    """Why quota use cannot be counted (then every call under a quota is skipped)."""


class _SetAsideMeanwhile(Exception):
    """The key a request was queued for was set aside before its turn came."""


class HttpSetupError(ValueError):
    """The environment's HTTP settings are unusable (a proxy variable, SSL_CERT_FILE or
    SSL_CERT_DIR); the message names the variable, never its value."""


class HttpPool:
    """One per run: owns the clients and the rate limits shared by every target.

    Each adapter gets a client (a connection pool) of its own, all sharing one TLS context:
    httpcore's pool looks over every connection it holds at each request and at each answer
    (polling each idle one to see whether the server closed it), so one pool for the whole
    run would make every request pay for every adapter's connections."""

    def __init__(self, *, max_connections: int = 100, verify: bool | str = True, ledger: Ledger | None = None) -> None:
        self.ledger: Ledger = ledger or MemoryLedger()
        """Where quota use is counted (this run only, unless the search gives a lasting one)."""
        self._max_connections = max_connections
        self._verify = verify
        self._context: ssl.SSLContext | None = None
        self._clients: dict[str, httpx.AsyncClient] = {}
        if any(os.environ.get(name) for name in PROXY_VARS):  # a bad proxy is bad usage: said before any query
            try:
                check_proxies()
            except ValueError as exc:
                raise HttpSetupError(str(exc)) from None
            self._client("")
        self._upstreams: dict[tuple[str, str], _Upstream] = {}

    def warm(self, adapters: list[str]) -> None:
        """Make these adapters' clients (and the TLS context, 30-40 ms, with httpx loaded)
        now, as part of the start-up, rather than in the first requests' time."""
        for adapter in adapters:
            self.client_for(adapter)

    def client_for(self, adapter: str) -> httpx.AsyncClient:
        """The adapter's own client, made on first use (a run without HTTP makes none)."""
        client = self._clients.get(adapter)
        if client is None:
            client = self._clients[adapter] = self._client(adapter)
        return client

    def _client(self, adapter: str) -> httpx.AsyncClient:
        import httpx
        import tenacity  # noqa: F401 - what every request uses, loaded with the client

        if self._context is None:
            try:
                self._context = httpx.create_ssl_context(verify=self._verify, trust_env=True)
            except OSError as exc:  # ssl.SSLError too: a CA file or folder that cannot be read
                names = [name for name in ("SSL_CERT_FILE", "SSL_CERT_DIR") if os.environ.get(name)]
                which = "/".join(names) or "the CA certificates"
                raise HttpSetupError(f"{which}: cannot load the CA certificates ({type(exc).__name__})") from None
        try:
            return httpx.AsyncClient(
                headers={
                    "User-Agent": f"osint-fanout/{__version__} (+https://pypi.org/project/osint-fanout/)",
                    "Accept-Encoding": ACCEPT_ENCODING,  # only what _body decodes within the cap
                },
                limits=httpx.Limits(max_connections=self._max_connections, max_keepalive_connections=20),
                follow_redirects=False,  # followed by hand, see Http._send
                trust_env=True,  # the proxy variables
                verify=self._context,
            )
        except (ValueError, ImportError, httpx.InvalidURL) as exc:
            names = [name for name in PROXY_VARS if os.environ.get(name)]
            which = "/".join(names) or "a proxy variable"
            reason = "a SOCKS proxy needs `pip install httpx[socks]`" if isinstance(exc, ImportError) else "not a URL"
            raise HttpSetupError(f"{which} in the environment is not a usable proxy: {reason}") from None

    async def aclose(self) -> None:
        for client in self._clients.values():
            with contextlib.suppress(Exception):
                await client.aclose()

    def session(self, policy: HttpPolicy, budget: Budget, place: Place | None = None) -> Http:
        """One adapter call's view of the pool; `place`: the call's place among the running
        calls, given up while a request waits for its upstream's own limits."""
        return Http(self, policy, budget, place)

    def queues(self) -> list[QueueInfo]:
        """Every upstream with requests waiting for its own limits, longest queue first."""
        found = [
            QueueInfo(adapter, name, upstream.queued, upstream.keys.combined_rate())
            for (adapter, name), upstream in self._upstreams.items()
            if upstream.queued
        ]
        return sorted(found, key=lambda info: -info.length)

    def upstream(self, adapter: str, name: str, rate: RateLimit | None, slots: int | None, keys: int) -> _Upstream:
        key = (adapter, name)
        if key not in self._upstreams:
            ring = KeyRing(adapter, keys, rate)
            self._upstreams[key] = _Upstream(ring, asyncio.Semaphore(slots) if slots else None)
        return self._upstreams[key]


@dataclass
class Http:
    """One adapter call's view of the pool: its budget, and its adapter's policy."""

    pool: HttpPool
    policy: HttpPolicy
    budget: Budget
    place: Place | None = None

    @property
    def adapter(self) -> str:
        return self.policy.adapter

    @property
    def max_body_bytes(self) -> int:
        return self.policy.max_body_bytes

    def time_left(self) -> float:
        return current_budget(self.budget).time_left()

    async def get(
        self,
        url: str,
        *,
        params: Mapping[str, str | list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
        upstream: str = "api",
        retry: bool = True,
        timeout_s: float | None = None,
    ) -> HttpResponse:
        """GET inside the call's budget; returns the final response whatever its status
        (call `raise_for_status()`).

        `retry`: retry 429/502/503/504 and connection errors, with backoff and
        Retry-After. `timeout_s`: give up on this request (all its attempts) after that
        long, not counting rate-limit waits, with an AdapterError of type "timeout";
        for an adapter that wants to keep time for a fallback source.
        """
        if timeout_s is None:
            return await self._get(url, params, headers, upstream, retry)
        part = current_budget(self.budget).part(timeout_s)

        async def within() -> HttpResponse:
            with using(part):  # its waits stretch this part too
                return await self._get(url, params, headers, upstream, retry)

        try:
            return await call_with_deadline(within, deadline=part.deadline)
        except Expired:
            import httpx

            raise AdapterError("timeout", f"{url_shown(httpx.URL(url))}: no answer within {timeout_s:.1f} s") from None

    async def _get(
        self,
        url: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        upstream: str,
        retry: bool,
    ) -> HttpResponse:
        import httpx
        from tenacity import AsyncRetrying, retry_if_exception, retry_if_result, stop_after_attempt

        retrying = AsyncRetrying(
            retry=retry_if_result(lambda r: r.status in RETRY_STATUSES) | retry_if_exception(transient),
            wait=self._wait,
            stop=self._stop if retry else stop_after_attempt(1),
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            return await retrying(self._send, url, params, headers, upstream)
        except httpx.HTTPError as exc:
            raise request_error(exc, httpx.URL(url)) from None

    async def _send(
        self, url: str, params: Mapping[str, Any] | None, headers: Mapping[str, str] | None, upstream: str
    ) -> HttpResponse:
        request = self.pool.client_for(self.adapter).build_request(
            "GET", url, params=params, headers=headers, timeout=self.time_left() + 0.5
        )
        origin = request.url.copy_with(path="/", query=None, fragment=None)
        carries_key = self._carries_key(request)
        self._check_plain_http(request.url, carries_key)
        for _ in range(MAX_REDIRECTS + 1):
            response = await self._exchange(request, upstream)
            if response.status not in (301, 302, 303, 307, 308) or "location" not in response.headers:
                return response
            target = request.url.join(response.headers["location"])
            if carries_key and target.copy_with(path="/", query=None, fragment=None) != origin:
                raise AdapterError(
                    "redirect",
                    f"refused to follow a redirect from {origin.host} to {target.host}: the request carries an API key",
                )
            why = inward_reason(str(origin), str(target))
            if why:
                raise AdapterError("redirect", f"refused a redirect from {origin.host} to {url_shown(target)}: {why}")
            request = self.pool.client_for(self.adapter).build_request(
                "GET", target, headers=headers, timeout=self.time_left() + 0.5
            )
        raise AdapterError("redirect", f"more than {MAX_REDIRECTS} redirects from {origin.host}")

    def _check_plain_http(self, url: httpx.URL, carries_key: bool) -> None:
        """A key never crosses the network in clear (settings refuse such a config first;
        this holds for URLs an adapter builds itself)."""
        plain = url.scheme != "https" and not is_loopback_host(url.host)
        if carries_key and plain and not self.policy.allow_plain_http:
            raise AdapterError(
                "config",
                f"refused to send the API key over plain http to {url.host} "
                f"(use https, or set allow_plain_http = true in [adapters.{self.adapter}])",
            )

    async def _exchange(self, request: httpx.Request, upstream: str) -> HttpResponse:
        rates = self.policy.rates
        rate = rates.get(upstream, rates.get("*"))
        keys = self.policy.secrets
        limits = self.pool.upstream(self.adapter, upstream, rate, self.policy.max_concurrency, len(keys))
        keyed = carries_key(request)
        while True:  # once, or again with another key after one was set aside
            index = limits.keys.pick() if keyed else None
            if keyed and index is None:
                if limits.keys.spent:
                    raise Skip(limits.keys.spent)
                raise AdapterError(*limits.keys.refusal())
            if not await self._within_quota(upstream, limits, index):
                if index is None:
                    raise Skip(limits.keys.spent or "its quota is used up")
                continue  # that key's quota is used up: another key, or a skip
            try:
                response = await self._one(limits, request, index)
            except _SetAsideMeanwhile:
                continue  # its key was refused while it waited: another key, or the refusal
            kind = None if index is None else self._rejects(response)
            if index is None or kind is None:
                return response
            others = [other for other in range(len(keys)) if other != index and other not in limits.keys.aside]
            if kind == "rate_limited" and not others:
                return response  # the last key: retried with backoff like any 429, not set aside
            if limits.keys.set_aside(index, kind, f"HTTP {response.status} from {response.where}"):
                what = "is out of quota" if kind == "rate_limited" else "was refused"
                log.warning(
                    "%s: %s %s (HTTP %d) and is set aside for this run",
                    self.adapter,
                    limits.keys.name(index),
                    what,
                    response.status,
                )
            if not others:
                return response  # no key left: the adapter maps the answer (auth)

    async def _within_quota(self, upstream: str, limits: _Upstream, index: int | None) -> bool:
        """Count this request against its quota (per key); False, and the key put by, when
        the quota is used up, or when the count cannot be kept (a corrupt, locked or full
        ledger; a broken store): a call under a quota is never sent uncounted."""
        quota = self.policy.quotas.get(upstream, self.policy.quotas.get("*"))
        if quota is None:
            return True
        key = fingerprint(self.policy.secrets[index]) if index is not None else "keyless"
        try:
            spent = limits.ledger_failure or await take(self.pool.ledger, quota, f"{self.adapter}/{upstream}/{key}")
        except Exception as exc:  # LedgerError, StoreError, Expired, OSError: fail closed, for the rest of the run
            why = str(exc) or type(exc).__name__
            log.warning("%s: its quota use cannot be counted (%s); calls under a quota are skipped", self.adapter, why)
            spent = limits.ledger_failure = f"its quota use cannot be counted ({why}), so it is not asked uncounted"
        if spent:
            limits.keys.spend(index, f"{self.adapter}: {spent}")
        return spent is None

    def _rejects(self, response: HttpResponse) -> str | None:
        """`auth` for an answer that says the key is wrong or not allowed, `rate_limited`
        for one that says it is out of quota, else None."""
        exhausted = self.policy.key_exhausted
        if exhausted is not None and exhausted(response):
            return "rate_limited"
        return "auth" if response.status in (401, 403) else None

    async def _one(self, limits: _Upstream, request: httpx.Request, key: int | None) -> HttpResponse:
        """One request, under the upstream's limits (and key `key`'s rate-limit window). The
        key goes in when the request is sent, not when it was queued: if the key was set
        aside meanwhile (another request's 401), _SetAsideMeanwhile, and it is not sent."""
        limiter = limits.keys.limiter(key)
        if limiter and self.policy.turn_within_deadline:
            self._check_turn(limiter.rate, request.url)
        if limits.slots:
            await self._queued(limits, limits.slots.acquire())
        slot = None
        try:
            if limiter:
                slot = await self._queued(limits, limiter.acquire())
            if key is not None:
                if key in limits.keys.aside:
                    if limiter and slot:
                        limiter.cancel(slot)
                        slot = None
                    raise _SetAsideMeanwhile()
                request = with_key(request, self.policy.secrets[key])
            where = url_shown(request.url)
            if log.isEnabledFor(logging.DEBUG):
                log.debug("GET %s (%s)", url_logged(request.url), self.adapter)
            try:
                response = await self.pool.client_for(self.adapter).send(request, stream=True)
            finally:
                if limiter and slot:
                    limiter.release(slot)  # the window counts from the answer
            try:
                body = await self._read_capped(response, where)
            finally:
                await response.aclose()
            log.debug("HTTP %s from %s, %d bytes", response.status_code, where, len(body))
            return HttpResponse(response.status_code, response.headers, body, where, request.url.host)
        finally:
            if limits.slots:
                limits.slots.release()

    def _check_turn(self, rate: RateLimit, url: httpx.URL) -> None:
        turn = rate.slot_wait(time.time())
        if rate.slot is not None and turn > self.time_left():
            index, shards = rate.slot
            raise AdapterError(
                "rate_limited",
                f"{url.host}: shard {index + 1}/{shards}'s next turn on the clock is in {turn:.0f} s, "
                "after the deadline (--max-time lets it wait; --shard-limits full gives each shard the whole limit)",
            )

    async def _read_capped(self, response: httpx.Response, where: str) -> bytes:
        encoding = response.headers.get("content-encoding", "")
        content_coding(encoding, where)  # refused before anything is read
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise AdapterError("too_large", f"{where} sent more than {self.max_body_bytes} bytes")
        return await read_body(response.aiter_raw(), content_encoding=encoding, limit=self.max_body_bytes, where=where)

    async def _queued(self, limits: _Upstream, awaitable: Awaitable[T]) -> T:
        """Await a place under this upstream's own limits, in its queue: the time counts as
        queued (not running: it stretches the call's timeout and deadline alike) and the
        call's place among the running calls is given up meanwhile."""
        limits.queued += 1
        try:
            with current_budget(self.budget).queueing():
                if self.place is None:
                    return await awaitable
                async with self.place.away():
                    return await awaitable
        finally:
            limits.queued -= 1

    async def _timed(self, awaitable: Awaitable[T]) -> T:
        """Await a wait (rate limit, Retry-After), counted while it lasts on the budget in
        use and every budget it is part of."""
        with current_budget(self.budget).waiting():
            return await awaitable

    def _carries_key(self, request: httpx.Request) -> bool:
        """The key stand-in, or (an adapter that put a real key in) one of the keys."""
        if carries_key(request):
            return True
        where = [str(request.url), *request.headers.values()]
        return any(form in text for secret in self.policy.secrets for form in secret_forms(secret) for text in where)

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            after = retry_after_s(outcome.result().headers.get("retry-after"))
            if after is not None:
                return max(after, RETRY_AFTER_FLOOR_S)
        return backoff_s(state.attempt_number)

    def _stop(self, state: RetryCallState) -> bool:
        # Stop when, after the wait, too little of the budget is left for a request.
        budget = current_budget(self.budget)
        return state.attempt_number >= MAX_ATTEMPTS or budget.left_after_wait(state.upcoming_sleep) < 0.2

    async def _sleep(self, seconds: float) -> None:
        log.debug("%s: retrying in %.1f s", self.adapter, seconds)
        await self._timed(asyncio.sleep(seconds))
