"""Fan-out overhead: one target, five adapters whose upstreams answer after 50 to 500 ms.

Reports the engine's wall time for the target (from its JSON report), that minus the
slowest upstream's latency (the fan-out overhead), and the sum a sequential script of
`dig`, `whois` and `curl` would wait for. The process wall time, start-up included, too.

    python -m benchmarks.fanout [--runs 5]
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime

from benchmarks.common import median
from tests.world.world import World

LATENCY_S = {"dns": 0.05, "rdap": 0.15, "crtsh": 0.25, "shodan": 0.35, "virustotal": 0.50}
"""Per upstream service: dns, whois (RDAP), ct (crt.sh), shodan, virustotal."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    engine, process, stored = [], [], []
    with World() as world:
        world.write_config(keys=True)
        for service, delay in LATENCY_S.items():
            world.behave(service, "*", "slow", delay_s=delay)
        for _ in range(runs):  # with the history store (on by default): its own figure
            run = world.run_cli("search", "example.com", "-f", "json", env=world.key_env())
            report = json.loads(run.stdout)
            took = datetime.fromisoformat(report["finished_at"]) - datetime.fromisoformat(report["started_at"])
            stored.append(took.total_seconds())
        for _ in range(runs):
            run = world.run_cli("search", "example.com", "-f", "json", "--no-store", env=world.key_env())
            report = json.loads(run.stdout)
            assert run.code == 0 and {r["status"] for r in report["results"]} == {"ok"}, run.stderr
            took = datetime.fromisoformat(report["finished_at"]) - datetime.fromisoformat(report["started_at"])
            engine.append(took.total_seconds())
            process.append(run.wall_s)
    slowest, total = max(LATENCY_S.values()), sum(LATENCY_S.values())
    print(
        f"fan-out, one target, 5 adapters at {', '.join(f'{v * 1000:.0f}' for v in LATENCY_S.values())} ms "
        f"(median of {runs}, without the history store):"
    )
    print(f"  engine wall time            {median(engine) * 1000:6.0f} ms")
    print(f"  minus the slowest upstream  {(median(engine) - slowest) * 1000:6.0f} ms  (fan-out overhead)")
    print(f"  sequential sum              {total * 1000:6.0f} ms  ({total / median(engine):.1f}x the fan-out)")
    print(f"  process wall time           {median(process) * 1000:6.0f} ms  (start-up and exit included)")
    print(f"  engine wall time, storing   {median(stored) * 1000:6.0f} ms  (the history store on, as by default)")


if __name__ == "__main__":
    main()
