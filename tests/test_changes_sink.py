"""`search --changes` as a sink: each result compared with what the store held before the
run, events written as they arrive, in a thread of its own; nothing lost at the end."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from osint_fanout._output import Destination, OutputClosed
from osint_fanout._plugins import discover
from osint_fanout._results import Report, Result, Status
from osint_fanout._schema import SCHEMA_DIR
from osint_fanout.store import ChangesSink, facts_from, open_store
from osint_fanout.store._db import Store
from osint_fanout.store._records import row_of
from tests.store_kit import result

CHANGES_SCHEMA = json.loads((SCHEMA_DIR / "changes.schema.json").read_text())
FACTS = facts_from({name: cls(cls.Options.model_validate({})) for name, cls in discover().adapters.items()})


def dns(*addresses: str) -> dict[str, Any]:
    return {"records": {"A": list(addresses)}, "spf": None, "dmarc": None}


def record(url: str, *items: tuple[Result, datetime]) -> None:
    with open_store(url) as store:
        run = store.begin_run(min(at for _, at in items))
        store.insert([row_of(item, at, run) for item, at in items])


def report(*results: Result) -> Report:
    now = datetime.now(UTC)
    return Report(target=results[0].target, started_at=now, finished_at=now, deadline_s=60, results=list(results))


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def brief(found: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    for event in found:
        jsonschema.validate(event, CHANGES_SCHEMA)
    return [(e["target"], e["adapter"], e.get("fact"), e["change"], e.get("value")) for e in found]


def wait_for(condition: Any, timeout: float = 60.0) -> None:  # a hang guard
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, "timed out"
        time.sleep(0.01)


class Lines(list[str]):
    def __call__(self, line: str) -> None:
        self.append(line)


def test_only_what_changed_since_before_the_run_is_written_as_it_arrives(store_url: str, tmp_path: Path) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)
    record(
        store_url,
        (result("known.example", "dns", data=dns("192.0.2.1", "192.0.2.2")), yesterday),
        (result("known.example", "whois", data={"registrar": "Old", "nameservers": ["ns1.example"]}), yesterday),
        (result("known.example", "ct", status=Status.ERROR), yesterday + timedelta(hours=1)),
    )
    out = tmp_path / "changes.ndjson"
    sink = ChangesSink(store_url, Destination(out, append=True), FACTS, summary=lambda: SUMMARY)
    record(store_url, (result("known.example", "dns", data=dns("203.0.113.9")), datetime.now(UTC)))  # this run's own
    changed = result("known.example", "dns", data=dns("192.0.2.2", "192.0.2.3"))
    sink.result(changed)
    wait_for(lambda: out.exists() and len(out.read_text().splitlines()) == 2)  # written before the run ends
    same = result("known.example", "whois", data={"registrar": "Old", "nameservers": ["ns1.example"]})
    new_adapter = result("known.example", "ct", data={"subdomains": ["a.known.example"], "source": "crtsh"})
    failed = result("known.example", "shodan", status=Status.TIMEOUT)
    for one in (same, new_adapter, failed):
        sink.result(one)
    sink.report(report(changed, same, new_adapter, failed))
    sink.finish()
    assert not sink.failed
    found = lines(out)
    assert found[-1] == {"summary": SUMMARY}  # the summary line comes last
    assert brief(found[:-1]) == [
        ("known.example", "dns", "A", "added", "192.0.2.3"),
        ("known.example", "dns", "A", "removed", "192.0.2.1"),
        ("known.example", "ct", None, "first_seen", None),  # an adapter new to a known target
    ]
    assert sink.written == 3 and (sink.received, sink.compared) == (3, 3)


def test_a_new_target_is_first_seen_once_and_failed_or_cached_results_say_nothing(
    store_url: str, tmp_path: Path
) -> None:
    open_store(store_url).close()
    out = tmp_path / "changes.ndjson"
    sink = ChangesSink(store_url, Destination(out, append=True), FACTS)
    sink.result(result("gone.example", "dns", status=Status.ERROR))
    for adapter in ("dns", "whois", "ct"):
        sink.result(result("new.example", adapter, data={"x": adapter}))
    sink.result(result("reused.example", "dns", cached_at=datetime.now(UTC)))
    sink.finish()
    assert brief(lines(out)) == [("new.example", None, None, "first_seen", None)]
    assert not sink.failed


def test_an_unreadable_store_is_one_line_a_flag_and_no_event(tmp_path: Path) -> None:
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"\x00garbage" * 1000)
    out = tmp_path / "changes.ndjson"
    said = Lines()
    sink = ChangesSink(f"sqlite:///{broken}", Destination(out, append=True), FACTS, on_failure=said)
    sink.result(result("example.com"))
    sink.result(result("example.org"))
    sink.finish()
    assert sink.failed and out.read_text() == ""
    assert said == [f"store sqlite:///{broken}: file is not a database; 2 of 2 results were not compared"]


def test_finish_drains_within_its_bound_and_an_emergency_stop_waits_briefly(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    open_store(url).close()
    release = threading.Event()

    class Slow(Store):
        def previous_of(self, *args: Any, **kwargs: Any) -> Any:
            release.wait(10)
            return super().previous_of(*args, **kwargs)

    for finish, bound in (("finish", 0.5), ("finish_now", 0.2)):
        out = tmp_path / f"{finish}.ndjson"
        said = Lines()
        sink = ChangesSink(
            url, Destination(out, append=True), FACTS, finish_timeout_s=0.5, on_failure=said, opener=Slow,
            summary=lambda: SUMMARY,
        )
        wait_for(lambda sink=sink: sink._opened)
        sink.result(result("example.com"))
        started = time.monotonic()
        getattr(sink, finish)()
        assert time.monotonic() - started < bound + 0.3, finish
        assert sink.failed and f"not all compared within {bound:g} s" in said[0] and "1 of 1" in said[0]
        release.set()  # the late events are not written after the summary
        time.sleep(0.2)
        assert lines(out) == [{"summary": SUMMARY}]
        release.clear()
    release.set()


def test_a_store_slower_than_the_run_fails_instead_of_growing_without_bound(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    open_store(url).close()
    gate = threading.Event()

    def stuck(url: str) -> Store:
        gate.wait(10)
        return Store(url)

    out = tmp_path / "changes.ndjson"
    said = Lines()
    sink = ChangesSink(url, Destination(out, append=True), FACTS, max_pending=5, on_failure=said, opener=stuck)
    for n in range(12):
        sink.result(result(f"h{n}.example.com"))
    gate.set()
    sink.finish()
    assert sink.failed and "fell behind the run" in said[0] and "7 of 12 results were not compared" in said[0]
    assert len(lines(out)) == 5  # what was taken is compared: each a first_seen


def test_a_write_that_fails_is_raised_into_the_run(store_url: str, tmp_path: Path) -> None:
    open_store(store_url).close()

    class Closed(Destination):
        def write_line(self, text: str) -> None:
            raise OutputClosed()

    sink = ChangesSink(store_url, Closed(None), FACTS)
    sink.result(result("example.com"))  # first_seen: the write fails in the sink's thread
    wait_for(lambda: sink._stopped)
    with pytest.raises(OutputClosed):
        sink.result(result("example.org"))
    with pytest.raises(OutputClosed):
        sink.finish()


SUMMARY = {
    "targets": 1,
    "targets_read": 1,
    "invalid_lines": 0,
    "resumed": 0,
    "other_shards": 0,
    "not_started": 0,
    "results": {"ok": 1},
    "by_adapter": {"dns": {"ok": 1}},
    "errors": {},
    "waited_s": {"dns": 0.0},
    "queued_s": {"dns": 0.0},
    "cached": 0,
    "cached_by_adapter": {"dns": 0},
    "pivot": None,  # no --depth: the summary says so with null, as the ndjson summary line does
    "wall_s": 1.0,
}
