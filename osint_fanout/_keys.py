"""Several API keys for one service: each with its own rate-limit window, a request going to
the key whose window frees first, a rejected key set aside for the rest of the run.

Adapters never hold a key: `Adapter.api_key` is a stand-in, KEY_TOKEN, that they put in a
request's params or headers as they would a key (`{"x-apikey": self.api_key}`, `f"Bearer
{self.api_key}"`); the HTTP layer picks a key for each request and puts it in place of the
stand-in just before sending. So one key or five, an adapter is written the same way.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ._ratelimit import MovingWindowLimiter, RateLimit
from ._redact import register_secret

if TYPE_CHECKING:  # loaded by the first request: a run without HTTP never needs it
    import httpx

__all__ = ["KEY_TOKEN", "KeyRing", "QueueInfo", "carries_key", "fingerprint", "with_key"]

KEY_TOKEN = f"osint-fanout-key-{secrets.token_hex(8)}"
"""What `Adapter.api_key` is when keys are set: replaced by a real key in each request."""
register_secret(KEY_TOKEN)  # never shown either, should an adapter put it in its data


def carries_key(request: httpx.Request) -> bool:
    """True when the request holds the key stand-in (in its query or its headers)."""
    return KEY_TOKEN in str(request.url) or any(KEY_TOKEN in value for value in request.headers.values())


def with_key(request: httpx.Request, key: str) -> httpx.Request:
    """`request` with `key` in place of the stand-in (percent-encoded in the query)."""
    import httpx

    url = httpx.URL(str(request.url).replace(KEY_TOKEN, _quoted(key)))
    headers = [(name, value.replace(KEY_TOKEN, key)) for name, value in request.headers.multi_items()]
    return httpx.Request(request.method, url, headers=headers, extensions=request.extensions)


def _quoted(key: str) -> str:
    """The key as it stands in a query string (what httpx would have written)."""
    import httpx

    return str(httpx.QueryParams({"k": key})).removeprefix("k=")


def fingerprint(key: str) -> str:
    """A key's short, one-way name (for quota counts kept on disk): never the key."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass
class KeyRing:
    """The keys of one adapter for one upstream, with a limiter each (None: no limit)."""

    adapter: str
    count: int
    rate: RateLimit | None
    limiters: list[MovingWindowLimiter | None] = field(default_factory=list)
    aside: dict[int, tuple[str, str]] = field(default_factory=dict)
    """Keys set aside (by index): the error type it means (auth, rate_limited), and why."""
    spent: str | None = None
    """Why, when a quota is used up (the reason a call is skipped)."""
    _turn: int = 0

    def __post_init__(self) -> None:
        self.limiters = [MovingWindowLimiter(self.rate) if self.rate else None for _ in range(max(1, self.count))]

    def limiter(self, index: int | None) -> MovingWindowLimiter | None:
        return self.limiters[index or 0]

    def pick(self) -> int | None:
        """The key whose window frees first (in turn, when none is limited); None when every
        key is set aside."""
        active = [index for index in range(self.count) if index not in self.aside]
        if not active:
            return None
        self._turn += 1
        turn = self._turn

        def order(index: int) -> tuple[float, int]:
            limiter = self.limiters[index]
            wait = limiter.estimate_wait(limiter.queued + 1) if limiter else 0.0
            return wait, (index - turn) % self.count

        return min(active, key=order)

    def set_aside(self, index: int, kind: str, why: str) -> bool:
        """Set key `index` aside for the rest of the run; True the first time."""
        if index in self.aside:
            return False
        self.aside[index] = (kind, why)
        return True

    def spend(self, index: int | None, why: str) -> None:
        """The quota of key `index` (or of keyless requests) is used up for its period."""
        self.spent = why
        if index is not None:
            self.aside.setdefault(index, ("quota", why))

    def refusal(self) -> tuple[str, str]:
        """(error type, message) for a request when every key is set aside."""
        kinds = {kind for kind, _ in self.aside.values()}
        reasons = "; ".join(f"{self.name(index)}: {why}" for index, (_, why) in sorted(self.aside.items()))
        kind = "rate_limited" if kinds == {"rate_limited"} else "auth"
        return kind, f"every key of {self.adapter} was set aside in this run ({reasons})"

    def combined_rate(self) -> RateLimit | None:
        """The rate of all its keys together (those not set aside)."""
        if self.rate is None:
            return None
        active = max(1, self.count - len(self.aside))
        return RateLimit(self.rate.count * active, self.rate.period_s)

    def name(self, index: int) -> str:
        """How a key is named in messages: never the key itself."""
        return f"key {index + 1} of {self.count}" if self.count > 1 else "the key"


@dataclass(frozen=True)
class QueueInfo:
    """One upstream's queue, for the progress display."""

    adapter: str
    upstream: str
    length: int
    rate: RateLimit | None

    def drain_s(self) -> float | None:
        """How long the queue needs at its rate (None without a rate)."""
        return None if self.rate is None else self.length / self.rate.count * self.rate.period_s
