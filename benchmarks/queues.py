"""Per-upstream queues: 300 targets, dns and an upstream limited to 2 requests a second.

The limited upstream (InternetDB's format, refusing a third request in any second with 429)
gets a queue of 300 calls; the dns calls must not wait behind it. Reports when the last dns
result came out, how close the limited upstream ran to its limit, and the 429s it sent.

    python -m benchmarks.queues [--targets 300] [--limit 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.common import clean_env
from tests.world.limited import LimitedInternetDb, busiest_second
from tests.world.world import World, cli_command


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--targets", type=int, default=300)
    parser.add_argument("--limit", type=int, default=2)
    args = parser.parse_args()
    limited = LimitedInternetDb(args.limit).start()
    with World(home=Path(tempfile.mkdtemp(prefix="osint-queues-"))) as world:
        limits = {"internetdb_url": limited.url, "rate_limit": {"internetdb": f"{args.limit}/s"}}
        config = world.write_config(shodan=limits)
        listing = world.home / "ips.txt"
        listing.write_text("".join(f"198.51.{n // 250}.{n % 250 + 1}\n" for n in range(args.targets)))
        env = clean_env(world.home, OSINT_FANOUT_CONFIG=str(config), NO_PROXY="*")
        command = [*cli_command(), "search", "-i", str(listing), "-a", "dns,shodan", "-f", "ndjson", "--no-store", "-q"]
        started = time.monotonic()
        proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        arrivals: dict[str, list[float]] = {"dns": [], "shodan": []}
        statuses: dict[str, set[str]] = {"dns": set(), "shodan": set()}
        for line in proc.stdout:
            result = json.loads(line)
            arrivals[result["adapter"]].append(time.monotonic() - started)
            statuses[result["adapter"]].add(result["status"])
        proc.wait()
    limited.stop()
    span = limited.accepted[-1] - limited.accepted[0]
    ideal = (len(limited.accepted) - 1) // args.limit
    print(f"queues: {args.targets} targets, dns and an upstream limited to {args.limit}/s (default concurrency 16):")
    print(f"  dns results          {len(arrivals['dns'])}, the last {max(arrivals['dns']):.1f} s after the start "
          f"({', '.join(sorted(statuses['dns']))})")
    print(f"  limited upstream     {len(limited.accepted)} requests in {span:.1f} s against a fastest legal "
          f"{ideal:.1f} s ({ideal / span:.0%} of its limit); results {', '.join(sorted(statuses['shodan']))}")
    print(f"  busiest 1 s window   {busiest_second(limited.accepted)} requests; 429s received {limited.refused}")


if __name__ == "__main__":
    main()
