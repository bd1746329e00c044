"""The world's faults, and what the fault matrix expects an adapter to make of them.

Every HTTP service gets the generic faults (HTTP_FAULTS) with the DIRECT expectations: what
an adapter that asks that one upstream, and has no other source, gives. A service whose
adapter does otherwise (a fallback source absorbs the fault, a keyless request follows the
redirect) says so in its `Matrix`; services that are not HTTP declare faults of their own.
tests/fault_kit.py turns these declarations into plans and runs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from osint_fanout import TargetKind


class Fault(NamedTuple):
    """A behaviour of a world server (world.behave) and its parameters. `alone`: it changes
    the run for every target (a refused key is set aside for the run), so it runs alone."""

    behaviour: str
    params: Mapping[str, Any] = MappingProxyType({})
    alone: bool = False


class Expect(NamedTuple):
    """The statuses the faulted adapter may give, and the error type it must give (if any)."""

    statuses: frozenset[str]
    error: str | None = None


def error(type_: str) -> Expect:
    return Expect(frozenset({"error"}), type_)


HANG = frozenset({"timeout", "cancelled"})
OK = Expect(frozenset({"ok"}))
EMPTY = Expect(frozenset({"empty"}))
HUNG = Expect(HANG)

HTTP_FAULTS: dict[str, Fault] = {
    "slow": Fault("slow", {"delay_s": 0.5}),
    "hang": Fault("hang"),
    "reset": Fault("reset"),
    "rate-limit-once": Fault("rate_limit", {"times": 1}),
    "rate-limit-retry-after": Fault("rate_limit", {"retry_after": 1, "times": 1}),
    "rate-limit-forever": Fault("rate_limit", {"retry_after": 3600}),
    "server-error": Fault("server_error"),
    "malformed": Fault("malformed"),
    "wrong-shape": Fault("wrong_shape"),
    "not-found": Fault("not_found"),
    "unauthorized": Fault("unauthorized", alone=True),
    "endless": Fault("endless"),
    "redirect": Fault("redirect"),
    "gzip-bomb": Fault("bomb", {"layers": 1}),
    "stacked-bomb": Fault("bomb", {"layers": 2}),
    "brotli-unasked": Fault("bomb", {"layers": 1, "encoding": "br"}),
    "deep-json": Fault("deep"),
}
"""Fault name -> the behaviour that makes it, on any HTTP service."""

DIRECT: dict[str, Expect] = {
    "slow": OK,
    "hang": HUNG,
    "reset": error("network"),
    "rate-limit-once": OK,
    "rate-limit-retry-after": OK,
    "rate-limit-forever": error("rate_limited"),
    "server-error": error("http"),
    "malformed": error("parse"),
    "wrong-shape": error("parse"),
    "not-found": EMPTY,
    "unauthorized": error("auth"),
    "endless": error("too_large"),
    "redirect": error("redirect"),  # the request carries a key: refused, the trap sees nothing
    "gzip-bomb": error("too_large"),  # counted while it is decoded, in 64 KiB steps
    "stacked-bomb": error("parse"),  # stacked encodings are refused before any decoding
    "brotli-unasked": error("parse"),  # only what is advertised is decoded
    "deep-json": error("parse"),
}
"""What an adapter with no fallback source makes of each generic fault."""

FOLLOWED: dict[str, Expect] = {"redirect": error("parse")}
"""For a service asked without a key: the redirect is followed, and the trap's answer is not
the upstream's."""


@dataclass(frozen=True)
class Matrix:
    """How the fault matrix tries one service. The defaults: the generic HTTP faults, DIRECT
    expectations, one plan per kind of target the service answers for, with the keys."""

    faults: Mapping[str, Fault] | None = None
    """The service's own faults (non-HTTP services); None: HTTP_FAULTS."""
    expect: Mapping[str, Expect] = field(default_factory=dict)
    """Where the adapter differs from DIRECT; with own `faults`, an expectation for each."""
    kinds: frozenset[TargetKind] | None = None
    """Kinds of target to plan for; None: every kind the service answers for."""
    keys: bool = True
    """Run with the world's keys (False: the adapter asks this service only without one)."""
    before: tuple[str, Fault] | None = None
    """A fault on another service first, for the same target (a primary source failing, so
    that this fallback is asked)."""
    source: Mapping[str, str] = field(default_factory=dict)
    """Fault -> the service that must have answered (data.source), where a fallback may."""
    skip: str = ""
    """Why the matrix has no plan for this service (it is not asked in the world's config)."""

    def plan_faults(self, generic: Mapping[str, Fault] | None) -> dict[str, tuple[Fault, Expect]]:
        """Each fault with its expectation; `generic` are the server's generic faults (None:
        it has none). Raises ValueError for a declaration that names an unknown fault."""
        if self.faults is not None:
            faults, base = dict(self.faults), {}
        elif generic is not None:
            faults, base = dict(generic), DIRECT
        else:
            raise ValueError("this server has no generic faults: declare Matrix(faults=..., expect=...)")
        for what, names in (("expect", self.expect), ("source", self.source)):
            unknown = sorted(set(names) - set(faults))
            if unknown:
                raise ValueError(f"{what} names unknown faults {unknown} (known: {', '.join(faults)})")
        expect = {**base, **self.expect}
        missing = [name for name in faults if name not in expect]
        if missing:
            raise ValueError(f"no expectation for the faults {missing}")
        return {name: (fault, expect[name]) for name, fault in faults.items()}
