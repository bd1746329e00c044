"""Exports of a stored asset graph in the formats threat-intelligence and graph tools
import: a STIX 2.1 bundle (MISP, OpenCTI), GraphML (Gephi), CSV. See docs/report.md.

    from osint_fanout.export import export
    text = export(graph, "stix")            # graph: an osint_fanout.assets.AssetGraph
"""

from __future__ import annotations

from collections.abc import Callable

from ..assets import AssetGraph

__all__ = ["FORMATS", "export"]


def _stix(graph: AssetGraph) -> str:
    from ._stix import stix_bundle

    return stix_bundle(graph)


def _graphml(graph: AssetGraph) -> str:
    from ._tables import graphml

    return graphml(graph)


def _csv(graph: AssetGraph) -> str:
    from ._tables import csv_table

    return csv_table(graph)


FORMATS: dict[str, Callable[[AssetGraph], str]] = {"stix": _stix, "graphml": _graphml, "csv": _csv}
"""Each format's writer; stix2 and networkx are imported only by the format that needs them."""


def export(graph: AssetGraph, fmt: str) -> str:
    """`graph` in format `fmt` (a key of FORMATS), as text."""
    from ..report._data import complete

    return FORMATS[fmt](complete(graph))
