"""Repeated options combine or are refused; an option that cannot apply says so; a run that
exits 1 says why in one line even with -q (issue 18)."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest

from tests.plugin_kit import CLI, clean_env, install_plugins
from tests.world.world import World


def one_error(stderr: str) -> str:
    lines = stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (("search", "example.com", "--deadline", "5", "--deadline", "50"), "--deadline"),
        (("search", "example.com", "-f", "json", "--format", "ndjson"), "--format"),
        (("search", "example.com", "--max-time", "5", "--max-time=9"), "--max-time"),
        (("search", "example.com", "-c", "a.toml", "-c", "b.toml"), "--config"),
        (("history", "example.com", "--limit", "1", "--limit", "2"), "--limit"),
        (("diff", "example.com", "--since", "1d", "--since", "2d"), "--since"),
        (("adapters", "-f", "json", "-f", "table"), "--format"),
    ],
)
def test_an_option_of_one_value_given_twice_is_refused(world: World, args: tuple[str, ...], name: str) -> None:
    said = world.run_cli(*args)
    assert said.code == 2
    assert one_error(said.stderr) == f"osint-fanout: error: {name} was given more than once; give it once (see --help)"


def test_repeated_adapters_and_excludes_combine(world: World) -> None:
    said = world.run_cli("search", "example.com", "-a", "dns", "-a", "ct,whois", "-x", "whois", "-f", "json")
    assert said.code == 0, said.stderr
    assert sorted(result["adapter"] for result in said.json()["results"]) == ["ct", "dns"]


@pytest.mark.parametrize(
    ("args", "why"),
    [
        (("--summary", "-f", "json"), "--summary ends ndjson output with a summary line, but the output is json"),
        (("--summary",), "--summary ends ndjson output with a summary line, but the output is json"),  # a pipe
        (("--shard-limits", "full"), "Invalid value for --shard-limits: applies only with --shard K/N"),
        (("-q", "-v"), "Invalid value for --quiet: give -q or -v, not both"),
        (("--no-store", "--store", "sqlite:///x.db"), "Invalid value for --no-store: give --store URL or --no-store"),
    ],
)
def test_an_option_that_cannot_apply_says_so(world: World, args: tuple[str, ...], why: str) -> None:
    said = world.run_cli("search", "example.com", "-a", "dns", *args)
    assert said.code == 2
    assert why in one_error(said.stderr)
    assert said.stdout == ""


@pytest.mark.parametrize("quiet", [("-q",), ()])
def test_a_failed_run_says_why_in_one_line_even_when_quiet(world: World, quiet: tuple[str, ...]) -> None:
    world.behave("crtsh", "example.com", "malformed")
    world.behave("certspotter", "example.com", "malformed")
    said = world.run_cli("search", "example.com", "-a", "ct,dns", "-f", "ndjson", "--no-store", *quiet)
    assert said.code == 1
    assert said.stderr.splitlines()[-1] == "osint-fanout: 1 error; exit 1 (see --summary)"
    if quiet:
        assert len(said.stderr.splitlines()) == 1, said.stderr


def test_invalid_input_lines_are_named_as_the_reason(world: World) -> None:
    said = world.run_cli("search", "-i", "-", "-a", "dns", "-f", "ndjson", "-q", "--no-store", input="not a target!\n")
    assert said.code == 1
    assert one_error(said.stderr) == "osint-fanout: 1 invalid input line; exit 1 (see --summary)"


def test_an_interrupted_quiet_run_says_so_in_one_line(tmp_path: Path) -> None:
    plugins = install_plugins(tmp_path / "plugins", ["quick", "sleeper"])
    proc = subprocess.Popen(
        [CLI, "search", "example.com", "-a", "quick,sleeper", "-f", "ndjson", "-q", "--no-store"],
        env=clean_env(tmp_path, pythonpath=plugins),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        assert '"quick"' in proc.stdout.readline()  # running: the quick result is out
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)  # a hang guard only
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert err.splitlines() == ["osint-fanout: interrupted; unfinished adapters are reported as cancelled"]
