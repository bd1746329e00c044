"""The report in a real browser: headless Chromium (Debian's `chromium`, which .ci/run
installs) opens a generated report offline and is used the way a person would."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from osint_fanout.assets import AssetGraph
from osint_fanout.report import render_report
from tests.report_kit import HOSTILE, NOW, Browser, chromium_path, hostile_graph

pytestmark = pytest.mark.skipif(chromium_path() is None, reason="needs chromium (apt-get install chromium)")

EVENTS = [
    {"target": "example.com", "adapter": None, "change": "first_seen", "after_at": "2026-11-02T08:00:00Z"},
    {
        "target": "example.com",
        "adapter": "dns",
        "fact": "A",
        "change": "added",
        "value": HOSTILE[0],
        "before_at": "2026-11-02T08:00:00Z",
        "after_at": "2026-12-01T08:00:00Z",
    },
]


@pytest.fixture(scope="module")
def graph() -> AssetGraph:
    return hostile_graph()


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory, graph: AssetGraph) -> Iterator[Browser]:
    """One browser on one report for the module; the tests only read, or undo what they do."""
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(render_report([graph], EVENTS, now=NOW), "utf-8")
    with Browser() as browser:
        browser.open(path, until="document.body.dataset.ready === 'true'")
        browser.path = path  # type: ignore[attr-defined]
        yield browser


def test_the_page_holds_exactly_the_stored_assets_and_relations(page: Browser, graph: AssetGraph) -> None:
    nodes = page.evaluate("osintReport.cy.nodes().map(n => [n.id(), n.data('label'), n.data('type')])")
    edges = page.evaluate("osintReport.cy.edges().map(e => [e.data('source'), e.data('kind'), e.data('target')])")
    assert sorted(map(tuple, nodes)) == sorted((str(a.ref), a.ref.value, str(a.ref.type)) for a in graph.assets)
    assert sorted(map(tuple, edges)) == sorted(
        (str(r.relation.source), str(r.relation.kind), str(r.relation.target)) for r in graph.relations
    )
    assert page.evaluate("document.querySelectorAll('#assets tbody tr').length") == len(graph.assets)


def test_the_graph_is_drawn_not_blank(page: Browser) -> None:
    from PIL import Image

    box = page.evaluate(
        "(r => [r.left, r.top, r.right, r.bottom])(document.getElementById('cy').getBoundingClientRect())"
    )
    shot = Image.open(io.BytesIO(page.screenshot())).convert("RGB").crop(tuple(int(v) for v in box))
    colours = shot.getcolors(maxcolors=1 << 20) or []
    inked = sum(count for count, colour in colours if colour != (255, 255, 255))
    assert len(colours) > 50  # node colours, anti-aliased labels and edges
    assert inked > 0.01 * shot.width * shot.height


def test_a_click_on_a_node_shows_its_facts_flags_and_provenance(page: Browser) -> None:
    x, y = page.evaluate(
        "(() => { const cy = osintReport.cy, node = cy.getElementById('ipv4-addr:192.0.2.33');"
        " cy.zoom(2); cy.center(node); const p = node.renderedPosition();"
        " const r = document.getElementById('cy').getBoundingClientRect(); return [r.left + p.x, r.top + p.y]; })()"
    )
    page.click(x, y)
    page.wait_for("document.querySelector('#details h2')?.textContent === '192.0.2.33'")
    panel = page.evaluate("document.getElementById('details').innerText")
    assert "RDP (port 3389) open to the internet" in panel  # its service's flag, on the host
    assert "dns on vpn.example.com" in panel  # provenance: which adapter, asked about what
    assert "first seen" in panel and "last seen" in panel
    assert "has-service → 192.0.2.33:3389/tcp" in panel


def test_hostile_names_stay_text(page: Browser) -> None:
    assert page.evaluate("window.pwned") is None
    assert page.dialogs() == []
    # Nothing but our own elements: no element an upstream string could have made.
    assert page.evaluate("document.querySelectorAll('img, svg, iframe, object, embed, script:not([type])').length") == 2
    cells = page.evaluate("[...document.querySelectorAll('#assets td')].map(td => td.textContent)")
    for text in HOSTILE:
        assert text in cells
    page.evaluate(f"void osintReport.cy.getElementById({json.dumps(f'organization:{HOSTILE[1]}')}).emit('tap')")
    page.wait_for("document.querySelector('#details h2')?.textContent.startsWith('</script>')")
    assert page.evaluate("document.querySelector('#details h2').textContent") == HOSTILE[1]
    assert HOSTILE[0] in page.evaluate("document.getElementById('timeline').textContent")
    assert page.evaluate("window.pwned") is None


def test_search_and_filters(page: Browser) -> None:
    page.evaluate("(s => { s.value = 'vpn'; s.dispatchEvent(new Event('input')); })(document.getElementById('search'))")
    assert page.evaluate("osintReport.cy.nodes('.match').map(n => n.id())") == ["domain-name:vpn.example.com"]
    page.evaluate("(s => { s.value = ''; s.dispatchEvent(new Event('input')); })(document.getElementById('search'))")
    assert page.evaluate("osintReport.cy.nodes('.faded').length") == 0
    page.evaluate("document.querySelector('.type-filter[value=service]').click()")
    hidden = page.evaluate("osintReport.cy.nodes('.hidden').map(n => n.data('type'))")
    assert hidden and set(hidden) == {"service"}
    page.evaluate("document.querySelector('.type-filter[value=service]').click()")
    page.evaluate("(d => { d.value = '0'; d.dispatchEvent(new Event('change')); })(document.getElementById('depth'))")
    assert page.evaluate("osintReport.cy.nodes().not('.hidden').map(n => n.id())") == ["domain-name:example.com"]
    page.evaluate(
        "(d => { d.value = d.options[d.options.length - 1].value; d.dispatchEvent(new Event('change')); })"
        "(document.getElementById('depth'))"
    )
    page.evaluate("document.getElementById('flagged').click()")
    shown = set(page.evaluate("osintReport.cy.nodes().not('.hidden').map(n => n.id())"))
    assert "domain-name:old.example.com" in shown and "organization:Example Hosting" not in shown
    page.evaluate("document.getElementById('flagged').click()")
    assert page.evaluate("osintReport.cy.nodes('.hidden').length") == 0


def test_the_table_sorts_by_a_column(page: Browser) -> None:
    page.evaluate("[...document.querySelectorAll('#assets th')].find(th => th.textContent === 'Value').click()")
    values = page.evaluate("[...document.querySelectorAll('#assets tbody tr')].map(r => r.cells[1].textContent)")
    assert values.index("AS64500") < values.index("example.com") < values.index("www.example.com")
    page.evaluate("[...document.querySelectorAll('#assets th')].find(th => th.textContent === 'Value').click()")
    again = page.evaluate("[...document.querySelectorAll('#assets tbody tr')].map(r => r.cells[1].textContent)")
    assert again == values[::-1]


def test_no_console_error_and_no_request_leaves_the_file(page: Browser) -> None:
    assert page.console_errors() == []
    assert page.requests() == [page.path.resolve().as_uri()]  # type: ignore[attr-defined]


def test_the_csp_refuses_code_the_report_did_not_bring(page: Browser) -> None:
    """The policy is live: a script element added to the page is not run."""
    page.evaluate(
        "(() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
        " document.body.append(s); })()"
    )
    assert page.evaluate("window.injected") is None
