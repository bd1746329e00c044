"""Bulk throughput: many targets, every upstream answering after 50 ms, concurrency 100.

Reports adapter calls per second against the bound `concurrency / latency`, and the CPU
time the CLI spends per adapter call (user + system, of the CLI process alone: the
upstreams run in this process). Two runs: the whole tool against lean asyncio upstreams
(benchmarks/fast_world.py: HTTP and DNS in the real formats), and the engine alone with a
no-network adapter that sleeps for the latency (what the fan-out itself can do here).

This checkout runs twice: as by default (the history store on, SQLite) and with --no-store;
`--postgres` adds a run with a PostgreSQL store (a server started for the benchmark).
`--baseline PATH` runs another installed `osint-fanout` (e.g. one installed from main)
the same way, right after this checkout's, for figures side by side; `--rounds N`
alternates the two N times and reports medians.

    python -m benchmarks.bulk [--targets 5000] [--concurrency 100] [--latency 0.05]
                              [--baseline /path/to/venv/bin/osint-fanout] [--rounds 1]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from benchmarks.common import clean_env, install_plugin, measure, median
from benchmarks.fast_world import FastWorld

SLEEPER = """
    import asyncio
    from osint_fanout import Adapter, TargetKind

    class Plugin(Adapter):
        name = "sleeper"
        description = "sleeps for the benchmark's latency, without the network"
        kinds = frozenset(TargetKind)

        async def lookup(self, target, ctx):
            await asyncio.sleep({latency})
            return {{"length": len(target.value)}}
"""

TODAY = {"whole tool": 4.3, "engine alone": None}
"""CPU ms per call before issue 14 (its own figure for the whole tool), for reference."""


def summary_of(out: Path) -> dict:
    return json.loads(out.read_text().splitlines()[-1])["summary"]


class Figures:
    def __init__(self) -> None:
        self.rate: list[float] = []
        self.cpu_ms: list[float] = []
        self.wall: list[float] = []
        self.rss: list[int] = []
        self.results: dict[str, int] = {}

    def line(self, bound: float) -> str:
        rate = median(self.rate)
        return (
            f"{rate:6.0f} calls/s ({rate / bound:.0%} of the bound), {median(self.cpu_ms):.2f} ms CPU per call, "
            f"{median(self.wall):.1f} s, peak RSS {max(self.rss)} MiB"
        )


def config_for(world: FastWorld, folder: Path, cli: list[str] | None, args: argparse.Namespace) -> Path:
    """The world's config with every quota off (virustotal's 500 a day would otherwise turn
    most of its calls into skips), or without the option for a CLI from before quotas."""
    folder.mkdir(parents=True, exist_ok=True)
    config = world.config_toml(folder / "config.toml", concurrency=args.concurrency, deadline_s=300.0, quotas_off=True)
    if measure(["adapters", "-c", str(config)], clean_env(folder), cli=cli).code == 2:
        config = world.config_toml(folder / "config.toml", concurrency=args.concurrency, deadline_s=300.0)
    return config


def run(cli: list[str] | None, args: list[str], env: dict[str, str], out: Path, figures: Figures) -> None:
    Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    measured = measure([*args, "-f", "ndjson", "-o", str(out), "--summary", "-q"], env, cli=cli)
    summary = summary_of(out)
    calls = sum(summary["results"].values())
    figures.rate.append(calls / summary["wall_s"])
    figures.cpu_ms.append(measured.cpu_s / calls * 1000)
    figures.wall.append(summary["wall_s"])
    figures.rss.append(measured.peak_mib)
    figures.results = summary["results"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--baseline", metavar="PATH", help="another osint-fanout script, measured alongside")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--skip-engine", action="store_true", help="only the whole tool")
    parser.add_argument("--postgres", action="store_true", help="this checkout with a PostgreSQL store too")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="osint-bulk-"))
    listing = folder / "targets.txt"
    listing.write_text("".join(f"host{n}.example.com\n" for n in range(args.targets)))
    bound = args.concurrency / args.latency
    print(
        f"bulk: {args.targets} targets, upstream latency {args.latency * 1000:.0f} ms, "
        f"concurrency {args.concurrency} (bound {bound:.0f} calls/s), median of {args.rounds}:"
    )
    subjects: dict[str, list[str] | None] = {"this checkout": None, "this checkout, --no-store": None}
    extra = {"this checkout, --no-store": ["--no-store"]}  # the store's share; the first wave had none
    pg = None
    if args.postgres:  # the tests' server, started here (tests/pg_server.py)
        from tests.pg_server import start_server

        pg = start_server()
        subjects["this checkout, PostgreSQL"] = None
        extra["this checkout, PostgreSQL"] = ["--store", pg.new_database("bulk")]
    if args.baseline:
        subjects["baseline"] = [args.baseline]
    whole = {label: Figures() for label in subjects}
    engine = {label: Figures() for label in subjects}
    plugins = install_plugin(folder / "plugins", "sleeper", SLEEPER.format(latency=args.latency))
    with FastWorld(args.latency) as world:
        configs = {
            label: config_for(world, folder / label.replace(" ", "-"), cli, args) for label, cli in subjects.items()
        }
        for n in range(args.rounds):
            for label, cli in subjects.items() if n % 2 == 0 else reversed(subjects.items()):
                env = clean_env(folder / label.replace(" ", "-"))
                tool = ["search", "-i", str(listing), "-c", str(configs[label]), *extra.get(label, [])]
                run(cli, tool, env, folder / "tool.ndjson", whole[label])
    if not args.skip_engine:
        for n in range(args.rounds):
            for label, cli in subjects.items() if n % 2 == 0 else reversed(subjects.items()):
                env = clean_env(folder / label.replace(" ", "-"), PYTHONPATH=str(plugins))
                sleeper = ["search", "-i", str(listing), "-a", "sleeper", "--concurrency", str(args.concurrency)]
                sleeper += extra.get(label, [])
                run(cli, sleeper, env, folder / "engine.ndjson", engine[label])
    for label in subjects:
        print(f"  {label}:")
        print(f"    whole tool, 5 adapters:   {whole[label].line(bound)}")
        print(f"      results {whole[label].results}")
        if not args.skip_engine:
            print(f"    engine alone, 1 adapter:  {engine[label].line(bound)}")
    print(f"  (before issue 14, its own figure: {TODAY['whole tool']} ms CPU per call for the whole tool)")
    if pg is not None:
        pg.stop()


if __name__ == "__main__":
    main()
