"""The report without a browser: data, escaping, risk flags, CSP, the vendored library."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta
from html.parser import HTMLParser
from importlib.resources import files

import pytest
from hypothesis import given
from hypothesis import strategies as st

from osint_fanout.assets import AssetGraph, AssetType, RelationKind
from osint_fanout.report import merge, page_data, render_report, script_json
from osint_fanout.report._page import CYTOSCAPE_SHA256, csp
from osint_fanout.report._risk import flags
from tests.report_kit import HOSTILE, NOW, GraphBuilder, hostile_graph, small_graph


class _Page(HTMLParser):
    """Every element with its attributes, and the text of each script and style element."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.inline: list[tuple[str, dict[str, str | None], str]] = []
        self._open: tuple[str, dict[str, str | None]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._open = (tag, dict(attrs))

    def handle_data(self, data: str) -> None:
        if self._open:
            self.inline.append((*self._open, data))
            self._open = None


def parsed(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@given(st.text())
def test_script_json_reads_back_and_cannot_close_its_element(text: str) -> None:
    embedded = script_json({"name": text, "list": [text]})
    assert json.loads(embedded) == {"name": text, "list": [text]}
    assert not re.search(r"[<>&\u2028\u2029]", embedded)


def test_hostile_strings_are_data_in_the_page() -> None:
    html = render_report([hostile_graph()], now=NOW)
    page = parsed(html)
    scripts = [entry for entry in page.inline if entry[0] == "script"]
    assert [attrs.get("type") for _, attrs, _ in scripts] == ["application/json", None, None]
    data = json.loads(scripts[0][2])
    assert {node["value"] for node in data["nodes"] if node["type"] == "organization"} >= set(HOSTILE)
    assert sum(1 for tag, _ in page.tags if tag == "script") == 3  # no element from a hostile string
    assert not any(tag in ("img", "svg", "iframe") for tag, _ in page.tags)


def test_the_csp_allows_exactly_the_pages_own_inline_code() -> None:
    html = render_report([small_graph()], now=NOW)
    page = parsed(html)
    policy = next(attrs["content"] for tag, attrs in page.tags if attrs.get("http-equiv") == "Content-Security-Policy")
    assert policy is not None
    code = [text for tag, attrs, text in page.inline if tag == "script" and attrs.get("type") is None]
    styles = [text for tag, _, text in page.inline if tag == "style"]
    assert policy == csp(code, styles)
    assert "default-src 'none'" in policy and "unsafe" not in policy
    # Nothing loaded from anywhere: no src or href attribute at all.
    assert not [attrs for _, attrs in page.tags if "src" in attrs or "href" in attrs]


def test_the_vendored_library_is_the_pinned_one_with_its_licence() -> None:
    vendor = files("osint_fanout.report") / "vendor"
    assert hashlib.sha256((vendor / "cytoscape.min.js").read_bytes()).hexdigest() == CYTOSCAPE_SHA256
    assert "Permission is hereby granted" in (vendor / "cytoscape.LICENSE").read_text()
    assert "3.35.0" in (vendor / "README.md").read_text()


def test_page_data_has_levels_rings_and_flags() -> None:
    data = page_data(small_graph(), ["example.com"], [], now=NOW)
    nodes = {node["id"]: node for node in data["nodes"]}
    assert nodes["domain-name:example.com"]["ring"] == 0 and nodes["domain-name:example.com"]["level"] == 0
    assert nodes["domain-name:www.example.com"]["ring"] == 1
    assert nodes["ipv4-addr:192.0.2.33"]["depth"] is None
    assert nodes["ipv4-addr:192.0.2.33"]["level"] == 2  # found by the lookup of vpn (depth 1)
    assert [f["code"] for f in nodes["ipv4-addr:192.0.2.33"]["flags"]] == ["risky-service"]  # RDP on it
    assert nodes["domain-name:old.example.com"]["severity"] == 2
    assert [f["code"] for f in nodes["x509-certificate:" + "ab" * 32]["flags"]] == ["cert-expiring"]
    assert {edge["kind"] for edge in data["edges"]} >= {"resolves-to", "has-service", "covers"}


@pytest.mark.parametrize(
    ("kind", "attrs", "codes"),
    [
        (AssetType.DOMAIN, {"malicious": 4, "suspicious": 1}, ["malicious", "suspicious"]),
        (AssetType.IPV4, {"malicious": "junk", "suspicious": True}, []),
        (AssetType.IPV4, {"malicious": float("nan"), "suspicious": float("inf")}, []),
        (AssetType.SERVICE, {"port": 6379}, ["risky-service"]),
        (AssetType.SERVICE, {"port": "445"}, ["risky-service"]),
        (AssetType.SERVICE, {"port": 443, "cves": ["CVE-1"]}, ["cves"]),
        (AssetType.SERVICE, {"port": 443, "cves": "CVE-1"}, []),
        (AssetType.CERTIFICATE, {"not_after": (NOW - timedelta(days=1)).isoformat()}, ["cert-expired"]),
        (AssetType.CERTIFICATE, {"not_after": (NOW + timedelta(days=3)).isoformat()}, ["cert-expiring"]),
        (AssetType.CERTIFICATE, {"not_after": "2027-06-01T00:00:00Z"}, []),
        (AssetType.CERTIFICATE, {"not_after": "soon"}, []),
    ],
)
def test_risk_flags(kind: AssetType, attrs: dict, codes: list[str]) -> None:
    assert [code for code, _, _ in flags(kind, attrs, NOW)] == codes


def test_upstream_nan_and_odd_values_do_not_break_the_json() -> None:
    g = GraphBuilder("example.com")
    g.add(AssetType.DOMAIN, "example.com", depth=0, reputation=float("nan"), weird={1, 2}, when=NOW)
    data = json.loads(script_json(page_data(g.graph(), ["example.com"], [{"after_at": NOW}], now=NOW)))
    attrs = data["nodes"][0]["attrs"]
    assert attrs["reputation"] is None and sorted(attrs["weird"]) == [1, 2] and attrs["when"] == "2026-12-07T09:00:00Z"


def test_merge_unites_seeds_that_share_assets() -> None:
    one, two = small_graph("example.com"), GraphBuilder("example.org")
    root = two.add(AssetType.DOMAIN, "example.org", depth=0)
    shared = two.add(AssetType.IPV4, "192.0.2.10", depth=1)
    two.relate(root, RelationKind.RESOLVES_TO, shared)
    merged = merge([one, two.graph()])
    refs = [str(item.ref) for item in merged.assets]
    assert len(refs) == len(set(refs)) == len(one.assets) + 1
    ip = next(item for item in merged.assets if str(item.ref) == "ipv4-addr:192.0.2.10")
    assert ip.depth == 1 and {seen.target for seen in ip.found_by} == {"www.example.com", "example.org"}
    html = render_report([one, two.graph()], now=NOW)
    assert "example.com, example.org" in html


def test_an_empty_graph_still_renders() -> None:
    data = page_data(AssetGraph("example.com"), ["example.com"], [], now=NOW)
    assert data["nodes"] == [] and data["edges"] == []
    assert "<html" in render_report([AssetGraph("example.com")], now=NOW)
