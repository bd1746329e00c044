"""Machine-readable output: JSON and NDJSON sinks, and where their bytes go."""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel

from ._redact import redact
from ._results import Report, Result, RunSummary, SummaryLine
from ._targets import Target

__all__ = ["Destination", "JsonSink", "NdjsonSink", "OutputClosed", "OutputError", "Sink", "json_text", "to_json"]

# json.dumps escapes C0 controls itself; these it leaves raw (DEL, C1, bidi, zero-width).
_RAW_UNSAFE = re.compile("[\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\u2028\u2029]")


class OutputClosed(Exception):
    """stdout was closed by the reader (e.g. `| head`)."""


def to_json(model: BaseModel, *, indent: int | None = None) -> str:
    """Exact data, readable Unicode, but no byte that a terminal would act on."""
    return json_text(model.model_dump(mode="json"), indent=indent)


def json_text(value: Any, *, indent: int | None = None) -> str:
    """`to_json` for plain JSON values."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    return redact(_RAW_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


class OutputError(Exception):
    """The output file cannot be written; the message is one line."""


class Destination:
    """stdout; or a file: replaced atomically at the end, or appended line by line (ndjson).
    A path that is not a regular file (a FIFO, a device) is written to directly; a
    symbolic link is followed, so the file it points to is the one replaced."""

    def __init__(self, path: Path | None = None, *, append: bool = False) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._temp: str | None = None
        self._final: Path | None = None
        self._stream: IO[str]
        if path is None:
            self._stream = sys.stdout
            return
        try:
            self._open(path, append)
        except OSError as exc:
            raise OutputError(f"--output {path}: {exc.strerror or exc}") from None

    def _open(self, path: Path, append: bool) -> None:
        special = path.exists() and not path.is_file()
        if path.is_dir():
            raise IsADirectoryError(21, "is a directory")
        if append or special:
            torn = append and not special and _ends_torn(path)
            self._stream = open(path, "a" if append else "w", encoding="utf-8")  # noqa: SIM115 - closed in commit()
            if torn:  # a line cut short by a killed run: end it first
                self._stream.write("\n")
            return
        self._final = path.resolve()
        fd, self._temp = tempfile.mkstemp(dir=self._final.parent, prefix=f".{self._final.name}.", suffix=".tmp")
        self._stream = os.fdopen(fd, "w", encoding="utf-8")

    @property
    def stream(self) -> IO[str]:
        return self._stream

    def is_terminal(self) -> bool:
        return self.path is None and self._stream.isatty()

    def write_line(self, text: str) -> None:
        with self._lock:
            try:
                self._stream.write(text + "\n")
                self._stream.flush()
            except BrokenPipeError:
                raise OutputClosed() from None

    def commit(self) -> None:
        """Flush and, for an atomic file, move it into place (also after an interrupt)."""
        with self._lock:
            if self.path is None:
                with contextlib.suppress(BrokenPipeError, ValueError):
                    self._stream.flush()
                return
            if self._stream.closed:
                return
            self._stream.flush()
            if self._temp:
                os.fsync(self._stream.fileno())
            self._stream.close()
            if self._temp and self._final:
                os.chmod(self._temp, 0o666 & ~_umask())
                os.replace(self._temp, self._final)


def _ends_torn(path: Path) -> bool:
    """True when a non-empty file does not end with a newline (read as bytes: the cut
    may fall inside a multi-byte character)."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            if handle.tell() == 0:
                return False
            handle.seek(-1, os.SEEK_END)
            return handle.read(1) != b"\n"
    except FileNotFoundError:
        return False


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class Sink:
    """Receives the run's events; every method may be called from the watchdog thread."""

    def started(self, target: Target, adapter: str) -> None:
        """An adapter call began."""

    def result(self, result: Result) -> None:
        """A result arrived."""

    def report(self, report: Report) -> None:
        """A target is complete."""

    def finish(self) -> None:
        """The run is over (normally, interrupted, or in an emergency)."""


class JsonSink(Sink):
    """`json`: one object per target, written when the target is complete."""

    def __init__(self, destination: Destination, *, indent: int | None = None) -> None:
        self.destination = destination
        self.indent = indent

    def report(self, report: Report) -> None:
        self.destination.write_line(to_json(report, indent=self.indent))

    def finish(self) -> None:
        self.destination.commit()


class NdjsonSink(Sink):
    """`ndjson`: one line per result, written and flushed the moment it arrives."""

    def __init__(self, destination: Destination, *, summary: Callable[[], dict[str, Any]] | None = None) -> None:
        self.destination = destination
        self.summary = summary

    def result(self, result: Result) -> None:
        self.destination.write_line(to_json(result))

    def finish(self) -> None:
        if self.summary is not None:
            self.destination.write_line(to_json(SummaryLine(summary=RunSummary.model_validate(self.summary()))))
        self.destination.commit()
