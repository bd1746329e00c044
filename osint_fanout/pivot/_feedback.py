"""The pivot: a feedback edge from the results back into the engine's target stream.

Results -> assets (each adapter's own `assets()`) -> scope -> the same bounded target stream
the engine reads. The queues, quotas, --max-time, the store and the sinks stay as they are:
the pivot only adds targets, each once in the run, with the depth and the finding that led
to it, and counts everything it found but did not follow, by reason.

`Pivot` is a sink (it sees every result and report, on the event loop's thread) and the
source of the engine's targets (`stream`): the seeds, then what their results lead to.
The stream ends when the seeds are read, every target taken up has its report, and no
found target is waiting for a decision.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from .._adapter import Adapter
from .._output import Sink
from .._results import FoundBy, Report, Result, Status
from .._targets import Target, TargetKind, parse_target
from ..assets import AssetRef, AssetType, Findings, Relation, RelationKind
from ._scope import Reason, Scope
from ._wildcard import ANSWERS, Answer, Wildcards

__all__ = ["Pivot", "PivotOptions"]

log = logging.getLogger("osint_fanout.pivot")

TARGET_TYPES = frozenset({AssetType.DOMAIN, AssetType.IPV4, AssetType.IPV6})
FOUND_WITH = "found-with"
"""found_by.relation when the adapter named the asset without relating it to anything."""


@dataclass(frozen=True)
class PivotOptions:
    depth: int
    scope: tuple[str, ...] = ()
    follow_ips: bool = True
    exclude: tuple[str, ...] = ()
    max_targets: int = 250


@dataclass(frozen=True)
class _Lead:
    """A found name or address, waiting for a decision."""

    ref: AssetRef
    depth: int
    """The depth it would be investigated at."""
    via: tuple[str, str, str, str]
    """(seed, parent target, adapter, relation): its FoundBy, made when it is followed."""
    resolvers: tuple[str, ...] = ()
    """Names that resolve to it (addresses), in the finding."""
    answer: Answer = frozenset()
    """What it resolves to, when the finding says (names)."""


class Pivot(Sink):
    def __init__(
        self, options: PivotOptions, adapters: Mapping[str, Adapter[Any]], *, wildcards: Wildcards | None
    ) -> None:
        self.options = options
        self.scope = Scope(extra=options.scope, follow_ips=options.follow_ips, exclude=options.exclude)
        self.wildcards = wildcards
        self._adapters = adapters
        self._origin: dict[str, tuple[int, FoundBy | None]] = {}
        """Every target of the run (seeds and followed), with its depth and finding."""
        self._declined: dict[str, Reason] = {}
        self._leads: deque[_Lead] = deque()
        self._ready: deque[Target] = deque()
        self._checking: set[str] = set()
        self._open = 0
        """Targets given to the engine whose report has not come yet."""
        self._assets: set[AssetRef] = set()
        self.assets_by_type: Counter[str] = Counter()
        self._wake: asyncio.Event | None = None
        self._thread: int | None = None
        self._lock = threading.RLock()
        self._broken: set[str] = set()

    # --- what the engine asks -------------------------------------------------------------

    def origin(self, target: Target) -> tuple[int, FoundBy | None]:
        """The depth and finding of a target of the run ((0, None) for a seed)."""
        return self._origin.get(target.value, (0, None))

    async def stream(self, seeds: AsyncIterable[Target]) -> AsyncIterator[Target]:
        """The seeds (each once), and the targets their results lead to, as they are decided."""
        self._thread, self._wake = threading.get_ident(), asyncio.Event()
        source: AsyncIterator[Target] | None = aiter(seeds)
        checks: set[asyncio.Task[None]] = set()
        try:
            while True:
                while self._leads:
                    lead = self._leads.popleft()
                    parent = self._decide(lead)
                    if parent is not None:
                        self._checking.add(lead.ref.value)
                        task = asyncio.ensure_future(self._check(lead, parent))
                        checks.add(task)
                        task.add_done_callback(checks.discard)
                if self._ready:  # what was found first: it is in memory already
                    self._open += 1
                    yield self._ready.popleft()
                    continue
                if source is not None:
                    try:
                        seed = await anext(source)
                    except StopAsyncIteration:
                        source = None
                        continue
                    if self._take_seed(seed):
                        self._open += 1
                        yield seed
                    continue
                if not (self._open or self._checking or self._leads):
                    return
                self._wake.clear()
                await self._wake.wait()
        finally:
            for task in checks:
                task.cancel()
            if self.wildcards is not None:
                self.wildcards.close()

    # --- what the sinks see -----------------------------------------------------------------

    def result(self, result: Result) -> None:
        if result.status is not Status.OK or result.data is None or threading.get_ident() != self._thread:
            return  # (off the loop's thread only in an emergency stop: nothing more is followed)
        adapter = self._adapters.get(result.adapter)
        try:  # a bug in a plugin's assets() costs its findings, not the run
            findings = adapter.assets(result.target, result.data) if adapter is not None else None
            if findings is not None and not isinstance(findings, Findings):
                raise TypeError(f"assets() returned {type(findings).__name__}, not Findings or None")
            if findings:
                with self._lock:
                    self._found(result, findings)
        except Exception as exc:
            self._failed(result, exc)
        self._poke()

    def report(self, report: Report) -> None:
        if threading.get_ident() != self._thread:
            return
        self._open -= 1
        self._poke()

    def finish(self) -> None:
        """Whatever was waiting when the run ended (--max-time, a signal) was not followed for time."""
        with self._lock:
            for target in self._ready:  # decided, never taken up
                self._origin.pop(target.value, None)
            waiting = [target.value for target in self._ready]
            waiting += [lead.ref.value for lead in self._leads] + list(self._checking)
            for value in waiting:
                if value not in self._origin:
                    self._declined.setdefault(value, Reason.TIME)
            self._ready.clear()
            self._leads.clear()

    def summary(self) -> dict[str, Any]:
        """The pivot's part of the run summary."""
        with self._lock:
            depths = Counter(depth for depth, _ in self._origin.values())
            return {
                "depth": self.options.depth,
                "targets_by_depth": {str(depth): depths[depth] for depth in sorted(depths)},
                "assets_by_type": dict(sorted(self.assets_by_type.items())),
                "followed": sum(n for depth, n in depths.items() if depth > 0),
                "not_followed": {reason.value: n for reason, n in sorted(Counter(self._declined.values()).items())},
                "wildcards": dict(sorted(self.wildcards.found.items())) if self.wildcards else {},
                "wildcard_detection": self.wildcards is not None,
            }

    # --- inside -------------------------------------------------------------------------------

    def _failed(self, result: Result, exc: Exception) -> None:
        """Said once per adapter (at -v, each time): a broken plugin must not flood stderr."""
        how = log.debug if result.adapter in self._broken else log.warning
        self._broken.add(result.adapter)
        how("%s: assets() failed on %s: %s: %s", result.adapter, result.target.value, type(exc).__name__, exc)

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _take_seed(self, seed: Target) -> bool:
        if seed.value in self._origin:
            return False  # each target once in a pivoted run
        self._origin[seed.value] = (0, None)
        self._declined.pop(seed.value, None)
        self.scope.add_seed(seed)
        return True

    def _found(self, result: Result, findings: Findings) -> None:
        depth, found = self.origin(result.target)
        seed = found.seed if found else result.target.value
        own = Findings.target_ref(result.target)
        assets = findings.assets
        for asset in assets:
            if asset.ref not in self._assets:
                self._assets.add(asset.ref)
                self.assets_by_type[asset.type.value] += 1
        touching: dict[AssetRef, list[Relation]] = defaultdict(list)  # (one pass: a result may name thousands)
        for relation in findings.relations:
            touching[relation.source].append(relation)
            touching[relation.target].append(relation)
        names: list[_Lead] = []
        addresses: list[_Lead] = []
        for asset in assets:
            if asset.type not in TARGET_TYPES or asset.ref == own or asset.value in self._origin:
                continue  # (a target of the run already: nothing to decide)
            mine = touching.get(asset.ref, [])
            via = (seed, result.target.value, result.adapter, _relation(own, mine))
            if asset.type is AssetType.DOMAIN:
                answer = frozenset(
                    f"{r.kind}:{r.target.value}" for r in mine if r.source == asset.ref and r.kind in ANSWERS
                )
                names.append(_Lead(asset.ref, depth + 1, via, answer=answer))
            else:
                resolvers = tuple(
                    r.source.value for r in mine if r.kind == RelationKind.RESOLVES_TO and r.target == asset.ref
                )
                addresses.append(_Lead(asset.ref, depth + 1, via, resolvers=resolvers))
        self._leads.extend(names + addresses)  # names first: an address needs a followed name

    def _decide(self, lead: _Lead) -> str | None:
        """Decide at once when it can; the parent to check for a wildcard when it cannot."""
        value = lead.ref.value
        if value in self._origin or value in self._checking:
            return None  # once per run
        if lead.ref.type is AssetType.DOMAIN:
            reason, why = self.scope.name(value)
        else:
            resolver = next((name for name in lead.resolvers if name in self._origin), None)
            reason, why = self.scope.address(resolver)
        if reason is None and lead.depth > self.options.depth:
            reason, why = Reason.DEPTH, f"found at depth {lead.depth - 1}, the last (--depth {self.options.depth})"
        if reason is not None:
            self._decline(value, reason, why)
            return None
        parent = self.scope.parent_in_scope(value) if lead.ref.type is AssetType.DOMAIN else None
        if parent is not None and self.wildcards is not None and not self.wildcards.settled(parent):
            return parent
        self._follow(lead, why)
        return None

    async def _check(self, lead: _Lead, parent: str) -> None:
        assert self.wildcards is not None
        try:
            made_up = await self.wildcards.made_up(lead.ref.value, parent, lead.answer)
            with self._lock:
                if made_up:
                    self._decline(lead.ref.value, Reason.WILDCARD, f"only the wildcard *.{parent} answers for it")
                else:
                    self._follow(lead, f"under {parent}, with records of its own")
        finally:
            self._checking.discard(lead.ref.value)
            self._poke()

    def _follow(self, lead: _Lead, why: str) -> None:
        value = lead.ref.value
        if value in self._origin:
            return
        if len(self._origin) >= self.options.max_targets:
            self._decline(value, Reason.MAX_TARGETS, f"the run has {self.options.max_targets} targets (--max-targets)")
            return
        seed, parent, adapter, relation = lead.via
        self._origin[value] = (lead.depth, FoundBy(seed=seed, target=parent, adapter=adapter, relation=relation))
        self._declined.pop(value, None)
        self._ready.append(_target(lead.ref))
        log.info("following %s at depth %d: %s", value, lead.depth, why)

    def _decline(self, value: str, reason: Reason, why: str) -> None:
        if value not in self._declined:
            self._declined[value] = reason
            log.debug("not following %s: %s (%s)", value, reason, why)


def _target(ref: AssetRef) -> Target:
    """The target an asset is (its value is canonical already: parsed again only for IDN)."""
    if ref.type is AssetType.DOMAIN:
        return (
            parse_target(ref.value)
            if "xn--" in ref.value
            else Target(input=ref.value, value=ref.value, kind=TargetKind.DOMAIN)
        )
    kind = TargetKind.IPV4 if ref.type is AssetType.IPV4 else TargetKind.IPV6
    return Target(input=ref.value, value=ref.value, kind=kind)


def _relation(own: AssetRef, touching: list[Relation]) -> str:
    """How an asset relates to the target it was found with (else to anything found);
    `touching`: its relations."""
    direct = [r for r in touching if own in (r.source, r.target)]
    chosen = (direct or touching or [None])[0]
    return str(chosen.kind) if chosen is not None else FOUND_WITH
