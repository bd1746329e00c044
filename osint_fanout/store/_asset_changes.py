"""New and gone assets between two looks at one target: a pure function over the adapters'
findings (their `assets()`), no I/O, beside `changes()` over their facts.

An asset is new when a result finds it and no earlier result of the same target (of any
adapter) did; gone when an earlier result found it and no result of this look finds it (the
target itself is never new or gone; a failed lookup is never compared)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Literal

from .._targets import Target, TargetKind
from ..assets import AssetRef, Findings, FindingsFn
from ._changes import COMPARABLE, AssetChange, Observation

__all__ = ["Found", "asset_changes", "asset_event", "found_refs"]


Found = dict[AssetRef, str | None]
"""An observation's assets, each with how it relates to the target (None: not directly)."""


def found_refs(observation: Observation, findings_fn: FindingsFn) -> Found:
    """The assets an ok observation found (none for empty or failed ones), the target's own left out."""
    if observation.status != "ok" or observation.data is None:
        return {}
    kind = getattr(observation, "kind", None)
    if kind is None:
        return {}
    target = Target(input=observation.target, value=observation.target, kind=TargetKind(kind))
    findings = findings_fn(observation.adapter, target, observation.data)
    return _refs(findings, Findings.target_ref(target)) if findings else {}


def _refs(findings: Findings, me: AssetRef) -> Found:
    direct = {}
    for relation in findings.relations:
        if relation.source == me:
            direct.setdefault(relation.target, str(relation.kind))
        elif relation.target == me:
            direct.setdefault(relation.source, str(relation.kind))
    return {asset.ref: direct.get(asset.ref) for asset in findings.assets if asset.ref != me}


def asset_changes(
    pairs: Iterable[tuple[Observation | None, Observation]],
    findings_fn: FindingsFn,
    *,
    known: Mapping[AssetRef, str | None] | None = None,
) -> list[AssetChange]:
    """The new and gone assets of one target, from (previous, current) per adapter (as for
    `target_changes`). `known`: assets found before by adapters not in `pairs` (their
    results of this look are not at hand), which are not new. No earlier result at all: no
    events (the target's `first_seen` says it)."""
    listed = [(before, after) for before, after in pairs if after.status in COMPARABLE]
    compared = [(before, after) for before, after in listed if before is not None and before.status in COMPARABLE]
    if not compared and not known:
        return []
    before_refs: dict[AssetRef, tuple[Observation, Observation, str | None]] = {}
    for before, after in compared:
        for ref, relation in found_refs(before, findings_fn).items():
            before_refs.setdefault(ref, (before, after, relation))
    seen_before = set(before_refs) | set(known or {})
    now: dict[AssetRef, tuple[Observation, str | None]] = {}
    for _, after in listed:
        for ref, relation in found_refs(after, findings_fn).items():
            now.setdefault(ref, (after, relation))
    events = [asset_event("new", ref, *now[ref]) for ref in sorted(set(now) - seen_before)]
    for ref in sorted(set(before_refs) - set(now)):  # said by the result that no longer finds it
        before, after, relation = before_refs[ref]
        events.append(asset_event("gone", ref, before, relation, at=after.recorded_at))
    return events


def asset_event(
    change: Literal["new", "gone"],
    ref: AssetRef,
    where: Observation,
    relation: str | None,
    *,
    at: datetime | None = None,
) -> AssetChange:
    """The event: `ref` is new in (or gone from) what `where` found; `at`: when it was said."""
    return AssetChange(
        target=where.target,
        adapter=where.adapter,
        change=change,
        type=str(ref.type),
        value=ref.value,
        relation=relation,
        after_at=at or where.recorded_at,
    )
