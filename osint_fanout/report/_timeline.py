"""The report's timeline: every change the store has seen for a set of targets, i.e. the
`diff` events between each pair of consecutive ok/empty results of each (target, adapter),
computed with the store's own `changes` (no comparison of our own)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..store import FactsFn, Store, StoredResult

__all__ = ["PER_TARGET", "timeline"]

PER_TARGET = 2000
"""Results read per target (newest first): the timeline of a long-watched target stays bounded."""


def timeline(store: Store, targets: Iterable[str], facts_fn: FactsFn) -> list[dict[str, Any]]:
    """The change events of `targets` as JSON objects (`diff`'s schema), oldest first per
    (target, adapter); the first look at a target is one first_seen."""
    from ..store import COMPARABLE, FirstSeen, changes

    events: list[Any] = []
    for target in dict.fromkeys(targets):
        by_adapter: dict[str, list[StoredResult]] = {}
        for record in store.history(target, limit=PER_TARGET):
            if record.status in COMPARABLE:
                by_adapter.setdefault(record.adapter, []).append(record)
        if not by_adapter:
            continue
        first = min(ranked[-1].recorded_at for ranked in by_adapter.values())
        events.append(FirstSeen(target=target, adapter=None, change="first_seen", after_at=first))
        for ranked in by_adapter.values():
            ranked.reverse()  # oldest first
            if ranked[0].recorded_at > first:  # an adapter added later: its own first_seen
                events.extend(changes(None, ranked[0], facts_fn))
            for before, after in itertools.pairwise(ranked):
                events.extend(changes(before, after, facts_fn))
    return [event.model_dump(mode="json") for event in events]
