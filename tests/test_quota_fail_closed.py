"""Quotas fail closed: when the count cannot be kept (a corrupt, locked or unwritable
ledger, a ledger that is a folder or a FIFO, a broken store), a call under a quota is
skipped with the reason, never sent uncounted; a corrupt ledger is reported, not reset;
a clock that was ahead never drops today's count."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from osint_fanout._quota import FileLedger, LedgerError
from osint_fanout.store import StoreLedger
from tests.world.world import World

TODAY = datetime(2026, 12, 6, tzinfo=UTC)
FUTURE = datetime(2030, 1, 1, tzinfo=UTC)


def test_a_corrupt_ledger_is_reported_and_left_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "quota.json"
    for corrupt in (b"{not json", b"[1, 2]", b'{"s": {"2026-12-06T00:00:00+00:00": "many"}}', b'{"s": 3}'):
        path.write_bytes(corrupt)
        with pytest.raises(LedgerError, match=r"is corrupt; it is left as it is \(not reset\)"):
            FileLedger(path).take("s", TODAY, 3)
        assert path.read_bytes() == corrupt


def test_a_ledger_that_is_a_folder_or_a_fifo_counts_nothing_and_never_hangs(tmp_path: Path) -> None:
    folder = tmp_path / "dir" / "quota.json"
    folder.mkdir(parents=True)
    with pytest.raises(LedgerError):
        FileLedger(folder).take("s", TODAY, 3)
    fifo = tmp_path / "fifo" / "quota.json"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    with pytest.raises(LedgerError, match="not a regular file"):
        FileLedger(fifo).take("s", TODAY, 3)
    lock_fifo = tmp_path / "lockfifo" / "quota.json"
    lock_fifo.parent.mkdir()
    os.mkfifo(lock_fifo.with_name("quota.json.lock"))
    with pytest.raises(LedgerError, match="not a regular file"):
        FileLedger(lock_fifo).take("s", TODAY, 3)


def test_a_ledger_locked_by_another_process_is_an_error_within_its_bound(tmp_path: Path) -> None:
    path = tmp_path / "quota.json"
    lock = os.open(path.with_name("quota.json.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        started = time.monotonic()
        with pytest.raises(LedgerError, match=r"locked by another process for more than 0\.3 s"):
            FileLedger(path, lock_timeout_s=0.3).take("s", TODAY, 3)
        assert time.monotonic() - started >= 0.3
    finally:
        os.close(lock)
    assert FileLedger(path).take("s", TODAY, 3)  # free again: counts


def test_a_full_disk_is_an_error_and_nothing_is_counted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "quota.json"
    ledger = FileLedger(path)
    assert ledger.take("s", TODAY, 3)

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(LedgerError, match="No space left on device"):
        ledger.take("s", TODAY, 3)
    monkeypatch.undo()
    assert ledger.used("s", TODAY) == 1
    assert not list(tmp_path.glob(".quota.json.*.tmp"))


def test_a_period_from_a_clock_ahead_never_drops_todays_count(tmp_path: Path) -> None:
    ledger = FileLedger(tmp_path / "quota.json")
    assert ledger.take("s", TODAY, 2)
    assert ledger.take("s", FUTURE, 2)  # a run whose clock was at 2030
    assert ledger.take("s", TODAY, 2) and not ledger.take("s", TODAY, 2)
    for day in range(1, 6):  # old periods still go
        ledger.take("s", TODAY + timedelta(days=day), 2)
    kept = json.loads((tmp_path / "quota.json").read_text())["s"]
    assert TODAY.isoformat() not in kept and len(kept) <= 4


def test_the_store_ledger_keeps_todays_count_after_a_clock_ahead(store_url: str) -> None:
    ledger = StoreLedger(store_url)
    try:
        assert ledger.take("s", TODAY, 2)
        assert ledger.take("s", FUTURE, 2)
        assert ledger.take("s", TODAY, 2) and not ledger.take("s", TODAY, 2)
    finally:
        ledger.close()


def _quota_run(world: World, *extra: str) -> tuple[int, list[dict[str, object]], str]:
    world.write_config(keys=True, virustotal={"quota": "3/d"})
    done = world.run_cli(
        "search", "a.example.com", "b.example.com", "-a", "virustotal", "-f", "ndjson", *extra, env=world.key_env()
    )
    return done.code, done.ndjson(), done.stderr


@pytest.mark.parametrize("broken", ["corrupt", "folder", "fifo", "locked"])
def test_a_broken_quota_file_skips_the_calls_under_a_quota_with_the_reason(world: World, broken: str) -> None:
    path = world.home / ".local" / "state" / "osint-fanout" / "quota.json"
    path.parent.mkdir(parents=True)
    held = None
    if broken == "corrupt":
        path.write_text('{"virustotal/api/abc": {"2026-12-06T00:00:00+00:00": 2}', "utf-8")  # cut short
    elif broken == "folder":
        path.mkdir()
    elif broken == "fifo":
        os.mkfifo(path)
    else:
        held = os.open(path.with_name("quota.json.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(held, fcntl.LOCK_EX)
    before = path.read_bytes() if broken == "corrupt" else None
    try:
        code, results, stderr = _quota_run(world, "--no-store")
    finally:
        if held is not None:
            os.close(held)
    assert code == 0, stderr
    assert [r["status"] for r in results] == ["skipped", "skipped"]
    assert all("quota use cannot be counted" in str(r["reason"]) for r in results)
    assert world.requests("virustotal") == []  # never sent uncounted
    assert "calls under a quota are skipped" in stderr and "Traceback" not in stderr
    if before is not None:
        assert path.read_bytes() == before  # reported, not reset


def test_a_broken_store_ledger_skips_the_calls_under_a_quota(world: World) -> None:
    broken = world.home / "broken.db"
    broken.write_bytes(b"\x00garbage" * 1000)
    code, results, stderr = _quota_run(world, "--store", f"sqlite:///{broken}")
    assert code == 3, stderr  # the store could not record either
    assert [r["status"] for r in results] == ["skipped", "skipped"]
    assert all("quota use cannot be counted" in str(r["reason"]) for r in results)
    assert world.requests("virustotal") == []


def test_a_working_ledger_still_counts_across_threads(tmp_path: Path) -> None:
    ledger = FileLedger(tmp_path / "quota.json")
    taken: list[bool] = []
    threads = [threading.Thread(target=lambda: taken.append(ledger.take("s", TODAY, 5))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert taken.count(True) == 5
