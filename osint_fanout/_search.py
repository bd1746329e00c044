"""The `search` command, wired: the plan, the targets, the sinks, the engine, the process.
Nothing is decided here that the plan (`_plan.py`) has not resolved."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._adapter import asks_http
from ._engine import Investigation
from ._exitcodes import EXIT_FAILED, EXIT_STORE, EXIT_USAGE
from ._http import HttpPool, HttpSetupError
from ._inputs import InputStats, completed_targets, count_targets, open_inputs, target_stream
from ._logs import setup_logging
from ._output import Destination, JsonSink, NdjsonSink, OutputError, Sink
from ._plan import Flags, Plan, late_turns, make_plan
from ._plugins import discover
from ._process import execute
from ._quota import FileLedger, Ledger, default_ledger_path
from ._redact import terminal_safe
from ._settings import ConfigError, load_settings
from ._stats import Stats, why_failed
from ._targets import InvalidTarget, Target, parse_target

if TYPE_CHECKING:
    from rich.console import Console

    from ._cache import ResultCache
    from .pivot import Pivot, PivotOptions

__all__ = ["SearchRequest", "run_search"]

log = logging.getLogger("osint_fanout")


@dataclass(frozen=True)
class SearchRequest:
    targets: list[str]
    input_files: list[str] = field(default_factory=list)
    config: Path | None = None
    flags: Flags = field(default_factory=Flags)
    resume: bool = False
    summary: bool = False
    quiet: bool = False
    verbose: int = 0
    started: float | None = None
    pivot: PivotOptions | None = None
    """search --depth N (N >= 1): follow what the results find."""
    dry_scope: bool = False


def run_search(request: SearchRequest) -> int:
    setup_logging(request.verbose, request.quiet)
    registry = discover(request.flags.only or None)  # `-a dns` imports no other adapter
    for name, why in registry.failed.items():
        log.warning("adapter plugin %r failed to load: %s", name, why)
    output = request.flags.output
    try:
        settings = load_settings(registry, request.config)
        plan = make_plan(settings, registry, request.flags, stdout_is_terminal=sys.stdout.isatty())
        positional = [parse_target(text) for text in request.targets]
        _check_flags(request, plan)
        names = [ready.name for ready in plan.adapters]
        for line in late_turns(plan, time.time()):
            log.warning("%s", line)
        skip = completed_targets(output, names) if request.resume and output else set()
        inputs = open_inputs(request.input_files)
        if request.dry_scope:
            return _dry_scope(request, plan, positional, inputs)
        bulk = bool(inputs) or len(positional) > 1 or request.pivot is not None
        stats = Stats(names, console=_stderr_console() if bulk and not request.quiet else None, show_summary=bulk)
        pool = HttpPool(ledger=_ledger(plan))
        # the HTTP clients now, not in the first queries' time (and a bad CA file is bad usage)
        pool.warm([ready.name for ready in plan.adapters if asks_http(ready.adapter.options)])
        pivot = _pivot(request, plan, pool)
        outputs = _sinks(request, plan, names, stats, watch=not bulk, pivot=pivot)
        store_sink = _store_sink(plan)
    except (ConfigError, InvalidTarget, OutputError, HttpSetupError) as exc:
        print(f"osint-fanout: error: {terminal_safe(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    # Live displays come after stats: sinks finish in reverse order, so every display has
    # stopped (and left the screen as it should stay) before the summary is printed.
    displays = [sink for sink in outputs if getattr(sink, "live", False)]  # TableSinks (Rich is loaded for them only)
    sinks = [*(sink for sink in outputs if sink not in displays), stats, *displays]
    if store_sink is not None:
        sinks.insert(0, store_sink)  # finished last: after the output and the summary
    stats.total = count_targets(positional, inputs) if bulk else len(positional)
    if bulk and not request.quiet and not displays and sys.stderr.isatty():
        total = None if request.resume or stats.total is None or pivot is not None else stats.total
        from ._progress import ProgressSink

        sinks.append(ProgressSink(_stderr_console(), stats, total, queues=pool.queues))
    cache = _cache(plan)
    engine = Investigation(
        list(plan.adapters),
        concurrency=plan.concurrency,
        deadline_s=plan.deadline_s,
        max_queued=plan.max_queued,
        clock_start=request.started,
        cache=cache,
        origin=pivot.origin if pivot is not None else None,
    )
    stats.inputs = InputStats()
    targets = target_stream(
        positional, inputs, stats=stats.inputs, skip=skip, on_invalid=log.warning, shard=plan.shard
    )
    targets = _pivoted(pivot, targets, sinks, stats)

    def finish(code: int) -> int:
        """The exit code and its one line (even with -q); run by execute before it may leave at once."""
        if cache is not None:
            cache.close()
        if code in (130, 143):
            print("osint-fanout: interrupted; unfinished adapters are reported as cancelled", file=sys.stderr)
        if code == 0 and stats.inputs.invalid:
            code = EXIT_FAILED  # some of what was asked could not even be tried
        # The store's sinks (recording; comparing, for --changes) say whether they failed.
        store_failed = any(getattr(sink, "failed", False) for sink in (store_sink, *outputs))
        if store_failed and code in (0, EXIT_FAILED):
            code = EXIT_STORE  # the results (or changes) were printed; the store says what failed on stderr
        if code == EXIT_FAILED and not stats.summary_shown:
            print(f"osint-fanout: {why_failed(stats.as_dict())}; exit 1 (see --summary)", file=sys.stderr)
        return code

    return execute(
        engine, targets, sinks, max_time_s=plan.max_time_s, started=request.started, pool=pool, finish=finish
    )


def _check_flags(request: SearchRequest, plan: Plan) -> None:
    """Flags that cannot apply to the plan's output are refused, not ignored."""
    if request.resume and plan.output_format != "ndjson":
        raise ConfigError("--resume needs --format ndjson (results are appended line by line)")
    if request.summary and plan.output_format != "ndjson":
        raise ConfigError(
            f"--summary ends ndjson output with a summary line, but the output is {plan.output_format}; "
            "add -f ndjson, or drop --summary"
        )
    if request.resume and plan.changes:
        raise ConfigError("--resume reads results from the -o file, but --changes writes change events there")


