"""Compression bombs: peak RSS of one search whose upstream sends gzip inside gzip, and of
50 searches in parallel whose upstream sends 1 GiB of zeros in 1 MiB of gzip.

The upstream is the loopback world's VirusTotal (keys set); the bodies are built at run
time (tests/world/bombs.py). The default 16 MiB body cap is in force.

    python -m benchmarks.bombs
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from benchmarks.common import clean_env, run_measured
from tests.world.world import World


def main() -> None:
    with World(home=Path(tempfile.mkdtemp(prefix="osint-bombs-"))) as world:
        config = world.write_config(keys=True, run={"concurrency": 50})
        env = clean_env(world.home, OSINT_FANOUT_CONFIG=str(config), NO_PROXY="*", **world.key_env())
        print("bombs: peak RSS of the CLI against decompression bombs (default 16 MiB cap):")
        cases = [
            ("gzip, gzip: 2.5 KB that decode to 1 GiB, twice", ["example.com"], {"layers": 2}),
            ("50 parallel bodies of 1 GiB of zeros in gzip", [f"198.51.100.{n}" for n in range(1, 51)], {"layers": 1}),
        ]
        for label, targets, params in cases:
            world.clear()
            world.behave("virustotal", "*", "bomb", **params)
            out = world.home / "out.ndjson"
            out.unlink(missing_ok=True)
            wall, code, rss = run_measured(  # exit 1: every result is an error, as it should be
                ["search", *targets, "-a", "virustotal", "-f", "ndjson", "-o", str(out)], env
            )
            errors = {json.loads(line)["error"]["type"] for line in out.read_text().splitlines()}
            assert code == 1, code
            print(f"  {label:<50} peak RSS {rss:4d} MiB   {wall:5.2f} s   results: {', '.join(sorted(errors))}")


if __name__ == "__main__":
    main()
