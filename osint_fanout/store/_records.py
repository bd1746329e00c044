"""A stored result, as the store gives it back (and as `changes` reads it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any

from .._redact import redact, redact_values
from .._results import ErrorInfo, Result, Status
from .._targets import Target, TargetKind
from ._rows import StoreError, dumps, int32, storable, store_error

__all__ = ["StoreError", "StoredResult", "row_of", "store_error"]


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
        made = cls(data_text=None if data is None else dumps(data), **fields)
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
    """The `results` row of a result. Keys are scrubbed from every string value before the
    data is written as JSON (as stdout does: a key that is also a number in the data stays
    a number), and from every text; text no database takes as is (a lone UTF-16 surrogate,
    NUL, which PostgreSQL refuses) is stored escaped."""
    data = None if result.data is None else dumps(redact_values(result.data))
    return {
        "run_id": run_id,
        "target": storable(result.target.value),
        "kind": result.target.kind.value,
        "unicode": None if result.target.unicode is None else storable(result.target.unicode),
        "adapter": result.adapter,
        "status": result.status.value,
        "recorded_at": recorded_at,
        "elapsed_ms": int32(result.elapsed_ms),
        "waited_ms": int32(result.waited_ms),
        "data": data,
        "error_type": storable(result.error.type) if result.error else None,
        "error_message": storable(redact(result.error.message)) if result.error else None,
        "reason": storable(redact(result.reason)) if result.reason else None,
        "summary": storable(redact(result.summary)),
    }