def _pivot(request: SearchRequest, plan: Plan, pool: HttpPool) -> Pivot | None:
    if request.pivot is None:
        return None
    if request.resume:  # a skipped seed's results would be missing, and so would all it leads to
        raise ConfigError("--resume cannot be used with --depth: a pivot is run whole (use --changes to compare)")
    from .pivot import ScopeError, make_pivot

    started = request.started or time.monotonic()
    stop_at = started + plan.max_time_s if plan.max_time_s else None
    try:
        return make_pivot(request.pivot, plan.adapters, pool, stop_at=stop_at)
    except ScopeError as exc:
        raise ConfigError(str(exc)) from None


def _pivoted(
    pivot: Pivot | None, targets: AsyncIterator[Target], sinks: list[Sink], stats: Stats
) -> AsyncIterator[Target]:
    """The feedback edge: what the results find joins the same target stream."""
    if pivot is None:
        return targets
    sinks.append(pivot)  # finished first: what it left waiting is counted before the summary
    stats.pivot = pivot.summary
    return pivot.stream(targets)


def _dry_scope(request: SearchRequest, plan: Plan, positional: list[Target], inputs: list[Any]) -> int:
    """--dry-scope: the pivot's plan on stdout; nothing is asked."""
    from .pivot import PivotOptions, ScopeError, scope_plan

    options = request.pivot or PivotOptions(depth=0)

    def more() -> int:
        return (count_targets([], inputs) or 0) if inputs else 0

    try:
        lines = scope_plan(options, positional, plan.adapters, more=more)
    except ScopeError as exc:
        print(f"osint-fanout: error: {terminal_safe(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    print(terminal_safe("\n".join(lines)))
    return 0


def _ledger(plan: Plan) -> Ledger | None:
    """Where quota use is counted across runs: the store when it is on, else a state file;
    nothing to open when no adapter of the run has a quota."""
    if not any(quota for ready in plan.adapters for quota in ready.http.quotas.values()):
        return None
    if plan.store_url is None:
        return FileLedger(default_ledger_path())
    from .store import StoreLedger

    return StoreLedger(plan.store_url)


def _cache(plan: Plan) -> ResultCache | None:
    """The store as a cache when some adapter has a max age (--max-age, max_age)."""
    if plan.store_url is None or all(ready.max_age_s is None for ready in plan.adapters):
        return None
    from .store import StoreCache

    return StoreCache(plan.store_url)


def _stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


def _store_sink(plan: Plan) -> Sink | None:
    if plan.store_url is None:
        return None
    from .assets import findings_from
    from .store import StoreSink

    findings = findings_from({ready.name: ready.adapter for ready in plan.adapters})
    return StoreSink(
        plan.store_url, keep_s=plan.store_keep_s, finish_timeout_s=plan.store_commit_timeout_s, findings=findings
    )


def _sinks(
    request: SearchRequest, plan: Plan, names: list[str], stats: Stats, *, watch: bool, pivot: Pivot | None = None
) -> list[Sink]:
    fmt, output = plan.output_format, request.flags.output
    destination = Destination(output, append=fmt == "ndjson" and output is not None)
    sinks: list[Sink] = []
    if plan.changes:
        sinks.append(_changes_sink(plan, destination, stats.as_dict if request.summary else None))
    elif fmt == "ndjson":
        sinks.append(NdjsonSink(destination, summary=stats.as_dict if request.summary else None))
    elif fmt == "json":
        sinks.append(JsonSink(destination, indent=2 if destination.is_terminal() else None))
    else:
        sinks.append(_table_sink(destination, names, pivot))
    if watch and output and fmt != "table" and sys.stdout.isatty() and not request.quiet:
        from ._table import SafeConsole, TableSink

        sinks.append(TableSink(SafeConsole(), names, live=True))  # watch it while it is saved
    return sinks


def _table_sink(destination: Destination, names: list[str], pivot: Pivot | None) -> Sink:
    from ._table import SafeConsole, TableSink, TableToFile

    output = destination.path
    console = SafeConsole(file=destination.stream, width=None if output is None else 160)
    if output:
        return TableToFile(console, names, destination)
    if pivot is not None:  # seeds as tables, followed targets grouped by depth
        from .pivot._table import PivotTableSink

        return PivotTableSink(console, names, live=console.is_terminal, origin=pivot.origin)
    return TableSink(console, names, live=console.is_terminal)


def _changes_sink(plan: Plan, destination: Destination, summary: Callable[[], dict[str, Any]] | None) -> Sink:
    """--changes: the change events against what the store held when the run started, on
    the output instead of the results (then the summary line, with --summary)."""
    from .assets import findings_from
    from .store import ChangesSink, facts_from

    assert plan.store_url is not None  # the plan refuses --changes without a store
    adapters = {ready.name: ready.adapter for ready in plan.adapters}
    return ChangesSink(
        plan.store_url,
        destination,
        facts_from(adapters),
        summary=summary,
        finish_timeout_s=plan.store_commit_timeout_s,
        findings_fn=findings_from(adapters),
    )

