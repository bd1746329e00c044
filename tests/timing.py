"""Time in tests that hold on a loaded machine.

A test never asserts a wall-clock limit that only an idle machine meets. It asserts what
the program reports about its own time (elapsed_ms, queued_ms, waited_ms, the deadline it
applied), or a bound derived from a baseline measured in the same test.

Where the wall time itself is the promise (the process ends by its deadline, or soon after
a signal), `assert_ends_by` checks the program's promise: the guards in
osint_fanout/_process.py end the process at the latest FAILSAFE_S past its deadline,
counted from the process's own start. But the guards start only once the interpreter has
imported the CLI: on a busy machine that start-up alone can outlast a 2 s deadline. So
what a busy machine adds (start-up, exit, threads waiting for a core) is measured in the
same test, by `cli_overhead_s` (a search that does nothing), only when the run was slower
than an idle machine's bound: the idle suite pays nothing.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping

from osint_fanout._process import FAILSAFE_S
from tests.world.cli import cli_command

__all__ = ["FAILSAFE_S", "assert_ends_by", "assert_within", "baseline_s", "cli_overhead_s", "within"]


def baseline_s(work: Callable[[], object], runs: int = 3) -> float:
    """The slowest of `runs` timings of `work`: what it costs on this machine right now."""
    slowest = 0.0
    for _ in range(runs):
        started = time.monotonic()
        work()
        slowest = max(slowest, time.monotonic() - started)
    return slowest


def within(took_s: float, idle_s: float, baseline: Callable[[], object]) -> bool:
    """`took_s` is at most `idle_s` (an idle machine's bound, with room), or, on a machine
    busy right now, `idle_s` plus what `baseline` (a quick run of the same kind) takes now,
    measured only then."""
    return took_s <= idle_s or took_s <= idle_s + baseline_s(baseline)


EMPTY_RUN = ("search", "--deadline", "0.001", "-a", "dns", "-f", "json", "--no-store", "example.invalid")
"""A search that does nothing: its one call is cancelled before it starts (no request)."""


def cli_overhead_s(env: Mapping[str, str] | None = None, runs: int = 2) -> float:
    """What starting and ending a search costs on this machine now: a search that does
    nothing (EMPTY_RUN), the slowest of `runs`. Start-up counts against a deadline, but a
    start-up longer than the deadline is still start-up: the process cannot end before it."""
    command = [*cli_command(), *EMPTY_RUN]
    environ = dict(env if env is not None else os.environ)
    return baseline_s(lambda: subprocess.run(command, env=environ, capture_output=True, timeout=120, check=False), runs)


def assert_within(wall_s: float, idle_s: float, what: str = "the run", env: Mapping[str, str] | None = None) -> None:
    """A CLI run took at most `idle_s` (what it takes on an idle machine, with room), plus,
    on a machine busy right now, what starting and ending the CLI costs now."""
    if wall_s <= idle_s:
        return
    overhead = cli_overhead_s(env)
    assert wall_s <= idle_s + overhead, (
        f"{what} took {wall_s:.2f} s: more than {idle_s:g} s"
        f" + {overhead:.2f} s (a search that does nothing, on this machine now)"
    )


def assert_ends_by(wall_s: float, limit_s: float, what: str = "the run", env: Mapping[str, str] | None = None) -> None:
    """A CLI run that must end by `limit_s` (its deadline, or 0 for "at once after a
    signal") did: within limit_s + FAILSAFE_S (the guards' promise), plus, on a machine
    busy right now, what starting and ending the CLI costs now."""
    assert_within(wall_s, limit_s + FAILSAFE_S, f"{what} (deadline {limit_s:g} s + failsafe {FAILSAFE_S} s)", env)
