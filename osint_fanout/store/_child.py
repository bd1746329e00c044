"""The store's writer in a process of its own, for the recording sink.

Why: importing SQLAlchemy and opening the store costs more CPU than a whole interactive
search (`search example.com -a dns`), and in a thread of the search it only adds to the
search's own start-up (the GIL). A child process started with the sink does it on another
core while the search starts, so the prompt comes back about as soon as with --no-store,
and the results are still committed before the exit (the sink waits for the child's word).

The child reads JSON lines on stdin (the URL first: never in argv, which other users may
read in /proc) and answers each with one line on stdout: {"ok": value} or {"error": one
line, "row_fault": bool, "stored": n}. It ignores SIGINT, SIGTERM and SIGHUP (a Ctrl-C
reaches the whole process group): it ends when its stdin closes, after finishing what it
was given, so a killed search still keeps what it sent. Its stderr goes nowhere: what
fails is said by the sink, in one line.

`RemoteStore` is the parent's side: the Store methods the sink calls, answered by a child.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from datetime import datetime
from typing import IO, Any

from ._rows import StoreError

__all__ = ["RemoteStore", "main", "prestart"]

_started: subprocess.Popen[str] | None = None
"""A child started by `prestart`, for the first RemoteStore to take."""


def prestart() -> None:
    """Start a writer process now, before the command has even read its settings: it
    imports SQLAlchemy meanwhile, and the sink gives it the URL when it is known. Unused
    (the store turned out off), it ends when this process does (its stdin closes)."""
    global _started
    if _started is None and sys.executable:
        try:
            _started = _spawn()
        except OSError:
            _started = None


def _spawn() -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-P", "-m", "osint_fanout.store._child"],  # -P: never import from the working directory
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        encoding="utf-8",
    )


class RemoteStore:
    """begin_run, insert, prune, finish_run and close of a Store, in a child process
    started at once (it opens the store meanwhile). Not thread-safe: one writer uses it."""

    def __init__(self, url: str, shown: str) -> None:
        global _started
        self.shown = shown
        taken, _started = _started, None
        self._child = taken if taken is not None and taken.poll() is None else _spawn()
        self._opened = False
        self._send({"url": url})

    def wait_open(self) -> None:
        """Wait for the child to have opened the store; StoreError if it could not."""
        if not self._opened:
            self._reply()
            self._opened = True

    def begin_run(self, started_at: datetime, tool_version: str) -> int:
        return int(self._call("begin_run", started_at=started_at.isoformat(), tool_version=tool_version))

    def insert(self, rows: list[dict[str, Any]]) -> int:
        sent = [{**row, "recorded_at": row["recorded_at"].isoformat()} for row in rows]
        return int(self._call("insert", rows=sent))

    def prune(self, older_than_s: float) -> tuple[int, int]:
        removed, runs = self._call("prune", older_than_s=older_than_s)
        return int(removed), int(runs)

    def finish_run(self, run_id: int, finished_at: datetime) -> None:
        self._call("finish_run", run_id=run_id, finished_at=finished_at.isoformat())

    def close(self) -> None:
        """Close its stdin: the child closes the store and ends (not waited for)."""
        try:
            assert self._child.stdin is not None
            self._child.stdin.close()
        except (OSError, ValueError):
            pass

    def _call(self, op: str, **args: Any) -> Any:
        self.wait_open()
        self._send({"op": op, **args})
        return self._reply()

    def _send(self, message: dict[str, Any]) -> None:
        try:
            assert self._child.stdin is not None
            self._child.stdin.write(json.dumps(message) + "\n")  # ASCII: any text goes through
            self._child.stdin.flush()
        except (OSError, ValueError):
            raise self._gone() from None

    def _reply(self) -> Any:
        assert self._child.stdout is not None
        line = self._child.stdout.readline()
        if not line:
            raise self._gone()
        answer = json.loads(line)
        if "error" in answer:
            raise StoreError(answer["error"], row_fault=answer.get("row_fault", False), stored=answer.get("stored", 0))
        return answer["ok"]

    def _gone(self) -> StoreError:
        code = self._child.poll()
        how = f"exit {code}" if code is not None else "no answer"
        return StoreError(f"store {self.shown}: its writer process ended unexpectedly ({how})")


def main(stdin: IO[str] = sys.stdin, stdout: IO[str] = sys.stdout) -> int:
    """The child: open the store named on the first line, then answer each request."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    from .._redact import one_line
    from ._db import Store  # SQLAlchemy: loaded before the URL is known (see prestart)

    first = stdin.readline()
    if not first:
        return 0
    url = json.loads(first)["url"]

    def answer(message: dict[str, Any]) -> None:
        stdout.write(json.dumps(message) + "\n")
        stdout.flush()

    def failure(exc: Exception) -> dict[str, Any]:
        if isinstance(exc, StoreError):
            return {"error": str(exc), "row_fault": exc.row_fault, "stored": exc.stored}
        return {"error": one_line(f"store {shown}: {type(exc).__name__}: {exc}", 300)}

    from ._url import display_url

    shown = display_url(url.strip())
    try:
        store = Store(url)
    except Exception as exc:
        answer(failure(exc))
        return 0
    answer({"ok": "open"})
    try:
        for line in stdin:
            try:
                answer({"ok": _handle(store, json.loads(line))})
            except Exception as exc:  # said to the parent, which says it in one line
                answer(failure(exc))
    except (BrokenPipeError, OSError):
        pass  # the parent is gone
    finally:
        store.close()
    return 0


def _handle(store: Any, request: dict[str, Any]) -> Any:
    op = request["op"]
    if op == "begin_run":
        return store.begin_run(datetime.fromisoformat(request["started_at"]), request["tool_version"])
    if op == "insert":
        rows = [{**row, "recorded_at": datetime.fromisoformat(row["recorded_at"])} for row in request["rows"]]
        return store.insert(rows)
    if op == "prune":
        return list(store.prune(request["older_than_s"]))
    if op == "finish_run":
        return store.finish_run(request["run_id"], datetime.fromisoformat(request["finished_at"]))
    raise ValueError(f"unknown request {op!r}")


if __name__ == "__main__":
    sys.exit(main())
