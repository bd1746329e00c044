"""`--help` as a user reads it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from osint_fanout._cli import DEFAULTS
from osint_fanout._settings import RunSettings
from osint_fanout._version import __version__
from tests.plugin_kit import clean_env, run_cli

MISLEADING = re.compile(r"<(bool|int|float|str|list\[[^>]*\]|file|path)>")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return clean_env(tmp_path, {"COLUMNS": "100", "TERM": "dumb"})


def options_panel(help_text: str) -> dict[str, str]:
    """The Options panel: each option's whole entry (its wrapped lines joined) by name."""
    panel = help_text.split("─ Options ", 1)[1].split("╰", 1)[0]
    entries: dict[str, str] = {}
    name = ""
    for line in panel.splitlines()[1:]:
        body = line.strip().strip("│").strip()
        match = re.match(r"(--[a-z-]+)", body)
        if match:
            name = match.group(1)
            entries[name] = body
        elif name and body:
            entries[name] += " " + body
    return entries


def test_search_help_shows_every_default_and_what_each_option_takes(env: dict[str, str]) -> None:
    proc, _ = run_cli(["search", "--help"], env)
    assert proc.returncode == 0, proc.stderr
    options = options_panel(proc.stdout)
    assert len(options) >= 15
    for name, entry in options.items():
        if name != "--help":
            assert "[default: " in entry, f"{name} shows no default: {entry}"
    assert "[default: 60]" in options["--deadline"] and "[default: 16]" in options["--concurrency"]
    assert not MISLEADING.search(proc.stdout), MISLEADING.search(proc.stdout)
    assert re.search(r"-a +NAME\[,NAME\.\.\.\]", options["--adapters"])
    assert re.search(r"-x +NAME\[,NAME\.\.\.\]", options["--exclude"])
    assert re.search(r"-i +FILE", options["--input"]) and re.search(r"--deadline +SECONDS", options["--deadline"])
    assert re.search(r"--max-age +DURATION", options["--max-age"])
    flags = {"--resume": "With -o FILE", "--summary": "End ndjson", "--quiet": "No progress", "--verbose": "More"}
    flags |= {"--changes": "Print only what changed", "--no-store": "Do not record"}
    for flag, help_start in flags.items():  # the help text follows the names: no value between
        assert re.match(rf"{flag}( +-[a-z])? +{re.escape(help_start)}", options[flag]), options[flag]
    assert "<table|json|ndjson>" in options["--format"]
    assert "Usage: osint-fanout search [OPTIONS] [TARGET]..." in proc.stdout


def test_help_defaults_are_the_settings_defaults() -> None:
    settings = RunSettings()
    assert {"deadline_s": settings.deadline_s, "concurrency": settings.concurrency} == DEFAULTS


def test_examples_are_one_per_line(env: dict[str, str]) -> None:
    proc, _ = run_cli(["search", "--help"], env)
    examples = proc.stdout.split("Examples:", 1)[1].splitlines()
    commands = [line.strip() for line in examples if line.strip().startswith("osint-fanout")]
    assert len(commands) == 6
    for command in commands:
        assert command.count("osint-fanout") == 1
    assert "osint-fanout search example.com" in commands
    assert "osint-fanout search 198.51.100.7 -f json | jq ." in commands  # the one real pipe


def test_no_arguments_prints_the_help_and_no_empty_error(env: dict[str, str]) -> None:
    proc, _ = run_cli([], env)
    assert proc.returncode == 2
    assert "Usage: osint-fanout [OPTIONS] COMMAND [ARGS]..." in proc.stdout
    assert "search" in proc.stdout and "adapters" in proc.stdout
    assert proc.stderr == ""


def test_root_help_offers_completion(env: dict[str, str]) -> None:
    proc, _ = run_cli(["--help"], env)
    assert proc.returncode == 0
    options = options_panel(proc.stdout)
    assert {"--install-completion", "--show-completion", "--version"} <= set(options)
    assert not MISLEADING.search(proc.stdout)


LIGHT = {
    "osint_fanout",
    "osint_fanout._args",  # option values parsed: Typer only
    "osint_fanout._assets_cli",  # assets' command: Typer only, the store loads inside it
    "osint_fanout._cli",
    "osint_fanout._diff",  # diff's command: Typer only, the store loads inside it
    "osint_fanout._exitcodes",
    "osint_fanout._help",
    "osint_fanout._history",  # history's and prune's commands: likewise
    "osint_fanout._paths",  # paths' command: likewise
    "osint_fanout._pivot_args",  # search's pivot options: Typer only, the pivot loads with --depth
    "osint_fanout._version",
    "osint_fanout.report",  # report's and export's commands: Typer only, each part loads on first use
    "osint_fanout.report._command",
}


def test_help_and_version_import_no_heavy_module(env: dict[str, str]) -> None:
    """Start-up stays fast: no httpx, no adapter, none of our heavier modules (Typer
    itself brings pydantic along to convert values; that is not ours to avoid)."""
    for args in (["--version"], ["--help"], ["search", "--help"], ["adapters", "--help"]):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "from osint_fanout._cli import main; main()", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr[-2000:]
        imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
        assert "osint_fanout._help" in imported  # the measurement sees our modules
        heavy = {name for name in imported if name.split(".")[0] in ("httpx", "dns", "osint_fanout_adapters")}
        ours = {name for name in imported if name.startswith("osint_fanout")} - LIGHT
        assert not heavy and not ours, f"{args}: {sorted(heavy | ours)[:5]}"


def test_version_is_answered_before_typer_is_imported(env: dict[str, str]) -> None:
    for flag in ("--version", "-V"):
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "osint_fanout", flag],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert proc.returncode == 0 and proc.stdout == f"osint-fanout {__version__}\n", proc.stderr[-2000:]
        imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
        assert "osint_fanout._entry" in imported and not {"typer", "rich", "pydantic"} & imported
