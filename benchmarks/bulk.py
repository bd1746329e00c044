"""Bulk throughput: many targets, every upstream answering after 50 ms, concurrency 100.

Reports adapter calls per second against the bound `concurrency / latency`. Two runs:
the whole tool against lean asyncio upstreams (benchmarks/fast_world.py: HTTP and DNS in
the real formats), and the engine alone with a no-network adapter that sleeps for the
latency (what the fan-out itself can do on this machine).

    python -m benchmarks.bulk [--targets 5000] [--concurrency 100] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from benchmarks.common import clean_env, install_plugin, run_measured
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


def summary_of(out: Path) -> dict:
    return json.loads(out.read_text().splitlines()[-1])["summary"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--targets", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="osint-bulk-"))
    listing = folder / "targets.txt"
    listing.write_text("".join(f"host{n}.example.com\n" for n in range(args.targets)))
    bound = args.concurrency / args.latency
    print(
        f"bulk: {args.targets} targets, upstream latency {args.latency * 1000:.0f} ms, "
        f"concurrency {args.concurrency} (bound {bound:.0f} calls/s):"
    )

    with FastWorld(args.latency) as world:
        config = world.config_toml(folder / "config.toml", concurrency=args.concurrency, deadline_s=300.0)
        out = folder / "tool.ndjson"
        _, _, rss = run_measured(
            ["search", "-i", str(listing), "-c", str(config), "-f", "ndjson", "-o", str(out), "--summary", "-q"],
            clean_env(folder),
        )
    summary = summary_of(out)
    calls = sum(summary["results"].values())
    print(
        f"  whole tool, 5 adapters:   {calls / summary['wall_s']:6.0f} calls/s ({calls / summary['wall_s'] / bound:.0%}"
        f" of the bound), {summary['wall_s']:.1f} s, results {summary['results']}, peak RSS {rss} MiB"
    )

    plugins = install_plugin(folder / "plugins", "sleeper", SLEEPER.format(latency=args.latency))
    out = folder / "engine.ndjson"
    env = clean_env(folder, PYTHONPATH=str(plugins))
    _, _, rss = run_measured(
        [
            "search",
            "-i",
            str(listing),
            "-a",
            "sleeper",
            "--concurrency",
            str(args.concurrency),
            "-f",
            "ndjson",
            "-o",
            str(out),
            "--summary",
            "-q",
        ],
        env,
    )
    summary = summary_of(out)
    calls = sum(summary["results"].values())
    print(
        f"  engine alone, 1 adapter:  {calls / summary['wall_s']:6.0f} calls/s ({calls / summary['wall_s'] / bound:.0%}"
        f" of the bound), {summary['wall_s']:.1f} s, peak RSS {rss} MiB"
    )


if __name__ == "__main__":
    main()
