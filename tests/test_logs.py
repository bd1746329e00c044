"""Logs a person reads later: a time on every line (with -v, or when stderr is a file, as
in the README's cron recipe), and the URL's path and query with key-bearing values masked."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from osint_fanout._redact import masked_query
from tests.world.cli import cli_command
from tests.world.world import World

STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) osint-fanout: (debug|info|warning|error): ")


def test_masked_query_hides_the_values_of_key_bearing_parameters() -> None:
    params = [
        ("q", "%.example.com"),
        ("output", "json"),
        ("key", "abc"),
        ("apikey", "d"),
        ("access_token", "e"),
        ("X-Auth", "f"),
        ("page", "2"),
    ]
    assert masked_query(params) == "q=%.example.com&output=json&key=***&apikey=***&access_token=***&X-Auth=***&page=2"


def test_debug_lines_carry_the_time_the_path_and_the_query_never_the_key(world: World) -> None:
    world.write_config(keys=True)
    before = datetime.now(UTC) - timedelta(seconds=1)
    run = world.run_cli("search", "example.com", "-a", "ct,shodan,virustotal", "-f", "json", "-vv")
    assert run.code == 0, run.stderr
    logged = [line for line in run.stderr.splitlines() if "osint-fanout: " in line]
    assert logged and all(STAMP.match(line) for line in logged), run.stderr
    for line in logged:  # the times are now's, in order of the run
        at = datetime.strptime(STAMP.match(line).group(1), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)  # type: ignore[union-attr]
        assert before <= at <= datetime.now(UTC)
    gets = {
        re.sub(r"127\.0\.0\.1:\d+", "HOST", line.split("debug: GET ", 1)[1]) for line in logged if "debug: GET " in line
    }
    assert "HOST/?q=%.example.com&output=json (ct)" in gets  # crt.sh's query, which the old line dropped
    assert "HOST/dns/domain/example.com?key=*** (shodan)" in gets  # Shodan's key is in its query: masked
    assert "HOST/api/v3/domains/example.com (virustotal)" in gets
    for key in world.keys.values():
        assert key not in run.stderr


def test_a_log_file_gets_the_time_on_every_line_a_pipe_stays_as_it_was(world: World, tmp_path: Path) -> None:
    world.write_config()
    args = [*cli_command(), "search", "user@example.com", "example.net", "-a", "dns", "-f", "json"]
    log = tmp_path / "osint.log"
    with log.open("a") as stderr:  # the cron recipe's 2>>osint.log
        done = subprocess.run(
            args, env=world.cli_env(), cwd=world.home, stdout=subprocess.DEVNULL, stderr=stderr, timeout=60, check=False
        )
    assert done.returncode == 0, log.read_text()
    [summary] = [line for line in log.read_text().splitlines() if " targets in " in line]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 2 targets in ", summary)  # when the run ended
    [note] = [line for line in log.read_text().splitlines() if "e-mail address" in line]
    assert STAMP.match(note) and note.endswith(
        "osint-fanout: warning: 'user@example.com' is an e-mail address: searching example.com"
    )
    piped = world.run_cli("search", "user@example.com", "example.net", "-a", "dns", "-f", "json")
    assert any(line.startswith("2 targets in ") for line in piped.stderr.splitlines())
    assert (
        "osint-fanout: warning: 'user@example.com' is an e-mail address: searching example.com"
        in piped.stderr.splitlines()
    )
