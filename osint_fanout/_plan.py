"""The plan of a run: file, environment and flags resolved once into one immutable record
(the adapters with every setting in force, concurrency, deadline, --max-time, the output
format, the store). Everything after this step reads the plan, never the three sources."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from ._adapter import Adapter, AdapterOptions
from ._http import HttpPolicy
from ._plugins import Registry
from ._quota import Quota
from ._ratelimit import RateLimit
from ._settings import ConfigError, RunSettings, Settings

__all__ = ["Flags", "Plan", "ReadyAdapter", "late_turns", "make_plan", "ready", "ready_adapters"]

T = TypeVar("T")


@dataclass(frozen=True)
class Flags:
    """What the command line says; None means "not given"."""

    concurrency: int | None = None
    timeout_s: float | None = None
    deadline_s: float | None = None
    max_time_s: float | None = None
    only: list[str] | None = None
    exclude: list[str] | None = None
    output_format: str | None = None
    output: Path | None = None
    store: str | None = None
    no_store: bool = False
    shard: tuple[int, int] | None = None
    """(index, of): this machine's share of the targets, index from 0."""
    shard_limits: str = "divide"
    """divide: rate limits and quotas are shared by the shards (one key); full: each its own."""
    changes: bool = False
    """--changes: print the change events against the stored results, not the results."""
    max_age_s: float | None = None
    """--max-age: reuse stored ok/empty results younger than this, for every adapter."""


@dataclass(frozen=True)
class ReadyAdapter:
    """An adapter instance with every setting resolved."""

    adapter: Adapter[Any]
    timeout_s: float
    http: HttpPolicy
    max_age_s: float | None = None
    """Reuse a stored ok/empty result younger than this instead of asking (None: always ask)."""

    @property
    def name(self) -> str:
        return self.adapter.name


@dataclass(frozen=True)
class Plan:
    adapters: tuple[ReadyAdapter, ...]
    concurrency: int
    max_queued: int
    deadline_s: float
    max_time_s: float | None
    output_format: str
    """table, json or ndjson."""
    store_url: str | None
    """None: the store is off."""
    store_keep_s: float | None
    config_path: Path | None
    store_commit_timeout_s: float = 30.0
    """How long the end of the run waits for the store to commit ([store] commit_timeout_s)."""
    shard: tuple[int, int] | None = None
    changes: bool = False
    """Print change events (ndjson) instead of the results; needs the store."""


def make_plan(
    settings: Settings,
    registry: Registry,
    flags: Flags,
    *,
    stdout_is_terminal: bool,
    env: Mapping[str, str] = os.environ,
) -> Plan:
    """Flags beat the environment, which beats the file, which beats the defaults."""
    from .store import StoreUrlError, choose_url

    try:
        store_url = choose_url(
            flags.store,
            no_store=flags.no_store,
            configured=settings.store.url,
            enabled=settings.store.enabled,
            env=env,
        )
    except StoreUrlError as exc:
        raise ConfigError(str(exc)) from None
    table = stdout_is_terminal and flags.output is None
    adapters = ready_adapters(settings, registry, flags)
    _check_store_flags(flags, store_on=store_url is not None)
    if store_url is None:  # a configured max_age has nothing to reuse while the store is off
        adapters = [replace(ready, max_age_s=None) for ready in adapters]
    return Plan(
        adapters=tuple(adapters),
        concurrency=flags.concurrency or settings.run.concurrency,
        max_queued=settings.run.max_queued,
        deadline_s=flags.deadline_s or settings.run.deadline_s,
        max_time_s=flags.max_time_s,
        output_format="ndjson" if flags.changes else flags.output_format or ("table" if table else "json"),
        store_url=store_url,
        store_keep_s=settings.store.keep_s,
        store_commit_timeout_s=settings.store.commit_timeout_s,
        config_path=settings.path,
        shard=flags.shard,
        changes=flags.changes,
    )


def _check_store_flags(flags: Flags, *, store_on: bool) -> None:
    """--changes and --max-age read the store: refused (one line, exit 2) when it is off.
    --changes writes change events as ndjson, so -f table or json would be a contradiction;
    -f ndjson is accepted (it says what happens anyway)."""
    off = "the store is off (--no-store, or [store] enabled = false)"
    if flags.changes and not store_on:
        raise ConfigError(f"--changes compares with the stored results, but {off}")
    if flags.max_age_s is not None and not store_on:
        raise ConfigError(f"--max-age reuses stored results, but {off}")
    if flags.changes and flags.output_format not in (None, "ndjson"):
        raise ConfigError(f"--changes writes change events as ndjson; drop --format {flags.output_format}")


