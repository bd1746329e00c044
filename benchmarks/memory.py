"""Memory: peak RSS of a bulk run of 1,000 and of 100,000 targets.

The targets stream through a no-network adapter (1 ms per call) at concurrency 100, into
an NDJSON file, so the figures are the pipeline's own: input read lazily, a bounded
number of calls in flight, each result written as it arrives. Without the history store
(--no-store; benchmarks/store.py measures it): at this pace, thousands of results a second,
the store falls behind and gives up recording, exit code 3.

    python -m benchmarks.memory [--sizes 1000 100000]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks.common import clean_env, install_instant_plugin, run_measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    sizes = parser.parse_args().sizes
    folder = Path(tempfile.mkdtemp(prefix="osint-memory-"))
    env = clean_env(folder, PYTHONPATH=str(install_instant_plugin(folder / "plugins")))
    print("memory: peak RSS of `search -i FILE -f ndjson -o OUT` (no-network adapter, concurrency 100):")
    for size in sizes:
        listing = folder / f"targets-{size}.txt"
        listing.write_text("".join(f"host{n}.example.com\n" for n in range(size)))
        out = folder / f"out-{size}.ndjson"
        args = ["search", "-i", str(listing), "-a", "instant", "--concurrency", "100", "-f", "ndjson", "-o", str(out)]
        wall, code, rss = run_measured([*args, "--no-store"], env)
        lines = sum(1 for _ in out.open())
        assert code == 0 and lines == size, (code, lines)
        print(f"  {size:>7} targets   peak RSS {rss:4d} MiB   {wall:6.1f} s   {lines / wall:6.0f} targets/s")


if __name__ == "__main__":
    main()
