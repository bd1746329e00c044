"""Start-up: how long the CLI takes before it does anything, beside a bare interpreter.

Each figure is the median of `--runs` runs (min in parentheses); the commands are run in
turn, round after round, so that a busy moment on the machine spreads over all of them:

- `python -c pass` with the CLI's own interpreter: the floor;
- `--version`, `--help`, `search --help`, `adapters`: the whole process, spawn to exit;
- `search example.com -a dns -f json` against a loopback DNS server (benchmarks/fast_world.py,
  answering at once): from the moment the process is spawned to the moment the server
  receives the first query (the "first upstream query"), to the investigation's
  `started_at` (in its JSON output), and to the process's exit; with the history store
  on (the default) and with --no-store; and with the entry-point cache cold (a fresh
  user cache directory in each run).

- the libraries alone: `python -c` importing what any search needs (Typer, pydantic,
  asyncio, dnspython's resolver) and building one model and one TypeAdapter, as Typer
  does for each option: the floor of this stack, before a line of ours runs.

`--baseline LABEL=PATH` (repeatable) measures another installed `osint-fanout` script (for
example one installed from an older commit in a virtualenv of its own) in the same rounds,
as another column; a row that a baseline cannot run (a flag it does not have) shows "-".

    python -m benchmarks.startup [--runs 15] [--baseline first-wave=/path/to/venv/bin/osint-fanout]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from benchmarks.common import clean_env, median
from benchmarks.fast_world import FastWorld
from tests.world.world import cli_command

Figures = dict[str, list[float]]

LIBRARIES = """
import asyncio, typer, pydantic, dns.asyncresolver
class Probe(pydantic.BaseModel):
    value: int
pydantic.TypeAdapter(int)
"""


def interpreter_of(script: str) -> str:
    """The Python a console script runs with (its #! line)."""
    first = Path(script).read_text().splitlines()[0]
    return first.removeprefix("#!").strip() if first.startswith("#!") else "python3"


class Subject:
    """One installed CLI, measured: figures in seconds by row name."""

    def __init__(self, label: str, script: str, world: FastWorld, folder: Path) -> None:
        self.label = label
        self.script = script
        self.world = world
        self.folder = folder
        self.home = folder / "home"
        self.home.mkdir(parents=True)
        self.config = world.config_toml(folder / "config.toml", concurrency=16)
        self.figures: Figures = {}

    def add(self, row: str, seconds: float) -> None:
        self.figures.setdefault(row, []).append(seconds)

    def env(self, *, fresh_cache: bool = False) -> dict[str, str]:
        env = clean_env(self.home)
        if fresh_cache:
            cache = self.folder / "cold-cache"
            shutil.rmtree(cache, ignore_errors=True)
            env["XDG_CACHE_HOME"] = str(cache)
        return env

    def whole(self, row: str, argv: list[str]) -> None:
        started = time.monotonic()
        run = subprocess.run(argv, env=self.env(), capture_output=True, check=False)
        if run.returncode == 0:
            self.add(row, time.monotonic() - started)

    def search(self, row: str, *extra: str, fresh_cache: bool = False) -> None:
        argv = [self.script, "search", "example.com", "-a", "dns", "-f", "json", "-c", str(self.config), *extra]
        env = self.env(fresh_cache=fresh_cache)
        self.world.first_dns_at = None
        wall, started = time.time(), time.monotonic()
        run = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        ended = time.monotonic()
        if run.returncode != 0 and self.label != "this checkout":
            return  # e.g. --no-store, on a baseline from before the store
        assert run.returncode == 0, run.stderr
        report = json.loads(run.stdout)
        assert report["results"][0]["status"] == "ok", report
        first = self.world.first_dns_at
        assert first is not None
        self.add(f"{row}: first DNS query", first - started)
        self.add(f"{row}: started_at", datetime.fromisoformat(report["started_at"]).timestamp() - wall)
        self.add(f"{row}: exit", ended - started)

    def round(self, only: set[str]) -> None:
        steps: dict[str, Callable[[], None]] = {
            "pass": lambda: self.whole("python -c pass", [interpreter_of(self.script), "-c", "pass"]),
            "libraries": lambda: self.whole("the libraries alone", [interpreter_of(self.script), "-c", LIBRARIES]),
            "version": lambda: self.whole("--version", [self.script, "--version"]),
            "help": lambda: self.whole("--help", [self.script, "--help"]),
            "search-help": lambda: self.whole("search --help", [self.script, "search", "--help"]),
            "adapters": lambda: self.whole("adapters", [self.script, "adapters"]),
            "dns": lambda: self.search("search -a dns --no-store", "--no-store"),
            "dns-store": lambda: self.search("search -a dns (store on)"),
            "dns-cold": lambda: self.search("search -a dns, cold cache", "--no-store", fresh_cache=True),
        }
        for name, step in steps.items():
            if name == "pass" or not only or name in only:
                step()


STEPS = "libraries, version, help, search-help, adapters, dns, dns-store, dns-cold"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--baseline", metavar="LABEL=PATH", action="append", default=[], help="another osint-fanout, measured alongside"
    )
    parser.add_argument("--only", metavar="NAME,...", default="", help=f"only these rows ({STEPS})")
    args = parser.parse_args()
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    folder = Path(tempfile.mkdtemp(prefix="osint-startup-"))
    with FastWorld(0.0) as world:
        subjects = [Subject("this checkout", cli_command()[0], world, folder / "this")]
        for n, spec in enumerate(args.baseline):
            label, _, script = spec.rpartition("=")
            subjects.append(Subject(label or f"baseline {n + 1}", script, world, folder / f"baseline-{n}"))
        for subject in subjects:  # warm-up: the store created, caches filled, files in the page cache
            subject.round(only)
            subject.figures.clear()
        for n in range(args.runs):
            for subject in subjects if n % 2 == 0 else reversed(subjects):
                subject.round(only)
    print(f"start-up, median of {args.runs} runs in ms (min), spawn to the event:")
    print(f"  {'':<44}" + "".join(f"{s.label:>22}" for s in subjects))
    base = subjects[0].figures
    bare: Callable[[Subject], float] = lambda s: median(s.figures["python -c pass"])  # noqa: E731
    for row in base:
        cells = []
        for subject in subjects:
            values = subject.figures.get(row)
            if not values:
                cells.append("-")
                continue
            ratio = f" {median(values) / bare(subject):4.1f}x"
            cells.append(f"{median(values) * 1000:7.0f} ({min(values) * 1000:4.0f}){ratio}")
        print(f"  {row:<44}" + "".join(f"{cell:>22}" for cell in cells))
    print("  (x: times the bare interpreter's median, `python -c pass`, in the same rounds)")
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
