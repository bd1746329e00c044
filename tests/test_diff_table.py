"""`diff -f table`: at 80 columns the value column stays readable, whatever the target."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from rich.console import Console

from osint_fanout._diff import change_tables
from osint_fanout.store._changes import FirstSeen, ScalarChange, SetChange

AT = datetime(2026, 12, 7, 1, 2, 3, tzinfo=UTC)
LONG_TARGET = "a-rather-long-subdomain-name.of-a-department.example-company-with-a-long-name.com"


def events(target: str) -> list[SetChange | ScalarChange | FirstSeen]:
    return [
        SetChange(target=target, adapter="ct", fact="subdomains", change="added", value="vpn.example.com",
                  before_at=AT, after_at=AT),
        ScalarChange(target=target, adapter="whois", fact="registrar", change="changed",
                     before="Example Registrar, LLC", after="Second Registrar, Inc.", before_at=AT, after_at=AT),
        SetChange(target=target, adapter="ct", fact="certspotter_certificates", change="removed", value="12345678",
                  before_at=AT, after_at=AT),
        FirstSeen(target=target, adapter="virustotal", change="first_seen", after_at=AT),
    ]


def rendered(target: str, width: int) -> list[str]:
    console = Console(width=width, record=True, color_system=None)
    for table in change_tables(events(target), width):
        console.print(table)
    return console.export_text().splitlines()


def value_column(lines: list[str]) -> list[str]:
    """The text of the 4th column, cell lines in order."""
    cells = [line.split("│")[4].strip() for line in lines if line.startswith("│")]
    return [cell for cell in cells if cell]


@pytest.mark.parametrize("target", ["example.com", LONG_TARGET])
def test_the_value_column_stays_readable_at_80_columns(target: str) -> None:
    lines = rendered(target, 80)
    assert max(len(line) for line in lines) <= 80
    header = next(line for line in lines if "value" in line)
    assert len(header.split("┃")[4]) >= 22  # the old table left it 4 characters, 0 with a long target
    values = value_column(lines)
    assert "vpn.example.com" in values
    assert " ".join(values[1 : values.index("12345678")]) == "Example Registrar, LLC -> Second Registrar, Inc."
    assert lines[0].startswith(target[:40])  # the target is the title, not a column


def test_a_wide_terminal_keeps_one_line_per_change() -> None:
    lines = rendered("example.com", 140)
    assert any("Example Registrar, LLC -> Second Registrar, Inc." in line for line in lines)
    assert any("2026-12-07 01:02:03" in line for line in lines)
