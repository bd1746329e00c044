"""The installed command, run as a user or cron runs it."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osint_fanout import __version__
from osint_fanout._schema import SCHEMA_DIR, schemas
from tests.plugin_kit import CLI, MISBEHAVING, clean_env, install_plugin, install_plugins, run_cli
from tests.timing import assert_ends_by
from tests.world.dns_server import DnsServer

ZONE = {
    "example.com": {"A": ["93.184.215.14"], "TXT": ['"v=spf1 -all"']},
    "example.org": {"A": ["192.0.2.10"]},
    "7.100.51.198.in-addr.arpa": {"PTR": ["host.example.net."]},
}
JSON_SCHEMA = json.loads((SCHEMA_DIR / "json.schema.json").read_text())
NDJSON_SCHEMA = json.loads((SCHEMA_DIR / "ndjson.schema.json").read_text())


@pytest.fixture
def dns() -> Iterator[DnsServer]:
    server = DnsServer(ZONE, {"hang.test": "drop"}).start()
    yield server
    server.stop()


@pytest.fixture
def config(tmp_path: Path, dns: DnsServer) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'[adapters.dns]\nnameservers = ["{dns.address}"]\n', encoding="utf-8")
    return path


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return clean_env(tmp_path)


def no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr and 'File "' not in stderr


def test_version_and_help(env: dict[str, str]) -> None:
    proc, _ = run_cli(["--version"], env)
    assert (proc.returncode, proc.stdout.strip()) == (0, f"osint-fanout {__version__}")
    module = subprocess.run(
        [sys.executable, "-m", "osint_fanout", "--version"], capture_output=True, text=True, env=env, check=False
    )
    assert module.stdout.strip() == f"osint-fanout {__version__}"
    proc, _ = run_cli(["search", "--help"], env)
    assert proc.returncode == 0
    for option in (
        "--adapters",
        "--exclude",
        "--timeout",
        "--deadline",
        "--concurrency",
        "--format",
        "--output",
        "--quiet",
        "--verbose",
        "--config",
    ):
        assert option in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "bad..name"], "invalid target 'bad..name': empty label"),
        (["search", "--", "-leading.com"], "invalid target '-leading.com': starts with '-'"),
        (["search", "ok.com", "exa mple.com"], "contains spaces"),
        (["search", "--timeout", "0", "ok.com"], "--timeout"),
        (["search", "--deadline", "inf", "ok.com"], "--deadline"),
        (["search", "--max-time", "nan", "ok.com"], "--max-time"),
        (["search", "-a", ",", "ok.com"], "--adapters"),
        (["search", "--adapters", "nope", "ok.com"], "--adapters: unknown adapter 'nope'"),
        (["search", "--format", "xml", "ok.com"], "'xml' is not one of"),
        (["search"], "give at least one target"),
        (["search", "--resume", "ok.com"], "--resume"),
        (["search", "-i", "/nonexistent/list.txt", "--adapters", "dns"], "--input /nonexistent/list.txt"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2_before_any_query(
    args: list[str], message: str, env: dict[str, str], config: Path, dns: DnsServer
) -> None:
    proc, _ = run_cli([*args, "--config", str(config)] if args != ["search"] else args, env)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("osint-fanout: error: ")
    assert message in lines[0]
    assert proc.stdout == ""
    assert dns.queries == []
    no_traceback(proc.stderr)


def test_broken_config_is_exit_2_naming_key_and_file(tmp_path: Path, env: dict[str, str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[adapters.dns]\ntimeout_s = 'soon'\n")
    proc, _ = run_cli(["search", "example.com", "--config", str(bad)], env)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"osint-fanout: error: config {bad}: [adapters.dns] timeout_s: give a number"
    ]  # values of [adapters.*] are never echoed: they may be keys pasted into the wrong place


def test_json_output_one_object_per_target(env: dict[str, str], config: Path) -> None:
    proc, _ = run_cli(["search", "Example.COM", "198.51.100.7", "-a", "dns", "-c", str(config)], env)
    assert proc.returncode == 0, proc.stderr
    reports = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(reports) == 2
    for report in reports:
        jsonschema.validate(report, JSON_SCHEMA)
    by_value = {r["target"]["value"]: r for r in reports}
    domain = by_value["example.com"]
    assert domain["target"] == {"input": "Example.COM", "value": "example.com", "kind": "domain", "unicode": None}
    assert domain["deadline_s"] == 60
    [result] = domain["results"]
    assert result["adapter"] == "dns" and result["status"] == "ok" and result["error"] is None
    assert result["data"]["records"]["A"] == ["93.184.215.14"]
    assert by_value["198.51.100.7"]["results"][0]["data"]["ptr"] == ["host.example.net"]


def test_ndjson_one_line_per_result(env: dict[str, str], config: Path) -> None:
    proc, _ = run_cli(["search", "example.com", "example.org", "-a", "dns", "-f", "ndjson", "-c", str(config)], env)
    assert proc.returncode == 0
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert {line["target"]["value"] for line in lines} == {"example.com", "example.org"}
    for line in lines:
        jsonschema.validate(line, NDJSON_SCHEMA)


def test_a_dns_server_that_never_answers_ends_by_the_deadline(env: dict[str, str], config: Path) -> None:
    # --no-store: the end of a run also waits for the store's commit ([store] commit_timeout_s),
    # which on a busy machine is not the deadline's time; the deadline is under test here.
    args = ["search", "www.hang.test", "-a", "dns", "--deadline", "2", "-c", str(config), "--no-store"]
    proc, took = run_cli(args, env)
    assert_ends_by(took, 2, env=env)
    assert proc.returncode == 1
    [report] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert report["results"][0]["status"] in ("timeout", "cancelled")


def test_deadline_holds_when_an_adapter_blocks_the_event_loop(tmp_path: Path, config: Path) -> None:
    plugins = install_plugins(tmp_path / "plugins", ["blocker", "regex", "stubborn"])
    env = clean_env(tmp_path, pythonpath=plugins)
    for name in ("blocker", "regex", "stubborn"):
        proc, took = run_cli(
            ["search", "example.com", "-a", f"dns,{name}", "--deadline", "2", "-c", str(config), "--no-store"], env
        )
        assert_ends_by(took, 2, name, env=env)
        assert proc.returncode == 1
        [report] = [json.loads(line) for line in proc.stdout.splitlines()]
        statuses = {r["adapter"]: r["status"] for r in report["results"]}
        assert statuses[name] == "cancelled"
        # A blocked event loop starves everything; a stubborn task starves nothing (unless, as
        # the run says, start-up on a busy machine took most of the deadline).
        busy = "start-up took" in proc.stderr
        assert statuses["dns"] == ("ok" if name == "stubborn" else "cancelled") or (busy and name == "stubborn")
        no_traceback(proc.stderr)


def test_output_file_is_written_atomically(tmp_path: Path, config: Path) -> None:
    plugins = install_plugins(tmp_path / "plugins", ["sleeper"])
    env = clean_env(tmp_path, pythonpath=plugins)
    out = tmp_path / "out" / "result.json"
    out.parent.mkdir()
    proc = subprocess.Popen(
        [CLI, "search", "example.com", "-a", "dns,sleeper", "--deadline", "1.5", "-c", str(config), "-o", str(out)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(1.0)
    assert not out.exists()  # nothing half-written under the final name
    stdout, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1 and stdout == ""
    report = json.loads(out.read_text())
    assert {r["adapter"]: r["status"] for r in report["results"]} == {"dns": "ok", "sleeper": "cancelled"}
    assert [p.name for p in out.parent.iterdir()] == ["result.json"]


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signals_print_what_arrived_and_exit_128_plus_n(
    tmp_path: Path, config: Path, signum: signal.Signals, code: int
) -> None:
    plugins = install_plugins(tmp_path / "plugins", ["sleeper"])
    env = clean_env(tmp_path, pythonpath=plugins)
    proc = subprocess.Popen(
        [CLI, "search", "example.com", "-a", "dns,sleeper", "-c", str(config), "-f", "json", "-v"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_line(proc, "dns on example.com: ok")  # -v logs each result as it arrives
    sent = time.monotonic()
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=30)
    assert_ends_by(time.monotonic() - sent, 0, env=env)
    assert proc.returncode == code
    [report] = [json.loads(line) for line in stdout.splitlines()]
    statuses = {r["adapter"]: r["status"] for r in report["results"]}
    assert statuses == {"dns": "ok", "sleeper": "cancelled"}
    assert "interrupted" in stderr
    no_traceback(stderr)
    assert "sleeper on example.com: cancelled" in stderr


def wait_for_line(proc: subprocess.Popen[str], text: str, timeout: float = 120) -> str:
    """Read stderr until a line containing `text`; return what was read."""
    assert proc.stderr is not None
    seen = ""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        line = proc.stderr.readline()
        seen += line
        if text in line or not line:
            break
    assert text in seen, seen
    return seen


def test_a_plugin_that_fails_to_load_is_a_warning_and_the_rest_runs(tmp_path: Path, config: Path) -> None:
    plugins = install_plugins(tmp_path / "plugins", ["broken", "incomplete", "quick"])
    env = clean_env(tmp_path, pythonpath=plugins)
    others = "whois,ct,shodan,virustotal,asn"
    proc, _ = run_cli(["search", "example.com", "-x", others, "-c", str(config)], env)
    assert proc.returncode == 0
    assert "adapter plugin 'broken' failed to load: ImportError: this plugin is broken on purpose" in proc.stderr
    assert "adapter plugin 'incomplete' failed to load: description is missing" in proc.stderr
    [report] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert {r["adapter"] for r in report["results"]} == {"dns", "quick"}
    no_traceback(proc.stderr)
    # A run that names its adapters imports only those: the broken ones are not even tried.
    proc, _ = run_cli(["search", "example.com", "-a", "dns,quick", "-c", str(config)], env)
    assert proc.returncode == 0 and "failed to load" not in proc.stderr
    [report] = [json.loads(line) for line in proc.stdout.splitlines()]
    assert {r["adapter"] for r in report["results"]} == {"dns", "quick"}


def test_a_run_that_names_its_adapters_imports_no_other(tmp_path: Path, config: Path) -> None:
    marker = tmp_path / "imported"
    source = f"open({str(marker)!r}, 'w').close()  # the module was imported\n" + textwrap.dedent(MISBEHAVING["quick"])
    plugins = install_plugin(tmp_path / "plugins", "quick", source)
    env = clean_env(tmp_path, pythonpath=plugins)
    proc, _ = run_cli(["search", "example.com", "-a", "dns", "-c", str(config)], env)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()
    # its config section is still known (not an "unknown adapter"), and -x may name it
    config.write_text(config.read_text() + "\n[adapters.quick]\nenabled = true\n")
    proc, _ = run_cli(["search", "example.com", "-a", "dns", "-x", "quick", "-c", str(config)], env)
    assert proc.returncode == 0, proc.stderr
    assert not marker.exists()
    proc, _ = run_cli(["search", "example.com", "-a", "nosuch", "-c", str(config)], env)
    assert proc.returncode == 2 and "unknown adapter 'nosuch'" in proc.stderr and "quick" in proc.stderr
    proc, _ = run_cli(["search", "example.com", "-a", "dns,quick", "-c", str(config)], env)
    assert proc.returncode == 0 and marker.exists()


def test_hostile_text_stays_exact_in_json_and_inert_on_a_terminal(tmp_path: Path, config: Path) -> None:
    plugins = install_plugins(tmp_path / "plugins", ["quick"])
    env = clean_env(tmp_path, pythonpath=plugins)
    proc, _ = run_cli(["search", "example.com", "-a", "quick", "-c", str(config), "-f", "json"], env)
    assert "\x1b" not in proc.stdout and "\u202e" not in proc.stdout
    report = json.loads(proc.stdout)
    assert report["results"][0]["data"]["text"] == "[bold red]x[/] \x1b[2J\x1b]0;title\x07 \u202eevil"
    proc, _ = run_cli(["search", "example.com", "-a", "quick", "-c", str(config), "-f", "table"], env)
    assert proc.returncode == 0
    assert "\x1b" not in proc.stdout and "\x07" not in proc.stdout
    assert "[bold red]x[/] \\x1b[2J\\x1b]0;title\\x07 \\u202eevil" in proc.stdout


def test_adapters_listing_says_whether_a_key_is_set_never_the_key(tmp_path: Path, config: Path) -> None:
    key = "vt-secret-key-0123456789"
    env = clean_env(tmp_path, {"VT_API_KEY": key})
    proc, _ = run_cli(["adapters", "--format", "json", "-c", str(config)], env)
    assert proc.returncode == 0
    assert key not in proc.stdout and key not in proc.stderr
    rows = {row["name"]: row for row in json.loads(proc.stdout)["adapters"]}
    assert rows["dns"]["key"] == "none" and rows["dns"]["key_configured"] is False
    if "virustotal" in rows:
        assert rows["virustotal"]["key_configured"] is True
    table, _ = run_cli(["adapters", "-c", str(config)], env)
    assert table.returncode == 0 and "dns" in table.stdout and key not in table.stdout


def test_published_schemas_match_the_models() -> None:
    for file_name, schema in schemas().items():
        committed = json.loads((SCHEMA_DIR / file_name).read_text())
        assert committed == schema, f"run: python -m osint_fanout._schema ({file_name} drifted)"


def test_schema_command_prints_them(env: dict[str, str]) -> None:
    for name in ("json", "ndjson"):
        proc, _ = run_cli(["schema", name], env)
        assert proc.returncode == 0
        assert json.loads(proc.stdout) == json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=40))
def test_any_string_as_a_target_is_a_result_or_a_one_line_exit_2(tmp_path: Path, text: str) -> None:
    plugins = install_plugins(tmp_path / "plugins", ["quick"])
    proc, _ = run_cli(["search", "-a", "quick", "-f", "json", "--", text], clean_env(tmp_path, pythonpath=plugins))
    no_traceback(proc.stderr)
    if proc.returncode == 2:
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("osint-fanout: error: ")
        assert proc.stdout == ""
    else:
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["results"][0]["status"] == "ok"


@pytest.mark.parametrize("where", ["missing/out.json", "."])
def test_output_that_cannot_be_written_is_a_usage_error(
    tmp_path: Path, env: dict[str, str], config: Path, where: str
) -> None:
    proc, _ = run_cli(["search", "example.com", "-a", "dns", "-c", str(config), "-o", str(tmp_path / where)], env)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "--output" in proc.stderr
    no_traceback(proc.stderr)


def test_output_to_a_fifo_writes_into_it(tmp_path: Path, env: dict[str, str], config: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE, text=True)
    proc, _ = run_cli(["search", "example.com", "-a", "dns", "-c", str(config), "-o", str(fifo)], env)
    received, _ = reader.communicate(timeout=120)
    assert proc.returncode == 0
    assert json.loads(received)["target"]["value"] == "example.com"
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_output_through_a_symlink_replaces_the_file_it_points_to(
    tmp_path: Path, env: dict[str, str], config: Path
) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    proc, _ = run_cli(["search", "example.com", "-a", "dns", "-c", str(config), "-o", str(link)], env)
    assert proc.returncode == 0
    assert link.is_symlink() and json.loads(real.read_text())["target"]["value"] == "example.com"


@pytest.mark.parametrize("fmt", ["table", "json", "ndjson"])
def test_a_reader_that_stops_early_gives_exit_141_quietly(
    tmp_path: Path, env: dict[str, str], config: Path, fmt: str
) -> None:
    targets = " ".join(f"t{n}.example.com" for n in range(40))
    shell = f"{CLI} search {targets} -a dns -c {config} -f {fmt} | head -c 10 >/dev/null; echo ${{PIPESTATUS[0]}} >&2"
    proc = subprocess.run(["bash", "-c", shell], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.stderr.strip().splitlines()[-1] == "141"
    no_traceback(proc.stderr)
    assert "Task exception" not in proc.stderr


def test_closed_standard_streams_do_not_crash(tmp_path: Path, env: dict[str, str], config: Path) -> None:
    closed_out = subprocess.run(
        f"{CLI} search example.com -a dns -c {config} >&-",
        shell=True,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert closed_out.returncode == 0 and closed_out.stderr == ""
    closed_err = subprocess.run(
        f"{CLI} search bad..name 2>&-", shell=True, env=env, capture_output=True, text=True, check=False
    )
    assert closed_err.returncode == 2 and closed_err.stdout == ""
    closed_in = subprocess.run(
        f"{CLI} search -i - -a dns <&-", shell=True, env=env, capture_output=True, text=True, check=False
    )
    assert closed_in.returncode == 2 and "stdin is closed" in closed_in.stderr
