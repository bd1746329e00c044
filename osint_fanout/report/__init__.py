"""The HTML report: a stored asset graph (and the store's change events) as one
self-contained, offline, script-safe page. See docs/report.md.

    from osint_fanout.report import render_report
    html = render_report([graph], events)      # graph: an osint_fanout.assets.AssetGraph
"""

from ._data import complete, merge, page_data, script_json
from ._page import CYTOSCAPE_VERSION, render_report

__all__ = ["CYTOSCAPE_VERSION", "complete", "merge", "page_data", "render_report", "script_json"]
