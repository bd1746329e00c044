"""The `report` and `export` commands, and `search --report`: the store's asset graph of
some targets, as an HTML report or an export. Only Typer is imported at start-up."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .._exitcodes import EXIT_FAILED, EXIT_OUTPUT_CLOSED, EXIT_OUTPUT_FAILED, EXIT_USAGE
from .._history import ConfigOption, StoreOption, store_command, usage

if TYPE_CHECKING:
    from .._plugins import Registry
    from .._settings import Settings
    from ..assets import AssetGraph
    from ..store import Store

__all__ = ["ExportFormat", "export_command", "load_graphs", "report_after_search", "report_command"]


class ExportFormat(StrEnum):
    stix = "stix"
    graphml = "graphml"
    csv = "csv"


TargetsArgument = Annotated[
    list[str], typer.Argument(metavar="TARGET", help="Seeds: domains, IP addresses or URLs.", show_default=False)
]


def load_graphs(store: Store, seeds: list[str]) -> list[AssetGraph]:
    """Each seed's stored asset graph (its own results and those pivoted from it): the one
    place report and export read the store's assets."""
    loader = getattr(store, "load_graph", None)
    if loader is None:  # a store from before the assets were recorded (issue 20)
        raise usage("this version of the store records no assets yet; nothing to report")
    return [loader(seed) for seed in seeds]


def report_command(
    targets: TargetsArgument,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write the HTML report to FILE (atomically).",
            show_default="stdout, when it is not a terminal",
            dir_okay=False,
        ),
    ] = None,
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Write one self-contained HTML report of the targets' stored assets: graph, table, timeline.

    It opens offline in any browser: the graph library is inside the file, and it makes no
    network request. Exit code 1 when nothing is stored for any target."""
    if output is None and sys.stdout.isatty():
        raise typer.BadParameter("give a file to write the report to, e.g. -o report.html", param_hint="--output")
    raise typer.Exit(write_report(_seeds(targets), output, store=store, config=config))


def export_command(
    targets: TargetsArgument,
    output_format: Annotated[
        ExportFormat,
        typer.Option("--format", "-f", help="stix (STIX 2.1 bundle), graphml or csv.", case_sensitive=False),
    ] = ExportFormat.stix,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Write to FILE (atomically).", show_default="stdout", dir_okay=False
        ),
    ] = None,
    store: StoreOption = None,
    config: ConfigOption = None,
) -> None:
    """Export the targets' stored assets and relations for MISP/OpenCTI (stix), Gephi (graphml) or spreadsheets (csv).

    Exit code 1 when nothing is stored for any target."""
    seeds = _seeds(targets)
    fmt = output_format.value

    def work(opened: Store, _settings: Settings, _registry: Registry) -> int:
        from ..export import export
        from ._data import merge

        graphs = load_graphs(opened, seeds)
        if not _any_assets(graphs, seeds):
            return EXIT_FAILED
        return _write(export(merge(graphs), fmt), output)

    raise typer.Exit(store_command(work, config=config, store=store))


def write_report(seeds: list[str], output: Path | None, *, store: str | None, config: Path | None) -> int:
    """Read the store, write the report; the exit code (see report_command)."""

    def work(opened: Store, settings: Settings, registry: Registry) -> int:
        from ..store import facts_from
        from ._page import render_report
        from ._timeline import timeline

        graphs = load_graphs(opened, seeds)
        if not _any_assets(graphs, seeds):
            return EXIT_FAILED
        followed = {item.ref.value for graph in graphs for item in graph.assets if item.depth is not None}
        facts_fn = facts_from({name: cls(settings.options[name]) for name, cls in registry.adapters.items()})
        events = timeline(opened, [*seeds, *sorted(followed - set(seeds))], facts_fn)
        return _write(render_report(graphs, events), output)

    return store_command(work, config=config, store=store)


def report_after_search(
    positional: list[str], files: list[str], output: Path, *, store: str | None, config: Path | None
) -> int:
    """search --report FILE: the report of the run's seeds (its targets, read again)."""
    from .._diff import _targets

    return write_report(_targets(positional, files), output, store=store, config=config)


def _seeds(targets: list[str]) -> list[str]:
    from .._targets import InvalidTarget, parse_target

    try:
        return list(dict.fromkeys(parse_target(text).value for text in targets))
    except InvalidTarget as exc:
        raise typer.BadParameter(str(exc), param_hint="TARGET") from None


def _any_assets(graphs: list[AssetGraph], seeds: list[str]) -> bool:
    if any(graph.assets for graph in graphs):
        return True
    shown = ", ".join(seeds[:3]) + (f" and {len(seeds) - 3} more" if len(seeds) > 3 else "")
    print(f"osint-fanout: nothing is stored for {shown}; run 'osint-fanout search' first", file=sys.stderr)
    return False


def _write(text: str, output: Path | None) -> int:
    """`text` to stdout or, atomically, to FILE; 74 when it cannot be written."""
    from .._output import Destination, OutputClosed, OutputError, OutputFailed
    from .._redact import one_line

    try:
        destination = Destination(output)
        destination.write_line(text.removesuffix("\n"))
        destination.commit()
    except OutputError as exc:
        print(f"osint-fanout: error: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except OutputFailed as exc:
        print(f"osint-fanout: error: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_OUTPUT_FAILED
    except OutputClosed:
        return EXIT_OUTPUT_CLOSED
    return 0
