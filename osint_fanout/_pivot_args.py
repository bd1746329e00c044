"""The command-line options of `search --depth N` (the pivot), and their checks. Kept light:
the CLI imports it at start-up; the pivot itself (osint_fanout/pivot/) loads only with --depth."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from .pivot import PivotOptions

__all__ = [
    "MAX_TARGETS",
    "DepthOption",
    "DryScopeOption",
    "ExcludePatternOption",
    "MaxTargetsOption",
    "NoFollowIpsOption",
    "ScopeOption",
    "pivot_options",
]

MAX_TARGETS = 250
"""search --depth: the default bound on the targets of a pivoted run (seeds included)."""

PANEL = "Pivot"

DepthOption = Annotated[
    int,
    typer.Option(
        "--depth",
        metavar="N",
        help="Pivot: follow the names and addresses found, N steps from the seeds.",
        rich_help_panel=PANEL,
    ),
]
ScopeOption = Annotated[
    list[str] | None,
    typer.Option(
        "--scope",
        metavar="DOMAIN",
        help="Also follow names under DOMAIN; may be repeated.",
        show_default="the seeds' registered domains",
        rich_help_panel=PANEL,
    ),
]
NoFollowIpsOption = Annotated[
    bool,
    typer.Option(
        "--no-follow-ips", help="Follow names only, not addresses.", show_default="off", rich_help_panel=PANEL
    ),
]
ExcludePatternOption = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude-pattern",
        metavar="GLOB",
        help="Never follow names matching GLOB (*.dev.example.com); may be repeated.",
        show_default="none",
        rich_help_panel=PANEL,
    ),
]
MaxTargetsOption = Annotated[
    int | None,
    typer.Option(
        "--max-targets",
        metavar="N",
        help="At most N targets in the run, seeds included.",
        show_default=str(MAX_TARGETS),
        rich_help_panel=PANEL,
    ),
]
DryScopeOption = Annotated[
    bool,
    typer.Option(
        "--dry-scope",
        help="Show what the pivot would follow and why; ask nothing.",
        show_default="off",
        rich_help_panel=PANEL,
    ),
]


def pivot_options(
    depth: int,
    scope: list[str] | None,
    no_follow_ips: bool,
    exclude: list[str] | None,
    max_targets: int | None,
    *,
    dry_scope: bool,
) -> PivotOptions | None:
    """--depth and the flags that only mean something with it (refused without it)."""
    if depth < 0:
        raise typer.BadParameter(f"must be 0 or more, got {depth}", param_hint="--depth")
    if max_targets is not None and max_targets < 1:
        raise typer.BadParameter(f"must be 1 or more, got {max_targets}", param_hint="--max-targets")
    given = {
        "--scope": scope,
        "--no-follow-ips": no_follow_ips,
        "--exclude-pattern": exclude,
        "--max-targets": max_targets is not None,
    }
    if depth == 0:
        for flag, value in given.items():
            if value:
                raise typer.BadParameter("needs --depth 1 or more (it bounds the pivot)", param_hint=flag)
        if not dry_scope:
            return None
    from .pivot import PivotOptions

    return PivotOptions(
        depth=depth,
        scope=tuple(scope or ()),
        follow_ips=not no_follow_ips,
        exclude=tuple(exclude or ()),
        max_targets=max_targets or MAX_TARGETS,
    )
