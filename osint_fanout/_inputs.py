"""Where targets come from: the command line and files or stdin, read lazily."""

from __future__ import annotations

import asyncio
import enum
import hashlib
import json
import os
import stat
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import IO

from ._settings import ConfigError
from ._targets import InvalidTarget, Target, parse_target

__all__ = ["InputStats", "completed_targets", "count_targets", "open_inputs", "target_stream"]


class InputStats:
    def __init__(self) -> None:
        self.read = 0
        self.invalid = 0
        self.resumed = 0
        self.other_shards = 0


def shard_of(value: str, shards: int) -> int:
    """The shard (0-based) of a target: a stable hash of its normalised value, the same on
    every machine and whatever the order of the list."""
    return int.from_bytes(hashlib.sha256(value.encode("utf-8")).digest()[:8], "big") % shards


def open_inputs(paths: list[str]) -> list[tuple[str, IO[bytes]]]:
    """Open every input up front, so a missing file is a usage error before any query.
    An input that can be looked at without waiting (a file, a device such as /dev/zero)
    and holds binary data is refused here too; a pipe's or a terminal's is, when read."""
    opened = []
    for path in paths:
        if path == "-":
            if sys.stdin is None or getattr(sys.stdin, "buffer", None) is None:
                raise ConfigError("--input -: stdin is closed")
            name, handle = "<stdin>", sys.stdin.buffer
        else:
            name, handle = path, _open(path)
        try:
            if _kind(handle) is not _Kind.STREAM and BINARY in _peek(handle):
                raise ConfigError(f"--input {name}: {NOT_TEXT}")
        except OSError as exc:
            raise ConfigError(f"--input {name}: {exc.strerror or exc}") from None
        opened.append((name, handle))
    return opened


NOT_TEXT = "binary data (a NUL byte), not a list of targets"
BINARY = b"\0"


def _open(path: str) -> IO[bytes]:
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISSOCK(mode):  # open() would say "No such device or address"
            raise ConfigError(
                f"--input {path}: a socket, not a file; pipe what it sends, e.g. nc -U {path} | osint-fanout ... -i -"
            )
        if stat.S_ISFIFO(mode):  # a named pipe: its writer is waited for in the run (which
            # --max-time and signals bound), not in open(), which would block before it starts
            return os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb")
        return open(path, "rb")  # closed by target_stream
    except OSError as exc:
        raise ConfigError(f"--input {path}: {exc.strerror or exc}") from None


class _Kind(enum.Enum):
    FILE = "file"
    """A regular file: read directly, it never keeps us waiting."""
    STREAM = "stream"
    """A pipe, a socket or a terminal: read through the event loop's pipe reader."""
    DEVICE = "device"
    """Any other device (/dev/null, /dev/zero): epoll refuses it (EPERM), so the loop's reader
    would never see its end; read in a worker thread instead."""


def _kind(handle: IO[bytes]) -> _Kind:
    mode = os.fstat(handle.fileno()).st_mode
    if stat.S_ISREG(mode):
        return _Kind.FILE
    if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(handle.fileno()):
        return _Kind.STREAM
    return _Kind.DEVICE


def _peek(handle: IO[bytes]) -> bytes:
    """The first bytes of `handle`, left to be read again (one read of its buffer)."""
    peek = getattr(handle, "peek", None)
    return peek(1) if peek is not None else b""


