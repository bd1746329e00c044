"""What a live result found, as plain JSON rows for the writer: in the run's process, which
has the adapters (the writer, maybe a process of its own, has none). No SQLAlchemy here: the
run's process must not load it (the writer does)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._redact import redact
from ..assets import Asset, Relation
from ._rows import dumps, storable

if TYPE_CHECKING:
    from .._results import Result
    from ..assets import FindingsFn

__all__ = ["found_of"]


def found_of(result: Result, findings_fn: FindingsFn | None) -> dict[str, Any] | None:
    """What a live result found, as plain JSON for its row (FOUND_KEY; None: nothing): its assets and
    relations (only an ok result finds anything) and how a pivot came to it. Values and
    attributes are scrubbed of keys and made storable, as the row's own text is."""
    findings = None
    if findings_fn is not None and result.status.value == "ok" and result.data is not None:
        findings = findings_fn(result.adapter, result.target, result.data)
    by = result.found_by
    if not findings and by is None:
        return None
    origin = None
    if by is not None:
        origin = {"depth": result.depth, "seed": by.seed, "parent": by.target, "adapter": by.adapter}
        origin["relation"] = by.relation
    return {
        "origin": origin,
        "assets": [_asset_row(asset) for asset in findings.assets] if findings else [],
        "relations": [_relation_row(relation) for relation in findings.relations] if findings else [],
    }


def _asset_row(asset: Asset) -> dict[str, Any]:
    attrs = storable(redact(dumps(asset.attrs))) if asset.attrs else None
    return {"type": str(asset.type), "value": storable(redact(asset.value)), "attrs": attrs}


def _relation_row(relation: Relation) -> dict[str, Any]:
    return {
        "source_type": str(relation.source.type),
        "source_value": storable(redact(relation.source.value)),
        "kind": str(relation.kind),
        "target_type": str(relation.target.type),
        "target_value": storable(redact(relation.target.value)),
    }
