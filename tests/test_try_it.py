"""The README's "Try it" section, run as written: `python -m tests.world`, then the CLI
against the config it prints, on a pseudo-terminal as a person would see it."""

from __future__ import annotations

import json
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from osint_fanout import KeyPolicy
from osint_fanout._plugins import discover
from tests.plugin_kit import CLI, clean_env
from tests.terminal import Terminal
from tests.world.__main__ import cli_shown
from tests.world.world import served_adapters

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = "/tmp/osint-world-3kx2/config.toml"
ADAPTERS = served_adapters()
KEYED = [name for name in ADAPTERS if discover().adapters[name].key is not KeyPolicy.NONE]


def try_it_blocks() -> list[list[str]]:
    """The console blocks of the README's "Try it" section, as lines."""
    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("\n## Try it\n", 1)[1].split("\n## ", 1)[0]
    return [block.splitlines() for block in re.findall(r"```console\n(.*?)```", section, re.DOTALL)]


def command(line: str) -> list[str]:
    """A `$ ...` line of the README as argv for this checkout (a final `>/dev/null` left
    to the caller, see discarded)."""
    assert line.startswith("$ "), line
    argv = [word for word in shlex.split(line[2:]) if word != ">/dev/null"]
    if argv[0] == ".venv/bin/python":
        return [sys.executable, *argv[1:]]
    assert argv[0] == ".venv/bin/osint-fanout", line
    return [CLI, *argv[1:]]


