"""Machine-readable output: JSON and NDJSON sinks, and where their bytes go."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel

from ._redact import json_escape_unsafe, may_hold_secret, redact_values, terminal_safe
from ._results import Report, Result, RunSummary, SummaryLine
from ._targets import Target

__all__ = [
    "Destination",
    "JsonSink",
    "NdjsonSink",
    "OutputClosed",
    "OutputError",
    "OutputFailed",
    "Sink",
    "json_text",
    "to_json",
]



class OutputClosed(Exception):
    """stdout was closed by the reader (e.g. `| head`)."""


class OutputFailed(OutputClosed):
    """Output could not be written (disk full, I/O error); the message is one line, and the
    file is left as it was before the failed write (no temporary file, no torn line)."""


def to_json(model: BaseModel, *, indent: int | None = None) -> str:
    """Exact data, readable Unicode, but no byte that a terminal would act on (escaped the
    JSON way), and no key (scrubbed from the values, so the document stays valid JSON)."""
    return json_text(model.model_dump(mode="json"), indent=indent)


def json_text(value: Any, *, indent: int | None = None) -> str:
    """`to_json` for plain JSON values."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)
    if may_hold_secret(text):  # rarely: the data is walked only when a key may be in it
        text = json.dumps(redact_values(value), ensure_ascii=False, indent=indent)
    return json_escape_unsafe(text)


class OutputError(Exception):
    """The output file cannot be written; the message is one line."""


class Destination:
    """stdout; or a file: replaced atomically at the end, or appended line by line (ndjson).
    A path that is not a regular file (a FIFO, a device) is written to directly; a
    symbolic link is followed, so the file it points to is the one replaced, keeping its
    mode (and owner, where the process may set it)."""

    def __init__(self, path: Path | None = None, *, append: bool = False) -> None:
        self.path = path
        self.shown = terminal_safe(str(path)) if path is not None else "stdout"
        self._lock = threading.RLock()
        self._temp: str | None = None
        self._final: Path | None = None
        self._keep: os.stat_result | None = None
        self._fd: int | None = None
        self._good = 0
        """Size of the appended file up to its last complete line."""
        self._text: IO[str] | None = None
        self._closed = False
        if path is None:
            self._text = sys.stdout
            return
        try:
            self._open(path, append)
        except OSError as exc:
            raise OutputError(f"--output {self.shown}: {exc.strerror or exc}") from None

    def _open(self, path: Path, append: bool) -> None:
        special = path.exists() and not path.is_file()
        if path.is_dir():
            raise IsADirectoryError(21, "is a directory")
        if append or special:
            torn = append and not special and _ends_torn(path)
            flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
            self._fd = os.open(path, flags, 0o666)
            if not special:
                self._good = os.fstat(self._fd).st_size
            if torn:  # a line cut short by a killed run: end it first
                self._write_all(b"\n")
            return
        self._final = path.resolve()
        with contextlib.suppress(FileNotFoundError):
            self._keep = os.stat(self._final)
        self._fd, self._temp = tempfile.mkstemp(dir=self._final.parent, prefix=f".{self._final.name}.", suffix=".tmp")

    @property
    def stream(self) -> IO[str]:
        """A text stream onto the destination, for the table renderer."""
        if self._text is None:
            assert self._fd is not None
            self._text = io.TextIOWrapper(io.FileIO(self._fd, "w", closefd=False), encoding="utf-8")
        return self._text

    def is_terminal(self) -> bool:
        return self.path is None and sys.stdout.isatty()

    def write_line(self, text: str) -> None:
        with self._lock:
            if self._closed:
                return
            try:
                if self._fd is None:
                    assert self._text is not None
                    self._text.write(text + "\n")
                    self._text.flush()
                else:
                    self._write_all((text + "\n").encode("utf-8", "surrogateescape"))
                    self._good += len(text.encode("utf-8", "surrogateescape")) + 1
            except BrokenPipeError:
                raise OutputClosed() from None
            except OSError as exc:
                self._fail(exc)

    def _write_all(self, data: bytes) -> None:
        assert self._fd is not None
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]

    def _fail(self, exc: OSError) -> None:
        """Undo what the failed write left (a torn line, the temporary file), then say so."""
        self._closed = True
        if self._fd is not None and self._temp is None and self.path is not None and self.path.is_file():
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._good)
        self._close_fd()
        if self._temp:
            with contextlib.suppress(OSError):
                os.unlink(self._temp)
        where = "stdout" if self.path is None else f"--output {self.shown}"
        undone = "; nothing was left half-written" if self.path is not None else ""
        raise OutputFailed(f"cannot write {where}: {exc.strerror or exc}{undone}") from None

    def _close_fd(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None

    def commit(self) -> None:
        """Flush and, for an atomic file, move it into place (also after an interrupt)."""
        with self._lock:
            if self._closed:
                return
            try:
                if self._text is not None:
                    self._text.flush()
                if self.path is None:
                    return
                self._closed = True
                if self._temp and self._final and self._fd is not None:
                    os.fsync(self._fd)
                    os.fchmod(self._fd, self._keep.st_mode & 0o7777 if self._keep else 0o666 & ~_umask())
                    if self._keep is not None:
                        with contextlib.suppress(OSError):  # only root may give a file away
                            os.fchown(self._fd, self._keep.st_uid, self._keep.st_gid)
                    self._close_fd()
                    os.replace(self._temp, self._final)
                    self._temp = None
                self._close_fd()
            except BrokenPipeError:
                if self.path is not None:
                    raise
            except (OSError, ValueError) as exc:
                if isinstance(exc, ValueError):  # stdout closed under us
                    return
                self._fail(exc)


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
        """The run is over (normally, or interrupted)."""

    def finish_now(self) -> None:
        """The run is over in an emergency (a stuck loop, a second signal): finish without
        waiting on anything slow; the deadline holds."""
        self.finish()


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
