"""The `adapters` listing: readable at 80 columns, upstream text inert."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from osint_fanout._listing import render_listing
from tests.plugin_kit import clean_env, run_cli


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return clean_env(tmp_path, {"COLUMNS": "80", "TERM": "dumb"})


def test_adapters_listing_fits_80_columns(env: dict[str, str]) -> None:
    proc, _ = run_cli(["adapters"], env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), max(lines, key=len)
    names = ("ct", "dns", "shodan", "virustotal", "whois")
    starts = [i for i, line in enumerate(lines) if line.split(" ", 1)[0] in names]
    assert [lines[i].split()[0] for i in starts] == list(names)
    ends = [*starts[1:], len(lines)]
    for start, end in zip(starts, ends, strict=True):
        under = lines[start + 1 : end]
        description = [line for line in under if not line.startswith("    key: ")]
        assert 1 <= len(description) <= 2, lines[start:end]
        assert all(line.startswith("    ") for line in under)
    assert re.match(r"virustotal +domain, ipv4, ipv6 +required, not set +15s +yes$", lines[starts[3]])
    # a key not set says which variable sets it; a key-less adapter says nothing of keys
    assert lines[starts[3] + 1] == "    key: set VT_API_KEY (or api_key in [adapters.virustotal])"
    assert lines[starts[2] + 1] == "    key: set SHODAN_API_KEY (or api_key in [adapters.shodan])"
    assert not any("key:" in line for line in lines[starts[1] : starts[2]])  # dns


def test_a_set_key_needs_no_hint(env: dict[str, str]) -> None:
    proc, _ = run_cli(["adapters"], env | {"VT_API_KEY": "k" * 32})
    block = proc.stdout.split("virustotal", 1)[1].split("whois", 1)[0]
    assert "required, set" in block and "VT_API_KEY" not in block


@pytest.mark.parametrize("columns", [50, 30])
def test_a_narrow_terminal_stacks_the_facts_instead_of_cutting_them(env: dict[str, str], columns: int) -> None:
    proc, _ = run_cli(["adapters"], env | {"COLUMNS": str(columns)})
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert all(len(line) <= columns for line in lines), max(lines, key=len)
    assert "…" not in proc.stdout and "..." not in "".join(line for line in lines if "timeout" in line)
    text = " ".join(line.strip() for line in lines)
    for name in ("ct", "dns", "shodan", "virustotal", "whois"):
        assert name in [line.strip() for line in lines]  # each adapter's name on a line of its own
    assert "timeout 15s" in text and "enabled yes" in text
    assert "key required, not set: set VT_API_KEY (or api_key in [adapters.virustotal])" in text


def test_listing_cuts_a_long_description_to_two_lines() -> None:
    row = {
        "name": "verbose",
        "description": "word " * 100,
        "kinds": ["domain"],
        "key": "none",
        "key_configured": False,
        "default_timeout_s": 10.0,
        "enabled": False,
    }
    lines = [line.plain for line in render_listing([row], 80)]
    assert lines[0].split() == ["name", "targets", "key", "timeout", "enabled"]
    assert lines[1].split() == ["verbose", "domain", "none", "10s", "no"]
    assert len(lines) == 4 and lines[3].endswith(" ...") and all(len(line) <= 80 for line in lines)


def test_listing_shows_upstream_text_inertly() -> None:
    row = {
        "name": "odd",
        "description": "[bold]x[/] \x1b[2J",
        "kinds": ["ipv4"],
        "key": "required",
        "key_configured": True,
        "default_timeout_s": 2.5,
        "enabled": True,
    }
    lines = [line.plain for line in render_listing([row], 80)]
    assert lines[2].strip() == "[bold]x[/] \\x1b[2J"
    assert "required, set" in lines[1] and "2.5s" in lines[1]
