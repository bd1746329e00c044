"""Try osint-fanout without keys or internet: the loopback world, until Ctrl-C.

    python -m tests.world [--slow] [--config PATH]

Starts every upstream on 127.0.0.1 (DNS, WHOIS, RDAP, crt.sh, Cert Spotter, Shodan,
InternetDB, VirusTotal), writes a config file that points every adapter at them (with the
world's API keys in it, so the keyed adapters work too), prints how to use it, and runs
until Ctrl-C or SIGTERM; then it stops the servers and removes what it wrote.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from .world import IP, IP6, World

SLOW = {"dns": 0.2, "whois": 0.5, "rdap": 0.6, "virustotal": 0.9, "shodan": 1.2, "crtsh": 2.0}
"""With --slow, seconds each upstream takes, so that the live table fills row by row."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.world", description=__doc__.split("\n\n")[0])
    parser.add_argument("--slow", action="store_true", help="answer after 0.2 to 2 s, like real services")
    parser.add_argument("--config", type=Path, help="where to write the config (default: a temporary folder)")
    args = parser.parse_args(argv)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    with World() as world:
        config = world.write_config(args.config, keys=True)
        if args.slow:
            for service, delay_s in SLOW.items():
                world.behave(service, "*", "slow", delay_s=delay_s)
        print(f"config: {config}", flush=True)
        print(_usage(config), flush=True)
        while not stop.wait(0.5):
            pass
        if args.config is not None:
            config.unlink(missing_ok=True)
    print("the world has stopped", flush=True)
    return 0


def _usage(config: Path) -> str:
    return f"""
The loopback world is running: every upstream of osint-fanout on 127.0.0.1, with test
keys for Shodan, VirusTotal and Cert Spotter in the config above. Try, in another shell:

  osint-fanout search -c {config} example.com
  osint-fanout search -c {config} example.com {IP} -f json
  OSINT_FANOUT_CONFIG={config} osint-fanout adapters

It knows every name under example.com, example.net, example.org and .test, and the
addresses {IP} and {IP6}. Stop it with Ctrl-C."""


if __name__ == "__main__":
    sys.exit(main())
