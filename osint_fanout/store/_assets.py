"""Assets in the store: what each recorded result found (its provenance is that result: the
adapter, the target and the time) and how a pivot came to a result, read back as the
stored attack surface of a seed, an AssetGraph (what `assets`, `report` and `export` read).
They are found in the run's process (_findings.py) and written by the writer (_found.py).

Observations are appended with their result, like the results themselves; first and last seen
are the earliest and latest results that found an asset, so nothing is ever updated in place.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import select

from ..assets import (
    Asset,
    AssetGraph,
    AssetRef,
    AssetType,
    Relation,
    RelationKind,
    Seen,
    StoredAsset,
    StoredRelation,
)
from ._tables import found_assets, found_relations, result_origins, results

if TYPE_CHECKING:
    from ._db import Store

__all__ = ["load_graph"]

# -- reading ----------------------------------------------------------------------------


def load_graph(store: Store, seed: str, *, since: datetime | None = None) -> AssetGraph:
    """The stored attack surface of `seed`: what the seed's own results found, and what the
    results pivoted from it (found_by.seed) found; each asset and relation with its first and
    last seen and provenance (one Seen per adapter and target, the latest), `since`: only
    what was seen at or after it. An asset that was itself asked about has the least depth
    it was asked at (0 for the seed)."""
    origin = result_origins.c
    picked = select(
        results.c.id, results.c.target, results.c.adapter, results.c.recorded_at, sa.func.coalesce(origin.depth, 0)
    ).select_from(results.outerjoin(result_origins, origin.result_id == results.c.id))
    picked = picked.where(sa.or_(origin.seed == seed, sa.and_(results.c.target == seed, origin.result_id.is_(None))))
    if since is not None:
        picked = picked.where(results.c.recorded_at >= since)
    with store._read() as conn:
        asked = {row[0]: (row[1], row[2], row[3], int(row[4])) for row in conn.execute(picked)}
        ids = list(asked)
        asset_rows, relation_rows = [], []
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            asset_rows += conn.execute(
                select(found_assets).where(found_assets.c.result_id.in_(chunk)).order_by(found_assets.c.id)
            ).all()
            relation_rows += conn.execute(
                select(found_relations).where(found_relations.c.result_id.in_(chunk)).order_by(found_relations.c.id)
            ).all()
    depth: dict[str, int] = {}
    for target, _adapter, _at, level in asked.values():
        depth[target] = min(level, depth.get(target, level))
    graph = AssetGraph(seed)
    assets: dict[AssetRef, StoredAsset] = {}
    for row in asset_rows:
        target, adapter, at, _ = asked[row.result_id]
        ref = _ref(row.type, row.value)
        if ref is None:
            continue
        attrs = json.loads(row.attrs) if row.attrs else {}
        known = assets.get(ref)
        if known is None:
            level = depth.get(ref.value) if ref.type in _TARGETS else None
            assets[ref] = StoredAsset(Asset(ref, attrs), at, at, [Seen(adapter, target, at)], level)
            continue
        if at >= known.last_seen:  # the latest observation's attributes win
            known.asset = Asset(ref, {**known.asset.attrs, **attrs})
        _observe(known, Seen(adapter, target, at))
    relations: dict[Relation, StoredRelation] = {}
    for row in relation_rows:
        target, adapter, at, _ = asked[row.result_id]
        made = _relation(row)
        if made is None:
            continue
        kept = relations.get(made)
        if kept is None:
            relations[made] = StoredRelation(made, at, at, [Seen(adapter, target, at)])
        else:
            _observe(kept, Seen(adapter, target, at))
    graph.assets = sorted(assets.values(), key=lambda stored: stored.ref)
    graph.relations = sorted(relations.values(), key=lambda stored: stored.relation)
    return graph


_TARGETS = frozenset({AssetType.DOMAIN, AssetType.IPV4, AssetType.IPV6})


def _observe(stored: StoredAsset | StoredRelation, seen: Seen) -> None:
    stored.first_seen = min(stored.first_seen, seen.at)
    stored.last_seen = max(stored.last_seen, seen.at)
    kept = [old for old in stored.found_by if (old.adapter, old.target) != (seen.adapter, seen.target)]
    latest = max([seen, *(old for old in stored.found_by if (old.adapter, old.target) == (seen.adapter, seen.target))])
    stored.found_by = sorted([*kept, latest], key=lambda s: (s.adapter, s.target))


def _ref(kind: str, value: str) -> AssetRef | None:
    """A stored asset's ref; None for a type this version does not know (a newer writer)."""
    try:
        return AssetRef(AssetType(kind), value)
    except ValueError:
        return None


def _relation(row: Any) -> Relation | None:
    source, target = _ref(row.source_type, row.source_value), _ref(row.target_type, row.target_value)
    try:
        kind = RelationKind(row.kind)
    except ValueError:
        return None
    return Relation(source, kind, target) if source is not None and target is not None else None
