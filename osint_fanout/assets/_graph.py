"""The stored attack surface of a seed, as the store gives it back: assets and relations
with first/last seen and provenance. `report` and `export` are pure functions of it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ._model import Asset, AssetRef, Relation

__all__ = ["AssetGraph", "Seen", "StoredAsset", "StoredRelation"]


@dataclass(frozen=True, slots=True, order=True)
class Seen:
    """Provenance of one observation: which adapter, asked about which target, found it when."""

    adapter: str
    target: str
    at: datetime


@dataclass(slots=True)
class StoredAsset:
    asset: Asset
    first_seen: datetime
    last_seen: datetime
    found_by: list[Seen] = field(default_factory=list)
    depth: int | None = None
    """Pivot depth of the run that followed it as a target (0: a seed); None: found, not followed."""

    @property
    def ref(self) -> AssetRef:
        return self.asset.ref


@dataclass(slots=True)
class StoredRelation:
    relation: Relation
    first_seen: datetime
    last_seen: datetime
    found_by: list[Seen] = field(default_factory=list)


@dataclass(slots=True)
class AssetGraph:
    """Everything stored for one seed (its own assets and those of the targets pivoted from it)."""

    seed: str
    assets: list[StoredAsset] = field(default_factory=list)
    relations: list[StoredRelation] = field(default_factory=list)
