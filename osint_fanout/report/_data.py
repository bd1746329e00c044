"""The report's data: stored graphs (and the store's change events) as the JSON the page
reads. A pure function: the same graphs, events and clock give the same bytes."""

from __future__ import annotations

import json
import math
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from .._targets import InvalidTarget, parse_target
from ..assets import Asset, AssetGraph, AssetRef, AssetType, Findings, Seen, StoredAsset, StoredRelation
from ._risk import flags, severity

__all__ = ["MAX_EVENTS", "complete", "merge", "page_data", "script_json"]

MAX_EVENTS = 5000
"""The timeline keeps the newest events; older ones are counted, not listed."""


def merge(graphs: Sequence[AssetGraph]) -> AssetGraph:
    """One graph of several seeds' graphs: an asset or relation stored under two seeds is
    one, seen from the first of its first_seen to the last of its last_seen, found by both."""
    if len(graphs) == 1:
        return graphs[0]
    assets: dict[AssetRef, StoredAsset] = {}
    relations: dict[Any, StoredRelation] = {}
    for graph in graphs:
        for item in graph.assets:
            known = assets.get(item.ref)
            if known is None:
                assets[item.ref] = StoredAsset(
                    item.asset, item.first_seen, item.last_seen, list(item.found_by), item.depth
                )
                continue
            _widen(known, item)
            depths = [depth for depth in (known.depth, item.depth) if depth is not None]
            known.depth = min(depths) if depths else None
        for stored in graph.relations:
            seen = relations.get(stored.relation)
            if seen is None:
                relations[stored.relation] = StoredRelation(
                    stored.relation, stored.first_seen, stored.last_seen, list(stored.found_by)
                )
                continue
            _widen(seen, stored)
    return AssetGraph(", ".join(graph.seed for graph in graphs), list(assets.values()), list(relations.values()))


def complete(graph: AssetGraph) -> AssetGraph:
    """The graph with an asset for each relation end it lacks (seen when the relation was),
    so that every edge has its two nodes whatever the store gave back."""
    known = {item.ref for item in graph.assets}
    missing: dict[AssetRef, StoredAsset] = {}
    for stored in graph.relations:
        for ref in (stored.relation.source, stored.relation.target):
            if ref in known:
                continue
            if ref in missing:
                _widen(missing[ref], stored)
            else:
                missing[ref] = StoredAsset(Asset(ref), stored.first_seen, stored.last_seen, list(stored.found_by))
    if not missing:
        return graph
    return AssetGraph(graph.seed, [*graph.assets, *missing.values()], list(graph.relations))


def _widen(known: StoredAsset | StoredRelation, other: StoredAsset | StoredRelation) -> None:
    known.first_seen, known.last_seen = min(known.first_seen, other.first_seen), max(known.last_seen, other.last_seen)
    known.found_by = sorted(set(known.found_by) | set(other.found_by))


def page_data(
    graph: AssetGraph, seeds: Sequence[str], events: Iterable[Mapping[str, Any]], *, now: datetime
) -> dict[str, Any]:
    """What the page shows: nodes, edges, the timeline, and how it was made."""
    graph = complete(graph)
    rings = _rings(graph, seeds)
    order = {ref: index for index, ref in enumerate(rings)}
    outer = max(rings.values(), default=0) + 1
    followed = {item.ref.value: item.depth for item in graph.assets if item.depth is not None}
    nodes = []
    ordered = sorted(graph.assets, key=lambda stored: stored.ref)
    danger_of = {item.ref: flags(item.ref.type, item.asset.attrs, now) for item in ordered}
    _exposed(graph, danger_of)
    for item in ordered:
        found = danger_of[item.ref]
        nodes.append(
            {
                "id": str(item.ref),
                "type": str(item.ref.type),
                "value": item.ref.value,
                "depth": item.depth,
                "level": _level(item, followed, rings.get(item.ref, outer)),
                "ring": rings.get(item.ref, outer),
                "order": order.get(item.ref, len(order)),
                "first_seen": _when(item.first_seen),
                "last_seen": _when(item.last_seen),
                "found_by": [_seen(seen) for seen in item.found_by],
                "attrs": _clean(dict(item.asset.attrs)),
                "flags": [{"code": code, "severity": level, "text": text} for code, level, text in found],
                "severity": severity(found),
            }
        )
    edges = [
        {
            "id": f"{relation.source}|{relation.kind}|{relation.target}",
            "source": str(relation.source),
            "target": str(relation.target),
            "kind": str(relation.kind),
            "first_seen": _when(stored.first_seen),
            "last_seen": _when(stored.last_seen),
            "found_by": [_seen(seen) for seen in stored.found_by],
        }
        for stored in sorted(graph.relations, key=lambda stored: stored.relation)
        for relation in (stored.relation,)
    ]
    listed = sorted((_clean(dict(event)) for event in events), key=_event_time, reverse=True)
    return {
        "seeds": list(seeds),
        "generated_at": _when(now),
        "types": [str(kind) for kind in AssetType],
        "nodes": nodes,
        "edges": edges,
        "events": listed[:MAX_EVENTS],
        "events_omitted": max(len(listed) - MAX_EVENTS, 0),
    }


