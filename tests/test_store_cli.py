"""End to end against the loopback world, on SQLite and on PostgreSQL: searches recorded
in the store, then `history`, `diff` and `prune` as a cron user would run them."""

from __future__ import annotations

import json
import signal
import stat
import threading
import time
from pathlib import Path
from typing import Any

import jsonschema

from osint_fanout._schema import SCHEMA_DIR
from osint_fanout.store import open_store
from tests.world.world import World, zone_records

CHANGES_SCHEMA = json.loads((SCHEMA_DIR / "changes.schema.json").read_text())


def events(run: Any) -> list[dict[str, Any]]:
    found = run.ndjson()
    for event in found:
        jsonschema.validate(event, CHANGES_SCHEMA)
    return found


def brief(found: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(e["adapter"], e.get("fact"), e["change"], e.get("value")) for e in found}


def config_with_store(world: World, section: str) -> None:
    """The world's config plus a [store] section (write_config knows [run] and adapters)."""
    path = world.write_config()
    path.write_text(path.read_text() + f"\n[store]\n{section}\n")


def one_line_error(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_two_searches_with_different_answers_give_the_right_diff(world: World, store_url: str) -> None:
    store = ("--store", store_url)
    first = world.run_cli("search", "example.com", "-f", "json", *store)
    assert first.code == 0, first.stderr
    assert first.json()["results"]  # printed as ever

    said = world.run_cli("diff", "example.com", "-f", "ndjson", *store)
    assert said.code == 1, said.stderr
    assert brief(events(said)) == {(None, None, "first_seen", None)}  # once for the target

    records = zone_records("example.com") or {}
    world.add_records("example.com", {**records, "A": ["192.0.2.99"]})
    world.behave("crtsh", "example.com", "normal", replace={"mail.example.com": "shop.example.com"})
    second = world.run_cli("search", "example.com", "-f", "json", *store)
    assert second.code == 0, second.stderr

    changed = world.run_cli("diff", "example.com", "-f", "ndjson", *store)
    assert changed.code == 1, changed.stderr
    expected = {
        ("ct", "subdomains", "added", "shop.example.com"),
        ("ct", "subdomains", "removed", "mail.example.com"),
        ("dns", "A", "added", "192.0.2.99"),
        ("dns", "A", "removed", "198.51.100.7"),
        # the assets: a new name and address, an address gone (mail.example.com stays: the MX names it)
        ("ct", None, "new", "shop.example.com"),
        ("dns", None, "new", "192.0.2.99"),
        ("dns", None, "gone", "198.51.100.7"),
    }
    assert brief(events(changed)) == expected  # nothing for whois, nor for unchanged facts or assets

    world.behave("dns", "example.com", "servfail")
    world.behave("crtsh", "example.com", "server_error")
    world.behave("certspotter", "example.com", "server_error")
    failed = world.run_cli("search", "example.com", "-f", "json", *store)
    assert failed.code == 1, failed.stderr
    after_failure = world.run_cli("diff", "example.com", "-f", "ndjson", *store)
    assert after_failure.code == 1 and after_failure.stdout == changed.stdout  # a failed run removes nothing

    listed = world.run_cli("history", "example.com", "-f", "json", *store)
    assert listed.code == 0, listed.stderr
    history = listed.json()
    runs = [record["run"] for record in history]
    assert runs == sorted(runs, reverse=True) and len(set(runs)) == 3
    newest = [r for r in history if r["run"] == runs[0]]
    statuses = {r["adapter"]: r["status"] for r in newest}
    assert (statuses["dns"], statuses["ct"]) == ("error", "error")
    assert [
        r["adapter"] for r in world.run_cli("history", "example.com", "-a", "ct", "-f", "ndjson", *store).ndjson()
    ] == ["ct"] * 3

    second_run = sorted(set(runs))[1]
    quiet = world.run_cli("diff", "example.com", "--run", str(second_run), "-f", "ndjson", *store)
    assert (quiet.code, quiet.stdout) == (0, ""), quiet.stderr
    only_dns = world.run_cli("diff", "example.com", "-a", "dns", "-f", "json", *store)
    assert only_dns.code == 1 and {e["adapter"] for e in only_dns.json()} == {"dns"}

    time.sleep(1.1)
    pruned = world.run_cli("prune", "--older-than", "1s", *store)
    assert pruned.code == 0 and "removed 18 results and 3 runs" in pruned.stderr, pruned.stderr
    assert world.run_cli("history", "example.com", "-f", "json", *store).json() == []
    none = world.run_cli("diff", "example.com", "-f", "ndjson", *store)
    assert none.code == 0 and none.stdout == "" and "1 of 1 targets have no stored" in none.stderr


def test_a_broken_store_costs_the_run_nothing_but_one_line_and_exit_3(world: World, tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database at all\n" * 100)
    run = world.run_cli("search", "example.com", "-f", "json", "-a", "dns", "--store", f"sqlite:///{broken}")
    assert run.code == 3
    assert run.json()["results"][0]["status"] == "ok"
    line = one_line_error(run.stderr)
    assert (
        line
        == f"osint-fanout: error: store sqlite:///{broken}: file is not a database; 1 of 1 results were not recorded"
    )


def test_the_default_store_is_a_private_file_and_can_be_turned_off(world: World) -> None:
    default = world.home / ".local" / "share" / "osint-fanout" / "store.db"
    off = world.run_cli("search", "example.com", "-a", "dns", "-f", "json", "--no-store")
    assert off.code == 0 and not default.exists()
    config_with_store(world, "enabled = false")
    assert world.run_cli("search", "example.com", "-a", "dns", "-f", "json").code == 0
    assert not default.exists()
    world.write_config()
    on = world.run_cli("search", "example.com", "-a", "dns", "-f", "json")
    assert on.code == 0, on.stderr
    assert stat.S_IMODE(default.stat().st_mode) == 0o600
    assert [r["adapter"] for r in world.run_cli("history", "example.com", "-f", "json").json()] == ["dns"]
    elsewhere = world.home / "env.db"
    by_env = world.run_cli(
        "search", "example.org", "-a", "dns", "-f", "json", env={"OSINT_FANOUT_STORE": f"sqlite:///{elsewhere}"}
    )
    assert by_env.code == 0 and elsewhere.exists()
    with open_store(f"sqlite:///{default}") as store:
        assert store.count() == 1


def test_store_usage_errors_are_one_line_and_exit_2(world: World, tmp_path: Path) -> None:
    cases = [
        (["search", "example.com", "--store", "mysql://db/x"], "not a store URL"),
        (["prune", "--older-than", "ninety days"], "is not a duration"),
        (["prune"], "give --older-than DURATION, or set [store] keep"),
        (["diff", "example.com", "--since", "1d", "--run", "3"], "--since or --run, not both"),
        (["diff"], "give at least one target"),
        (["diff", "example.com", "--since", "0d"], "not a positive duration"),
        (["history", "not a domain!"], ""),
    ]
    store = f"sqlite:///{tmp_path / 'store.db'}"
    open_store(store).close()
    for args, message in cases:
        run = world.run_cli(*args, *(["--store", store] if args[0] != "search" else []))
        assert run.code == 2, (args, run.stderr)
        assert message in one_line_error(run.stderr), (args, run.stderr)
    config_with_store(world, 'keep = "soon"')
    bad = world.run_cli("search", "example.com")
    assert bad.code == 2 and "keep" in one_line_error(bad.stderr)


def test_reading_a_store_that_is_not_there_is_exit_3_and_creates_nothing(world: World, tmp_path: Path) -> None:
    absent = tmp_path / "absent.db"
    for command in (["history", "example.com"], ["diff", "example.com"], ["prune", "--older-than", "1d"]):
        run = world.run_cli(*command, "--store", f"sqlite:///{absent}")
        assert run.code == 3 and "no such file" in one_line_error(run.stderr), run.stderr
    assert not absent.exists()


def test_sigkill_mid_run_keeps_what_was_committed(world: World, store_url: str, tmp_path: Path) -> None:
    listing = tmp_path / "targets.txt"
    listing.write_text("".join(f"host{n}.example.com\n" for n in range(400)))
    world.behave("dns", "example.com", "slow", delay_s=0.1)
    proc = world.spawn_cli(
        "search", "-i", str(listing), "-a", "dns", "-f", "ndjson", "--concurrency", "4", "-q", "--store", store_url
    )
    printed: list[tuple[float, str]] = []

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            printed.append((time.monotonic(), json.loads(line)["target"]["value"]))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    # Wait (no bound on time: a hang guard only) until the store holds 30 results while the
    # run goes on, then kill it: what the store held then is all still there.
    with open_store(store_url) as store:
        hang_guard = time.monotonic() + 240
        while (committed := store.count()) < 30 and proc.poll() is None:
            assert time.monotonic() < hang_guard, f"{committed} results committed after 240 s"
            time.sleep(0.05)
        held = {target for (target, _), _ in store.newest([t for _, t in printed]).items()}
    proc.send_signal(signal.SIGKILL)
    proc.wait(60)
    reader.join(5)
    assert proc.returncode == -signal.SIGKILL
    assert len(held) >= 30 and len(printed) < 400, len(printed)
    with open_store(store_url) as store:
        stored = {target for (target, _), _ in store.newest([t for _, t in printed]).items()}
    assert held <= stored, sorted(held - stored)


def test_concurrent_cron_jobs_writing_one_store_lose_nothing(world: World, store_url: str, tmp_path: Path) -> None:
    jobs = 2 if store_url.startswith("sqlite") else 4
    procs = []
    for job in range(jobs):
        listing = tmp_path / f"job{job}.txt"
        listing.write_text("".join(f"h{n}.job{job}.example.com\n" for n in range(60)))
        procs.append(
            # Time is not under test (nothing lost is): room for a loaded machine.
            world.spawn_cli(
                "search", "-i", str(listing), "-a", "dns", "-f", "ndjson", "-q", "--store", store_url,
                "--timeout", "60", "--deadline", "90",
            )
        )
    outputs = [proc.communicate(timeout=240) for proc in procs]
    failed = [line for out, _ in outputs for line in out.splitlines() if '"status": "ok"' not in line]
    assert [proc.returncode for proc in procs] == [0] * jobs, (failed[:3], [err for _, err in outputs])
    assert all(len(out.splitlines()) == 60 for out, _ in outputs)
    with open_store(store_url) as store:
        assert store.count() == 60 * jobs
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT COUNT(*) FROM runs WHERE finished_at IS NOT NULL").scalar_one() == jobs


def test_history_shows_hostile_text_inertly_in_a_table(world: World, tmp_path: Path) -> None:
    world.add_records("hostile.example.com", {"A": ["192.0.2.1"], "TXT": ['"\\027[2J [bold]x[/bold]"']})
    store = ("--store", f"sqlite:///{tmp_path / 's.db'}")
    assert world.run_cli("search", "hostile.example.com", "-a", "dns", "-f", "json", *store).code == 0
    table = world.run_cli("history", "hostile.example.com", "-f", "table", *store)
    assert table.code == 0 and "\x1b" not in table.stdout and "dns" in table.stdout
