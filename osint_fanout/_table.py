"""The table format: a live Rich table per target, filled as results arrive.

Upstream text never reaches Rich as markup: every cell is a `Text`, and escape
sequences and invisible characters are shown as inert `\\xNN` text.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, RenderResult
from rich.live import Live
from rich.table import Table
from rich.text import Text

from ._output import Destination, OutputClosed, Sink
from ._redact import terminal_safe
from ._results import Report, Result, Status
from ._targets import Target

__all__ = ["SafeConsole", "TableSink", "TableToFile", "finished_table", "render_table"]

STATUS_STYLE = {
    Status.OK: "bold green",
    Status.EMPTY: "cyan",
    Status.SKIPPED: "dim",
    Status.ERROR: "bold red",
    Status.TIMEOUT: "yellow",
    Status.CANCELLED: "magenta",
}
_MAX_CELL = 160
REFRESH_S = 0.125
"""How often the live tables are redrawn (the running times tick)."""
STOP_WAIT_S = 0.5
"""How long finishing waits for a write to the terminal in progress (a stopped tty blocks)."""


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


NARROW_WIDTH = 56
"""Below this many columns the adapter, status and time share one column (on three lines),
so that `found` keeps its room: at 30 columns it would get none beside three columns."""


def render_table(target: Target, rows: list[Row], now: float, width: int | None = None) -> Table:
    """A pure function of its inputs: one row per adapter."""
    title = target.value if not target.unicode else f"{target.value} ({target.unicode})"
    table = Table(title=_cell(title, "bold"), title_justify="left", expand=False)
    narrow = width is not None and width < NARROW_WIDTH
    table.add_column("adapter", no_wrap=True)
    if not narrow:
        table.add_column("status", no_wrap=True)
        table.add_column("time", justify="right", no_wrap=True)
    table.add_column("found", overflow="fold")
    for row in rows:
        if row.result is not None:
            result = row.result
            status = _cell(result.status.value, STATUS_STYLE[result.status])
            took = "" if result.status is Status.SKIPPED else f"{result.elapsed_ms / 1000:.2f}s"
            if result.cached_at is not None:  # reused from the store (--max-age): no time of its own
                took = "cached"
            detail = _detail(result)
            if result.queued_ms >= 50:
                detail += f" (queued {result.queued_ms / 1000:.1f}s for rate limits)"
            if result.waited_ms:
                detail += f" (waited {result.waited_ms / 1000:.1f}s for retries)"
            cells = [_cell(row.adapter), status, _cell(took), _cell(detail)]
        elif row.started is not None:
            cells = [_cell(row.adapter), _cell("running", "blue"), _cell(f"{now - row.started:.1f}s"), _cell("")]
        else:
            cells = [_cell(row.adapter), _cell("pending", "dim"), _cell(""), _cell("")]
        if narrow:
            name, status, took, detail = cells
            cells = [Text("\n").join(part for part in (name, status, took) if part.plain), detail]
        table.add_row(*cells)
    return table


def finished_table(report: Report, rows: list[Row], width: int | None = None) -> Table:
    """A target's final table, with a footer: its wall time and counts by status. The
    footer's time is never less than a row's: both are shown as the same rounded seconds."""
    table = render_table(report.target, rows, time.monotonic(), width)
    wall_ms = round((report.finished_at - report.started_at).total_seconds() * 1000)
    took_ms = max([wall_ms, *(r.elapsed_ms for r in report.results)])
    counts = {s: sum(r.status is s for r in report.results) for s in Status}
    shown = " · ".join(f"{n} {s.value}" for s, n in counts.items() if n)
    cached = sum(r.cached_at is not None for r in report.results)
    shown += f" ({cached} cached)" if cached else ""
    table.caption = _cell(f"{took_ms / 1000:.2f}s · {shown}")
    table.caption_justify = "left"
    return table


class SafeConsole(Console):
    """A reader closing the pipe ends the output (exit 141), instead of Rich's SystemExit."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        if threading.current_thread() is threading.main_thread():  # not the refresh thread
            raise OutputClosed()


class _OpenTables:
    """The live region: rendered from the current rows each time it is drawn, so a
    redraw after a finished table is printed never shows a stale copy of it."""

    def __init__(self, sink: TableSink) -> None:
        self.sink = sink

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.sink.open_tables(options.max_width)


class TableSink(Sink):
    """Live tables for targets in progress; each finished table is printed once, above
    them, and stays on screen.

    Two locks: `_screen` serialises every write to the terminal (the redraw thread's and
    ours); `_state` guards the rows, held only to read or change them. A redraw takes
    `_state` inside `_screen`; nothing takes `_screen` while holding `_state`.
    """

    def __init__(self, console: Console, adapters: list[str], *, live: bool) -> None:
        self.console = console
        self.adapters = adapters
        self.live = live
        self._open: dict[str, tuple[Target, dict[str, Row]]] = {}
        self._state = threading.RLock()  # re-entrant: a signal handler may interrupt the holder
        self._screen = threading.RLock()
        self._stopped = threading.Event()
        self._live: Live | None = None
        self._ticker: threading.Thread | None = None
        if live:
            self._live = Live(
                _OpenTables(self),
                console=console,
                auto_refresh=False,
                redirect_stderr=_is_terminal(sys.stderr),  # else `2>log` lines would land on screen
            )
            self._live.start()
            self._ticker = threading.Thread(target=self._tick, name="osint-fanout-table", daemon=True)
            self._ticker.start()

    def _tick(self) -> None:
        while not self._stopped.wait(REFRESH_S):
            with self._screen:
                if self._live is None or self._stopped.is_set():
                    return
                try:
                    self._live.refresh()
                except Exception:  # a closed terminal: stop redrawing, never a thread traceback
                    return

    def _rows(self, target: Target) -> dict[str, Row]:
        if target.value not in self._open:
            self._open[target.value] = (target, {name: Row(name) for name in self.adapters})
        return self._open[target.value][1]

    def open_tables(self, width: int | None = None) -> Iterator[Table]:
        """The tables of the targets in progress, as they are now."""
        with self._state:
            now = time.monotonic()
            tables = [render_table(t, list(rows.values()), now, width) for t, rows in self._open.values()]
        yield from tables

    def started(self, target: Target, adapter: str) -> None:
        with self._state:
            self._rows(target)[adapter].started = time.monotonic()

    def result(self, result: Result) -> None:
        with self._state:
            self._rows(result.target)[result.adapter].result = result

    def report(self, report: Report) -> None:
        with self._state:
            rows = self._rows(report.target)  # each of its results came through result() first
            del self._open[report.target.value]
            table = finished_table(report, list(rows.values()), self.console.width)
        with self._screen:  # the live region is redrawn under it, without this target
            self.console.print(table)

    def finish(self) -> None:
        self._stopped.set()
        if not self._screen.acquire(timeout=STOP_WAIT_S):
            return  # a write is stuck (a stopped terminal); the process is ending anyway
        try:
            if self._live is not None:
                self._live.stop()  # its last redraw is empty: no table in progress is left
                self._live = None
        finally:
            self._screen.release()


def _is_terminal(stream: object) -> bool:
    try:
        return bool(stream is not None and stream.isatty())  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        return False


class TableToFile(TableSink):
    """The table format into an `-o` file: printed once, at the end, then committed."""

    def __init__(self, console: Console, names: list[str], destination: Destination) -> None:
        super().__init__(console, names, live=False)
        self.destination = destination

    def finish(self) -> None:
        super().finish()
        self.destination.commit()