def ready_adapters(settings: Settings, registry: Registry, flags: Flags) -> list[ReadyAdapter]:
    """The adapters this run uses, in name order, with every setting resolved."""
    for names, flag in ((flags.only, "--adapters"), (flags.exclude, "--exclude")):
        for name in names or []:
            if name not in registry.adapters and (flag == "--adapters" or name not in registry.unloaded):
                known = ", ".join(registry.names()) or "none"
                raise ConfigError(f"{flag}: unknown adapter {name!r} (installed: {known})")
    chosen = []
    for name, cls in registry.adapters.items():
        options = settings.options[name]
        wanted = name in flags.only if flags.only else options.enabled
        if wanted and name not in (flags.exclude or []):
            chosen.append(ready(cls, options, settings.run, flags))
    if not chosen:
        raise ConfigError("no adapter left to run (check --adapters, --exclude and 'enabled' in the config)")
    return chosen


def ready(cls: type[Adapter[Any]], options: AdapterOptions, run: RunSettings, flags: Flags) -> ReadyAdapter:
    """One adapter with its settings in force: its timeout, and the policy of its requests."""
    timeout = flags.timeout_s or options.timeout_s or run.timeout_s or cls.default_timeout_s
    rates = _by_upstream(options.rate_limit, cls.rate_limits, RateLimit.parse)
    quotas = _by_upstream(options.quota, cls.quotas, Quota.parse)
    if flags.shard is not None and flags.shard_limits == "divide":  # N machines, one key: share
        index, shards = flags.shard
        rates = {name: rate and rate.divided(index, shards) for name, rate in rates.items()}
        try:
            quotas = {name: quota and quota.divided(shards) for name, quota in quotas.items()}
        except ValueError as exc:
            raise ConfigError(f"[adapters.{cls.name}] {exc}; use --shard-limits full, or fewer shards") from None
    adapter = cls(options)
    policy = HttpPolicy(
        adapter=cls.name,
        max_body_bytes=options.max_body_bytes or run.max_body_bytes,
        rates=rates,
        quotas=quotas,
        max_concurrency=options.max_concurrency,
        secrets=tuple(adapter.api_keys),
        key_exhausted=cls.key_exhausted,
        allow_plain_http=options.allow_plain_http,
        turn_within_deadline=flags.max_time_s is None,
    )
    max_age = flags.max_age_s or options.max_age_s
    return ReadyAdapter(adapter=adapter, timeout_s=timeout, http=policy, max_age_s=max_age)


def _by_upstream(
    spec: str | dict[str, str] | None, defaults: dict[str, str], parse: Callable[[str], T]
) -> dict[str, T | None]:
    """A rate limit or a quota for each upstream ("*": any other): the option (one for all,
    or a table by upstream), else the adapter's default; "off" is None."""
    found: dict[str, T | None] = {}
    for upstream, default in {**defaults, "*": "off"}.items():
        text = spec if isinstance(spec, str) else (spec or {}).get(upstream, default)
        found[upstream] = None if text == "off" else parse(text)
    return found


def late_turns(plan: Plan, now: float) -> list[str]:
    """What to say at start about upstreams whose first turn on the clock (a shard's slot of
    a rate limit smaller than the shards, see RateLimit.divided) lies beyond the run's time:
    --max-time, else the deadline. `now`: wall-clock seconds."""
    if plan.max_time_s:
        limit_s, what, then = plan.max_time_s, f"--max-time {plan.max_time_s:g} s", "the run stops at --max-time first"
    else:
        limit_s, what, then = plan.deadline_s, f"the {plan.deadline_s:g} s deadline", "its calls end rate_limited"
    said = []
    for ready in plan.adapters:
        for upstream, rate in ready.http.rates.items():
            if upstream == "*" or rate is None or rate.slot is None or (wait := rate.slot_wait(now)) <= limit_s:
                continue  # "*": any upstream the adapter does not name, which it may never ask
            index, shards = rate.slot
            said.append(
                f"{ready.name}/{upstream}: shard {index + 1}/{shards}'s first turn on the clock is in {wait:.0f} s "
                f"({rate.count} per {rate.period_s:g} s shared by {shards} shards), beyond {what}: {then} "
                "(--shard-limits full gives each shard the whole limit)"
            )
    return said
