"""Typed assets and relations (the vocabulary every adapter's `assets()` speaks), and the
stored graph that `report` and `export` read."""

from ._graph import AssetGraph, Seen, StoredAsset, StoredRelation
from ._model import Asset, AssetRef, AssetType, Findings, Relation, RelationKind, canonical, ip_type
from ._source import FindingsFn, findings_from

__all__ = [
    "Asset",
    "AssetGraph",
    "AssetRef",
    "AssetType",
    "Findings",
    "FindingsFn",
    "Relation",
    "RelationKind",
    "Seen",
    "StoredAsset",
    "StoredRelation",
    "canonical",
    "findings_from",
    "ip_type",
]
