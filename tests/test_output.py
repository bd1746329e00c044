"""Sinks and renderers: exact JSON, inert terminal text, atomic files."""

from __future__ import annotations

import io
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console

from osint_fanout._output import Destination, JsonSink, NdjsonSink, to_json
from osint_fanout._redact import register_secret
from osint_fanout._results import ErrorInfo, Report, Result, Status
from osint_fanout._stats import Stats
from osint_fanout._table import Row, TableSink, render_table
from osint_fanout._targets import parse_target

TARGET = parse_target("bücher.de")
HOSTILE = "[bold red]x[/] [link=http://evil]y[/link] \x1b[2J\x1b]0;title\x07 \u202eevil\u200b \x9b31m"


def result(adapter: str, status: Status, **fields: object) -> Result:
    return Result(target=TARGET, adapter=adapter, status=status, elapsed_ms=1234, **fields)  # type: ignore[arg-type]


def render(table: object, *, width: int = 200, color: bool = False) -> str:
    console = Console(
        file=io.StringIO(), width=width, force_terminal=color, color_system="truecolor" if color else None
    )
    console.print(table)
    return console.file.getvalue()  # type: ignore[attr-defined]


def test_json_keeps_hostile_data_exact_without_raw_control_bytes() -> None:
    text = to_json(result("dns", Status.OK, data={"txt": HOSTILE}))
    for raw in ("\x1b", "\x07", "\u202e", "\u200b", "\x9b"):
        assert raw not in text
    assert json.loads(text)["data"]["txt"] == HOSTILE


def test_json_never_carries_a_registered_key() -> None:
    register_secret("k3y-in-output-123")
    text = to_json(result("x", Status.ERROR, error=ErrorInfo(type="http", message="echo k3y-in-output-123")))
    assert "k3y-in-output-123" not in text and "***" in text


def test_table_shows_markup_and_escapes_as_literal_text() -> None:
    rows = [Row("dns", result=result("dns", Status.OK, summary=HOSTILE))]
    out = render(render_table(TARGET, rows, time.monotonic()), color=True)
    assert "[bold red]x[/]" in out and "[link=http://evil]y[/link]" in out
    assert "\\x1b[2J\\x1b]0;title\\x07" in out and "\\u202eevil\\u200b" in out and "\\x9b31m" in out
    assert "\x1b[2J" not in out and "\x07" not in out and "\u202e" not in out and "\x1b]8;" not in out


def test_table_rows_show_each_state() -> None:
    now = time.monotonic()
    rows = [
        Row("pending"),
        Row("running", started=now - 2.0),
        Row("ok", result=result("ok", Status.OK, summary="A 192.0.2.1")),
        Row("empty", result=result("empty", Status.EMPTY)),
        Row("skipped", result=result("skipped", Status.SKIPPED, reason="no API key (set VT_API_KEY)")),
        Row("error", result=result("error", Status.ERROR, error=ErrorInfo(type="auth", message="HTTP 401"))),
        Row("waited", result=result("waited", Status.OK, summary="fine", waited_ms=2500)),
        Row("queued", result=result("queued", Status.OK, summary="late", queued_ms=61000)),
    ]
    out = render(render_table(TARGET, rows, now))
    lines = {line.split("│")[1].strip(): line for line in out.splitlines() if line.count("│") >= 4}
    assert "pending" in lines["pending"]
    assert "running" in lines["running"] and "2.0s" in lines["running"]
    assert "A 192.0.2.1" in lines["ok"] and "1.23s" in lines["ok"]
    assert "nothing known" in lines["empty"]
    assert "no API key (set VT_API_KEY)" in lines["skipped"]
    assert "auth: HTTP 401" in lines["error"]
    assert "waited 2.5s for retries" in lines["waited"]
    assert "queued 61.0s for rate limits" in lines["queued"]
    assert "xn--bcher-kva.de (bücher.de)" in out


def test_no_color_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    console = Console(file=io.StringIO(), force_terminal=True, width=120, color_system="standard")
    console.print(
        render_table(
            TARGET,
            [Row("dns", result=result("dns", Status.ERROR, error=ErrorInfo(type="network", message="down")))],
            time.monotonic(),
        )
    )
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "network: down" in out
    assert "\x1b[31m" not in out and "\x1b[1;31m" not in out  # no colour codes


def test_table_sink_prints_each_finished_target_once() -> None:
    console = Console(file=io.StringIO(), width=150, color_system=None)
    sink = TableSink(console, ["dns", "ct"], live=False)
    sink.started(TARGET, "dns")
    first = result("dns", Status.OK, summary="A 1.2.3.4")
    second = result("ct", Status.TIMEOUT, error=ErrorInfo(type="timeout", message="no answer within 30 s"))
    sink.result(first)
    sink.result(second)
    now = datetime.now(UTC)
    sink.report(Report(target=TARGET, started_at=now, finished_at=now, deadline_s=60, results=[first, second]))
    sink.finish()
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert out.count("xn--bcher-kva.de") == 1
    assert "1 ok · 1 timeout" in out


def test_ndjson_sink_flushes_each_line_as_it_arrives(tmp_path: Path) -> None:
    path = tmp_path / "out.ndjson"
    stats = Stats(["dns"], console=None, show_summary=False)
    sink = NdjsonSink(Destination(path, append=True), summary=stats.as_dict)
    sink.result(result("dns", Status.OK, data={"a": 1}))
    assert json.loads(path.read_text())["adapter"] == "dns"  # on disk before the run ends
    sink.finish()
    lines = path.read_text().splitlines()
    summary = json.loads(lines[-1])["summary"]
    assert summary["targets"] == 0 and summary["by_adapter"] == {"dns": {}}


def test_appending_after_a_torn_line_starts_a_new_line(tmp_path: Path) -> None:
    path = tmp_path / "out.ndjson"
    path.write_text('{"complete": 1}\n{"torn": ')
    sink = NdjsonSink(Destination(path, append=True))
    sink.result(result("dns", Status.OK))
    sink.finish()
    lines = path.read_text().splitlines()
    assert lines[:2] == ['{"complete": 1}', '{"torn": ']
    assert json.loads(lines[2])["adapter"] == "dns"


def test_atomic_file_appears_only_when_complete(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    path.write_text("old contents")
    sink = JsonSink(Destination(path))
    now = datetime.now(UTC)
    sink.report(Report(target=TARGET, started_at=now, finished_at=now, deadline_s=1, results=[]))
    assert path.read_text() == "old contents"  # the old file stays until the new one is whole
    sink.finish()
    assert json.loads(path.read_text())["target"]["value"] == "xn--bcher-kva.de"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_appending_after_a_line_torn_inside_a_multibyte_character(tmp_path: Path) -> None:
    path = tmp_path / "out.ndjson"
    path.write_bytes(b'{"complete": 1}\n{"torn": "b\xc3')
    sink = NdjsonSink(Destination(path, append=True))
    sink.result(result("dns", Status.OK))
    sink.finish()
    lines = path.read_bytes().split(b"\n")
    assert lines[1] == b'{"torn": "b\xc3'
    assert json.loads(lines[2])["adapter"] == "dns"
