"""Shell completion through Typer's machinery: the scripts for bash, zsh and fish, the
completion protocol each speaks, and a real bash completing with the script."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from osint_fanout._help import ADAPTER_GROUP
from osint_fanout._plugins import ENTRY_POINT_GROUP, discover
from tests.plugin_kit import CLI, clean_env, install_plugins

COMPLETE = "_OSINT_FANOUT_COMPLETE"
BUILT_IN = ["asn", "ct", "dns", "shodan", "virustotal", "whois"]
BASH = shutil.which("bash")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return clean_env(tmp_path)


def run(env: dict[str, str], *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, *args], env=env | extra, capture_output=True, text=True, timeout=30, check=False
    )


def bash_complete(env: dict[str, str], line: str) -> list[str]:
    """What the bash protocol answers for `line` (the word being completed is the last)."""
    words = line.split(" ")
    proc = run(env, **{COMPLETE: "complete_bash", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)})
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_the_adapter_group_is_the_plugin_group() -> None:
    assert ADAPTER_GROUP == ENTRY_POINT_GROUP


@pytest.mark.parametrize(
    ("shell", "marks"),
    [
        ("bash", ["complete -o default -F _osint_fanout_completion osint-fanout", "complete_bash"]),
        ("zsh", ["#compdef osint-fanout", "compdef _osint_fanout_completion osint-fanout", "complete_zsh"]),
        ("fish", ["complete --command osint-fanout", "complete_fish"]),
    ],
)
def test_a_script_for_each_shell(env: dict[str, str], shell: str, marks: list[str]) -> None:
    proc = run(env, **{COMPLETE: f"source_{shell}"})
    assert proc.returncode == 0, proc.stderr
    for mark in marks:
        assert mark in proc.stdout
    assert COMPLETE in proc.stdout


@pytest.mark.skipif(BASH is None, reason="needs bash")
@pytest.mark.parametrize(
    ("shell", "installed"),
    [
        ("bash", ".bash_completions/osint-fanout.sh"),
        ("zsh", ".zfunc/_osint-fanout"),
        ("fish", ".config/fish/completions/osint-fanout.fish"),
    ],
)
def test_show_and_install_completion_for_the_shell_in_use(
    env: dict[str, str], tmp_path: Path, shell: str, installed: str
) -> None:
    """The options detect the shell they run in from their parent process; zsh and fish
    are stood in for by bash under their names (only the name is looked at)."""
    bin_dir = tmp_path / "shells"
    bin_dir.mkdir()
    (bin_dir / shell).symlink_to(BASH)  # type: ignore[arg-type]
    home = tmp_path / "home"
    home.mkdir()
    for option in ("--show-completion", "--install-completion"):
        proc = subprocess.run(
            [str(bin_dir / shell), "-c", f'"$0" {option}; exit $?', CLI],  # not the shell's last command: no exec
            env=env | {"HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        if option == "--show-completion":
            assert f"complete_{shell}" in proc.stdout
    script = home / installed
    assert f"complete_{shell}" in script.read_text()
    if shell == "bash":
        assert f"source '{script}'" in (home / ".bashrc").read_text()
    if shell == "zsh":
        assert "fpath+=~/.zfunc" in (home / ".zshrc").read_text()


def test_commands_options_and_formats_complete(env: dict[str, str]) -> None:
    assert bash_complete(env, "osint-fanout ") == [
        "search", "adapters", "paths", "schema", "history", "diff", "prune", "report", "export", "assets",
    ]
    assert bash_complete(env, "osint-fanout s") == ["search", "schema"]
    options = bash_complete(env, "osint-fanout search --")
    assert {"--adapters", "--exclude", "--format", "--deadline", "--input", "--resume"} <= set(options)
    assert bash_complete(env, "osint-fanout search --format ") == ["table", "json", "ndjson"]
    assert bash_complete(env, "osint-fanout search -f nd") == ["ndjson"]
    assert bash_complete(env, "osint-fanout adapters --format ") == ["table", "json"]
    assert bash_complete(env, "osint-fanout schema ") == ["json", "ndjson", "changes"]
    assert bash_complete(env, "osint-fanout export x -f ") == ["stix", "graphml", "csv"]


def test_adapter_names_complete_for_a_and_x(env: dict[str, str], tmp_path: Path) -> None:
    assert sorted(discover().adapters) == BUILT_IN
    assert bash_complete(env, "osint-fanout search -a ") == BUILT_IN
    assert bash_complete(env, "osint-fanout search --exclude v") == ["virustotal"]
    assert bash_complete(env, "osint-fanout search example.com -x dns,") == [f"dns,{n}" for n in BUILT_IN if n != "dns"]
    assert bash_complete(env, "osint-fanout search -a dns,w") == ["dns,whois"]
    plugins = install_plugins(tmp_path / "plugins", ["quick"])
    with_plugin = env | {"PYTHONPATH": str(plugins)}
    assert bash_complete(with_plugin, "osint-fanout search -a ") == sorted([*BUILT_IN, "quick"])


def test_zsh_and_fish_protocols(env: dict[str, str]) -> None:
    zsh = run(env, **{COMPLETE: "complete_zsh", "_TYPER_COMPLETE_ARGS": "osint-fanout search -a "})
    assert zsh.returncode == 0, zsh.stderr
    assert zsh.stdout.startswith("_arguments '*: :((")
    for name in BUILT_IN:
        assert f'"{name}"' in zsh.stdout
    fish = {COMPLETE: "complete_fish", "_TYPER_COMPLETE_FISH_ACTION": "get-args"}
    commands = run(env, **fish, _TYPER_COMPLETE_ARGS="osint-fanout ")
    assert commands.returncode == 0, commands.stderr
    commands_seen = [line.split("\t")[0] for line in commands.stdout.splitlines()]
    assert commands_seen == [
        "search", "adapters", "paths", "schema", "history", "diff", "prune", "report", "export", "assets",
    ]
    assert "\tInvestigate targets" in commands.stdout  # fish shows each command's help beside it
    assert run(env, **fish, _TYPER_COMPLETE_ARGS="osint-fanout search --format j").stdout.split() == ["json"]
    adapters = run(env, **fish, _TYPER_COMPLETE_ARGS="osint-fanout search -x ")
    assert adapters.stdout.split() == BUILT_IN


@pytest.mark.skipif(BASH is None, reason="needs bash")
def test_a_real_bash_completes_with_the_script(env: dict[str, str], tmp_path: Path) -> None:
    script = tmp_path / "osint-fanout.bash"
    script.write_text(run(env, **{COMPLETE: "source_bash"}).stdout, "utf-8")
    program = f"""
        source {script}
        complete -p osint-fanout
        COMP_WORDS=(osint-fanout search -a d); COMP_CWORD=3
        _osint_fanout_completion osint-fanout
        echo "adapters: ${{COMPREPLY[*]}}"
        COMP_WORDS=(osint-fanout search --format ''); COMP_CWORD=3
        _osint_fanout_completion osint-fanout
        echo "formats: ${{COMPREPLY[*]}}"
    """
    path = f"{Path(CLI).parent}{os.pathsep}{env.get('PATH', '')}"
    proc = subprocess.run(
        [BASH, "--norc", "--noprofile", "-c", program],  # type: ignore[list-item]
        env=env | {"PATH": path},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "complete -o default -F _osint_fanout_completion osint-fanout"
    assert "adapters: dns" in lines
    assert "formats: table json ndjson" in lines
