"""The live table of a pivoted run: the seeds as full tables, the targets followed from
them grouped by depth. A followed target that finished collapses into its depth's counts;
one that is running keeps a line of its own, as many as the terminal has room for, so a
run of hundreds of targets stays readable on an 80x24 terminal."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator

from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from .._redact import terminal_safe
from .._results import FoundBy, Report, Status
from .._table import STATUS_STYLE, Row, TableSink, render_table
from .._targets import Target

__all__ = ["PivotTableSink", "depth_lines"]

Origin = Callable[[Target], tuple[int, FoundBy | None]]
_ORDER = ("ok", "empty", "failed", "skipped")


def _outcome(report: Report) -> str:
    """One word for a finished target: ok when any adapter found something."""
    statuses = {result.status for result in report.results}
    if Status.OK in statuses:
        return "ok"
    if statuses & {Status.ERROR, Status.TIMEOUT, Status.CANCELLED}:
        return "failed"
    return "empty" if Status.EMPTY in statuses else "skipped"


def depth_lines(done: dict[int, Counter[str]], running: dict[int, int]) -> list[str]:
    """One line a depth: its finished targets by outcome, and how many are running."""
    lines = []
    for depth in sorted(set(done) | set(running)):
        counts = done.get(depth, Counter())
        total = sum(counts.values())
        parts = ", ".join(f"{counts[word]} {word}" for word in _ORDER if counts[word])
        line = f"depth {depth}: {total} done" + (f" ({parts})" if parts else "")
        if running.get(depth):
            line += f" · {running[depth]} running"
        lines.append(line)
    return lines


def _running_line(target: Target, rows: list[Row], now: float, width: int) -> Text:
    """`  name  dns ok · ct 1.2s`: a followed target in progress, on one line."""
    text = Text("  ")
    text.append(terminal_safe(target.value)[:60], style="bold")
    for row in rows:
        text.append("  ")
        text.append(row.adapter + " ")
        if row.result is not None:
            text.append(row.result.status.value, style=STATUS_STYLE[row.result.status])
        elif row.started is not None:
            text.append(f"{now - row.started:.1f}s", style="blue")
        else:
            text.append("pending", style="dim")
    text.truncate(max(20, width - 1), overflow="ellipsis")
    text.no_wrap = True
    return text


class PivotTableSink(TableSink):
    def __init__(self, console: Console, adapters: list[str], *, live: bool, origin: Origin) -> None:
        self.origin = origin
        self.done: dict[int, Counter[str]] = defaultdict(Counter)
        self._ended = False
        super().__init__(console, adapters, live=live)

    def report(self, report: Report) -> None:
        if report.depth == 0:
            super().report(report)  # a seed's table is printed once and stays
            return
        with self._state:
            self._open.pop(report.target.value, None)
            self.done[report.depth][_outcome(report)] += 1

    def open_tables(self, width: int | None = None) -> Iterator[RenderableType]:  # type: ignore[override]
        """The seeds in progress as tables, then each depth's counts and running targets,
        cut to the terminal's height."""
        with self._state:
            if self._ended:  # the last redraw is empty: the counts are printed once, to stay
                return
            now = time.monotonic()
            seeds, followed = [], []
            for target, rows in self._open.values():
                depth = self.origin(target)[0]
                (followed if depth else seeds).append((depth, target, list(rows.values())))
            done = {depth: Counter(counts) for depth, counts in self.done.items()}
        height = self.console.size.height
        width = width or self.console.size.width
        tables: list[RenderableType] = [render_table(target, rows, now, width) for _, target, rows in seeds]
        used = sum(len(rows) + 4 for _, _, rows in seeds)  # a table: title, borders, header
        running = Counter(depth for depth, _, _ in followed)
        summary = depth_lines(done, running)
        room = max(0, height - used - len(summary) - 2)
        grouped = Table.grid()
        for depth_line in summary:
            depth = int(depth_line.split(":", 1)[0].removeprefix("depth "))
            grouped.add_row(Text(depth_line, style="bold"))
            mine = [(target, rows) for d, target, rows in followed if d == depth]
            shown, room = mine[:room], room - len(mine[:room])
            for target, rows in shown:
                grouped.add_row(_running_line(target, rows, now, width))
            if len(mine) > len(shown):
                grouped.add_row(Text(f"  ... and {len(mine) - len(shown)} more running", style="dim"))
        if summary:
            tables.append(grouped)
        yield from tables

    def finish(self) -> None:
        with self._state:
            self._ended = True
        super().finish()
        with self._state:
            lines = depth_lines(self.done, {})
        if lines:
            with self._screen:
                for line in lines:
                    self.console.print(Text(line), highlight=False)
