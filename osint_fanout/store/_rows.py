"""Rows as a database takes them, and the store's error: what the writer needs, without
the result models (pydantic), so that the store's writer process starts light."""

from __future__ import annotations

import json
from typing import Any

from .._redact import one_line

__all__ = ["FOUND_KEY", "StoreError", "dumps", "escaped_row", "int32", "storable", "store_error"]

FOUND_KEY = "found"
"""The key of a `results` row (made by `row_of`) that carries what the result found, to the
writer (maybe a child process, as JSON) and into the asset tables; never a column."""

_TEXT_COLUMNS = ("target", "unicode", "data", "error_type", "error_message", "reason", "summary")


class StoreError(Exception):
    """The store cannot be used (locked, corrupt, full, unreachable, newer than us); the
    message is one line naming the store (never its password). `row_fault`: what failed
    was the data of a row (the database refused a value), not the store; `stored`: how
    many rows of the batch were stored all the same."""

    def __init__(self, message: str, *, row_fault: bool = False, stored: int = 0) -> None:
        super().__init__(message)
        self.row_fault = row_fault
        self.stored = stored


def store_error(shown: str, error: BaseException, *, row_fault: bool = False) -> StoreError:
    """One line: the store, then what the database said (its first line)."""
    detail = getattr(error, "orig", None) or error
    text = str(detail).strip().splitlines()[0] if str(detail).strip() else type(detail).__name__
    return StoreError(one_line(f"store {shown}: {text}", 300), row_fault=row_fault)


def escaped_row(row: dict[str, Any]) -> dict[str, Any]:
    """`row` with every text as printable ASCII (JSON escapes; the data stays the same
    JSON): the last try for a row the database refused, so that it is kept, not lost."""
    out = dict(row)
    for column in _TEXT_COLUMNS:
        value = out.get(column)
        if isinstance(value, str):
            out[column] = dumps(json.loads(value), ascii=True) if column == "data" else _ascii(value)
    return out


def dumps(data: Any, *, ascii: bool = False) -> str:
    """JSON, as text a database takes: a lone surrogate in a string is written as its JSON
    escape (`\\ud83d`, the same data read back), never as a character no encoding has."""
    text = json.dumps(data, ensure_ascii=ascii, separators=(",", ":"))
    return text if ascii or _encodable(text) else json.dumps(data, ensure_ascii=True, separators=(",", ":"))


def storable(text: str) -> str:
    return text if _encodable(text) and "\x00" not in text else _ascii(text)


def _ascii(text: str) -> str:
    """Lone surrogates, NUL and every other non-ASCII character as backslash escapes."""
    return json.dumps(text)[1:-1]


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def int32(value: int) -> int:
    return max(0, min(int(value), 2**31 - 1))  # the column is a 32-bit INTEGER