def script_json(data: Any) -> str:
    """JSON that is safe inside an HTML <script type="application/json"> element: no `<`,
    `>` or `&` (so no `</script>` or `<!--`), no U+2028/2029; JSON.parse reads it back
    unchanged. Those characters only occur inside JSON strings, where escapes mean the same."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char in "&<>\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def _rings(graph: AssetGraph, seeds: Sequence[str]) -> dict[AssetRef, int]:
    """Hops from the nearest seed, relations read both ways: the concentric layout's rings
    (seed, its names, their addresses, their networks...)."""
    neighbours: dict[AssetRef, list[AssetRef]] = {}
    for stored in graph.relations:
        source, target = stored.relation.source, stored.relation.target
        neighbours.setdefault(source, []).append(target)
        neighbours.setdefault(target, []).append(source)
    starts = [ref for ref in (_seed_ref(seed) for seed in seeds) if ref is not None]
    starts += [item.ref for item in graph.assets if item.depth == 0 and item.ref not in starts]
    rings = dict.fromkeys(starts, 0)
    queue = deque(starts)
    while queue:
        ref = queue.popleft()
        for other in neighbours.get(ref, ()):
            if other not in rings:
                rings[other] = rings[ref] + 1
                queue.append(other)
    return rings


def _level(item: StoredAsset, followed: Mapping[str, int], ring: int) -> int:
    """The depth filter's level: the pivot depth it was followed at, else one more than the
    shallowest target whose lookup found it, else its hops from the seed."""
    if item.depth is not None:
        return item.depth
    parents = [followed[seen.target] for seen in item.found_by if seen.target in followed]
    return min(parents) + 1 if parents else ring


def _exposed(graph: AssetGraph, danger_of: dict[AssetRef, list[Any]]) -> None:
    """An address with a risky service is flagged too: the host is what a person acts on."""
    for stored in graph.relations:
        relation = stored.relation
        if relation.kind != "has-service":
            continue
        for code, level, text in list(danger_of.get(relation.target, ())):
            if code == "risky-service" and relation.source in danger_of:
                danger_of[relation.source] = sorted(
                    {*danger_of[relation.source], ("risky-service", level, text)}, key=lambda flag: -flag[1]
                )


def _seed_ref(seed: str) -> AssetRef | None:
    try:
        return Findings.target_ref(parse_target(seed))
    except InvalidTarget:
        return None


def _seen(seen: Seen) -> dict[str, str]:
    return {"adapter": seen.adapter, "target": seen.target, "at": _when(seen.at)}


def _when(moment: datetime) -> str:
    """RFC 3339 to the second (the store keeps microseconds; the page does not need them)."""
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _event_time(event: Mapping[str, Any]) -> str:
    return str(event.get("after_at") or event.get("at") or "")


def _clean(value: Any) -> Any:
    """JSON-able data: non-finite floats become null, datetimes text, other objects their str
    (an upstream's NaN must not make the page's JSON.parse fail)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, datetime):
        return _when(value)
    if isinstance(value, Mapping):
        return {str(key): _clean(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_clean(item) for item in value]
    return str(value)
