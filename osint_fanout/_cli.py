"""The Typer command line. Heavy modules are imported inside the commands that need them,
so `--version` and `--help` start fast."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from typer._click.core import ParameterSource

from ._args import duration as duration_arg
from ._args import names as names_arg
from ._args import shard as shard_arg
from ._assets_cli import assets
from ._diff import diff
from ._exitcodes import EXIT_INTERNAL, EXIT_OUTPUT_CLOSED, EXIT_OUTPUT_FAILED, EXIT_USAGE
from ._help import ROOT_EXAMPLES, SEARCH_EXAMPLES, Command, Group, complete_adapter_names
from ._history import ConfigOption, StoreOption, history, prune
from ._paths import paths
from ._pivot_args import (
    DepthOption,
    DryScopeOption,
    ExcludePatternOption,
    MaxTargetsOption,
    NoFollowIpsOption,
    ScopeOption,
    pivot_options,
)
from ._version import STARTED, __version__
from .report._command import export_command, report_command

__all__ = ["DEFAULTS", "app", "main"]


DEFAULTS = {"deadline_s": 60.0, "concurrency": 16}
"""What `search --help` shows for the [run] settings left unset; a test holds them equal
to the settings' own defaults (importing those here would slow every start)."""


app = typer.Typer(
    name="osint-fanout",
    cls=Group,
    help="Ask DNS, WHOIS/RDAP, certificate transparency, Shodan and VirusTotal about a target, all at once.",
    epilog=ROOT_EXAMPLES,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    ndjson = "ndjson"


class ShardLimits(StrEnum):
    divide = "divide"
    full = "full"


class ListFormat(StrEnum):
    table = "table"
    json = "json"


class SchemaName(StrEnum):
    json = "json"
    ndjson = "ndjson"
    changes = "changes"


def _version(value: bool) -> None:
    if value:
        print(f"osint-fanout {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", "-V", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Ask DNS, WHOIS/RDAP, certificate transparency, Shodan and VirusTotal about a target, all at once."""


@app.command(cls=Command, epilog=SEARCH_EXAMPLES)
def search(
    ctx: typer.Context,
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="TARGET", help="Domains, IP addresses or URLs (a URL is reduced to its host).", show_default=False
        ),
    ] = None,
    input_files: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            "-i",
            metavar="FILE",
            help="Read targets from FILE, one per line ('-' for stdin); may be repeated.",
            show_default="none",
        ),
    ] = None,
    config: ConfigOption = None,
    adapters: Annotated[
        list[str] | None,
        typer.Option(
            "--adapters",
            "-a",
            metavar="NAME[,NAME...]",
            help="Only these adapters; may be repeated.",
            show_default="every enabled adapter",
            autocompletion=complete_adapter_names,
        ),
    ] = None,
    exclude: Annotated[
        list[str] | None,
        typer.Option(
            "--exclude",
            "-x",
            metavar="NAME[,NAME...]",
            help="Skip these adapters; may be repeated.",
            show_default="none",
            autocompletion=complete_adapter_names,
        ),
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option(
            metavar="SECONDS",
            help="Timeout per adapter call.",
            show_default="each adapter's own, see 'osint-fanout adapters'",
        ),
    ] = None,
    deadline: Annotated[
        float | None,
        typer.Option(
            metavar="SECONDS", help="Overall deadline per target.", show_default=f"{DEFAULTS['deadline_s']:g}"
        ),
    ] = None,
    max_time: Annotated[
        float | None,
        typer.Option("--max-time", metavar="SECONDS", help="Bound on the whole run.", show_default="none"),
    ] = None,
    concurrency: Annotated[
        int | None,
        typer.Option(metavar="N", help="Adapter calls in flight at once.", show_default=str(DEFAULTS["concurrency"])),
    ] = None,
    output_format: Annotated[
        OutputFormat | None,
        typer.Option(
            "--format",
            "-f",
            help="How results are written.",
            show_default="table on a terminal, else json",
            case_sensitive=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Write to FILE (atomically; ndjson appends).",
            show_default="stdout",
            dir_okay=False,
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="With -o FILE (ndjson): skip targets already complete in FILE.", show_default="off"
        ),
    ] = False,
    summary: Annotated[
        bool, typer.Option("--summary", help='End ndjson output with a {"summary": ...} line.', show_default="off")
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No progress, warnings or summary on stderr.", show_default="off"),
    ] = False,
    verbose: Annotated[
        int,
        typer.Option(
            "--verbose",
            "-v",
            count=True,
            help="More logging on stderr, repeatable: -v info, -vv debug, -vvv adapter tracebacks.",
            show_default="warnings and errors",
        ),
    ] = 0,
    store: StoreOption = None,
    no_store: Annotated[
        bool, typer.Option("--no-store", help="Do not record the results in the store.", show_default="off")
    ] = False,
    shard: Annotated[
        str | None,
        typer.Option(
            metavar="K/N",
            help="Take only shard K of N of the targets (by a stable hash of each), for N machines.",
            show_default="all targets",
        ),
    ] = None,
    shard_limits: Annotated[
        ShardLimits,
        typer.Option(
            "--shard-limits",
            help="divide: the shards share every rate limit and quota (one key); full: each has its own.",
            case_sensitive=False,
        ),
    ] = ShardLimits.divide,
    changes: Annotated[
        bool,
        typer.Option(
            "--changes", help="Print only what changed since the stored results (ndjson change events).",
            show_default="off",
        ),
    ] = False,
    max_age: Annotated[
        str | None,
        typer.Option(
            "--max-age", metavar="DURATION", help="Reuse stored ok/empty results younger than this: 12h, 1d.",
            show_default="[adapters.NAME] max_age, else none",
        ),
    ] = None,
    depth: DepthOption = 0,
    scope: ScopeOption = None,
    no_follow_ips: NoFollowIpsOption = False,
    exclude_pattern: ExcludePatternOption = None,
    max_targets: MaxTargetsOption = None,
    dry_scope: DryScopeOption = False,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report", metavar="FILE", help="At the end, write the HTML report of the targets to FILE (see 'report').",
            show_default="none", dir_okay=False,
        ),
    ] = None,
) -> None:
    """Investigate targets with every adapter at once and print the results as they arrive."""
    if quiet and verbose:
        raise typer.BadParameter("give -q or -v, not both", param_hint="--quiet")
    if no_store and store is not None:
        raise typer.BadParameter("give --store URL or --no-store, not both", param_hint="--no-store")
    if shard is None and ctx.get_parameter_source("shard_limits") is ParameterSource.COMMANDLINE:
        raise typer.BadParameter("applies only with --shard K/N", param_hint="--shard-limits")
    for name, value in (("--timeout", timeout), ("--deadline", deadline), ("--max-time", max_time)):
        if value is not None and not (value > 0 and math.isfinite(value)):
            raise typer.BadParameter(f"must be a positive number of seconds, got {value}", param_hint=name)
    if concurrency is not None and concurrency < 1:
        raise typer.BadParameter(f"must be 1 or more, got {concurrency}", param_hint="--concurrency")
    if resume and output is None:
        raise typer.BadParameter("needs --output FILE", param_hint="--resume")
    if not targets and not input_files:
        raise typer.BadParameter("give at least one target, or --input FILE", param_hint="TARGETS")
    max_age_s = duration_arg(max_age, "--max-age")
    pivot = pivot_options(depth, scope, no_follow_ips, exclude_pattern, max_targets, dry_scope=dry_scope)
    if report is not None and no_store:
        raise typer.BadParameter("reads the store: drop --no-store", param_hint="--report")
    if report is not None and "-" in (input_files or []):
        raise typer.BadParameter("reads the targets again: give arguments or files, not -", param_hint="--report")
    from ._plan import Flags
    from ._search import SearchRequest, run_search

    flags = Flags(
        concurrency=concurrency,
        timeout_s=timeout,
        deadline_s=deadline,
        max_time_s=max_time,
        only=names_arg(adapters, "--adapters"),
        exclude=names_arg(exclude, "--exclude"),
        output_format=output_format.value if output_format else None,
        output=output,
        store=store,
        no_store=no_store,
        shard=shard_arg(shard),
        shard_limits=shard_limits.value,
        changes=changes,
        max_age_s=max_age_s,
    )
    request = SearchRequest(
        targets=targets or [],
        input_files=input_files or [],
        config=config,
        flags=flags,
        resume=resume,
        summary=summary,
        quiet=quiet,
        verbose=verbose,
        started=STARTED,
        pivot=pivot,
        dry_scope=dry_scope,
    )
    code = run_search(request)
    if report is not None and not dry_scope and code not in (EXIT_USAGE, 130, 143):
        from .report._command import report_after_search

        code = max(code, report_after_search(targets or [], input_files or [], report, store=store, config=config))
    raise typer.Exit(code)


@app.command("adapters", cls=Command)
def list_adapters(
    config: ConfigOption = None,
    output_format: Annotated[
        ListFormat, typer.Option("--format", "-f", help="How the list is written.", case_sensitive=False)
    ] = ListFormat.table,
) -> None:
    """List the installed adapters, what they handle and whether a key is configured."""
    from ._listing import show_adapters

    raise typer.Exit(show_adapters(config, output_format.value))


app.command(cls=Command)(paths)


@app.command(cls=Command)
def schema(
    name: Annotated[
        SchemaName,
        typer.Argument(
            metavar="NAME",
            help="json (one object per target), ndjson (one line per result) or changes (diff's events).",
        ),
    ] = SchemaName.json,
) -> None:
    """Print the JSON Schema of the json or ndjson output, or of the change events."""
    from importlib.resources import files

    sys.stdout.write((files("osint_fanout") / "schemas" / f"{name.value}.schema.json").read_text("utf-8"))


STORE_MORE = "More in docs/store.md of the source: history and changes."
app.command(cls=Command, epilog=f"Example:\n  osint-fanout history example.com -a ct -f json | jq .\n{STORE_MORE}")(
    history
)
app.command(
    cls=Command,
    epilog="Examples:\n  # what changed since the run before\n  osint-fanout diff example.com\n"
    f"  # over a week, for a list\n  osint-fanout diff -i domains.txt --since 7d -f ndjson\n{STORE_MORE}"
)(diff)
app.command(cls=Command, epilog=f"Example:\n  osint-fanout prune --older-than 90d\n{STORE_MORE}")(prune)
app.command(
    "report", cls=Command, epilog="Example:\n  osint-fanout report example.com -o report.html\nMore in docs/report.md."
)(report_command)
app.command(
    "export",
    cls=Command,
    epilog="Examples:\n  osint-fanout export example.com -f stix -o example.stix.json\n"
    "  osint-fanout export example.com -f graphml -o example.graphml\nMore in docs/report.md.",
)(export_command)
app.command(
    cls=Command,
    epilog="Examples:\n  # the names of example.com that resolve, for httpx\n"
    "  osint-fanout assets example.com --type domain --resolved-only | httpx -silent\n"
    "  # everything, with provenance\n  osint-fanout assets example.com -f json | jq .\n"
    "More in docs/assets.md.",
)(assets)


def main(argv: list[str] | None = None) -> NoReturn:
    """Console-script entry point: one line per error, documented exit codes."""
    _ensure_std_streams()
    stdout_was = _identity(sys.stdout)
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="osint-fanout", standalone_mode=False)
    except SystemExit as exc:  # Click and Rich leave with 1 when the reader closed stdout
        if _stdout_closed(stdout_was):
            _exit(EXIT_OUTPUT_CLOSED)
        _exit(exc.code if isinstance(exc.code, int) else EXIT_INTERNAL)
    except typer.TyperException as exc:
        message = exc.format_message().strip()
        if not message:  # no arguments at all: the help is on the screen already, exit 2
            _exit(exc.exit_code)
        hint = " (see --help)" if exc.exit_code == EXIT_USAGE else ""
        _fail(f"error: {message}{hint}", exc.exit_code)
    except typer.Abort:
        _fail("aborted", 130)
    except KeyboardInterrupt:
        _fail("interrupted", 130)
    except Exception as exc:  # the last line of defence: no traceback, no key
        from ._output import OutputClosed, OutputFailed
        from ._redact import one_line

        if isinstance(exc, OutputFailed):
            _fail(f"error: {one_line(str(exc))}", EXIT_OUTPUT_FAILED)
        if isinstance(exc, OutputClosed | BrokenPipeError):
            _exit(EXIT_OUTPUT_CLOSED)
        _fail(f"internal error: {one_line(f'{type(exc).__name__}: {exc}')}", EXIT_INTERNAL)
    _exit(code if isinstance(code, int) else 0)


def _identity(stream: object) -> tuple[int, int] | None:
    """Which file `stream` writes to (device, inode), or None."""
    try:
        info = os.fstat(stream.fileno())  # type: ignore[attr-defined]
    except (AttributeError, OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def _stdout_closed(was: tuple[int, int] | None) -> bool:
    """True when a reader closed stdout (`| head -1`) and Click or Rich said so their way:
    Click wraps stdout in a PacifyFlushWrapper and exits 1; Rich points file descriptor 1
    at /dev/null and exits 1. Both mean exit 141 here, like a search cut short by `head`."""
    from typer._click.utils import PacifyFlushWrapper  # the Click that Typer carries

    if isinstance(sys.stdout, PacifyFlushWrapper):
        return True
    try:
        now = os.fstat(1)
    except OSError:
        return False
    return was is not None and (now.st_dev, now.st_ino) != was


def _ensure_std_streams() -> None:
    """A closed stdout or stderr (`>&-`) becomes /dev/null, so writing cannot crash."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as we do


def _fail(message: str, code: int) -> NoReturn:
    from ._redact import terminal_safe

    print(f"osint-fanout: {terminal_safe(message)}", file=sys.stderr)
    _exit(code)


def _exit(code: int) -> NoReturn:
    """Leave without the interpreter's teardown of every imported module, which takes
    0.2-0.3 s and would count against the deadline; everything is written by now."""
    try:
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        code = code or EXIT_OUTPUT_CLOSED
    except OSError as exc:  # e.g. stdout on a full disk
        with contextlib.suppress(OSError, ValueError):
            print(f"osint-fanout: error: cannot write stdout: {exc.strerror or exc}", file=sys.stderr)
        code = EXIT_OUTPUT_FAILED
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.flush()
    logging.shutdown()
    os._exit(code)
