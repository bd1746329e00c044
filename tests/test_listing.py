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
        description = lines[start + 1 : end]
        assert 1 <= len(description) <= 2, lines[start:end]
        assert all(line.startswith("    ") for line in description)
    assert re.match(r"virustotal +domain, ipv4, ipv6 +required, not set +15s +yes$", lines[starts[3]])


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
