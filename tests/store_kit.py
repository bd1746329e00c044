"""Helpers for the store's tests: results to record, and a writer process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

from osint_fanout._results import ErrorInfo, Result, Status
from osint_fanout._targets import parse_target


def result(
    target: str = "example.com",
    adapter: str = "dns",
    status: Status = Status.OK,
    data: dict[str, Any] | None = None,
    **fields: Any,
) -> Result:
    if status is Status.OK and data is None:
        data = {"records": {"A": ["192.0.2.1"]}}
    if status in (Status.ERROR, Status.TIMEOUT, Status.CANCELLED) and "error" not in fields:
        fields["error"] = ErrorInfo(type=status.value, message="it failed")
    return Result(target=parse_target(target), adapter=adapter, status=status, elapsed_ms=12, data=data, **fields)


WRITER = """
    import sys
    from osint_fanout._results import Result, Status
    from osint_fanout._targets import parse_target
    from osint_fanout.store import StoreSink

    url, name, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sink = StoreSink(url, finish_timeout_s=240)  # time is not under test: nothing lost is
    for n in range(count):
        target = parse_target(f"host{n}.{name}.example")
        sink.result(Result(target=target, adapter="dns", status=Status.OK, elapsed_ms=1, data={"n": n}))
    sink.finish()
    print(sink.recorded, sink.failure)
    sys.exit(3 if sink.failed else 0)
"""


def start_writer(url: str, name: str, count: int) -> subprocess.Popen[str]:
    """A process recording `count` results through a StoreSink of its own."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WRITER), url, name, str(count)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
