"""A stored result, as the store gives it back (and as `changes` reads it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from .._redact import one_line, redact
from .._results import ErrorInfo, Result, Status
from .._targets import Target, TargetKind

__all__ = ["StoreError", "StoredResult", "row_of"]


class StoreError(Exception):
    """The store cannot be used (locked, corrupt, full, unreachable, newer than us); the
    message is one line naming the store (never its password)."""


def store_error(shown: str, error: BaseException) -> StoreError:
    """One line: the store, then what the database said (its first line)."""
    detail = getattr(error, "orig", None) or error
    text = str(detail).strip().splitlines()[0] if str(detail).strip() else type(detail).__name__
    return StoreError(one_line(f"store {shown}: {text}", 300))


@dataclass(frozen=True)
class StoredResult:
    """One recorded result: what the engine gave, when it arrived and in which run.
    `data_text` is the data as stored (JSON); `data` decodes it when first read, so that
    `diff` never decodes what it can compare as text."""

    target: str
    kind: str
    adapter: str
    status: str
    recorded_at: datetime
    data_text: str | None = None
    error: ErrorInfo | None = None
    reason: str | None = None
    summary: str = ""
    elapsed_ms: int = 0
    waited_ms: int = 0
    unicode: str | None = None
    run_id: int | None = None
    id: int | None = None
    tool_version: str | None = None

    @cached_property
    def data(self) -> dict[str, Any] | None:
        return None if self.data_text is None else json.loads(self.data_text)  # type: ignore[no-any-return]

    @classmethod
    def of(cls, data: dict[str, Any] | None = None, **fields: Any) -> StoredResult:
        """A StoredResult holding `data` (for tests and for observations made by hand)."""
        made = cls(data_text=None if data is None else _dumps(data), **fields)
        made.__dict__["data"] = data  # already decoded: the cached_property's slot
        return made

    @classmethod
    def from_result(cls, result: Result, recorded_at: datetime, run_id: int | None = None) -> StoredResult:
        """A live result as an observation (for `changes` against the stored ones)."""
        return cls.of(
            target=result.target.value,
            kind=result.target.kind.value,
            unicode=result.target.unicode,
            adapter=result.adapter,
            status=result.status.value,
            recorded_at=recorded_at,
            data=result.data,
            error=result.error,
            reason=result.reason,
            summary=result.summary,
            elapsed_ms=result.elapsed_ms,
            waited_ms=result.waited_ms,
            run_id=run_id,
        )

    def to_result(self) -> Result:
        """The engine's record again (for reuse by the cache); `target.input` is the value."""
        target = Target(input=self.target, value=self.target, kind=TargetKind(self.kind), unicode=self.unicode)
        return Result(
            target=target,
            adapter=self.adapter,
            status=Status(self.status),
            elapsed_ms=self.elapsed_ms,
            waited_ms=self.waited_ms,
            data=self.data,
            error=self.error,
            reason=self.reason,
            summary=self.summary,
        )

    def as_json(self) -> dict[str, Any]:
        """The `history` record: the ndjson result fields, plus when and in which run."""
        return {
            "target": self.target,
            "adapter": self.adapter,
            "status": self.status,
            "recorded_at": self.recorded_at.isoformat().replace("+00:00", "Z"),
            "run": self.run_id,
            "tool_version": self.tool_version,
            "elapsed_ms": self.elapsed_ms,
            "waited_ms": self.waited_ms,
            "data": self.data,
            "error": self.error.model_dump() if self.error else None,
            "reason": self.reason,
            "summary": self.summary,
        }

    @classmethod
    def from_row(cls, row: Any, *, tool_version: str | None = None) -> StoredResult:
        error = ErrorInfo(type=row.error_type, message=row.error_message or "") if row.error_type else None
        return cls(
            target=row.target,
            kind=row.kind,
            unicode=row.unicode,
            adapter=row.adapter,
            status=row.status,
            recorded_at=row.recorded_at,
            data_text=row.data,
            error=error,
            reason=row.reason,
            summary=row.summary,
            elapsed_ms=row.elapsed_ms,
            waited_ms=row.waited_ms,
            run_id=row.run_id,
            id=row.id,
            tool_version=tool_version,
        )


def row_of(result: Result, recorded_at: datetime, run_id: int) -> dict[str, Any]:
    """The `results` row of a result. Keys are scrubbed from every text, as from any output."""
    data = None if result.data is None else redact(_dumps(result.data))
    return {
        "run_id": run_id,
        "target": result.target.value,
        "kind": result.target.kind.value,
        "unicode": result.target.unicode,
        "adapter": result.adapter,
        "status": result.status.value,
        "recorded_at": recorded_at,
        "elapsed_ms": result.elapsed_ms,
        "waited_ms": result.waited_ms,
        "data": data,
        "error_type": result.error.type if result.error else None,
        "error_message": redact(result.error.message) if result.error else None,
        "reason": redact(result.reason) if result.reason else None,
        "summary": redact(result.summary),
    }


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
