"""The `search` command: settings, targets and sinks in, an exit code out."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from ._engine import Investigation
from ._exitcodes import EXIT_FAILED, EXIT_STORE, EXIT_USAGE
from ._http import HttpPool, ProxyError
from ._inputs import InputStats, completed_targets, count_targets, open_inputs, target_stream
from ._output import Destination, JsonSink, NdjsonSink, OutputError, Sink
from ._plugins import discover
from ._progress import ProgressSink
from ._redact import RedactingFilter, terminal_safe
from ._run import execute
from ._settings import ConfigError, Overrides, Settings, load_settings, ready_adapters
from ._stats import Stats
from ._table import SafeConsole, TableSink
from ._targets import InvalidTarget, parse_target

if TYPE_CHECKING:
    from .store import StoreSink

__all__ = ["SearchRequest", "run_search"]

log = logging.getLogger("osint_fanout")
_handler: logging.Handler | None = None


@dataclass(frozen=True)
class SearchRequest:
    targets: list[str]
    input_files: list[str]
    config: Path | None
    only: list[str] | None
    exclude: list[str] | None
    timeout_s: float | None
    deadline_s: float | None
    max_time_s: float | None
    concurrency: int | None
    output_format: str | None
    output: Path | None
    resume: bool
    summary: bool
    quiet: bool
    verbose: int
    started: float | None = None
    store: str | None = None
    no_store: bool = False


def run_search(request: SearchRequest) -> int:
    setup_logging(request.verbose, request.quiet)
    registry = discover()
    for name, why in registry.failed.items():
        log.warning("adapter plugin %r failed to load: %s", name, why)
    flags = Overrides(
        concurrency=request.concurrency,
        timeout_s=request.timeout_s,
        deadline_s=request.deadline_s,
        only=request.only,
        exclude=request.exclude,
    )
    fmt = request.output_format or ("json" if request.output or not sys.stdout.isatty() else "table")
    try:
        settings = load_settings(registry, request.config)
        ready = ready_adapters(settings, registry, flags)
        positional = [parse_target(text) for text in request.targets]
        if request.resume and fmt != "ndjson":
            raise ConfigError("--resume needs --format ndjson (results are appended line by line)")
        names = [r.name for r in ready]
        skip = completed_targets(request.output, names) if request.resume and request.output else set()
        inputs = open_inputs(request.input_files)
        bulk = bool(inputs) or len(positional) > 1
        stats = Stats(names, console=None if request.quiet else Console(stderr=True), show_summary=bulk)
        pool = HttpPool()
        outputs = _sinks(request, fmt, names, stats, watch=not bulk)
        store_sink = _store_sink(request, settings)
    except (ConfigError, InvalidTarget, OutputError, ProxyError) as exc:
        print(f"osint-fanout: error: {terminal_safe(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    # Live displays come after stats: sinks finish in reverse order, so every display has
    # stopped (and left the screen as it should stay) before the summary is printed.
    displays = [sink for sink in outputs if isinstance(sink, TableSink) and sink.live]
    sinks = [*(sink for sink in outputs if sink not in displays), stats, *displays]
    if store_sink is not None:
        sinks.insert(0, store_sink)  # finished last: after the output and the summary
    stats.total = count_targets(positional, inputs) if bulk else len(positional)
    if bulk and not request.quiet and not displays and sys.stderr.isatty():
        total = None if request.resume or stats.total is None else stats.total
        sinks.append(ProgressSink(Console(stderr=True), stats, total))
    engine = Investigation(
        ready,
        concurrency=request.concurrency or settings.run.concurrency,
        deadline_s=request.deadline_s or settings.run.deadline_s,
        clock_start=request.started,
    )
    stats.inputs = InputStats()
    targets = target_stream(positional, inputs, stats=stats.inputs, skip=skip, on_invalid=log.warning)
    code = execute(engine, targets, sinks, max_time_s=request.max_time_s, started=request.started, pool=pool)
    if code in (130, 143) and not request.quiet:
        print("osint-fanout: interrupted; unfinished adapters are reported as cancelled", file=sys.stderr)
    if code == 0 and stats.inputs.invalid:
        code = EXIT_FAILED  # some of what was asked could not even be tried
    if store_sink is not None and store_sink.failed and code in (0, EXIT_FAILED):
        code = EXIT_STORE  # the results were printed; the store says it failed on stderr
    return code


def _store_sink(request: SearchRequest, settings: Settings) -> StoreSink | None:
    """The store's sink, or None when the store is off (minimal wiring, see above)."""
    from .store import StoreSink, StoreUrlError, choose_url

    try:
        url = choose_url(
            request.store, no_store=request.no_store, configured=settings.store.url, enabled=settings.store.enabled
        )
    except StoreUrlError as exc:
        raise ConfigError(str(exc)) from None
    return None if url is None else StoreSink(url, keep_s=settings.store.keep_s)


def _sinks(request: SearchRequest, fmt: str, names: list[str], stats: Stats, *, watch: bool) -> list[Sink]:
    append = fmt == "ndjson" and request.output is not None
    destination = Destination(request.output, append=append)
    sinks: list[Sink] = []
    if fmt == "ndjson":
        sinks.append(NdjsonSink(destination, summary=stats.as_dict if request.summary else None))
    elif fmt == "json":
        sinks.append(JsonSink(destination, indent=2 if destination.is_terminal() else None))
    else:
        console = SafeConsole(file=destination.stream, width=None if request.output is None else 160)
        sinks.append(
            _TableToFile(console, names, destination)
            if request.output
            else TableSink(console, names, live=console.is_terminal)
        )
    if watch and request.output and fmt != "table" and sys.stdout.isatty() and not request.quiet:
        sinks.append(TableSink(SafeConsole(), names, live=True))  # watch it while it is saved
    return sinks


class _TableToFile(TableSink):
    def __init__(self, console: Console, names: list[str], destination: Destination) -> None:
        super().__init__(console, names, live=False)
        self.destination = destination

    def finish(self) -> None:
        super().finish()
        self.destination.commit()


def setup_logging(verbose: int, quiet: bool) -> None:
    """stderr logging; every record passes the key-redacting filter."""
    global _handler
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    _handler = _StderrHandler()
    _handler.addFilter(RedactingFilter(tracebacks=verbose >= 3))
    _handler.setFormatter(_Formatter("osint-fanout: %(levelname)s: %(message)s"))
    root.addHandler(_handler)
    root.setLevel(logging.WARNING)
    level = (
        logging.ERROR if quiet else (logging.WARNING, logging.INFO)[min(verbose, 1)] if verbose < 2 else logging.DEBUG
    )
    logging.getLogger("osint_fanout").setLevel(level)
    logging.getLogger("osint_fanout.tracebacks").setLevel(logging.DEBUG if verbose >= 3 else logging.CRITICAL)
    for noisy in ("httpx", "httpcore", "hpack"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose >= 3 else logging.WARNING)


class _Formatter(logging.Formatter):
    """`osint-fanout: warning: ...`, like the error lines."""

    def format(self, record: logging.LogRecord) -> str:
        record.levelname = record.levelname.lower()
        return super().format(record)


class _StderrHandler(logging.Handler):
    """Writes to whatever sys.stderr is now, so Rich's live displays can take the lines."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)
