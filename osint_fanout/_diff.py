"""The `diff` command: per target and adapter, the newest stored ok/empty result against
the one before it (or the newest before `--since`, or as of `--run`), as change events."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._args import names as names_arg
from ._help import complete_adapter_names
from ._history import MAX_ID, ConfigOption, FormatOption, StoreOption, format_of, store_command, usage

if TYPE_CHECKING:
    from ._plugins import Registry
    from ._settings import Settings
    from .assets import FindingsFn
    from .store import ChangeEvent, FactsFn, Store

__all__ = ["diff"]

CHUNK = 500
"""Targets compared per round of queries: memory stays bounded whatever the list."""


def diff(
    targets: Annotated[
        list[str] | None,
        typer.Argument(metavar="TARGET", help="Domains, IP addresses or URLs.", show_default=False),
    ] = None,
    input_files: Annotated[
        list[str] | None,
        typer.Option(
            "--input", "-i", metavar="FILE", help="Read targets from FILE, one per line ('-' for stdin).",
            show_default="none",
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            metavar="DURATION", help="Compare with the newest result older than this: 1d, 12h, 7d.",
            show_default="the result before the newest",
        ),
    ] = None,
    run: Annotated[
        int | None,
        typer.Option(
            "--run", metavar="ID", help="Compare with what was stored when run ID ended (see history).",
            show_default="none", min=1, max=MAX_ID,
        ),
    ] = None,
    adapters: Annotated[
        list[str] | None,
        typer.Option(
            "--adapters", "-a", metavar="NAME[,NAME...]", help="Only these adapters; may be repeated.",
            show_default="all",
            autocompletion=complete_adapter_names,
        ),
    ] = None,
    output_format: FormatOption = None,
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Say what changed: added, removed or changed facts per target and adapter.

    Exit code 0 when nothing changed, 1 when something did, 2 for bad usage, 3 when the
    store cannot be read. Failed lookups (error, timeout, cancelled, skipped) are never compared."""
    from ._duration import parse_duration

    if since is not None and run is not None:
        raise typer.BadParameter("give --since or --run, not both", param_hint="--since")
    if not targets and not input_files:
        raise typer.BadParameter("give at least one target, or --input FILE", param_hint="TARGETS")
    since_s = None
    if since is not None:
        try:
            since_s = parse_duration(since)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--since") from None
    only = names_arg(adapters, "--adapters")
    fmt = format_of(output_format)

    def work(opened: Store, settings: Settings, registry: Registry) -> int:
        values = _targets(targets or [], input_files or [])
        where = _baseline(opened, since_s, run)
        printer = _Printer(fmt)
        unknown = 0
        facts_fn, findings_fn = _adapter_fns(registry, settings)
        for start in range(0, len(values), CHUNK):
            chunk = values[start : start + CHUNK]
            found = compare(opened, chunk, facts_fn, adapters=only, where=where, findings_fn=findings_fn)
            for _value, events in found:
                if events is None:
                    unknown += 1
                else:
                    printer.add(events)
        printer.close()
        if unknown:
            print(f"osint-fanout: {unknown} of {len(values)} targets have no stored ok/empty result", file=sys.stderr)
        return 1 if printer.count else 0

    raise typer.Exit(store_command(work, config=config, store=store))


def compare(
    store: Store,
    values: list[str],
    facts_fn: FactsFn,
    *,
    adapters: list[str] | None = None,
    where: list[Any] | None = None,
    findings_fn: FindingsFn | None = None,
) -> list[tuple[str, list[ChangeEvent] | None]]:
    """Each target's change events (None: nothing stored for it). `where`: conditions that
    pick the baseline (None: the result before the newest); `findings_fn`: new and gone
    assets too."""
    from .store import target_changes

    if where is None:
        both = store.newest(values, adapters=adapters, depth=2)
        after = {key: ranked[0] for key, ranked in both.items()}
        before = {key: ranked[1] for key, ranked in both.items() if len(ranked) > 1}
    else:
        after = {key: ranked[0] for key, ranked in store.newest(values, adapters=adapters).items()}
        before = {key: ranked[0] for key, ranked in store.newest(values, adapters=adapters, where=where).items()}
    by_target: dict[str, list[str]] = {}
    for value, adapter in sorted(after):
        by_target.setdefault(value, []).append(adapter)
    out: list[tuple[str, list[ChangeEvent] | None]] = []
    for value in values:
        names = by_target.get(value)
        if not names:
            out.append((value, None))
            continue
        pairs = [(before.get((value, name)), after[(value, name)]) for name in names]
        out.append((value, target_changes(pairs, facts_fn, findings_fn)))
    return out