class WorldProcess:
    """`python -m tests.world ...` started as a user would, its output read line by line."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def read_until(self, last: str, timeout_s: float = 20.0) -> list[str]:
        seen: list[str] = []
        while not seen or seen[-1] != last:
            try:
                line = self.lines.get(timeout=timeout_s)
            except queue.Empty:
                raise AssertionError(f"no {last!r} from the world; it printed {seen}") from None
            if line is None:
                errors = self.proc.stderr.read() if self.proc.stderr else ""
                raise AssertionError(f"the world ended early: {seen} {errors}")
            seen.append(line)
        return seen

    def press_enter(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()

    def stop(self, signum: int) -> tuple[int, str, str]:
        self.proc.send_signal(signum)
        code = self.proc.wait(timeout=120)
        rest: list[str] = []
        while (line := self.lines.get(timeout=60)) is not None:
            rest.append(line)
        return code, "\n".join(rest), self.proc.stderr.read() if self.proc.stderr else ""


@dataclass
class Started:
    world: WorldProcess
    printed: list[str]
    """What it printed on starting."""
    blocks: list[list[str]]
    """The README's console blocks, with the config path it printed in place of the README's."""
    config: Path


@pytest.fixture
def started() -> Iterator[Started]:
    blocks = try_it_blocks()
    world = WorldProcess(command(blocks[0][0]))
    try:
        printed = world.read_until("addresses 198.51.100.7 and 2001:db8::7. Stop it with Ctrl-C.")
        printed = [line.replace(f"{cli_shown()} ", ".venv/bin/osint-fanout ") for line in printed]
        config = Path(printed[0].removeprefix("config: "))
        blocks = [[line.replace(PLACEHOLDER, str(config)) for line in block] for block in blocks]
        yield Started(world, printed, blocks, config)
    finally:
        if world.proc.poll() is None:
            world.proc.kill()
            world.proc.wait()


def normalised(lines: list[str]) -> list[str]:
    """Times vary from run to run; everything else is the same each time."""
    lines = [re.sub(r"\b\d\.\d\ds\b", "#.##s", line) for line in lines]
    lines = [re.sub(r"\b\d{4}-\d\d-\d\d\b", "YYYY-MM-DD", line) for line in lines]
    return [re.sub(r"\b\d\d:\d\d:\d\d\b", "HH:MM:SS", line) for line in lines]


def test_the_try_it_section_as_written(started: Started, tmp_path: Path) -> None:
    world, config = started.world, started.config
    world_block, final_block, change_block = started.blocks
    assert config.is_file() and config.parent.name.startswith("osint-world-")
    assert started.printed == world_block[1:]  # the world prints what the README shows
    # a user's environment: no keys, no OSINT_FANOUT_CONFIG, a store of its own
    env = clean_env(tmp_path, {"XDG_DATA_HOME": str(tmp_path / "data")})
    search = command(final_block[0])
    final_block = final_block[1:]
    columns = max(len(line) for line in final_block)
    with Terminal(*search[1:], env=env, cwd=tmp_path, columns=columns) as term:
        live = term.wait_for(lambda s: "│ running" in s and re.search(r"│ ok +│", s) is not None)
        code = term.wait()
        shown = term.transcript()
    assert code == 0, "\n".join(shown)
    assert "example.com" in live  # the table in progress, as in the README's first screen
    assert normalised(shown) == normalised(final_block), "\n".join(shown)
    run = subprocess.run(
        [CLI, "search", "-c", str(config), "example.com", "198.51.100.7", "-f", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    reports = [json.loads(line) for line in run.stdout.splitlines()]
    assert sorted(r["target"]["value"] for r in reports) == ["198.51.100.7", "example.com"]  # as they finish
    statuses = {r["target"]["value"]: {a["adapter"]: a["status"] for a in r["results"]} for r in reports}
    assert statuses["example.com"] == dict.fromkeys(ADAPTERS, "ok") | {"asn": "skipped"}  # asn: addresses only
    assert statuses["198.51.100.7"] == dict.fromkeys(ADAPTERS, "ok") | {"ct": "skipped"}  # ct: domains only

    # Enter in the world's terminal, search again, diff: the change the README shows
    world.press_enter()
    changed = world.lines.get(timeout=20)
    assert changed is not None and changed.startswith("the world has changed: a new name vpn.<domain>"), changed
    again_line, diff_line, *diff_block = change_block
    assert again_line.endswith(" >/dev/null")
    again = subprocess.run(
        command(again_line), env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        timeout=60, check=False,
    )
    assert again.returncode == 0, again.stderr
    columns = max(len(line) for line in diff_block)
    with Terminal(*command(diff_line)[1:], env=env, cwd=tmp_path, columns=columns) as term:
        code = term.wait()
        shown = term.transcript()
    assert code == 1, "\n".join(shown)  # something changed
    assert normalised(shown) == normalised(diff_block), "\n".join(shown)
    assert "vpn.example.com" in "\n".join(shown) and "Second Registrar" in "\n".join(shown)
    code, rest, errors = world.stop(signal.SIGINT)
    assert (code, rest, errors) == (0, "the world has stopped", "")
    assert not config.parent.exists()  # its temporary folder, config included, is gone


def test_a_chosen_config_path_and_sigterm(tmp_path: Path) -> None:
    path = tmp_path / "world.toml"
    world = WorldProcess([sys.executable, "-m", "tests.world", "--config", str(path)])
    try:
        printed = world.read_until("addresses 198.51.100.7 and 2001:db8::7. Stop it with Ctrl-C.")
        assert printed[0] == f"config: {path}"
        text = path.read_text("utf-8")
        assert text.count("api_key = ") == len(KEYED) >= 3  # shodan, virustotal, ct (Cert Spotter), ...
        env = clean_env(tmp_path, {"OSINT_FANOUT_CONFIG": str(path)})
        listing = subprocess.run(
            [CLI, "adapters", "-f", "json"], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        rows = {row["name"]: row for row in json.loads(listing.stdout)["adapters"]}
        assert all(rows[name]["key_configured"] for name in KEYED)
        code, rest, errors = world.stop(signal.SIGTERM)
        assert (code, rest, errors) == (0, "the world has stopped", "")
        assert not path.exists()
    finally:
        if world.proc.poll() is None:
            world.proc.kill()
            world.proc.wait()
