"""The live table as a person sees it: the installed CLI on a pseudo-terminal, its bytes
fed to a terminal emulator (pyte), assertions on the screens it shows."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.terminal import Terminal
from tests.world.world import World, served_adapters

# The tables of domain targets: asn (addresses only) is left out with -x, as it would only add
# a "skipped" row to every table.
ADAPTERS = tuple(name for name in served_adapters() if name != "asn")
FOOTER = re.compile(r"^(\d+\.\d\d)s · (.+)$")


@dataclass
class Shown:
    """One target's table as it appears on the screen."""

    title: str
    rows: dict[str, tuple[str, str]] = field(default_factory=dict)
    """adapter -> (status, time)"""
    footer: str = ""


def tables(lines: list[str]) -> list[Shown]:
    """Every table in these screen lines, in order: the line above a table's top border
    is its title, the line under its bottom border its footer (if it is one)."""
    found: list[Shown] = []
    current: Shown | None = None
    for number, line in enumerate(lines):
        if line.startswith("┏"):
            current = Shown(lines[number - 1].strip() if number else "")
            found.append(current)
        elif current is not None and line.startswith("│"):
            cells = [cell.strip() for cell in line.split("│")[1:-1]]
            if cells and cells[0]:
                current.rows[cells[0]] = (cells[1], cells[2])
        elif current is not None and line.startswith("└"):
            following = lines[number + 1] if number + 1 < len(lines) else ""
            current.footer = following.strip() if FOOTER.match(following.strip()) else ""
            current = None
    return found


def seconds(text: str) -> float:
    return float(text.removesuffix("s")) if text else 0.0


def row_shown(screen: str, adapter: str, status: str) -> int:
    """How many rows on the screen show `adapter` with `status`."""
    return len(re.findall(rf"^│ {re.escape(adapter)} +│ {re.escape(status)} +│", screen, re.MULTILINE))


def assert_final(lines: list[str], targets: list[str], statuses: dict[str, str] | None = None) -> list[Shown]:
    """Each target's table exactly once, complete, with its footer; nothing in progress."""
    text = "\n".join(lines)
    assert not re.search(r"│ (running|pending) ", text), text
    shown = tables(lines)
    assert sorted(table.title for table in shown) == sorted(targets), text
    for table in shown:
        assert set(table.rows) == set(ADAPTERS), text
        for adapter, (status, _took) in table.rows.items():
            assert status == (statuses or {}).get(adapter, "ok"), f"{table.title} {adapter}: {status}\n{text}"
        footer = FOOTER.match(table.footer)
        assert footer, f"{table.title} has no footer:\n{text}"
        slowest = max(seconds(took) for _status, took in table.rows.values())
        assert float(footer.group(1)) >= slowest, f"{table.title}: footer {table.footer} under a row's {slowest}s"
    return shown


def terminal(world: World, *args: str, lines: int = 40) -> Terminal:
    return Terminal(*args, "-x", "asn", env=world.cli_env(), cwd=world.home, lines=lines)


@pytest.fixture
def keyed(world: World) -> World:
    world.write_config(keys=True)  # every adapter can answer: all five are ok
    return world


def test_one_target_fills_its_table_then_leaves_it_once(keyed: World) -> None:
    keyed.behave("crtsh", "*", "slow", delay_s=1.5)
    with terminal(keyed, "search", "example.com") as term:
        live = term.wait_for(lambda s: row_shown(s, "ct", "running") == 1 and row_shown(s, "dns", "ok") == 1)
        assert "example.com" in live  # in progress: no footer yet
        assert not any(FOOTER.match(line) for line in live.splitlines()), live
        code = term.wait()
        lines = term.transcript()
    assert code == 0, "\n".join(lines)
    assert_final(lines, ["example.com"])
    assert "targets in" not in "\n".join(lines)  # one target: no run summary


def test_several_targets_each_table_once_and_the_summary_stays(keyed: World) -> None:
    keyed.behave("crtsh", "*", "slow", delay_s=1.5)
    targets = ["example.com", "example.net", "example.org"]
    with terminal(keyed, "search", *targets) as term:
        term.wait_for(lambda s: row_shown(s, "ct", "running") >= 2)  # tables in progress side by side
        code = term.wait()
        lines = term.transcript()
        screen = term.display()
    assert code == 0, "\n".join(lines)
    assert_final(lines, targets)
    assert lines[-7:] == [
        lines[-7],
        "results: 15 ok",
        "  ct: 3 ok",
        "  dns: 3 ok",
        "  shodan: 3 ok",
        "  virustotal: 3 ok",
        "  whois: 3 ok",
    ]
    assert re.fullmatch(r"3 targets in \d+\.\ds", lines[-7])
    assert "results: 15 ok" in screen  # still on the screen at the end, not erased


def test_ctrl_c_leaves_what_arrived_and_the_rest_cancelled(keyed: World) -> None:
    keyed.behave("crtsh", "*", "hang")
    targets = ["example.com", "example.net"]
    with terminal(keyed, "search", *targets) as term:
        done = ("dns", "shodan", "virustotal", "whois")  # all but ct, which hangs
        term.wait_for(lambda s: row_shown(s, "ct", "running") == 2 and all(row_shown(s, a, "ok") == 2 for a in done))
        term.ctrl_c()
        code = term.wait()
        lines = term.transcript()
    text = "\n".join(lines)
    assert code == 130, text
    assert_final(lines, targets, {"ct": "cancelled"})
    assert any(re.fullmatch(r"2 targets in \d+\.\ds", line) for line in lines), text
    assert "errors: 2 cancelled" in lines, text
    assert lines[-1] == "osint-fanout: interrupted; unfinished adapters are reported as cancelled"


def test_targets_from_a_file_on_a_short_terminal(keyed: World, tmp_path: Path) -> None:
    """More tables in progress than the screen holds: the live region is cut to fit, and
    every finished table still appears once (scrolled back to, above the screen)."""
    keyed.behave("crtsh", "*", "slow", delay_s=1.0)
    keyed.behave("crtsh", "www.example.org", "slow", delay_s=2.0)  # the last one finishes alone
    targets = [f"{prefix}{base}" for base in ("example.com", "example.net", "example.org") for prefix in ("", "www.")]
    listing = tmp_path / "targets.txt"
    listing.write_text("\n".join(targets) + "\n", "utf-8")
    with terminal(keyed, "search", "-i", str(listing), lines=24) as term:
        term.wait_for(lambda s: row_shown(s, "ct", "running") >= 1)
        code = term.wait()
        lines = term.transcript()
        screen = term.display()
    assert code == 0, "\n".join(lines)
    assert_final(lines, targets)
    assert re.search(r"^6 targets in \d+\.\ds$", screen, re.MULTILINE) and "results: 30 ok" in screen
