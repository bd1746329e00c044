"""Wiring a pivot into a search: the Pivot for a plan, and --dry-scope's plan on paper."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .._adapter import Adapter
from .._targets import Target, TargetKind
from ._feedback import Pivot, PivotOptions
from ._scope import registered_domain
from ._wildcard import Wildcards, adapter_resolver

if TYPE_CHECKING:
    from .._http import HttpPool
    from .._plan import ReadyAdapter

__all__ = ["make_pivot", "scope_plan"]


def _resolver(adapters: Sequence[ReadyAdapter]) -> ReadyAdapter | None:
    """The adapter of the run that the wildcard check asks (see _wildcard.py)."""
    return next((ready for ready in adapters if ready.adapter.resolves), None)


def make_pivot(
    options: PivotOptions, adapters: Sequence[ReadyAdapter], pool: HttpPool, *, stop_at: float | None
) -> Pivot:
    """The run's pivot; ScopeError for a --scope or --exclude-pattern it cannot use.
    The Public Suffix List is parsed now, before the run: 0.2 s of CPU (more on a busy
    machine) that would otherwise stop the event loop when the first seed is read."""
    registered_domain("example.com")
    resolver = _resolver(adapters)
    wildcards = None
    if resolver is not None:
        wildcards = Wildcards(adapter_resolver(resolver, pool, until=lambda: stop_at))
    return Pivot(options, {ready.name: ready.adapter for ready in adapters}, wildcards=wildcards)


def _declares_assets(adapter: Adapter[object]) -> bool:
    return type(adapter).assets is not Adapter.assets


def scope_plan(
    options: PivotOptions, seeds: Sequence[Target], adapters: Sequence[ReadyAdapter], *, more: Callable[[], int]
) -> list[str]:
    """What a pivoted run would follow and why, without asking anything (--dry-scope).
    `more`: how many seeds beyond `seeds` the inputs hold (shown, not listed)."""
    pivot = Pivot(options, {}, wildcards=None)  # ScopeError here, as in a real run
    for seed in seeds:
        pivot.scope.add_seed(seed)
    lines = ["pivot plan (--dry-scope: nothing was asked)"]
    shown = ", ".join(seed.value for seed in seeds[:20]) + (f" and {len(seeds) - 20} more" if len(seeds) > 20 else "")
    extra = more()
    lines.append(f"  seeds: {shown or 'none'}" + (f" (and {extra} more in the inputs)" if extra else ""))
    for seed in seeds[:20]:
        if seed.kind is TargetKind.DOMAIN:
            lines.append(f"    {seed.value}: registered domain {registered_domain(seed.value)}")
        else:
            lines.append(f"    {seed.value}: an address (its names are followed only under --scope)")
    depth = options.depth
    lines.append(
        f"  depth: {depth} (found at depth 0..{depth - 1}: followed; found at depth {depth}: counted, not followed)"
        if depth
        else "  depth: 0 (nothing is followed)"
    )
    domains = ", ".join(f"{domain} ({why})" for domain, why in pivot.scope.domains.items()) or "none"
    lines.append(f"  names followed: {domains}, and every name under them")
    if pivot.scope.exclude:
        lines.append(f"  names left out: {', '.join(pivot.scope.exclude)} (--exclude-pattern)")
    lines.append(
        "  addresses followed: those a followed name resolves to"
        if options.follow_ips
        else "  addresses followed: none (--no-follow-ips)"
    )
    resolver = _resolver(adapters)
    lines.append(
        f"  wildcards: detected with the {resolver.name} adapter (a random label under each parent)"
        if resolver
        else "  wildcards: not detected (no adapter of the run resolves names, e.g. dns)"
    )
    lines.append(f"  max targets: {options.max_targets} (seeds included; more found are counted as max-targets)")
    finders = [ready.name for ready in adapters if _declares_assets(ready.adapter)]
    quiet = [ready.name for ready in adapters if not _declares_assets(ready.adapter)]
    lines.append(f"  adapters that find assets: {', '.join(finders) or 'none'}")
    if quiet:
        lines.append(f"  adapters that find none (asked, never followed from): {', '.join(quiet)}")
    return lines
