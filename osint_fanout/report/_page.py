"""One self-contained HTML file: the Jinja2 template, the vendored cytoscape.js and the
page's own script inlined, the data as JSON in a non-executed script element, and a
Content-Security-Policy that allows exactly those inline scripts and styles (by hash) and
nothing else: no network, no other code."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from typing import Any

from markupsafe import Markup

from .._version import __version__
from ..assets import AssetGraph
from ._data import merge, page_data, script_json

__all__ = ["CYTOSCAPE_SHA256", "CYTOSCAPE_VERSION", "render_report"]

CYTOSCAPE_VERSION = "3.35.0"
CYTOSCAPE_SHA256 = "71fa9ebec21a7ca2c40cff6aacc30d1f6464e363662ad4b2c197e1adc770cd94"
"""The vendored file's hash (vendor/README.md says where it came from); checked on load."""

CYTOSCAPE_CSS = ".__________cytoscape_container { position: relative; }"
"""The stylesheet cytoscape would inject at run time (which the CSP would refuse): shipped
in the page, under the id cytoscape looks for, so it injects nothing."""

_CLOSERS = re.compile(r"</script|<!--|</style", re.IGNORECASE)


class _Assets:
    """The template and the inlined files, read once per process."""

    def __init__(self) -> None:
        import jinja2

        package = files("osint_fanout.report")
        self.cytoscape_js = (package / "vendor" / "cytoscape.min.js").read_text("utf-8")
        digest = hashlib.sha256(self.cytoscape_js.encode()).hexdigest()
        if digest != CYTOSCAPE_SHA256:
            raise RuntimeError(f"vendor/cytoscape.min.js is not the pinned {CYTOSCAPE_VERSION} (sha256 {digest})")
        self.app_js = (package / "templates" / "report.js").read_text("utf-8")
        self.css = (package / "templates" / "report.css").read_text("utf-8")
        for name, text in (("cytoscape", self.cytoscape_js), ("report.js", self.app_js), ("report.css", self.css)):
            if _CLOSERS.search(text):
                raise RuntimeError(f"{name} holds a sequence that would end its inline element early")
        environment = jinja2.Environment(
            loader=jinja2.PackageLoader("osint_fanout.report", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.template = environment.get_template("report.html.j2")


@cache
def _assets() -> _Assets:
    return _Assets()


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def csp(scripts: Iterable[str], styles: Iterable[str]) -> str:
    """Nothing from anywhere (default-src 'none'), except these inline scripts and styles;
    inline styles set from script (cytoscape sizing its canvas) are CSSOM, not markup."""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src " + " ".join(_hash(text) for text in scripts),
            "style-src " + " ".join(_hash(text) for text in styles),
            "img-src data:",
            "base-uri 'none'",
            "form-action 'none'",
        ]
    )


def render_report(
    graphs: Sequence[AssetGraph],
    events: Iterable[Mapping[str, Any]] = (),
    *,
    now: datetime | None = None,
) -> str:
    """The HTML report of these seeds' graphs (one or more), with the store's change events
    for their targets as the timeline. A pure function of its arguments."""
    assets = _assets()
    moment = now or datetime.now(UTC)
    seeds = [graph.seed for graph in graphs]
    data = page_data(merge(graphs), seeds, events, now=moment)
    # Markup: inlined as they are (HTML escaping would change the code and its CSP hash);
    # the files were checked for closing sequences, and script_json escapes the data.
    return assets.template.render(
        title=", ".join(seeds) if len(seeds) <= 3 else f"{', '.join(seeds[:3])} and {len(seeds) - 3} more",
        version=__version__,
        csp=csp([assets.cytoscape_js, assets.app_js], [CYTOSCAPE_CSS, assets.css]),
        cytoscape_css=Markup(CYTOSCAPE_CSS),  # noqa: S704 - our constant
        css=Markup(assets.css),  # noqa: S704 - the package's file
        data=Markup(script_json(data)),  # noqa: S704 - escaped for a script element
        cytoscape_js=Markup(assets.cytoscape_js),  # noqa: S704 - the pinned vendored file
        app_js=Markup(assets.app_js),  # noqa: S704 - the package's file
    )
