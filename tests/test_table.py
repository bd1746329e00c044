"""The table sink in-process: finished tables, footers, and a live region that never
leaves a stale table behind (the pseudo-terminal tests, test_terminal.py, run the CLI)."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pyte
from rich.console import Console

from osint_fanout import Adapter, AdapterOptions, Context, Target, TargetKind
from osint_fanout._engine import Investigation
from osint_fanout._http import HttpPolicy, HttpPool
from osint_fanout._plan import ReadyAdapter
from osint_fanout._results import ErrorInfo, Report, Result, Status
from osint_fanout._table import Row, TableSink, finished_table
from osint_fanout._targets import parse_target

TARGET = parse_target("example.com")
OTHER = parse_target("example.net")


def result(target: Target, adapter: str, status: Status = Status.OK, elapsed_ms: int = 100, **fields: Any) -> Result:
    return Result(target=target, adapter=adapter, status=status, elapsed_ms=elapsed_ms, summary="found", **fields)


def report(target: Target, results: list[Result], wall_s: float) -> Report:
    end = datetime.now(UTC)
    return Report(
        target=target, started_at=end - timedelta(seconds=wall_s), finished_at=end, deadline_s=60, results=results
    )


def screen_of(output: str, columns: int = 100, lines: int = 40) -> list[str]:
    screen = pyte.Screen(columns, lines)
    pyte.Stream(screen).feed(output.replace("\n", "\r\n"))  # a terminal's output processing
    return [line.rstrip() for line in screen.display]


def test_footer_is_never_less_than_a_row() -> None:
    slow = result(TARGET, "shodan", elapsed_ms=2440)
    table = finished_table(report(TARGET, [slow], wall_s=1.71), [Row("shodan", result=slow)])
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(table)
    out = console.file.getvalue()  # type: ignore[attr-defined]
    assert "2.44s · 1 ok" in out and "1.71s" not in out


def test_footer_shows_the_wall_time_when_it_is_longer() -> None:
    quick = result(TARGET, "dns", elapsed_ms=20)
    console = Console(file=io.StringIO(), width=100, color_system=None)
    console.print(finished_table(report(TARGET, [quick], wall_s=3.5), [Row("dns", result=quick)]))
    assert "3.50s · 1 ok" in console.file.getvalue()  # type: ignore[attr-defined]


def test_live_sink_leaves_each_finished_table_once_and_nothing_in_progress() -> None:
    console = Console(file=io.StringIO(), width=100, height=40, force_terminal=True, color_system=None)
    sink = TableSink(console, ["dns", "ct"], live=True)
    try:
        for target in (TARGET, OTHER):
            sink.started(target, "dns")
            sink.started(target, "ct")
        console.print("a line printed meanwhile")  # like a warning on stderr, above the tables
        time.sleep(0.3)  # the live region is drawn with both tables in progress
        assert "running" in "\n".join(screen_of(console.file.getvalue()))  # type: ignore[attr-defined]
        for target in (OTHER, TARGET):
            results = [result(target, "dns"), result(target, "ct", Status.TIMEOUT, error=_timeout())]
            for item in results:
                sink.result(item)
            sink.report(report(target, results, wall_s=0.5))
            now = screen_of(console.file.getvalue())  # type: ignore[attr-defined]
            assert now.count(target.value) == 1, "\n".join(now)  # printed, and gone from the live region
    finally:
        sink.finish()
    shown = screen_of(console.file.getvalue())  # type: ignore[attr-defined]
    text = "\n".join(shown)
    assert "running" not in text and "pending" not in text
    assert [line for line in shown if line in ("example.com", "example.net")] == ["example.net", "example.com"]
    assert text.count("0.50s · 1 ok · 1 timeout") == 2
    assert "a line printed meanwhile" in text


def _timeout() -> ErrorInfo:
    return ErrorInfo(type="timeout", message="no answer within 1 s")


class _Hangs(Adapter[AdapterOptions]):
    name = "hangs"
    description = "never answers"
    kinds = frozenset(TargetKind)
    default_timeout_s = 30.0

    async def lookup(self, target: Target, ctx: Context) -> dict[str, Any]:
        await asyncio.sleep(30)
        return {}


def test_a_cancelled_call_counts_its_time_from_its_target_not_from_start_up() -> None:
    """The deadline counts the command's start-up; a cancelled call's time does not, so it
    is never more than its target's wall time (the footer)."""
    ready = ReadyAdapter(_Hangs(AdapterOptions()), 30.0, HttpPolicy("hangs", 1 << 20))
    engine = Investigation([ready], concurrency=2, deadline_s=60, clock_start=time.monotonic() - 2.0)

    async def go() -> list[Result | Report]:
        pool = HttpPool()
        events: list[Result | Report] = []
        run = engine.events([TARGET], pool=pool)
        task = asyncio.ensure_future(run.__anext__())
        await asyncio.sleep(0.2)
        task.cancel()
        events.extend(engine.close_open("interrupted"))
        await pool.aclose()
        return events

    events = asyncio.run(go())
    cancelled = next(e for e in events if isinstance(e, Result))
    done = next(e for e in events if isinstance(e, Report))
    assert cancelled.status is Status.CANCELLED
    assert 150 <= cancelled.elapsed_ms < 1500  # 0.2 s since taken up, not 2.2 s since start-up
    assert cancelled.elapsed_ms <= (done.finished_at - done.started_at).total_seconds() * 1000 + 5
