"""End to end against the loopback world, on SQLite and on PostgreSQL: `search --changes`
prints only what changed since the stored results, and `--max-age` reuses young stored
results without asking the upstream (nor recording them again)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
from pathlib import Path
from typing import Any

import jsonschema

from osint_fanout._schema import SCHEMA_DIR
from tests.test_store_cli import brief, config_with_store, events, one_line_error
from tests.world.world import World, cli_command, zone_records

NDJSON_SCHEMA = json.loads((SCHEMA_DIR / "ndjson.schema.json").read_text())
README = Path(__file__).parents[1] / "README.md"
MAIL = """#!/bin/sh
{ echo "to $3: $2"; cat; echo "-- end"; } >>"$MAILBOX"
"""


def summary_of(run: Any) -> dict[str, Any]:
    last = run.ndjson()[-1]
    jsonschema.validate(last, NDJSON_SCHEMA)
    return last["summary"]  # type: ignore[no-any-return]


def test_search_changes_prints_only_what_changed_since_the_stored_results(world: World, store_url: str) -> None:
    store = ("--store", store_url)
    first = world.run_cli("search", "example.com", "example.org", "--changes", *store)
    assert first.code == 0, first.stderr
    seen = events(first)
    assert sorted((e["target"], e["adapter"], e["change"]) for e in seen) == [
        ("example.com", None, "first_seen"),  # once per target, not once per adapter or fact
        ("example.org", None, "first_seen"),
    ]

    unchanged = world.run_cli("search", "example.com", "--changes", *store)
    assert (unchanged.code, unchanged.stdout) == (0, ""), unchanged.stderr  # nothing for unchanged facts

    records = zone_records("example.com") or {}
    world.add_records("example.com", {**records, "A": ["192.0.2.99"]})
    world.behave("crtsh", "example.com", "normal", replace={"mail.example.com": "shop.example.com"})
    second = world.run_cli("search", "example.com", "--changes", *store)
    assert second.code == 0, second.stderr
    expected = {
        ("ct", "subdomains", "added", "shop.example.com"),
        ("ct", "subdomains", "removed", "mail.example.com"),
        ("dns", "A", "added", "192.0.2.99"),
        ("dns", "A", "removed", "198.51.100.7"),
        ("ct", None, "new", "shop.example.com"),  # the assets: mail.example.com stays (the MX names it)
        ("dns", None, "new", "192.0.2.99"),
        ("dns", None, "gone", "198.51.100.7"),
    }
    printed = events(second)
    assert len(printed) == len(expected) and brief(printed) == expected
    diffed = world.run_cli("diff", "example.com", "-f", "ndjson", *store)
    assert brief(events(diffed)) == expected  # the same events as diff gives afterwards

    world.behave("dns", "example.com", "servfail")
    world.behave("crtsh", "example.com", "server_error")
    world.behave("certspotter", "example.com", "server_error")
    failed = world.run_cli("search", "example.com", "--changes", "--summary", *store)
    assert failed.code == 1, failed.stderr  # search's own exit code: some adapters failed
    assert len(failed.ndjson()) == 1  # no event for a failed lookup: only the summary line
    assert summary_of(failed)["results"]["error"] == 2


def test_search_changes_streams_events_to_a_file_and_ends_with_the_summary(world: World, tmp_path: Path) -> None:
    store = ("--store", f"sqlite:///{tmp_path / 'store.db'}")
    out = tmp_path / "changes.ndjson"
    assert world.run_cli("search", "example.com", "-a", "dns", *store).code == 0
    world.add_records("example.com", {**(zone_records("example.com") or {}), "MX": ["5 mx2.example.com."]})
    run = world.run_cli("search", "example.com", "-a", "dns", "--changes", "-f", "ndjson", "-o", str(out), *store)
    assert run.code == 0 and run.stdout == "", run.stderr
    again = world.run_cli("search", "example.com", "-a", "dns", "--changes", "--summary", "-o", str(out), *store)
    assert again.code == 0, again.stderr
    found = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(e.get("fact"), e["change"], e["value"]) for e in found[:-1]] == [
        ("MX", "added", "5 mx2.example.com"),
        ("MX", "removed", "10 mail.example.com"),
        (None, "new", "mx2.example.com"),  # new assets as the result arrives,
        (None, "gone", "mail.example.com"),  # gone ones when the target is complete
    ]
    assert set(found[-1]) == {"summary"}  # the second run changed nothing: its summary only


def test_max_age_reuses_stored_results_without_asking_the_upstream(world: World, store_url: str) -> None:
    store = ("--store", store_url)
    world.write_config(keys=True)
    first = world.run_cli("search", "example.com", "-a", "dns,virustotal", "-f", "json", *store)
    assert first.code == 0, first.stderr
    asked_vt, asked_dns = len(world.requests("virustotal")), len(world.dns.queries)
    assert asked_vt == 1 and asked_dns > 0

    again = world.run_cli(
        "search", "example.com", "-a", "dns,virustotal", "-f", "ndjson", "--summary", "--max-age", "1h", *store
    )
    assert again.code == 0, again.stderr
    assert (len(world.requests("virustotal")), len(world.dns.queries)) == (asked_vt, asked_dns)  # no request made
    reused = {r["adapter"]: r for r in again.ndjson()[:-1]}
    before = {r["adapter"]: r for r in first.json()["results"]}
    for name in ("dns", "virustotal"):
        assert reused[name]["cached_at"] is not None and reused[name]["waited_ms"] == 0
        assert (reused[name]["status"], reused[name]["data"]) == (before[name]["status"], before[name]["data"])
    summary = summary_of(again)
    assert summary["cached"] == 2 and summary["cached_by_adapter"] == {"dns": 1, "virustotal": 1}
    assert summary["results"] == {"ok": 2}

    history = world.run_cli("history", "example.com", "-a", "virustotal", "-f", "json", *store).json()
    assert len(history) == 1  # a reused result is not a new observation
    recorded = history[0]["recorded_at"].replace("Z", "+00:00")
    assert reused["virustotal"]["cached_at"].replace("Z", "+00:00") == recorded

    quiet = world.run_cli("search", "example.com", "-a", "dns,virustotal", "--changes", "--max-age", "1h", *store)
    assert (quiet.code, quiet.stdout) == (0, ""), quiet.stderr  # what was stored says nothing new

    world.write_config(keys=True, virustotal={"max_age": "1h"})  # the config, for one adapter
    by_config = world.run_cli("search", "example.com", "-a", "dns,virustotal", "-f", "json", *store)
    assert by_config.code == 0, by_config.stderr
    assert len(world.requests("virustotal")) == asked_vt and len(world.dns.queries) > asked_dns
    cached = {r["adapter"]: r["cached_at"] is not None for r in by_config.json()["results"]}
    assert cached == {"dns": False, "virustotal": True}

    time.sleep(1.1)
    expired = world.run_cli("search", "example.com", "-a", "virustotal", "-f", "json", "--max-age", "1s", *store)
    assert expired.code == 0 and expired.json()["results"][0]["cached_at"] is None
    assert len(world.requests("virustotal")) == asked_vt + 1


def test_a_failed_result_is_never_reused(world: World, tmp_path: Path) -> None:
    store = ("--store", f"sqlite:///{tmp_path / 'store.db'}")
    world.behave("dns", "example.com", "servfail")
    assert world.run_cli("search", "example.com", "-a", "dns", "-f", "json", *store).code == 1
    world.behave("dns", "example.com", "normal")
    run = world.run_cli("search", "example.com", "-a", "dns", "-f", "json", "--max-age", "1d", *store)
    assert run.code == 0, run.stderr
    assert run.json()["results"][0]["status"] == "ok" and run.json()["results"][0]["cached_at"] is None


def test_changes_and_max_age_usage_errors_are_one_line_and_exit_2(world: World, tmp_path: Path) -> None:
    out = str(tmp_path / "o.ndjson")
    cases = [
        (["--changes", "--no-store"], "--changes compares with the stored results, but the store is off"),
        (["--max-age", "1h", "--no-store"], "--max-age reuses stored results, but the store is off"),
        (["--changes", "-f", "json"], "--changes writes change events as ndjson; drop --format json"),
        (["--max-age", "soon"], "is not a duration"),
        (["--max-age", "0s"], "not a positive duration"),
        (["--changes", "--resume", "-o", out, "-f", "ndjson"], "--changes writes change events there"),
    ]
    for args, message in cases:
        run = world.run_cli("search", "example.com", *args)
        assert run.code == 2, (args, run.stderr)
        assert message in one_line_error(run.stderr), (args, run.stderr)
    config_with_store(world, "enabled = false")
    off = world.run_cli("search", "example.com", "--changes")
    assert off.code == 2 and "the store is off" in one_line_error(off.stderr)
    world.write_config(dns={"max_age": "a while"})
    bad = world.run_cli("search", "example.com")
    assert bad.code == 2 and "max_age" in one_line_error(bad.stderr)
    world.write_config(dns={"max_age": "1h"})
    no_store = world.run_cli("search", "example.com", "-a", "dns", "-f", "json", "--no-store")
    assert no_store.code == 0 and no_store.json()["results"][0]["cached_at"] is None  # nothing to reuse: asked


def test_a_broken_store_under_changes_and_max_age_still_searches_and_exits_3(world: World, tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database at all\n" * 100)
    store = ("--store", f"sqlite:///{broken}")
    changes = world.run_cli("search", "example.com", "-a", "dns", "--changes", *store)
    assert changes.code == 3 and changes.stdout == ""
    assert "1 of 1 results were not compared" in changes.stderr and "Traceback" not in changes.stderr
    cached = world.run_cli("search", "example.com", "-a", "dns", "-f", "json", "--max-age", "1h", *store)
    assert cached.code == 3 and cached.json()["results"][0]["status"] == "ok"  # asked, since the cache is off
    assert "the cache is off for this run" in cached.stderr and "Traceback" not in cached.stderr


def test_the_readme_cron_recipe_mails_only_what_changed(world: World, tmp_path: Path) -> None:
    entry = next(line for line in README.read_text().splitlines() if line.startswith("15 2 ") and "--changes" in line)
    command = entry.split(" ", 5)[5]  # what follows the five time fields, as cron gives it to sh
    command = command.replace("cd /srv/osint", f"cd {shlex.quote(str(tmp_path))}")
    command = command.replace(".venv/bin/osint-fanout", shlex.join(cli_command()))
    stubs = tmp_path / "bin"
    stubs.mkdir()
    (stubs / "mail").write_text(MAIL)
    (stubs / "mail").chmod(0o755)
    (tmp_path / "domains.txt").write_text("example.com\nexample.org\n")
    mailbox = tmp_path / "mailbox"
    env = world.cli_env(
        {
            "PATH": f"{stubs}:{os.environ['PATH']}",
            "MAILBOX": str(mailbox),
            "OSINT_FANOUT_STORE": f"sqlite:///{tmp_path / 'store.db'}",
        }
    )

    def night() -> list[list[str]]:
        subprocess.run(["sh", "-c", command], env=env, timeout=60, check=False)
        mails = mailbox.read_text().split("-- end\n")[:-1] if mailbox.exists() else []
        return [mail.splitlines() for mail in mails]

    first = night()
    assert len(first) == 1 and first[0][0] == "to soc@example.com: osint-fanout: what changed"
    assert sorted(json.loads(line)["target"] for line in first[0][1:]) == ["example.com", "example.org"]
    assert night() == first  # nothing changed: no mail
    world.add_records("example.com", {**(zone_records("example.com") or {}), "A": ["192.0.2.99"]})
    third = night()
    assert len(third) == 2
    changed = [json.loads(line) for line in third[1][1:]]
    assert brief(changed) == {
        ("dns", "A", "added", "192.0.2.99"),
        ("dns", "A", "removed", "198.51.100.7"),
        ("dns", None, "new", "192.0.2.99"),
        ("dns", None, "gone", "198.51.100.7"),
    }
    assert "Traceback" not in (tmp_path / "osint.log").read_text()
    for leftover in tmp_path.glob("store.db-*"):  # its WAL would still hold the pages
        leftover.unlink()
    (tmp_path / "store.db").write_bytes(b"not a database at all\n" * 100)  # a broken store is no quiet night
    fourth = night()
    assert len(fourth) == 3 and fourth[2][0] == "to soc@example.com: osint-fanout: failed (exit 3), see osint.log"
    assert any("store sqlite:///" in line for line in fourth[2][1:])
