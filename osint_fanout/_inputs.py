"""Where targets come from: the command line and files or stdin, read lazily."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys
from collections.abc import AsyncIterator, Callable
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


def open_inputs(paths: list[str]) -> list[tuple[str, IO[bytes]]]:
    """Open every input up front, so a missing file is a usage error before any query."""
    opened = []
    for path in paths:
        if path == "-":
            opened.append(("<stdin>", sys.stdin.buffer))
            continue
        try:
            opened.append((path, open(path, "rb")))  # noqa: SIM115 - closed by target_stream
        except OSError as exc:
            raise ConfigError(f"--input {path}: {exc.strerror or exc}") from None
    return opened


def completed_targets(path: Path, adapters: list[str]) -> set[str]:
    """Targets whose every adapter has a final (not cancelled) result line in an ndjson file."""
    seen: dict[str, set[str]] = {}
    try:
        handle = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return set()
    except OSError as exc:
        raise ConfigError(f"--resume: cannot read {path}: {exc.strerror or exc}") from None
    with handle:
        for line in handle:
            try:
                record = json.loads(line)
                value, adapter, status = record["target"]["value"], record["adapter"], record["status"]
            except (ValueError, KeyError, TypeError):
                continue  # a summary line, a torn last line, or not ours
            if status != "cancelled":
                seen.setdefault(value, set()).add(adapter)
    wanted = set(adapters)
    return {value for value, done in seen.items() if wanted <= done}


def count_targets(positional: list[Target], inputs: list[tuple[str, IO[bytes]]]) -> int | None:
    """How many targets there will be, for the ETA; None when an input is a pipe."""
    total = len(positional)
    for _, handle in inputs:
        if handle is sys.stdin.buffer or not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        for raw in handle:
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
) -> AsyncIterator[Target]:
    """Positional targets, then each input's lines; invalid lines are reported and skipped."""
    for target in positional:
        stats.read += 1
        if target.value in skip:
            stats.resumed += 1
            continue
        yield target
    for name, handle in inputs:
        number = 0
        try:
            async for raw in _lines(handle):
                number += 1
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
                if target.value in skip:
                    stats.resumed += 1
                    continue
                yield target
        finally:
            if handle is not sys.stdin.buffer:
                handle.close()


async def _lines(handle: IO[bytes]) -> AsyncIterator[bytes]:
    """Lines without blocking the event loop: regular files are read directly, pipes and
    terminals through the loop's pipe reader (a slow producer must not stall the run)."""
    mode = os.fstat(handle.fileno()).st_mode
    if stat.S_ISREG(mode):
        for line in handle:
            yield line
            await asyncio.sleep(0)
        return
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), handle)
    try:
        while line := await reader.readline():
            yield line
    finally:
        transport.close()
