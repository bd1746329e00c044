"""The store as a sink: commits as results arrive, never blocks or raises into the run,
and turns every store failure into one line and a flag."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import event

from osint_fanout._results import Status
from osint_fanout.store import StoreSink, open_store
from osint_fanout.store._db import Store
from tests import timing
from tests.store_kit import result


def wait_for(condition: object, timeout: float = 60.0) -> float:  # a hang guard
    started = time.monotonic()
    while not condition():  # type: ignore[operator]
        assert time.monotonic() - started < timeout, "timed out"
        time.sleep(0.01)
    return time.monotonic() - started


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str) -> None:
        self.lines.append(line)


def test_results_are_committed_within_a_second_while_the_run_goes_on(store_url: str) -> None:
    sink = StoreSink(store_url)
    wait_for(lambda: sink.run_id is not None, 20)
    with open_store(store_url) as reader:
        for n in range(50):
            sink.result(result(f"h{n}.example.com"))
        took = wait_for(lambda: reader.count() == 50, 60)
        # Within a second (flush_s is 0.25) plus, on a busy machine, what a read of the store
        # takes now: not held until the run ends.
        assert timing.within(took, 1.0, reader.count)
        sink.result(result("last.example.com", status=Status.TIMEOUT))
        sink.finish()
        assert not sink.failed and sink.recorded == 51
        assert reader.count() == 51
        assert [r.status for r in reader.history("last.example.com")] == ["timeout"]
        with reader.engine.connect() as conn:
            finished = conn.exec_driver_sql("SELECT finished_at FROM runs").scalar_one()
        assert finished is not None


def test_results_sent_before_the_store_is_open_are_kept(store_url: str) -> None:
    gate = threading.Event()

    def slow_open(url: str) -> Store:
        gate.wait(5)
        return Store(url)

    sink = StoreSink(store_url, opener=slow_open)
    for n in range(5):
        sink.result(result(f"early{n}.example.com"))
    gate.set()
    sink.finish()
    assert not sink.failed
    with open_store(store_url) as reader:
        assert reader.count() == 5


def test_an_unreachable_server_is_one_line_and_a_flag_never_its_password() -> None:
    lines = Lines()
    url = f"postgresql://osint:hunter2-secret@127.0.0.1:{closed_port()}/store"
    started = time.monotonic()
    sink = StoreSink(url, on_failure=lines)
    for n in range(3):
        sink.result(result(f"h{n}.example.com"))  # never raises, never waits
    assert time.monotonic() - started < 0.5
    sink.finish()
    assert sink.failed
    assert len(lines.lines) == 1
    line = lines.lines[0]
    assert line.startswith("store postgresql://osint:***@127.0.0.1:") and "refused" in line.lower()
    assert "3 of 3 results were not recorded" in line and "hunter2" not in line
    sink.finish()  # a second finish says nothing more
    assert len(lines.lines) == 1


def test_a_corrupt_sqlite_store_is_one_line_and_a_flag(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"\x00garbage" * 1000)
    lines = Lines()
    sink = StoreSink(f"sqlite:///{path}", on_failure=lines)
    sink.result(result())
    sink.finish()
    assert sink.failed and lines.lines == [
        f"store sqlite:///{path}: file is not a database; 1 of 1 results were not recorded"
    ]


def test_a_locked_sqlite_store_is_a_failure_not_a_hang(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    open_store(url).close()
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process writing, for longer than the busy timeout
    lines = Lines()
    try:
        sink = StoreSink(url, on_failure=lines, opener=lambda u: Store(u, busy_timeout_s=0.3))
        sink.result(result())
        started = time.monotonic()
        sink.finish()
        assert time.monotonic() - started < 2.0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert sink.failed and "database is locked" in lines.lines[0]


def test_a_full_store_is_one_line_and_a_flag(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'full.db'}"

    def tiny(u: str) -> Store:
        store = Store(u)

        @event.listens_for(store.engine, "connect")
        def _limit(dbapi_connection: sqlite3.Connection, _record: object) -> None:
            dbapi_connection.execute("PRAGMA max_page_count = 12")  # the disk is full at 48 KiB

        store.engine.dispose()
        return store

    lines = Lines()
    sink = StoreSink(url, on_failure=lines, opener=tiny)
    for n in range(400):
        sink.result(result(f"h{n}.example.com", data={"blob": "x" * 500}))
    sink.finish()
    assert sink.failed and "database or disk is full" in lines.lines[0]
    assert 0 <= sink.recorded < 400 and f"{400 - sink.recorded} of 400 results" in lines.lines[0]


def test_a_store_slower_than_the_run_fails_instead_of_growing_without_bound(tmp_path: Path) -> None:
    gate = threading.Event()

    def stuck(url: str) -> Store:
        gate.wait(10)
        return Store(url)

    lines = Lines()
    sink = StoreSink(f"sqlite:///{tmp_path / 's.db'}", max_pending=10, on_failure=lines, opener=stuck)
    for n in range(25):
        sink.result(result(f"h{n}.example.com"))
    gate.set()
    sink.finish()
    assert sink.failed and "fell behind the run" in lines.lines[0]
    assert sink.recorded == 10 and "15 of 25 results were not recorded" in lines.lines[0]


def test_finish_waits_only_so_long_for_a_stuck_store(tmp_path: Path) -> None:
    gate = threading.Event()

    def never(url: str) -> Store:
        gate.wait(30)
        raise RuntimeError("released")

    lines = Lines()
    sink = StoreSink(f"sqlite:///{tmp_path / 'n.db'}", finish_timeout_s=0.3, on_failure=lines, opener=never)
    sink.result(result())
    started = time.monotonic()
    sink.finish()
    assert time.monotonic() - started < 0.6
    gate.set()
    assert sink.failed and "did not commit within 0.3 s" in lines.lines[0]


def test_a_bad_url_is_refused_up_front() -> None:
    with pytest.raises(ValueError, match="not a store URL"):
        StoreSink("mysql://somewhere/db")


def test_an_emergency_stop_from_the_watchdog_thread_waits_only_briefly(tmp_path: Path) -> None:
    gate = threading.Event()

    def stuck(url: str) -> Store:
        gate.wait(30)
        raise RuntimeError("released")

    lines = Lines()
    sink = StoreSink(f"sqlite:///{tmp_path / 'e.db'}", finish_timeout_s=5, on_failure=lines, opener=stuck)
    sink.result(result())
    took: list[float] = []

    def watchdog() -> None:
        started = time.monotonic()
        sink.finish()
        took.append(time.monotonic() - started)

    thread = threading.Thread(target=watchdog)
    thread.start()
    thread.join(5)
    gate.set()
    assert took and took[0] < 0.5
    assert "did not commit within 0.2 s" in lines.lines[0]


def test_keep_prunes_old_results_when_the_store_opens(store_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    from osint_fanout.store._records import row_of

    with open_store(store_url) as store:
        old = datetime.now(UTC) - timedelta(days=100)
        store.insert([row_of(result("old.example.com"), old, store.begin_run(old))])
    sink = StoreSink(store_url, keep_s=90 * 86400)
    sink.result(result("new.example.com"))
    sink.finish()
    assert not sink.failed
    with open_store(store_url) as store:
        assert [r.target for r in store.history("old.example.com")] == []
        assert [r.target for r in store.history("new.example.com")] == ["new.example.com"]
