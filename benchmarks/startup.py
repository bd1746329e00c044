"""Start-up: wall time of `osint-fanout --version`, `--help` and `search --help`.

python -m benchmarks.startup [--runs 15]
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.common import clean_env, median
from tests.world.world import cli_command


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    env = clean_env(Path(tempfile.mkdtemp()))
    print(f"start-up, median of {runs} runs:")
    for args in (["--version"], ["--help"], ["search", "--help"]):
        times = []
        for _ in range(runs):
            started = time.monotonic()
            subprocess.run([*cli_command(), *args], env=env, capture_output=True, check=True)
            times.append(time.monotonic() - started)
        print(f"  osint-fanout {' '.join(args):<14} {median(times) * 1000:6.0f} ms   (min {min(times) * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
