"""`report`, `export` and `search --report`: the store's asset graph to a file, one line and
the documented exit code for everything that can go wrong."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import stix2
from typer.testing import CliRunner

from osint_fanout._cli import app
from osint_fanout.assets import AssetGraph
from osint_fanout.report._timeline import timeline
from osint_fanout.store import StoredResult, open_store
from osint_fanout.store._db import Store
from tests.report_kit import T0, hostile_graph
from tests.world.world import World

HAS_ASSETS = hasattr(Store, "load_graph")


def page_data(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html, re.S)
    assert match
    return json.loads(match.group(1))


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An SQLite store whose load_graph gives a hand-built graph for example.com (nothing
    for other seeds), whatever the store's own assets: the CLI is under test here."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    open_store(url).close()

    def load_graph(self: Store, seed: str, **_: Any) -> AssetGraph:
        return hostile_graph(seed) if seed == "example.com" else AssetGraph(seed)

    monkeypatch.setattr(Store, "load_graph", load_graph, raising=False)
    (tmp_path / "config.toml").write_text("")
    monkeypatch.setenv("OSINT_FANOUT_CONFIG", str(tmp_path / "config.toml"))
    return url


def invoke(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_report_writes_one_file_holding_the_graph(store: str, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    ran = invoke("report", "https://Example.com/x", "-o", str(out), "--store", store)
    assert ran.exit_code == 0, ran.output
    data = page_data(out.read_text("utf-8"))
    graph = hostile_graph()
    assert data["seeds"] == ["example.com"]
    assert {node["id"] for node in data["nodes"]} == {str(item.ref) for item in graph.assets}
    assert len(data["edges"]) == len(graph.relations)


def test_export_formats_to_stdout_and_to_a_file(store: str, tmp_path: Path) -> None:
    ran = invoke("export", "example.com", "-f", "csv", "--store", store)
    assert ran.exit_code == 0, ran.output
    assert ran.stdout.splitlines()[0] == "type,value,first_seen,last_seen,depth,found_by"
    out = tmp_path / "bundle.json"
    ran = invoke("export", "example.com", "--store", store, "-o", str(out))
    assert ran.exit_code == 0, ran.output
    assert stix2.parse(out.read_text(), allow_custom=True).type == "bundle"  # stix is the default


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["report", "example.com", "-o", "/nonexistent-dir/r.html"], 2, "--output /nonexistent-dir/r.html"),
        (["report", "not a target!", "-o", "r.html"], 2, "TARGET"),
        (["report", "nothing.example", "-o", "r.html"], 1, "nothing is stored for nothing.example"),
        (["export", "example.com", "-f", "pdf"], 2, "pdf"),
        (["export", "nothing.example"], 1, "nothing is stored for nothing.example"),
        (["search", "example.com", "--no-store", "--report", "r.html"], 2, "drop --no-store"),
        (["search", "-i", "-", "--report", "r.html"], 2, "not -"),
    ],
)
def test_bad_usage_is_one_line(store: str, args: list[str], code: int, message: str) -> None:
    ran = CliRunner().invoke(app, [*args, "--store", store] if args[0] != "search" else args)
    assert ran.exit_code == code, ran.output
    assert message in ran.output and "Traceback" not in ran.output


def test_a_store_that_cannot_be_read_is_exit_3(tmp_path: Path) -> None:
    ran = invoke("report", "example.com", "-o", str(tmp_path / "r.html"), "--store", f"sqlite:///{tmp_path}/no.db")
    assert ran.exit_code == 3, ran.output
    assert not (tmp_path / "r.html").exists()


class _History:
    """A store's history of dns results for example.com: A records changing twice."""

    def __init__(self, answers: list[list[str] | None]) -> None:
        self.records = [
            StoredResult.of(
                {"A": answer} if answer is not None else None,
                target="example.com",
                kind="domain",
                adapter="dns",
                status="ok" if answer is not None else "error",
                recorded_at=T0 + timedelta(days=n),
            )
            for n, answer in enumerate(answers)
        ]

    def history(self, target: str, *, limit: int | None = None, adapter: str | None = None) -> list[StoredResult]:
        return [r for r in reversed(self.records) if r.target == target][:limit]


def test_the_timeline_holds_every_change_the_store_has_seen() -> None:
    store = _History([["192.0.2.1"], ["192.0.2.1", "192.0.2.2"], None, ["192.0.2.2"]])

    def facts(adapter: str, data: dict[str, Any]) -> dict[str, Any]:
        return {"A": frozenset(data["A"])}

    events = timeline(store, ["example.com", "example.com", "other.example"], facts)  # type: ignore[arg-type]
    brief = [(e["change"], e.get("value"), e["after_at"][:10]) for e in events]
    assert brief == [
        ("first_seen", None, "2026-11-02"),
        ("added", "192.0.2.2", "2026-11-03"),
        ("removed", "192.0.2.1", "2026-11-05"),  # the failed look in between is not compared
    ]


@pytest.mark.skipif(not HAS_ASSETS, reason="the store records assets from issue 20 on")
def test_search_report_and_export_from_the_loopback_world(world: World, tmp_path: Path) -> None:
    store = ("--store", f"sqlite:///{tmp_path / 'store.db'}")
    out = tmp_path / "search.html"
    ran = world.run_cli("search", "example.com", "-f", "json", "--report", str(out), *store, timeout=90)
    assert ran.code in (0, 1), ran.stderr
    data = page_data(out.read_text("utf-8"))
    ids = {node["id"] for node in data["nodes"]}
    assert "domain-name:example.com" in ids and len(ids) > 3
    assert data["events"] and data["events"][-1]["change"] == "first_seen"
    again = tmp_path / "report.html"
    assert world.run_cli("report", "example.com", "-o", str(again), *store, timeout=90).code == 0
    assert {node["id"] for node in page_data(again.read_text("utf-8"))["nodes"]} == ids
    bundle = world.run_cli("export", "example.com", "-f", "stix", *store, timeout=90)
    assert bundle.code == 0, bundle.stderr
    assert stix2.parse(bundle.stdout, allow_custom=True).type == "bundle"