def completed_targets(path: Path, adapters: list[str]) -> set[str]:
    """Targets whose every adapter's last line in an ndjson file is final (not cancelled).

    One small int (a bit per adapter) per target seen: memory grows with the targets in
    the file, which --resume cannot avoid, but stays small.
    """
    bits = {name: 1 << index for index, name in enumerate(adapters)}
    done: dict[str, int] = {}
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return set()
    except OSError as exc:
        raise ConfigError(f"--resume: cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        for raw in _bounded_lines(handle, MAX_RESUME_LINE):
            try:
                record = json.loads(raw)
                value, bit, status = record["target"]["value"], bits.get(record["adapter"]), record["status"]
            except (ValueError, KeyError, TypeError, RecursionError):
                continue  # a summary line, a torn last line, too deep, or not ours
            if bit is not None and isinstance(value, str):
                mask = done.get(value, 0)
                done[value] = mask & ~bit if status == "cancelled" else mask | bit
    everything = (1 << len(adapters)) - 1
    return {value for value, mask in done.items() if mask == everything}


MAX_RESUME_LINE = 1024 * 1024
"""A result line longer than this is no line of ours: skipped without holding it whole."""


def _bounded_lines(handle: IO[bytes], limit: int, *, keep_long: bool = False) -> Iterator[bytes]:
    """The lines of `handle`, in bounded reads; a line longer than `limit` is skipped (or,
    with `keep_long`, given as its first `limit` bytes)."""
    while raw := handle.readline(limit + 1):
        if len(raw) > limit and not raw.endswith(b"\n"):
            while (rest := handle.readline(limit)) and not rest.endswith(b"\n"):
                pass
            if not keep_long:
                continue
        yield raw


def count_targets(positional: list[Target], inputs: list[tuple[str, IO[bytes]]]) -> int | None:
    """How many targets there will be, for the ETA; None when an input is a pipe."""
    total = len(positional)
    for _, handle in inputs:
        if handle is getattr(sys.stdin, "buffer", None) or not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        for raw in _bounded_lines(handle, MAX_LINE, keep_long=True):  # as target_stream counts them
            line = raw.strip()
            total += bool(line) and not line.startswith(b"#")
        handle.seek(0)
    return total


async def target_stream(
    positional: list[Target],
    inputs: list[tuple[str, IO[bytes]]],
    *,
    stats: InputStats,
    skip: set[str],
    on_invalid: Callable[[str], None],
    shard: tuple[int, int] | None = None,
    on_note: Callable[[str], None] | None = None,
) -> AsyncIterator[Target]:
    """Positional targets, then each input's lines; invalid lines are reported and skipped,
    and how a pasted form was read (Target.note) is told through `on_note` (default:
    `on_invalid`, which only prints). With `shard` (index, of), only the targets of that shard."""
    note = on_note or on_invalid

    def mine(target: Target, where: str = "") -> bool:
        if target.note:
            note(where + target.note)
        if shard is not None and shard_of(target.value, shard[1]) != shard[0]:
            stats.other_shards += 1
            return False
        if target.value in skip:
            stats.resumed += 1
            return False
        return True

    for target in positional:
        stats.read += 1
        if mine(target):
            yield target
    for name, handle in inputs:
        number = 0
        try:
            async for raw in _lines(handle):
                number += 1
                if raw is TOO_LONG:
                    stats.read += 1
                    stats.invalid += 1
                    on_invalid(f"{name}:{number}: a line of over {MAX_LINE // 1024} KiB, skipped")
                    continue
                line = raw.decode("utf-8", errors="replace").strip()
                if not line or line.startswith("#"):
                    continue
                stats.read += 1
                try:
                    target = parse_target(line)
                except InvalidTarget as exc:
                    stats.invalid += 1
                    on_invalid(f"{name}:{number}: {exc}")
                    continue
                if mine(target, f"{name}:{number}: "):
                    yield target
        except _NotText:
            stats.read += 1
            stats.invalid += 1
            on_invalid(f"{name}: {NOT_TEXT} (after {number} lines); the rest of it is skipped")
        finally:
            if handle is not getattr(sys.stdin, "buffer", None):
                handle.close()


MAX_LINE = 64 * 1024
"""Longer lines are no target: they are skipped whole, without holding them in memory."""
TOO_LONG = None


class _NotText(Exception):
    """An input turned out to hold binary data (a pipe of /dev/zero would never end)."""


async def _lines(handle: IO[bytes]) -> AsyncIterator[bytes | None]:
    """Lines (None for one over MAX_LINE) without blocking the event loop: regular files
    are read directly, pipes, sockets and terminals through the loop's pipe reader, so that
    a slow producer does not stall the run, other devices in a worker thread."""
    pending = b""
    skipping = False
    async for chunk in _chunks(handle):
        if BINARY in chunk:
            raise _NotText()
        pending += chunk
        *complete, pending = pending.split(b"\n")
        for line in complete:
            yield TOO_LONG if skipping else line
            skipping = False
        if len(pending) > MAX_LINE:
            pending, skipping = b"", True
    if skipping or pending:
        yield TOO_LONG if skipping else pending


async def _chunks(handle: IO[bytes], size: int = 1 << 16) -> AsyncIterator[bytes]:
    kind = _kind(handle)
    if kind is _Kind.FILE:
        while chunk := handle.read(size):
            yield chunk
            await asyncio.sleep(0)
        return
    if kind is _Kind.DEVICE:
        read = getattr(handle, "read1", handle.read)
        while chunk := await asyncio.to_thread(read, size):
            yield chunk
        return
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=size)
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), handle)
    try:
        while chunk := await reader.read(size):
            yield chunk
    finally:
        transport.close()
