"""The live table of a pivoted run on an 80x24 terminal (pyte): 200 targets stay readable,
the seed as a table, the followed targets grouped by depth as counts and running lines."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.pivot_kit import zone_world
from tests.terminal import Terminal
from tests.world.pivot_zone import pivot_zone

COLUMNS, LINES = 80, 24


def test_200_targets_on_an_80x24_terminal(world: Any, tmp_path: Path) -> None:
    zone = pivot_zone()
    world.add_zone(zone)
    world.behave("crtsh", "*", "slow", delay_s=0.2)  # long enough to see targets running
    env = world.cli_env(zone_world(world, tmp_path / "plugins"))
    args = ("search", zone.seed, "-a", "zonedns,zonect", "--depth", "2", "--max-targets", "200", "--no-store")
    screens: list[str] = []
    with Terminal(*args, env=env, cwd=world.home, columns=COLUMNS, lines=LINES) as term:
        screens.append(term.wait_for(lambda screen: screen.count("\n  h") >= 5 and "depth 1:" in screen, timeout_s=60))
        code = term.wait(timeout_s=120)
        lines = term.transcript()
        final = term.display()
    text = "\n".join(lines)
    assert code == 0, text
    # while it runs: the counts by depth and the targets in progress, each on one line, on screen
    during = screens[0]
    assert re.search(r"^depth 1: \d+ done", during, re.MULTILINE), during
    running = [line for line in during.splitlines() if line.startswith("  h") and f".{zone.seed}" in line]
    assert running, during
    assert all(len(line) <= COLUMNS for line in during.splitlines())
    # at the end: the seed's table once, every followed target collapsed into its depth's line
    assert text.count("┃ adapter") == 1, text  # one table: the seed's
    assert len(lines) < 3 * LINES, text  # not 200 tables scrolled past
    # (the seed names 245 names: the 200 targets are the seed and 199 of them, at depth 1)
    assert len(re.findall(r"^depth 1: 199 done \(\d+ ok", text, re.MULTILINE)) == 1, text
    assert "200 targets in" in final and "pivot (--depth 2): 199 followed" in final, final
    assert "running" not in final and "pending" not in final


def test_the_live_region_fits_the_terminal_however_many_targets_run() -> None:
    import io

    from rich.console import Console

    from osint_fanout._results import FoundBy
    from osint_fanout._targets import Target, parse_target
    from osint_fanout.pivot._table import PivotTableSink

    found = FoundBy(seed="acme.invalid", target="acme.invalid", adapter="zonect", relation="subdomain-of")

    def origin(target: Target) -> tuple[int, FoundBy | None]:
        return (0, None) if target.value == "acme.invalid" else (1, found)

    console = Console(file=io.StringIO(), width=COLUMNS, height=LINES, color_system=None)
    sink = PivotTableSink(console, ["zonedns", "zonect"], live=False, origin=origin)
    sink.started(parse_target("acme.invalid"), "zonect")
    for number in range(60):
        sink.started(parse_target(f"h{number:03d}.acme.invalid"), "zonedns")
    with console.capture() as capture:
        for renderable in sink.open_tables():
            console.print(renderable)
    shown = [line.rstrip() for line in capture.get().splitlines()]
    assert len(shown) <= LINES, "\n".join(shown)
    assert shown[0] == "acme.invalid"  # the seed first, as a table
    assert any(line.startswith("depth 1: 0 done · 60 running") for line in shown)
    assert shown[-1].strip().startswith("... and ") and shown[-1].strip().endswith(" more running")
    assert all(len(line) <= COLUMNS for line in shown)
