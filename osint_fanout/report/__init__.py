"""The HTML report: a stored asset graph (and the store's change events) as one
self-contained, offline, script-safe page. See docs/report.md.

    from osint_fanout.report import render_report
    html = render_report([graph], events)      # graph: an osint_fanout.assets.AssetGraph

Importing this package is cheap (the CLI registers its commands from here): each part
loads on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._data import complete, merge, page_data, script_json
    from ._page import CYTOSCAPE_VERSION, render_report

_HOMES = {
    "complete": "._data",
    "merge": "._data",
    "page_data": "._data",
    "script_json": "._data",
    "CYTOSCAPE_VERSION": "._page",
    "render_report": "._page",
}

__all__ = ["CYTOSCAPE_VERSION", "complete", "merge", "page_data", "render_report", "script_json"]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'osint_fanout.report' has no attribute {name!r}")
    return getattr(import_module(home, __name__), name)
