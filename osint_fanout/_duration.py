"""Durations as people write them: `90d`, `12h`, `30m`, `45s`, `2w`, or a few of them
together (`1h30m`). Used by `prune --older-than`, `diff --since`, `--max-age`,
`[store] keep` and `[adapters.NAME] max_age`: at most MAX_DURATION_S, so that "now minus
the duration" is always a date (a year-1 overflow crashed every run of `keep = "3000000d"`)."""

from __future__ import annotations

import math
import re

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])", re.ASCII)
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+", re.ASCII)
MAX_DURATION_S = 36500 * 86400
"""100 years (36500d): more than any store will hold."""
_HOW = "give a number and a unit (s, m, h, d or w), like 90d, 12h, 30m or 1h30m"


def parse_duration(text: str) -> float:
    """Seconds in `text`; ValueError (one line, saying how to fix it) when it is no
    positive duration."""
    cleaned = text.strip().lower()
    if not _WHOLE.fullmatch(cleaned):
        raise ValueError(f"{text[:40]!r} is not a duration: {_HOW}")
    seconds = sum(float(number) * _UNITS[unit] for number, unit in _PART.findall(cleaned))
    if not (seconds > 0 and math.isfinite(seconds)):
        raise ValueError(f"{text[:40]!r} is not a positive duration: {_HOW}")
    if seconds > MAX_DURATION_S:
        raise ValueError(f"{text[:40]!r} is too long: at most 36500d (100 years); {_HOW}")
    return seconds


def format_duration(seconds: float) -> str:
    """The largest whole unit that fits: 7776000 -> '90d', 5400 -> '90m'."""
    for unit in ("w", "d", "h", "m"):
        size = _UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
