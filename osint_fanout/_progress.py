"""The bulk-run progress display on stderr: targets done, rate, ETA, counts per adapter."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from ._keys import QueueInfo
from ._output import Sink
from ._results import Report
from ._stats import Stats

__all__ = ["ProgressSink", "QueueAwareRemaining"]

_SHOWN = ("ok", "empty", "skipped", "error", "timeout", "cancelled")


class _Display(Progress):
    """A progress bar with one line of counts per adapter under it."""

    def __init__(self, stats: Stats, console: Console, queues: Callable[[], list[QueueInfo]]) -> None:
        self.stats = stats  # before super().__init__, which may render already
        self.queues = queues
        super().__init__(
            SpinnerColumn(),
            TextColumn("targets"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            QueueAwareRemaining(queues),
            console=console,
            refresh_per_second=4,
        )

    def get_renderables(self) -> Iterable[RenderableType]:
        yield self.make_tasks_table(self.tasks)
        summary = self.stats.as_dict()
        for name, counts in summary["by_adapter"].items():
            shown = ", ".join(f"{counts[s]} {s}" for s in _SHOWN if counts.get(s))
            waited, queued = summary["waited_s"].get(name, 0), summary["queued_s"].get(name, 0)
            line = f"  {name:<12} {shown or '-'}"
            line += f" · queued {queued:.0f}s for rate limits" if queued >= 0.5 else ""
            line += f" · waited {waited:.1f}s for retries" if waited else ""
            yield Text(line, style="dim")
        for queue in self.queues():  # each upstream's queue, and what it needs at its rate
            drain = queue.drain_s()
            needs = f", about {_duration(drain)} at {_rate(queue)}" if drain is not None else ""
            yield Text(f"  {queue.adapter}/{queue.upstream}: {queue.length} queued{needs}", style="dim")


class QueueAwareRemaining(ProgressColumn):
    """The time left: Rich's estimate from the pace so far, but never less than what the
    longest upstream queue needs at its rate (the pace of the first, unqueued calls says
    nothing of the calls that wait for a rate limit of 4/m)."""

    def __init__(self, queues: Callable[[], list[QueueInfo]]) -> None:
        super().__init__()
        self.queues = queues
        self.pace = TimeRemainingColumn()

    def render(self, task: Task) -> Text:
        needed = max((drain for queue in self.queues() if (drain := queue.drain_s()) is not None), default=None)
        if needed is None or task.finished:
            return self.pace.render(task)
        left = max(needed, task.time_remaining or 0.0)
        minutes, seconds = divmod(int(left + 0.999), 60)
        hours, minutes = divmod(minutes, 60)
        return Text(f"{hours}:{minutes:02d}:{seconds:02d}", style="progress.remaining")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def _rate(queue: QueueInfo) -> str:
    assert queue.rate is not None
    period = {1.0: "s", 60.0: "m", 3600.0: "h", 86400.0: "d"}.get(queue.rate.period_s, f"{queue.rate.period_s:g}s")
    return f"{queue.rate.count}/{period}"


class ProgressSink(Sink):
    def __init__(
        self, console: Console, stats: Stats, total: int | None, queues: Callable[[], list[QueueInfo]] = list
    ) -> None:
        self.stats = stats
        self.display = _Display(stats, console, queues)
        self.task = self.display.add_task("targets", total=total, rate="")
        self.display.start()

    def report(self, report: Report) -> None:
        done = self.stats.targets_done  # Stats comes before this sink and has counted it
        wall = max(self.stats.as_dict()["wall_s"], 1e-6)
        self.display.update(self.task, completed=done, rate=f"{done / wall:.1f}/s")

    def finish(self) -> None:
        done = self.stats.targets_done
        self.display.update(self.task, total=done, completed=done)  # invalid lines were counted too
        self.display.stop()
