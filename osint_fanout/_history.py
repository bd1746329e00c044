"""The commands that read the store: `history`, `prune` and `diff` (in _diff.py). Only
Typer is imported here; the store and Rich load inside the commands, so `--help` stays fast."""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ._args import names as names_arg
from ._exitcodes import EXIT_STORE, EXIT_USAGE
from ._help import complete_adapter_names

if TYPE_CHECKING:
    from ._plugins import Registry
    from ._settings import Settings
    from .store import Store, StoredResult

__all__ = ["MAX_ID", "StoreOption", "history", "prune", "store_command"]

MAX_ID = 2**63 - 1
"""The largest run id or count a store holds (a 64-bit integer): a larger one is bad usage."""


class Format(StrEnum):
    table = "table"
    json = "json"
    ndjson = "ndjson"


StoreOption = Annotated[
    str | None,
    typer.Option(
        "--store",
        metavar="URL",
        help="The store: sqlite:///FILE or postgresql://user@host/db.",
        show_default="$OSINT_FANOUT_STORE, else [store] url, else store.db in the user data dir",
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        "-c",
        metavar="FILE",
        help="TOML config file.",
        show_default="$OSINT_FANOUT_CONFIG, else config.toml in the user config dir",
        dir_okay=False,
    ),
]
FormatOption = Annotated[
    Format | None,
    typer.Option(
        "--format", "-f", help="How results are written.", show_default="table on a terminal, else ndjson",
        case_sensitive=False,
    ),
]


class _Stop(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def store_command(
    work: Callable[[Store, Settings, Registry], int],
    *,
    config: Path | None,
    store: str | None,
    read_only: bool = True,
) -> int:
    """Settings, then the store (never created by a reader; opened read-only when it may
    not be written), then `work`: one line and exit 2 for bad usage or config, exit 3
    when the store cannot be used."""
    from ._plugins import discover
    from ._settings import ConfigError, load_settings
    from .store import StoreError, StoreUrlError, choose_url, open_store

    try:
        registry = discover()
        settings = load_settings(registry, config)
        url = choose_url(store, configured=settings.store.url)
        assert url is not None
        opened = open_store(url, create=False, read_only=read_only)
    except (ConfigError, StoreUrlError, _Stop) as exc:
        return _fail(str(exc), getattr(exc, "code", EXIT_USAGE))
    except StoreError as exc:
        return _fail(str(exc), EXIT_STORE)
    try:
        with opened:
            return work(opened, settings, registry)
    except _Stop as exc:
        return _fail(str(exc), exc.code)
    except StoreError as exc:
        return _fail(str(exc), EXIT_STORE)


def usage(message: str) -> _Stop:
    return _Stop(message, EXIT_USAGE)


def _fail(message: str, code: int) -> int:
    from ._redact import one_line

    print(f"osint-fanout: error: {one_line(message, 400)}", file=sys.stderr)
    return code


def format_of(chosen: Format | None) -> str:
    return chosen.value if chosen else ("table" if sys.stdout.isatty() else "ndjson")


def history(
    target: Annotated[
        str, typer.Argument(metavar="TARGET", help="A domain, an IP address or a URL.", show_default=False)
    ],
    adapters: Annotated[
        list[str] | None,
        typer.Option(
            "--adapters",
            "--adapter",
            "-a",
            metavar="NAME[,NAME...]",
            help="Only these adapters; may be repeated.",
            show_default="all",
            autocompletion=complete_adapter_names,
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(metavar="N", help="At most this many results.", min=1, max=MAX_ID, show_default="all"),
    ] = None,
    output_format: FormatOption = None,
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """List the stored results of a target, newest first."""
    from ._targets import InvalidTarget, parse_target

    try:
        parsed = parse_target(target)
    except InvalidTarget as exc:
        raise typer.Exit(_fail(str(exc), EXIT_USAGE)) from None
    value = parsed.value
    if parsed.note:
        print(f"osint-fanout: warning: {parsed.note}", file=sys.stderr)
    fmt = format_of(output_format)

    only = names_arg(adapters, "--adapters")

    def work(opened: Store, _settings: Settings, _registry: Registry) -> int:
        records: Any
        if only:  # newest first across the adapters asked, `limit` in all
            records = [
                record for name in dict.fromkeys(only) for record in opened.history(value, adapter=name, limit=limit)
            ]
            records.sort(key=lambda record: (record.recorded_at, record.id or 0), reverse=True)
            records = records[:limit]
        else:
            records = opened.history(value, limit=limit)
        _show_history(list(records) if fmt != "ndjson" else records, fmt, value)
        return 0

    raise typer.Exit(store_command(work, config=config, store=store))


def _show_history(records: Any, fmt: str, value: str) -> None:
    from ._output import json_text

    if fmt == "ndjson":
        for record in records:
            sys.stdout.write(json_text(record.as_json()) + "\n")
        return
    if fmt == "json":
        indent = 2 if sys.stdout.isatty() else None
        sys.stdout.write(json_text([record.as_json() for record in records], indent=indent) + "\n")
        return
    _history_table(records, value)


def _history_table(records: list[StoredResult], value: str) -> None:
    from rich.table import Table
    from rich.text import Text

    from ._redact import terminal_safe
    from ._table import SafeConsole

    if not records:
        print(f"osint-fanout: nothing stored for {value}", file=sys.stderr)
        return
    table = Table(title=terminal_safe(value))
    for column in ("recorded (UTC)", "run", "adapter", "status", "time", "found"):
        table.add_column(column, no_wrap=column != "found")
    for record in records:
        found = record.summary or (record.error and f"{record.error.type}: {record.error.message}") or record.reason
        cells = (
            record.recorded_at.strftime("%Y-%m-%d %H:%M:%S"),
            str(record.run_id),
            record.adapter,
            record.status,
            f"{record.elapsed_ms / 1000:.2f}s",
            found or "",
        )
        table.add_row(*(Text(terminal_safe(cell)[:160]) for cell in cells))
    SafeConsole().print(table)


def prune(
    older_than: Annotated[
        str | None,
        typer.Option(
            "--older-than",
            metavar="DURATION",
            help="Remove results older than this: 90d, 12h, 30m.",
            show_default="[store] keep",
        ),
    ] = None,
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Remove old results from the store."""
    from ._duration import format_duration, parse_duration

    seconds: float | None = None
    if older_than is not None:
        try:
            seconds = parse_duration(older_than)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--older-than") from None

    def work(opened: Store, settings: Settings, _registry: Registry) -> int:
        age = seconds or settings.store.keep_s
        if age is None:
            raise usage("give --older-than DURATION, or set [store] keep in the config")
        removed, runs = opened.prune(age)  # never a run that is still going on
        print(
            f"osint-fanout: removed {removed} results and {runs} runs older than {format_duration(age)}"
            f" from {opened.shown}",
            file=sys.stderr,
        )
        return 0

    raise typer.Exit(store_command(work, config=config, store=store, read_only=False))
