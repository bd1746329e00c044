"""Rate-limit precision: an upstream that allows 20 requests a second (in any one-second
window) and answers 429 past that; 200 calls through `rate_limit = "20/s"`.

Reports how long the calls took against the fastest schedule the limit allows, the most
requests the upstream saw in any one-second window, and the 429s it sent (the goal: zero).

    python -m benchmarks.rate_limit [--calls 200] [--limit 20]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
from pathlib import Path

from benchmarks.common import clean_env, run_measured
from tests.world.limited import LimitedInternetDb, busiest_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--limit", type=int, default=20)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="osint-rate-"))
    server = LimitedInternetDb(args.limit)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = folder / "config.toml"
    config.write_text(
        f"[run]\nconcurrency = 50\ndeadline_s = 600\n[adapters.shodan]\ntimeout_s = 600\n"
        f'internetdb_url = "http://127.0.0.1:{server.server_address[1]}"\n'
        f'rate_limit = {{ internetdb = "{args.limit}/s" }}\n'
    )
    listing = folder / "ips.txt"
    listing.write_text("".join(f"198.51.{n // 250}.{n % 250 + 1}\n" for n in range(args.calls)))
    out = folder / "out.ndjson"
    run_measured(
        ["search", "-i", str(listing), "-a", "shodan", "-c", str(config), "-f", "ndjson", "-o", str(out), "-q"],
        clean_env(folder),
    )
    server.shutdown()
    statuses = [json.loads(line)["status"] for line in out.read_text().splitlines()]
    span = server.accepted[-1] - server.accepted[0]
    ideal = (len(server.accepted) - 1) // args.limit  # whole windows needed, bursting at each start
    print(
        f'rate limit: {args.calls} calls through rate_limit = "{args.limit}/s" to an upstream that allows '
        f"{args.limit}/s:"
    )
    print(
        f"  first to last call   {span:.2f} s  (the fastest legal schedule: {ideal:.2f} s; "
        f"{ideal / span:.0%} of the limit used)"
    )
    print(f"  busiest 1 s window   {busiest_second(server.accepted)} requests")
    print(f"  429s received        {server.refused}")
    print(f"  results              {dict((s, statuses.count(s)) for s in sorted(set(statuses)))}")


if __name__ == "__main__":
    main()
