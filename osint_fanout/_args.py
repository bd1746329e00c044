"""Option values of the command line, parsed: one clear usage error (exit 2) for a bad one."""

from __future__ import annotations

import typer

__all__ = ["duration", "names", "shard"]


def shard(text: str | None) -> tuple[int, int] | None:
    """'2/3' -> (1, 3): the 0-based index, and how many."""
    if text is None:
        return None
    k, slash, n = text.strip().partition("/")
    if not (slash and k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise typer.BadParameter(f"give K/N with 1 <= K <= N, e.g. 1/3, not {text!r}", param_hint="--shard")
    return int(k) - 1, int(n)


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
