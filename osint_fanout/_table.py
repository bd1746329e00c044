"""The table format: a live Rich table per target, filled as results arrive.

Upstream text never reaches Rich as markup: every cell is a `Text`, and escape
sequences and invisible characters are shown as inert `\\xNN` text.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ._output import OutputClosed, Sink
from ._redact import terminal_safe
from ._results import Report, Result, Status
from ._targets import Target

__all__ = ["SafeConsole", "TableSink", "render_table"]

STATUS_STYLE = {
    Status.OK: "bold green",
    Status.EMPTY: "cyan",
    Status.SKIPPED: "dim",
    Status.ERROR: "bold red",
    Status.TIMEOUT: "yellow",
    Status.CANCELLED: "magenta",
}
_MAX_CELL = 160


@dataclass
class Row:
    adapter: str
    started: float | None = None
    result: Result | None = None


def _cell(text: str, style: str = "") -> Text:
    safe = terminal_safe(text)
    if len(safe) > _MAX_CELL:
        safe = safe[: _MAX_CELL - 3] + "..."
    return Text(safe, style=style)


def _detail(result: Result) -> str:
    if result.status is Status.OK:
        return result.summary or "found data"
    if result.status is Status.EMPTY:
        return "nothing known"
    if result.status is Status.SKIPPED:
        return result.reason or ""
    if result.error is None:
        return ""
    return f"{result.error.type}: {result.error.message}"


def render_table(target: Target, rows: list[Row], now: float) -> Table:
    """A pure function of its inputs: one row per adapter."""
    title = target.value if not target.unicode else f"{target.value} ({target.unicode})"
    table = Table(title=_cell(title, "bold"), title_justify="left", expand=False)
    table.add_column("adapter", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("time", justify="right", no_wrap=True)
    table.add_column("found", overflow="fold")
    for row in rows:
        if row.result is not None:
            result = row.result
            status = _cell(result.status.value, STATUS_STYLE[result.status])
            took = "" if result.status is Status.SKIPPED else f"{result.elapsed_ms / 1000:.2f}s"
            detail = _detail(result)
            if result.waited_ms:
                detail += f" (waited {result.waited_ms / 1000:.1f}s for rate limits or retries)"
            table.add_row(_cell(row.adapter), status, _cell(took), _cell(detail))
        elif row.started is not None:
            table.add_row(_cell(row.adapter), _cell("running", "blue"), _cell(f"{now - row.started:.1f}s"), _cell(""))
        else:
            table.add_row(_cell(row.adapter), _cell("pending", "dim"), _cell(""), _cell(""))
    return table


class SafeConsole(Console):
    """A reader closing the pipe ends the output (exit 141), instead of Rich's SystemExit."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        if threading.current_thread() is threading.main_thread():  # not Live's refresh thread
            raise OutputClosed()


class TableSink(Sink):
    """Live tables for targets in progress; each finished table stays on screen."""

    def __init__(self, console: Console, adapters: list[str], *, live: bool) -> None:
        self.console = console
        self.adapters = adapters
        self._open: dict[str, tuple[Target, dict[str, Row]]] = {}
        self._lock = threading.RLock()
        self._live: Live | None = None
        self.live = live
        if live:
            self._live = Live(console=console, get_renderable=self._render_open, refresh_per_second=8)
            self._live.start()

    def _rows(self, target: Target) -> dict[str, Row]:
        if target.value not in self._open:
            self._open[target.value] = (target, {name: Row(name) for name in self.adapters})
        return self._open[target.value][1]

    def _render_open(self) -> RenderableType:
        with self._lock:
            now = time.monotonic()
            return Group(*(render_table(t, list(rows.values()), now) for t, rows in self._open.values()))

    def started(self, target: Target, adapter: str) -> None:
        with self._lock:
            self._rows(target)[adapter].started = time.monotonic()

    def result(self, result: Result) -> None:
        with self._lock:
            self._rows(result.target)[result.adapter].result = result

    def report(self, report: Report) -> None:
        with self._lock:
            rows = self._rows(report.target)
            del self._open[report.target.value]
            table = render_table(report.target, list(rows.values()), time.monotonic())
            took = (report.finished_at - report.started_at).total_seconds()
            counts = {s: sum(r.status is s for r in report.results) for s in Status}
            shown = " · ".join(f"{n} {s.value}" for s, n in counts.items() if n)
            table.caption = _cell(f"{took:.2f}s · {shown}")
            table.caption_justify = "left"
            self.console.print(table)

    def finish(self) -> None:
        with self._lock:
            if self._live is not None:
                self._live.stop()
                self._live = None
