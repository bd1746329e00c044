"""Running the installed CLI: where it is, what a run gives back, what it must not inherit."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any, NamedTuple


class CliResult(NamedTuple):
    code: int
    stdout: str
    stderr: str
    wall_s: float

    def json(self) -> Any:
        return json.loads(self.stdout)

    def ndjson(self) -> list[Any]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


class CliTimeout(AssertionError):
    """The CLI was still running when run_cli's timeout passed (it was killed)."""


def cli_command() -> list[str]:
    """The installed console script: next to this Python first, then on PATH."""
    beside = Path(sys.executable).with_name("osint-fanout")
    if beside.is_file():
        return [str(beside)]
    found = shutil.which("osint-fanout")
    return [found] if found else [sys.executable, "-m", "osint_fanout"]


def inherited_setting(name: str) -> bool:
    """A variable of ours the CLI must not inherit: an API key, a proxy, an OSINT_FANOUT_ setting."""
    upper = name.upper()
    return upper.endswith(("_API_KEY", "_PROXY")) or upper.startswith("OSINT_FANOUT_") or upper == "ALL_PROXY"
