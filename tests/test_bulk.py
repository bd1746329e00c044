"""Bulk and cron runs: many targets from files or stdin, resume, limits, summaries."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest

from osint_fanout._inputs import completed_targets
from osint_fanout._schema import SCHEMA_DIR
from tests.plugin_kit import CLI, clean_env, install_plugins, run_cli
from tests.timing import assert_ends_by, cli_overhead_s
from tests.world.dns_server import DnsServer

COUNT = 300
NDJSON_SCHEMA = json.loads((SCHEMA_DIR / "ndjson.schema.json").read_text())


@pytest.fixture
def dns() -> Iterator[DnsServer]:
    zone = {f"host{n}.example.com": {"A": [f"192.0.2.{n % 250}"]} for n in range(COUNT)}
    server = DnsServer(zone).start()
    yield server
    server.stop()


@pytest.fixture
def config(tmp_path: Path, dns: DnsServer) -> Path:
    path = tmp_path / "config.toml"
    # a generous timeout: this file tests bulk behaviour, not the DNS server's speed under load
    path.write_text(f'[run]\nconcurrency = 32\n[adapters.dns]\ntimeout_s = 15\nnameservers = ["{dns.address}"]\n')
    return path


def targets_file(tmp_path: Path, count: int = COUNT) -> Path:
    lines = ["# nightly list", ""]
    lines += [f"host{n}.example.com" for n in range(count)]
    lines.insert(10, "not a target")
    lines.insert(20, "bad..name")
    path = tmp_path / "targets.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


def ndjson(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_a_few_hundred_targets_from_a_file(tmp_path: Path, config: Path) -> None:
    listing = targets_file(tmp_path)
    proc, _ = run_cli(
        ["search", "-i", str(listing), "-a", "dns", "-c", str(config), "-f", "ndjson", "--summary"], clean_env(tmp_path)
    )
    assert proc.returncode == 1, proc.stderr  # every target answered, but two lines were invalid
    lines = ndjson(proc.stdout)
    for line in lines:  # the results and the summary line alike
        jsonschema.validate(line, NDJSON_SCHEMA)
    results, summary = lines[:-1], lines[-1]["summary"]
    assert len(results) == COUNT
    assert {r["status"] for r in results} == {"ok"}
    assert {r["target"]["value"] for r in results} == {f"host{n}.example.com" for n in range(COUNT)}
    assert summary["targets"] == COUNT and summary["invalid_lines"] == 2
    assert summary["results"] == {"ok": COUNT}
    assert summary["by_adapter"] == {"dns": {"ok": COUNT}}
    warnings = [line for line in proc.stderr.splitlines() if "invalid target" in line]
    assert warnings == [
        f"osint-fanout: warning: {listing}:11: invalid target 'not a target': contains spaces",
        f"osint-fanout: warning: {listing}:21: invalid target 'bad..name': empty label",
    ]
    assert f"{COUNT} targets in" in proc.stderr and "2 invalid lines skipped" in proc.stderr


def test_stdin_and_positional_targets_combine(tmp_path: Path, config: Path) -> None:
    stdin = "host1.example.com\n# comment\n\nhost2.example.com\n"
    proc, _ = run_cli(
        ["search", "host3.example.com", "-i", "-", "-a", "dns", "-c", str(config), "-f", "json"],
        clean_env(tmp_path),
        stdin=stdin,
    )
    assert proc.returncode == 0
    values = [report["target"]["value"] for report in ndjson(proc.stdout)]
    assert sorted(values) == ["host1.example.com", "host2.example.com", "host3.example.com"]


def test_stdin_is_read_as_it_comes(tmp_path: Path, config: Path) -> None:
    """A slow producer on a pipe does not hold back the results of what it already sent."""
    proc = subprocess.Popen(
        [CLI, "search", "-i", "-", "-a", "dns", "-c", str(config), "-f", "ndjson"],
        env=clean_env(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("host7.example.com\n")
    proc.stdin.flush()
    first = json.loads(proc.stdout.readline())  # arrives while stdin is still open
    assert first["target"]["value"] == "host7.example.com" and first["status"] == "ok"
    proc.stdin.write("host8.example.com\n")
    proc.stdin.close()
    rest = proc.stdout.read()
    assert proc.wait(timeout=120) == 0
    assert json.loads(rest)["target"]["value"] == "host8.example.com"


def test_resume_skips_targets_already_complete(tmp_path: Path, config: Path, dns: DnsServer) -> None:
    out = tmp_path / "results.ndjson"
    env = clean_env(tmp_path)
    half = tmp_path / "half.txt"
    half.write_text("".join(f"host{n}.example.com\n" for n in range(0, 100)))
    proc, _ = run_cli(["search", "-i", str(half), "-a", "dns", "-c", str(config), "-f", "ndjson", "-o", str(out)], env)
    assert proc.returncode == 0 and proc.stdout == ""
    # a cancelled line from an interrupted run does not count as done; a torn last line is tolerated
    with out.open("a") as handle:
        handle.write(json.dumps({"target": {"value": "host150.example.com"}, "adapter": "dns", "status": "cancelled"}))
        handle.write('\n{"target": {"value": "host151.exa')
    asked_before = len(dns.queries)
    full = tmp_path / "full.txt"
    full.write_text("".join(f"host{n}.example.com\n" for n in range(0, 200)))
    proc, _ = run_cli(
        ["search", "-i", str(full), "-a", "dns", "-c", str(config), "-f", "ndjson", "-o", str(out), "--resume"], env
    )
    assert proc.returncode == 0
    asked = {name for _, name, _ in dns.queries[asked_before:]}
    assert "host5.example.com" not in asked and "host150.example.com" in asked
    lines = out.read_text().splitlines()
    parsed = [json.loads(line) for line in lines if line.endswith("}") and line.startswith("{") and "exa\n" not in line]
    done = {r["target"]["value"] for r in parsed if r.get("status") == "ok"}
    assert done == {f"host{n}.example.com" for n in range(200)}
    assert "100 already done (--resume)" in proc.stderr


def test_max_time_bounds_the_whole_run(tmp_path: Path, config: Path) -> None:
    plugins = install_plugins(tmp_path / "plugins", ["sleeper"])
    env = clean_env(tmp_path, pythonpath=plugins)
    listing = targets_file(tmp_path, 50)
    max_time_s = round(1.5 + 2 * cli_overhead_s(env), 1)  # start-up counts against it: room for it on a busy machine
    proc, took = run_cli(
        ["search", "-i", str(listing), "-a", "dns,sleeper", "-c", str(config), "-f", "ndjson",
         "--max-time", str(max_time_s), "--summary"],
        env,
    )
    assert_ends_by(took, max_time_s, env=env)  # --max-time bounds it as a deadline does
    assert proc.returncode == 1
    lines = ndjson(proc.stdout)
    results, summary = lines[:-1], lines[-1]["summary"]
    cancelled = [r for r in results if r["status"] == "cancelled"]
    assert {r["status"] for r in results if r["adapter"] == "sleeper"} == {"cancelled"}
    assert any(r["status"] == "ok" for r in results if r["adapter"] == "dns")
    assert all(r["error"]["message"] == "the run's --max-time passed" for r in cancelled)
    assert summary["results"]["cancelled"] == len(cancelled)


def test_ndjson_lines_are_complete_even_after_sigkill(tmp_path: Path, config: Path) -> None:
    plugins = install_plugins(tmp_path / "plugins", ["sleeper"])
    out = tmp_path / "out.ndjson"
    proc = subprocess.Popen(
        [
            CLI,
            "search",
            "-i",
            str(targets_file(tmp_path, 60)),
            "-a",
            "dns,sleeper",
            "-c",
            str(config),
            "-f",
            "ndjson",
            "-o",
            str(out),
        ],
        env=clean_env(tmp_path, pythonpath=plugins),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    hang_guard = time.monotonic() + 120
    while time.monotonic() < hang_guard and (not out.exists() or out.read_text().count("\n") < 10):
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    text = out.read_text()
    assert text.endswith("\n")
    assert len([json.loads(line) for line in text.splitlines()]) >= 10


def test_sigterm_during_a_bulk_run_flushes_and_summarises(tmp_path: Path, config: Path) -> None:
    plugins = install_plugins(tmp_path / "plugins", ["sleeper"])
    proc = subprocess.Popen(
        [
            CLI,
            "search",
            "-i",
            str(targets_file(tmp_path, 60)),
            "-a",
            "dns,sleeper",
            "-c",
            str(config),
            "-f",
            "ndjson",
            "--summary",
        ],
        env=clean_env(tmp_path, pythonpath=plugins),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the run is under way: a result has arrived
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=30)
    assert_ends_by(time.monotonic() - sent, 0)
    assert proc.returncode == 143
    lines = ndjson(first + stdout)
    assert "summary" in lines[-1]
    assert any(r.get("status") == "cancelled" for r in lines[:-1])
    assert "targets in" in stderr and "Traceback" not in stderr


def test_resume_counts_the_last_line_per_adapter(tmp_path: Path) -> None:
    out = tmp_path / "out.ndjson"

    def line(value: str, adapter: str, status: str) -> str:
        return json.dumps({"target": {"value": value}, "adapter": adapter, "status": status})

    out.write_text(
        "\n".join(
            [
                line("a.example", "dns", "ok"),
                line("a.example", "ct", "error"),  # complete: errors are final
                line("b.example", "dns", "ok"),
                line("b.example", "ct", "cancelled"),  # incomplete
                line("c.example", "dns", "ok"),
                line("c.example", "ct", "ok"),
                line("c.example", "ct", "cancelled"),  # a later cancelled line counts
                line("d.example", "dns", "cancelled"),
                line("d.example", "dns", "ok"),
                line("d.example", "ct", "empty"),
                line("e.example", "dns", "ok"),  # ct never reported
                '{"summary": {"targets": 3}}',
                "not json",
                '{"target": 1}',
            ]
        )
        + "\n"
    )
    assert completed_targets(out, ["ct", "dns"]) == {"a.example", "d.example"}
    assert completed_targets(out, ["dns"]) == {"a.example", "b.example", "c.example", "d.example", "e.example"}
    assert completed_targets(tmp_path / "missing.ndjson", ["dns"]) == set()
