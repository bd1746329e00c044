"""Shared helpers: the CLI command, a clean environment, an instant plugin, statistics."""

from __future__ import annotations

import os
import statistics
import subprocess
import textwrap
import time
from pathlib import Path
from typing import NamedTuple

from tests.world.world import cli_command

INSTANT_PLUGIN = """
    import asyncio
    from osint_fanout import Adapter, TargetKind

    class Plugin(Adapter):
        name = "instant"
        description = "answers after 1 ms, without the network"
        kinds = frozenset(TargetKind)

        async def lookup(self, target, ctx):
            await asyncio.sleep(0.001)
            return {"length": len(target.value)}
"""


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The CLI's environment: no keys or settings of ours, HOME and the XDG dirs in `home`,
    and bytecode written and read as an installed package's is (PYTHONDONTWRITEBYTECODE
    would make every run compile the package's sources again: 40-60 ms of start-up)."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and not k.startswith("OSINT_FANOUT")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env |= {"HOME": str(home), "XDG_CONFIG_HOME": str(home / "config"), "XDG_CACHE_HOME": str(home / "cache")}
    return env | extra


def install_plugin(root: Path, name: str, source: str) -> Path:
    """An adapter module defining `Plugin`, registered as pip would; `root` goes on PYTHONPATH."""
    root.mkdir(parents=True, exist_ok=True)
    (root / f"ofb_{name}.py").write_text(textwrap.dedent(source))
    info = root / f"ofb_{name}-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: ofb-{name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[osint_fanout.adapters]\n{name} = ofb_{name}:Plugin\n")
    return root


def install_instant_plugin(root: Path) -> Path:
    """A no-network adapter, for measuring the pipeline alone."""
    return install_plugin(root, "instant", INSTANT_PLUGIN)


class Measured(NamedTuple):
    wall_s: float
    code: int
    peak_mib: int
    cpu_s: float
    """User + system CPU seconds of the CLI (and of any child it waited for), from wait4."""


def measure(args: list[str], env: dict[str, str], *, cli: list[str] | None = None) -> Measured:
    """Run the CLI; return its wall time, exit code, peak RSS and CPU time.

    The peak is the kernel's high-water mark of the process's own memory (VmHWM in
    /proc, Linux), read until it exits: getrusage's ru_maxrss would include the memory
    of this (forking) process. The CPU time is the child's own, reaped with os.wait4.
    `cli`: another installed osint-fanout to run (default: this checkout's).
    """
    started = time.monotonic()
    errors = Path(env["HOME"]) / "stderr.txt"
    with errors.open("w") as sink:
        proc = subprocess.Popen([*(cli or cli_command()), *args], env=env, stdout=subprocess.DEVNULL, stderr=sink)
    peak_kib = 0
    status = Path(f"/proc/{proc.pid}/status")
    while True:
        pid, code, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        try:
            line = next(line for line in status.read_text().splitlines() if line.startswith("VmHWM:"))
            peak_kib = max(peak_kib, int(line.split()[1]))
        except (OSError, StopIteration, ValueError):
            pass
        time.sleep(0.01)
    wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(code)
    if proc.returncode:
        print(f"osint-fanout exited with {proc.returncode}: {errors.read_text()[-2000:]}")
    return Measured(wall, proc.returncode, peak_kib // 1024, usage.ru_utime + usage.ru_stime)


def run_measured(args: list[str], env: dict[str, str]) -> tuple[float, int, int]:
    """`measure` without the CPU time: (wall seconds, exit code, peak RSS in MiB)."""
    wall, code, peak, _ = measure(args, env)
    return wall, code, peak


def median(values: list[float]) -> float:
    return statistics.median(values)
