"""Issue 17's "done means": 8 searches started at once against a fresh PostgreSQL database
and against one new SQLite file, beside two busy CPU-bound processes, all exit 0 and every
result of every run is recorded (creating the schema is safe when N processes do it at
once, and the end of a run waits for its commit).

The searches ask `ct` (the world's HTTP service): its answers are all that is asked of the
world here; the store is what is under test."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from osint_fanout.store import open_store
from tests.world.world import World

SEARCHES = 8
TARGETS = 12


@pytest.fixture
def busy_machine() -> Iterator[None]:
    """Two processes that keep a CPU each busy for as long as the test runs."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()


def test_eight_searches_at_once_on_a_fresh_store_record_everything(
    world: World, store_url: str, tmp_path: Path, busy_machine: None
) -> None:
    procs = []
    for n in range(SEARCHES):
        listing = tmp_path / f"job{n}.txt"
        listing.write_text("".join(f"h{t}.job{n}.example.com\n" for t in range(TARGETS)))
        procs.append(
            world.spawn_cli(
                "search",
                "-i",
                str(listing),
                "-a",
                "ct",
                "-f",
                "ndjson",
                "-q",
                "--timeout",
                "60",
                "--deadline",
                "120",
                "--store",
                store_url,
            )
        )
    outputs = [proc.communicate(timeout=300) for proc in procs]
    statuses = {line.split('"status": ')[1][:12] for out, _ in outputs for line in out.splitlines()}
    assert [proc.returncode for proc in procs] == [0] * SEARCHES, ([err for _, err in outputs], statuses)
    assert all(err == "" for _, err in outputs), [err for _, err in outputs]
    assert all(len(out.splitlines()) == TARGETS for out, _ in outputs)
    with open_store(store_url) as store, store.engine.connect() as conn:
        assert store.count() == SEARCHES * TARGETS
        runs = conn.exec_driver_sql("SELECT COUNT(*) FROM runs WHERE finished_at IS NOT NULL").scalar_one()
        assert runs == SEARCHES
        per_run = conn.exec_driver_sql("SELECT COUNT(*) FROM results GROUP BY run_id").scalars().all()
        assert sorted(per_run) == [TARGETS] * SEARCHES
