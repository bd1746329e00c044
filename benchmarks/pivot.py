"""Pivot: a depth-2 pivot from one seed in a world of 1,000 names, beside a flat `-i` run of
the same targets, every upstream answering after 50 ms.

The world is a no-network adapter (`tree`) that sleeps for the latency and answers as a
DNS-and-CT source would: a name's children (subdomains) and its address; it declares them
as assets and `resolves`, so the pivot also asks it about a random label under each parent
(wildcard detection: these probes are pivot bookkeeping, and are counted in its CPU, not in
its calls). The seed names 40 subdomains, each of them 24 more: 1 + 40 + 960 = 1,001 names,
plus their addresses (none are followed: --no-follow-ips keeps the two runs' targets equal).

Reported for each run: targets per second, adapter calls per second, CPU per call (the CLI
process's user + system time over its calls). A third run is the flat one with each
result's assets() built too (as the store does once it records assets): the adapters' own
share of the pivot's cost. The pivot's bookkeeping is its extra CPU per call over that
run's (the issue's bound: at most 10 %); over the plain flat run is shown beside it.

    python -m benchmarks.pivot [--concurrency 100] [--latency 0.05] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from benchmarks.common import clean_env, install_plugin, measure, median

TREE = """
    import asyncio
    import os
    from osint_fanout import Adapter, TargetKind
    from osint_fanout.assets import AssetType, Findings, RelationKind

    SEED = "acme.invalid"
    WIDTH = {{0: 40, 1: 24}}  # children of a name at depth 0 and 1 (1 + 40 + 960 names)

    def depth(name):
        return name.count(".") - SEED.count(".")

    class Plugin(Adapter):
        name = "tree"
        description = "a tree of names, after {latency} s, without the network"
        kinds = frozenset(TargetKind)
        resolves = True

        async def lookup(self, target, ctx):
            await asyncio.sleep({latency})
            name = target.value
            level = depth(name)
            if level > 2 or not (name == SEED or name.endswith("." + SEED)) or name.startswith("osint-fanout-"):
                return {{"children": [], "a": []}}
            children = [f"n{{i}}.{{name}}" for i in range(WIDTH.get(level, 0))]
            data = {{"children": children, "a": [f"10.{{level}}.{{len(name) % 250}}.{{sum(map(ord, name)) % 250}}"]}}
            if os.environ.get("TREE_ASSETS"):  # the flat run's third variant: assets() built, as a store would
                self.assets(target, data)
            return data

        def assets(self, target, data):
            found = Findings()
            me = found.target_ref(target)
            for child in data["children"]:
                found.link(AssetType.DOMAIN, child, RelationKind.SUBDOMAIN_OF, me)
            for ip in data["a"]:
                found.relate(me, RelationKind.RESOLVES_TO, found.add(AssetType.IPV4, ip))
            return found
"""


def names() -> list[str]:
    seed = "acme.invalid"
    first = [f"n{i}.{seed}" for i in range(40)]
    return [seed, *first, *(f"n{j}.{parent}" for parent in first for j in range(24))]


class Figures:
    def __init__(self) -> None:
        self.targets_s: list[float] = []
        self.calls_s: list[float] = []
        self.cpu_ms: list[float] = []
        self.wall: list[float] = []
        self.targets = 0

    def line(self) -> str:
        return (
            f"{self.targets} targets, {median(self.targets_s):6.0f} targets/s, {median(self.calls_s):6.0f} calls/s, "
            f"{median(self.cpu_ms):.3f} ms CPU per call, {median(self.wall):.2f} s"
        )


def run(args: list[str], env: dict[str, str], out: Path, figures: Figures) -> None:
    out.unlink(missing_ok=True)
    measured = measure([*args, "-a", "tree", "-f", "ndjson", "-o", str(out), "--summary", "-q", "--no-store"], env)
    if measured.code:
        raise SystemExit(f"the run failed ({measured.code})")
    summary = json.loads(out.read_text().splitlines()[-1])["summary"]
    calls = sum(summary["results"].values())
    figures.targets = summary["targets"]
    figures.targets_s.append(summary["targets"] / summary["wall_s"])
    figures.calls_s.append(calls / summary["wall_s"])
    figures.cpu_ms.append(measured.cpu_s / calls * 1000)
    figures.wall.append(summary["wall_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="osint-pivot-"))
    plugins = install_plugin(folder / "plugins", "tree", TREE.format(latency=args.latency))
    env = clean_env(folder / "home", PYTHONPATH=str(plugins))
    Path(env["HOME"]).mkdir(parents=True, exist_ok=True)
    config = folder / "config.toml"
    config.write_text(f"[run]\nconcurrency = {args.concurrency}\ndeadline_s = 300.0\n")
    listing = folder / "targets.txt"
    listing.write_text("".join(f"{name}\n" for name in names()))
    common = ["search", "-c", str(config)]
    pivot = [*common, "acme.invalid", "--depth", "2", "--no-follow-ips", "--max-targets", "5000"]
    flat = [*common, "-i", str(listing)]
    figures = {"flat -i": Figures(), "flat, assets()": Figures(), "pivot --depth 2": Figures()}
    print(
        f"pivot: 1 seed, depth 2, {len(names())} names, upstream latency {args.latency * 1000:.0f} ms, "
        f"concurrency {args.concurrency}, median of {args.rounds}:"
    )
    for _ in range(args.rounds):  # alternated, so a busy moment of the machine hits both
        run(flat, env, folder / "flat.ndjson", figures["flat -i"])
        run(flat, env | {"TREE_ASSETS": "1"}, folder / "flat.ndjson", figures["flat, assets()"])
        run(pivot, env, folder / "pivot.ndjson", figures["pivot --depth 2"])
    for label, measured in figures.items():
        print(f"  {label:16} {measured.line()}")
    pivot_ms = median(figures["pivot --depth 2"].cpu_ms)
    over_assets = pivot_ms / median(figures["flat, assets()"].cpu_ms) - 1
    over_flat = pivot_ms / median(figures["flat -i"].cpu_ms) - 1
    print(
        f"  the pivot's bookkeeping: {over_assets:+.1%} CPU per call over the flat run with assets() "
        f"(bound: +10%); {over_flat:+.1%} over the plain flat run"
    )


if __name__ == "__main__":
    main()
