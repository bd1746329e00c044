"""Run statistics: counts by adapter, status and error type; the end-of-run summary."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._output import Sink
from ._results import Report, Result

if TYPE_CHECKING:
    from rich.console import Console

    from ._inputs import InputStats

__all__ = ["Stats", "why_failed"]

_FAILED = (("timeout", "timeout", "timeouts"), ("error", "error", "errors"), ("cancelled", "cancelled", "cancelled"))


def why_failed(summary: dict[str, Any]) -> str:
    """What made a run exit 1, in a few words: `2 timeouts, 1 error, 1 invalid input line`."""
    counts = [(summary["results"].get(status, 0), one, many) for status, one, many in _FAILED]
    counts.append((summary["invalid_lines"], "invalid input line", "invalid input lines"))
    return ", ".join(f"{n} {one if n == 1 else many}" for n, one, many in counts if n) or "some calls failed"


class Stats(Sink):
    def __init__(self, adapters: list[str], *, console: Console | None, show_summary: bool) -> None:
        self.adapters = adapters
        self.console = console
        self.show_summary = show_summary
        self.inputs: InputStats | None = None
        self.total: int | None = None
        """Targets in the command line and inputs, when they can be counted up front."""
        self.began = time.monotonic()
        self.targets_done = 0
        self.by_adapter: dict[str, Counter[str]] = defaultdict(Counter)
        self.errors: Counter[str] = Counter()
        self.waited_ms: Counter[str] = Counter()
        self.queued_ms: Counter[str] = Counter()
        self.cached: Counter[str] = Counter()
        """Results reused from the store (--max-age), by adapter."""
        self.pivot: Callable[[], dict[str, Any]] | None = None
        """search --depth N: the pivot's part of the summary."""
        self._lock = threading.RLock()  # re-entrant: an emergency stop may interrupt the holder

    def result(self, result: Result) -> None:
        with self._lock:
            self.by_adapter[result.adapter][result.status.value] += 1
            if result.error is not None:
                self.errors[result.error.type] += 1
            self.waited_ms[result.adapter] += result.waited_ms
            self.queued_ms[result.adapter] += result.queued_ms
            if result.cached_at is not None:
                self.cached[result.adapter] += 1

    def report(self, report: Report) -> None:
        with self._lock:
            self.targets_done += 1

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            statuses: Counter[str] = Counter()
            for counts in self.by_adapter.values():
                statuses.update(counts)
            inputs = self.inputs
            return {
                "targets": self.targets_done,
                "targets_read": inputs.read if inputs else self.targets_done,
                "invalid_lines": inputs.invalid if inputs else 0,
                "resumed": inputs.resumed if inputs else 0,
                "other_shards": inputs.other_shards if inputs else 0,
                "not_started": None if self.total is None else max(0, self.total - (inputs.read if inputs else 0)),
                "results": dict(sorted(statuses.items())),
                "by_adapter": {name: dict(sorted(self.by_adapter[name].items())) for name in self.adapters},
                "errors": dict(sorted(self.errors.items())),
                "waited_s": {name: round(self.waited_ms[name] / 1000, 3) for name in self.adapters},
                "queued_s": {name: round(self.queued_ms[name] / 1000, 3) for name in self.adapters},
                "cached": sum(self.cached.values()),
                "cached_by_adapter": {name: self.cached[name] for name in self.adapters},
                **({"pivot": self.pivot()} if self.pivot is not None else {}),
                "wall_s": round(time.monotonic() - self.began, 3),
            }

    @property
    def summary_shown(self) -> bool:
        """True when the summary is printed on stderr at the end (it says why a run failed)."""
        return self.console is not None and self.show_summary

    def finish(self) -> None:
        if self.console is None or not self.show_summary:
            return
        from rich.text import Text  # Rich is loaded only when a summary is printed

        summary = self.as_dict()
        lines = [
            f"{summary['targets']} targets in {summary['wall_s']:.1f}s"
            + (f", {summary['invalid_lines']} invalid lines skipped" if summary["invalid_lines"] else "")
            + (f", {summary['resumed']} already done (--resume)" if summary["resumed"] else "")
            + (f", {summary['other_shards']} left to other shards" if summary["other_shards"] else "")
            + (f", {summary['not_started']} not started" if summary["not_started"] else ""),
            "results: "
            + (", ".join(f"{n} {s}" for s, n in summary["results"].items()) or "none")
            + (f" ({summary['cached']} cached)" if summary["cached"] else ""),
        ]
        for name, counts in summary["by_adapter"].items():
            waited, queued = summary["waited_s"][name], summary["queued_s"][name]
            cached = summary["cached_by_adapter"][name]
            extra = f" ({cached} cached)" if cached else ""
            extra += f" (queued {queued:.1f}s for rate limits)" if queued >= 0.05 else ""
            extra += f" (waited {waited:.1f}s for retries)" if waited >= 0.05 else ""
            lines.append(f"  {name}: " + (", ".join(f"{n} {s}" for s, n in counts.items()) or "-") + extra)
        if summary["errors"]:
            lines.append("errors: " + ", ".join(f"{n} {t}" for t, n in summary["errors"].items()))
        if "pivot" in summary:
            lines.extend(pivot_lines(summary["pivot"]))
        from ._logs import file_time_prefix

        lines[0] = file_time_prefix(self.console.file) + lines[0]  # 2>>osint.log: when this run ended
        for line in lines:
            self.console.print(Text(line), highlight=False)


def pivot_lines(pivot: dict[str, Any]) -> list[str]:
    """The pivot's lines of the summary: targets by depth, assets by type, what was not followed."""
    def counts(values: dict[str, int]) -> str:
        return ", ".join(f"{n} {key}" for key, n in values.items()) or "none"

    by_depth = ", ".join(f"{n} at depth {depth}" for depth, n in pivot["targets_by_depth"].items()) or "none"
    lines = [
        f"pivot (--depth {pivot['depth']}): {pivot['followed']} followed; targets: {by_depth}",
        f"  assets found: {counts(pivot['assets_by_type'])}",
        f"  not followed: {counts(pivot['not_followed'])}",
    ]
    if pivot["wildcards"]:
        lines.append("  wildcards: " + ", ".join(f"{name} ({n} names)" for name, n in pivot["wildcards"].items()))
    elif not pivot["wildcard_detection"]:
        lines.append("  wildcards: not detected (no adapter of the run resolves names, e.g. dns)")
    return lines
