"""The graph for graph tools and spreadsheets: GraphML through networkx (Gephi opens it),
CSV through the standard library."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from typing import Any

from ..assets import AssetGraph, Seen

__all__ = ["CSV_COLUMNS", "csv_table", "graphml"]

CSV_COLUMNS = ["type", "value", "first_seen", "last_seen", "depth", "found_by"]

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 cannot hold at all (not even escaped): an upstream string with one
would make the GraphML file unreadable, so they are dropped."""

_FORMULA = ("=", "+", "-", "@", "\t", "\r")
"""Cells a spreadsheet would run as a formula (CSV injection): written with a leading '."""


def graphml(graph: AssetGraph) -> str:
    """GraphML: nodes with type, label (the value), depth, first/last seen, found_by and
    each fact as an attribute (`fact_NAME`); edges with kind, first/last seen, found_by.
    Attribute values are GraphML types: bool, int, float or string (lists and objects as
    JSON text); a fact whose values differ in type between nodes is written as text."""
    import networkx as nx

    nx_graph = nx.MultiDiGraph(name=_xml(f"osint-fanout: {graph.seed}"))
    rows: dict[str, dict[str, Any]] = {}
    for item in sorted(graph.assets, key=lambda asset: asset.ref):
        row: dict[str, Any] = {
            "type": str(item.ref.type),
            "label": item.ref.value,
            "first_seen": item.first_seen.isoformat(),
            "last_seen": item.last_seen.isoformat(),
            "found_by": _found_by(item.found_by),
        }
        if item.depth is not None:
            row["depth"] = item.depth
        row.update({f"fact_{name}": value for name, value in item.asset.attrs.items() if value is not None})
        rows[str(item.ref)] = row
    types = _column_types(rows.values())
    for node, row in rows.items():
        nx_graph.add_node(_xml(node), **{name: _legal(value, types[name]) for name, value in row.items()})
    for stored in sorted(graph.relations, key=lambda relation: relation.relation):
        relation = stored.relation
        nx_graph.add_edge(
            _xml(str(relation.source)),
            _xml(str(relation.target)),
            key=str(relation.kind),
            kind=str(relation.kind),
            first_seen=stored.first_seen.isoformat(),
            last_seen=stored.last_seen.isoformat(),
            found_by=_found_by(stored.found_by),
        )
    out = io.BytesIO()
    nx.write_graphml(nx_graph, out, encoding="utf-8", named_key_ids=True)
    return out.getvalue().decode("utf-8")


def csv_table(graph: AssetGraph) -> str:
    """One asset per row: type, value, first seen, last seen, depth (empty: found, not
    followed), found_by ("adapter on target at time", joined by "; ")."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for item in sorted(graph.assets, key=lambda asset: asset.ref):
        writer.writerow(
            [
                _cell(str(item.ref.type)),
                _cell(item.ref.value),
                item.first_seen.isoformat(),
                item.last_seen.isoformat(),
                "" if item.depth is None else item.depth,
                _cell(_found_by(item.found_by)),
            ]
        )
    return out.getvalue()


def _found_by(seen: list[Seen]) -> str:
    return "; ".join(f"{s.adapter} on {s.target} at {s.at.isoformat()}" for s in sorted(seen))


def _column_types(rows: Any) -> dict[str, type]:
    """Each attribute's one GraphML type: bool, int, float, else str (mixed types: str)."""
    seen: dict[str, set[type]] = {}
    for row in rows:
        for name, value in row.items():
            seen.setdefault(name, set()).add(_kind(value))
    return {name: kinds.pop() if len(kinds) == 1 else str for name, kinds in seen.items()}


def _kind(value: Any) -> type:
    if isinstance(value, bool):
        return bool
    if isinstance(value, int) and -(2**63) <= value < 2**63:
        return int
    if isinstance(value, float) and math.isfinite(value):
        return float
    return str


def _legal(value: Any, kind: type) -> Any:
    if kind is not str:
        return value
    if isinstance(value, str):
        return _xml(value)
    if isinstance(value, list | dict | tuple):
        return _xml(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))
    return _xml(str(value))


def _xml(text: str) -> str:
    return _NOT_XML.sub("", text)


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA) else text
