"""Option values of the command line, parsed: one clear usage error (exit 2) for a bad one."""

from __future__ import annotations

import re

import typer

__all__ = ["MAX_SHARDS", "duration", "names", "shard"]

MAX_SHARDS = 100_000
_SHARD = re.compile(r"\s*(\d{1,6})\s*/\s*(\d{1,6})\s*", re.ASCII)  # ASCII digits: str.isdigit takes '²'


def shard(text: str | None) -> tuple[int, int] | None:
    """'2/3' -> (1, 3): the 0-based index, and how many."""
    if text is None:
        return None
    found = _SHARD.fullmatch(text)
    k, n = (int(found.group(1)), int(found.group(2))) if found else (0, 0)
    if not 1 <= k <= n <= MAX_SHARDS:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise typer.BadParameter(
            f"give K/N with 1 <= K <= N <= {MAX_SHARDS}, e.g. 1/3, not {shown!r}", param_hint="--shard"
        )
    return k - 1, n


def duration(text: str | None, flag: str) -> float | None:
    if text is None:
        return None
    from ._duration import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=flag) from None


def names(given: list[str] | str | None, flag: str) -> list[str] | None:
    """Adapter names, comma-separated; a repeated flag adds to them (`-a dns -a ct`)."""
    if given is None:
        return None
    text = given if isinstance(given, str) else ",".join(given)
    names = list(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
    if not names:
        raise typer.BadParameter("give adapter names separated by commas, e.g. dns,whois", param_hint=flag)
    return names
