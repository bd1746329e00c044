"""Daily and monthly quotas, counted across runs: in the store when it is on, else in a
state file; a call beyond the quota is skipped, saying when it resets (exit 0)."""

from __future__ import annotations

import json
import multiprocessing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from osint_fanout._quota import FileLedger, Quota
from osint_fanout.store import StoreLedger
from tests.world.world import World

START = datetime(2026, 12, 1, tzinfo=UTC)


def test_quotas_parse_and_know_their_periods() -> None:
    day, month = Quota.parse("500/d"), Quota.parse(" 15500 / mo ")
    now = datetime(2026, 12, 31, 23, 59, tzinfo=UTC)
    assert day.window(now) == (datetime(2026, 12, 31, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert month.window(now) == (datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert "resets at 2027-01-01 00:00 UTC" in day.reset_text(now)
    assert Quota.parse("500/d").divided(3) == Quota(166, "d")
    for bad in ("500", "5/w", "-1/d", "x/mo"):
        with pytest.raises(ValueError, match="not like"):
            Quota.parse(bad)
    with pytest.raises(ValueError, match="cannot be shared"):
        Quota.parse("2/d").divided(3)


def _take_many(path: str, count: int, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    ledger = FileLedger(Path(path))
    out.put(sum(ledger.take("vt/api/k", START, 50) for _ in range(count)))


def test_a_file_ledger_counts_exactly_across_processes(tmp_path: Path) -> None:
    path = tmp_path / "state" / "quota.json"
    out: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    workers = [multiprocessing.Process(target=_take_many, args=(str(path), 20, out)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    taken = sum(out.get(timeout=60) for _ in workers)
    assert taken == 50  # 80 asked, 50 allowed: none lost, none counted twice
    assert FileLedger(path).used("vt/api/k", START) == 50
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_new_period_starts_from_zero(tmp_path: Path) -> None:
    ledger = FileLedger(tmp_path / "quota.json")
    assert all(ledger.take("s", START, 2) for _ in range(2)) and not ledger.take("s", START, 2)
    later = datetime(2026, 12, 2, tzinfo=UTC)
    assert ledger.take("s", later, 2)
    assert json.loads((tmp_path / "quota.json").read_text())["s"][later.isoformat()] == 1


def test_the_store_counts_exactly_from_many_threads(store_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    ledger = StoreLedger(store_url)
    try:
        with ThreadPoolExecutor(8) as pool:
            taken = sum(pool.map(lambda _: ledger.take("vt/api/k", START, 30), range(60)))
        assert taken == 30
        assert ledger.take("vt/api/other", START, 30)  # scopes count apart
    finally:
        ledger.close()


@pytest.mark.parametrize("where", ["state-file", "store"])
def test_a_quota_spent_in_one_run_is_remembered_by_the_next(world: World, where: str) -> None:
    world.write_config(keys=True, virustotal={"quota": "3/d"})
    store = ["--no-store"] if where == "state-file" else []
    first = world.run_cli("search", "a.example.com", "b.example.com", "-a", "virustotal", "-f", "ndjson", *store,
                          env=world.key_env())
    assert first.code == 0 and [r["status"] for r in first.ndjson()] == ["ok", "ok"]
    second = world.run_cli("search", "c.example.com", "d.example.com", "-a", "virustotal", "-f", "ndjson", *store,
                           env=world.key_env())
    statuses = sorted(r["status"] for r in second.ndjson())
    assert statuses == ["ok", "skipped"]
    skipped = next(r for r in second.ndjson() if r["status"] == "skipped")
    assert "quota of 3 a day is used up; it resets at" in skipped["reason"] and skipped["reason"].endswith("UTC")
    assert second.code == 0  # over quota is no failure: the next night picks it up
    assert len(world.requests("virustotal")) == 3