def _baseline(store: Store, since_s: float | None, run: int | None) -> list[Any] | None:
    from .store._tables import results

    if since_s is not None:
        return [results.c.recorded_at < datetime.now(UTC) - timedelta(seconds=since_s)]
    if run is not None:
        end = store.run_end(run)
        if end is None:
            raise usage(f"--run {run}: no such run with results in {store.shown}")
        return [results.c.recorded_at <= end]
    return None


def _adapter_fns(registry: Registry, settings: Settings) -> tuple[FactsFn, FindingsFn]:
    """The facts and findings functions of every installed adapter."""
    from .assets import findings_from
    from .store import facts_from

    adapters = {name: cls(settings.options[name]) for name, cls in registry.adapters.items()}
    return facts_from(adapters), findings_from(adapters)


def _targets(positional: list[str], files: list[str]) -> list[str]:
    """Canonical values, in order, once each; a bad positional target is a usage error,
    a bad line in a file a warning."""
    import asyncio

    from ._inputs import InputStats, open_inputs, target_stream
    from ._settings import ConfigError
    from ._targets import InvalidTarget, parse_target

    try:
        parsed = [parse_target(text) for text in positional]
        inputs = open_inputs(files)
    except (InvalidTarget, ConfigError) as exc:
        raise usage(str(exc)) from None

    def warn(message: str) -> None:
        print(f"osint-fanout: warning: {message}", file=sys.stderr)

    async def collect() -> list[str]:
        stream = target_stream(parsed, inputs, stats=InputStats(), skip=set(), on_invalid=warn)
        return [target.value async for target in stream]

    return list(dict.fromkeys(asyncio.run(collect())))


class _Printer:
    """ndjson: each event as it comes; json: one array at the end; table: one at the end."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.count = 0
        self.kept: list[ChangeEvent] = []

    def add(self, events: list[ChangeEvent]) -> None:
        from ._output import to_json

        self.count += len(events)
        if self.fmt == "ndjson":
            for event in events:
                sys.stdout.write(to_json(event) + "\n")
            sys.stdout.flush()
        else:
            self.kept.extend(events)

    def close(self) -> None:
        if self.fmt == "json":
            from ._output import json_text

            indent = 2 if sys.stdout.isatty() else None
            sys.stdout.write(json_text([event.model_dump(mode="json") for event in self.kept], indent=indent) + "\n")
        elif self.fmt == "table":
            _table(self.kept)


def _table(events: list[ChangeEvent]) -> None:
    from ._table import SafeConsole

    if not events:
        print("osint-fanout: nothing changed", file=sys.stderr)
        return
    console = SafeConsole()
    for table in change_tables(events, console.width):
        console.print(table)


NARROW = {"adapter": 10, "fact": 12, "change": 10, "after (UTC)": 10}
"""When the natural widths do not fit, the other columns wrap to these (the time goes on
two lines) and the value column, the one that matters, gets the rest: 22 at 80 columns.
(Rich alone shrinks the widest column first, which is the value.)"""


def change_tables(events: list[ChangeEvent], width: int) -> list[Any]:
    """One Rich table per target (its name as the title, as in search's table): the
    target's name is not repeated in a column that would take the value's room."""
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    from ._redact import terminal_safe

    styles = dict.fromkeys(("added", "new"), "green") | dict.fromkeys(("removed", "gone"), "red")
    styles |= {"changed": "yellow", "first_seen": "cyan"}
    by_target: dict[str, list[ChangeEvent]] = {}
    for event in events:
        by_target.setdefault(event.target, []).append(event)
    columns = ("adapter", "fact", "change", "value", "after (UTC)")
    tables = []
    for target, group in by_target.items():
        rows = [[terminal_safe(cell)[:160] for cell in _cells(event)] for event in group]
        natural = [max(cell_len(text) for text in [name, *(row[i] for row in rows)]) for i, name in enumerate(columns)]
        narrow = sum(natural) + 3 * len(columns) + 1 > width
        table = Table(title=Text(terminal_safe(target), style="bold"), title_justify="left")
        for name in columns:
            table.add_column(name, overflow="fold", max_width=NARROW.get(name) if narrow else None)
        for event, row in zip(group, rows, strict=True):
            table.add_row(*(Text(cell) for cell in row), style=styles.get(event.change, ""))
        tables.append(table)
    return tables


def _cells(event: ChangeEvent) -> tuple[str, ...]:
    value = getattr(event, "value", None)
    if event.change == "changed":
        value = f"{getattr(event, 'before', None)} -> {getattr(event, 'after', None)}"
    return (
        event.adapter or "-",
        getattr(event, "fact", None) or getattr(event, "type", ""),  # an asset's type
        event.change,
        "" if value is None else str(value),
        event.after_at.strftime("%Y-%m-%d %H:%M:%S"),
    )
