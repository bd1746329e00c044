"""Try osint-fanout without keys or internet: the loopback world, until Ctrl-C.

    python -m tests.world [--slow] [--changed] [--config PATH]

Starts every upstream on 127.0.0.1 (DNS, WHOIS, RDAP, crt.sh, Cert Spotter, Shodan,
InternetDB, VirusTotal), writes a config file that points every adapter at them (with the
world's API keys in it, so the keyed adapters work too), prints how to use it, and runs
until Ctrl-C or SIGTERM; then it stops the servers and removes what it wrote. Each line
read on stdin (Enter) moves the world between its two states (states.py), so that `diff`
has a change to show.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from .states import SUMMARY, set_state
from .world import IP, IP6, World

SLOW = {"dns": 0.2, "whois": 0.5, "rdap": 0.6, "virustotal": 0.9, "shodan": 1.2, "crtsh": 2.0}
"""With --slow, seconds each upstream takes, so that the live table fills row by row."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.world", description=__doc__.split("\n\n")[0])
    parser.add_argument("--slow", action="store_true", help="answer after 0.2 to 2 s, like real services")
    parser.add_argument("--changed", action="store_true", help="start in the second state (Enter toggles it)")
    parser.add_argument("--config", type=Path, help="where to write the config (default: a temporary folder)")
    args = parser.parse_args(argv)
    stop = threading.Event()
    toggled = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    with World() as world:
        config = world.write_config(args.config, keys=True)
        delays_s = SLOW if args.slow else None
        changed = args.changed
        set_state(world, changed, delays_s)
        print(f"config: {config}", flush=True)
        print(_usage(config, cli_shown()), flush=True)
        if changed:
            print(_state_line(changed), flush=True)
        if _may_read_stdin():
            threading.Thread(target=_read_enter, args=(toggled, stop), daemon=True).start()
        while not stop.wait(0.1):
            if toggled.is_set():
                toggled.clear()
                changed = not changed
                set_state(world, changed, delays_s)
                print(_state_line(changed), flush=True)
        if args.config is not None:
            config.unlink(missing_ok=True)
    print("the world has stopped", flush=True)
    return 0


def _may_read_stdin() -> bool:
    """Not when started in the background of a shell (`... &`): reading the terminal would
    stop the world (SIGTTIN)."""
    try:
        return not os.isatty(0) or os.tcgetpgrp(0) == os.getpgrp()
    except OSError:
        return False


def _read_enter(toggled: threading.Event, stop: threading.Event) -> None:
    """Each line on stdin toggles the state; the end of stdin (a closed or /dev/null
    stdin, e.g. in the background) changes nothing."""
    for _line in sys.stdin:
        if stop.is_set():
            return
        toggled.set()


def _state_line(changed: bool) -> str:
    if changed:
        return f"the world has changed: {SUMMARY}. Enter moves it back."
    return "the world is back in its first state. Enter changes it again."


def cli_shown() -> str:
    """How to run the osint-fanout of this Python, as it can be typed here: the console
    script beside the interpreter (relative to the working directory when it is inside
    it, as the README's `.venv/bin/osint-fanout`), else the one on PATH."""
    beside = Path(sys.executable).with_name("osint-fanout")
    if beside.is_file():
        try:
            relative = beside.relative_to(Path.cwd())
        except ValueError:
            return shlex.quote(str(beside))
        return shlex.quote(str(relative)) if relative.parent != Path(".") else f"./{shlex.quote(str(relative))}"
    if shutil.which("osint-fanout"):
        return "osint-fanout"
    return f"{shlex.quote(sys.executable)} -m osint_fanout"


def _usage(config: Path, cli: str) -> str:
    shown = shlex.quote(str(config))
    return f"""
The loopback world is running: every upstream of osint-fanout on 127.0.0.1, with test
keys for Shodan, VirusTotal and Cert Spotter in the config above. Try, in another shell:

  {cli} search -c {shown} example.com
  {cli} search -c {shown} example.com {IP} -f json
  OSINT_FANOUT_CONFIG={shown} {cli} adapters

Press Enter here to move the world to its second state (a new subdomain, a port opened,
another registrar), search again, then: {cli} diff example.com
It knows every name under example.com, example.net, example.org and .test, and the
addresses {IP} and {IP6}. Stop it with Ctrl-C."""


if __name__ == "__main__":
    sys.exit(main())
