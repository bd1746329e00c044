"""The store's writer process (store/_child.py): the URL never on a command line, results
committed through it, a Ctrl-C to the process group does not cost what it was sent, and
a writer that dies is one line, not a hang."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from osint_fanout.store import StoreSink, open_store
from osint_fanout.store._child import RemoteStore
from tests.store_kit import result
from tests.test_store_sink import Lines


def test_the_sink_writes_through_a_child_that_never_has_the_url_in_its_argv(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    sink = StoreSink(url)
    remote = sink._remote
    assert remote is not None
    with open(f"/proc/{remote._child.pid}/cmdline", "rb") as cmdline:
        assert b"store.db" not in cmdline.read()
    for n in range(30):
        sink.result(result(f"h{n}.example.com"))
    sink.finish()
    assert not sink.failed and sink.recorded == 30
    with open_store(url) as store:
        assert store.count() == 30


def test_the_child_ignores_an_interrupt_and_keeps_what_it_was_sent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    remote = RemoteStore(url, url)
    remote.wait_open()
    os.kill(remote._child.pid, signal.SIGINT)  # as a Ctrl-C reaches the whole process group
    os.kill(remote._child.pid, signal.SIGTERM)
    from datetime import UTC, datetime

    from osint_fanout.store._records import row_of

    run = remote.begin_run(datetime.now(UTC), "test")
    assert remote.insert([row_of(result(), datetime.now(UTC), run)]) == 1
    remote.close()
    assert remote._child.wait(30) == 0
    with open_store(url) as store:
        assert store.count() == 1


def test_a_writer_that_dies_is_one_line_and_a_flag(tmp_path: Path) -> None:
    lines = Lines()
    sink = StoreSink(f"sqlite:///{tmp_path / 'store.db'}", on_failure=lines)
    assert sink._remote is not None
    sink._remote._child.kill()
    sink.result(result())
    started = time.monotonic()
    sink.finish()
    assert time.monotonic() - started < 10
    assert sink.failed and len(lines.lines) == 1
    assert (
        "writer process ended unexpectedly" in lines.lines[0] and "1 of 1 results were not recorded" in lines.lines[0]
    )


def test_an_opener_keeps_the_writer_in_this_process(tmp_path: Path) -> None:
    sink = StoreSink(f"sqlite:///{tmp_path / 'store.db'}", opener=open_store)
    assert sink._remote is None
    sink.result(result())
    sink.finish()
    assert not sink.failed and sink.recorded == 1


def test_the_writer_never_imports_from_the_working_directory(tmp_path: Path, monkeypatch: object) -> None:
    planted = tmp_path / "osint_fanout"
    planted.mkdir()
    (planted / "__init__.py").write_text('raise SystemExit("imported from the working directory")\n')
    monkeypatch.chdir(tmp_path)  # type: ignore[attr-defined]
    remote = RemoteStore(f"sqlite:///{tmp_path / 'store.db'}", "store")
    remote.wait_open()  # the real package's writer answered
    remote.close()
