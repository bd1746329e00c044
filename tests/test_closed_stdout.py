"""Every command whose reader closes stdout (`| head -1`) exits 141, with no traceback and
nothing else on stderr (issue 18)."""

from __future__ import annotations

import subprocess

import pytest

from tests.world.cli import cli_command
from tests.world.world import World

COMMANDS = [
    ("--help",),
    ("--version",),
    ("search", "--help"),
    ("adapters",),
    ("adapters", "-f", "json"),
    ("schema", "ndjson"),
    ("search", "example.com", "-a", "dns", "-f", "json", "--no-store"),
    ("search", "example.com", "-a", "dns", "-f", "ndjson", "--no-store"),
    ("search", "example.com", "-a", "dns", "-f", "table", "--no-store"),
    ("history", "example.com"),
    ("history", "example.com", "-f", "json"),
    ("diff", "example.com", "-f", "ndjson"),
    ("diff", "example.com", "-f", "table"),
]


@pytest.fixture
def store(world: World) -> str:
    """A store that holds a result of example.com (for history and diff)."""
    from osint_fanout.store import StoreSink
    from tests.store_kit import result

    url = f"sqlite:///{world.home / 'store.db'}"
    sink = StoreSink(url, finish_timeout_s=60)  # no deadline of a run to meet here
    sink.result(result("example.com"))
    sink.finish()
    assert sink.recorded == 1, sink.failure
    return url


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_closed_stdout_is_exit_141_and_no_traceback(world: World, store: str, command: tuple[str, ...]) -> None:
    proc = subprocess.Popen(
        [*cli_command(), *command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=world.cli_env({"COLUMNS": "80", "OSINT_FANOUT_STORE": store}),
        cwd=world.home,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line is written
    try:
        err = proc.stderr.read().decode("utf-8", "replace")
        code = proc.wait(timeout=120)  # a hang guard only
    finally:
        proc.kill()
    assert code == 141, err
    assert err == ""
