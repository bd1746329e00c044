"""The adapter entry points, remembered between runs.

Finding them means reading the metadata of every installed distribution; what that finds
depends only on the `sys.path` entries and the distribution metadata folders in them. So
the answer is kept in the user cache folder with a key made of exactly that: each entry's
modification time, and each `*.dist-info` / `*.egg-info` folder in it with the time and
size of its `entry_points.txt`. Installing, upgrading or removing a package changes its
folder, and so the folder that holds it; a plugin folder put on `sys.path` changes the
path. A key is only written once everything in it is at least `SETTLE_S` old (a change
within the same clock tick as the scan would otherwise go unseen), the file is replaced
atomically, and any problem (unreadable, corrupt, read-only cache) means a plain scan.
Interpreters with a distribution finder of their own (not the standard path finder) are
never cached.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

__all__ = ["CACHE_ENV", "Point", "entry_points"]

Point = tuple[str, str, str]
"""(name, value "module:attribute", the distribution's name)."""

FORMAT = 1
SETTLE_S = 2.0
CACHE_ENV = "OSINT_FANOUT_NO_ENTRY_POINT_CACHE"
"""Set (to anything) to scan every time."""


def entry_points(group: str) -> list[Point]:
    """The group's entry points, sorted by name (in discovery order among equal names),
    as `importlib.metadata.entry_points(group=...)` gives them."""
    try:
        key = None if os.environ.get(CACHE_ENV) else _key()
        file = _file() if key is not None else None
        found = _read(file, key, group) if file is not None else None
    except Exception:  # the cache is an optimisation: never a reason to fail
        key = file = found = None
    if found is not None:
        return found
    points = _scan(group)
    if file is not None and key is not None and _settled(key):
        with contextlib.suppress(Exception):
            _write(file, {"format": FORMAT, "key": key, "group": group, "points": points})
    return points


def _scan(group: str) -> list[Point]:
    from importlib.metadata import entry_points as scan

    found = sorted(scan(group=group), key=lambda point: point.name)
    return [(point.name, point.value, point.dist.name if point.dist else "?") for point in found]


def _key() -> list[Any] | None:
    """What the scan depends on, or None when it cannot be known from the file system."""
    from importlib.machinery import PathFinder

    for finder in sys.meta_path:
        if hasattr(finder, "find_distributions") and finder is not PathFinder:
            return None
    key: list[Any] = [sys.version, sys.executable]
    for entry in sys.path:
        root = os.path.abspath(entry or ".")
        try:
            key.append([root, os.stat(root).st_mtime_ns])
        except OSError:
            key.append([root, None])
            continue
        if not os.path.isdir(root):
            continue  # a zip file: its time covers its content
        egg = os.path.basename(root).lower().endswith(".egg")
        with os.scandir(root) as children:
            for child in children:
                low = child.name.lower()
                if low.endswith((".dist-info", ".egg-info")) or (egg and low == "egg-info"):
                    key.append([child.name, *_times(child.path)])
    return key


def _times(path: str) -> list[int | None]:
    """A metadata folder's time, and its entry_points.txt's time and size."""
    stamps: list[int | None] = []
    try:
        stamps.append(os.stat(path).st_mtime_ns)
        points = os.stat(os.path.join(path, "entry_points.txt"))
        stamps += [points.st_mtime_ns, points.st_size]
    except OSError:
        stamps += [None, None]
    return stamps


def _settled(key: list[Any]) -> bool:
    """Everything in the key is older than SETTLE_S (so no change can share its clock tick)."""
    stamps = [item[1] for item in key[2:]] + [item[2] for item in key[2:] if len(item) > 2]
    newest = max((stamp for stamp in stamps if stamp is not None), default=0)
    return time.time_ns() - newest > SETTLE_S * 1e9


def _file() -> Path:
    where = zlib.crc32("\0".join((sys.prefix, sys.executable)).encode())  # one file per environment
    return _cache_folder() / f"entry-points-{where:08x}.json"


def _cache_folder() -> Path:
    """The user cache folder of osint-fanout (platformdirs: 3 ms of the start, most of it
    paid for by the scan it saves)."""
    from platformdirs import user_cache_path

    return user_cache_path("osint-fanout", appauthor=False)


def _read(file: Path, key: list[Any], group: str) -> list[Point] | None:
    try:
        data = json.loads(file.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("group") != group:
        return None
    if data.get("key") != key:
        return None
    points = data.get("points")
    if not isinstance(points, list) or not all(
        isinstance(p, list) and len(p) == 3 and all(isinstance(s, str) for s in p) for p in points
    ):
        return None
    return [(name, value, dist) for name, value, dist in points]


def _write(file: Path, data: dict[str, Any]) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(temp, file)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
