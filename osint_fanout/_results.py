"""The result record: one immutable value per (target, adapter), fed to every sink."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ._targets import Target

__all__ = [
    "AdapterResult",
    "ErrorInfo",
    "FoundBy",
    "PivotSummary",
    "Report",
    "Result",
    "RunSummary",
    "Status",
    "SummaryLine",
]


class Status(StrEnum):
    OK = "ok"
    """The upstream answered with data."""
    EMPTY = "empty"
    """The upstream answered and knows nothing (NXDOMAIN, 404)."""
    SKIPPED = "skipped"
    """Not run; `reason` says why (no API key, kind not supported)."""
    ERROR = "error"
    """Failed; `error.type` says how."""
    TIMEOUT = "timeout"
    """The adapter's own timeout passed."""
    CANCELLED = "cancelled"
    """Stopped by the overall deadline or an interrupt."""


FAILED = frozenset({Status.ERROR, Status.TIMEOUT, Status.CANCELLED})


class ErrorInfo(BaseModel):
    model_config = ConfigDict(frozen=True)

    type: str = Field(description="network, http, auth, rate_limited, parse, too_large, crash, ...")
    message: str


class AdapterResult(BaseModel):
    """What one adapter found; `Result` adds the target (the `ndjson` line)."""

    model_config = ConfigDict(frozen=True)

    adapter: str
    status: Status
    elapsed_ms: int = Field(ge=0)
    waited_ms: int = Field(default=0, ge=0, description="Time spent waiting for Retry-After and retry backoff.")
    queued_ms: int = Field(
        default=0, ge=0, description="Time spent queued for a running place or the upstream's own rate limit."
    )
    data: dict[str, Any] | None = None
    error: ErrorInfo | None = None
    reason: str | None = Field(default=None, description="Why the adapter was skipped.")
    summary: str = Field(default="", description="One line for humans; the table shows it.")
    cached_at: datetime | None = Field(
        default=None,
        description="When the stored result reused instead of asking the upstream (--max-age) was recorded; "
        "null: asked in this run.",
    )

    @property
    def failed(self) -> bool:
        return self.status in FAILED


class FoundBy(BaseModel):
    """How a pivot came to a target (`search --depth N`): null for a seed."""

    model_config = ConfigDict(frozen=True)

    seed: str = Field(description="The seed target the pivot started from.")
    target: str = Field(description="The target whose result named this one (its parent).")
    adapter: str = Field(description="The adapter whose result named it.")
    relation: str = Field(description="How it relates to what it was found with (an osint_fanout.assets relation).")


class Result(AdapterResult):
    target: Target
    depth: int = Field(default=0, ge=0, description="Pivot depth: 0 for a seed (every target without --depth).")
    found_by: FoundBy | None = Field(default=None, description="What led the pivot here; null for a seed.")


class Report(BaseModel):
    """Everything about one target: the `json` output format."""

    model_config = ConfigDict(frozen=True)

    target: Target
    started_at: datetime
    finished_at: datetime
    deadline_s: float
    depth: int = Field(default=0, ge=0, description="Pivot depth: 0 for a seed (every target without --depth).")
    found_by: FoundBy | None = Field(default=None, description="What led the pivot here; null for a seed.")
    results: list[AdapterResult]


class PivotSummary(BaseModel):
    """What a pivoted run (search --depth N) followed, and what it found but did not follow."""

    depth: int = Field(description="The --depth of the run.")
    targets_by_depth: dict[str, int] = Field(description="Targets of the run by depth (0: the seeds).")
    assets_by_type: dict[str, int] = Field(description="Distinct assets found, by type.")
    followed: int = Field(description="Targets added by the pivot (depth 1 and more).")
    not_followed: dict[str, int] = Field(
        description="Names and addresses found but not followed, each counted once, by reason: "
        "out-of-scope, excluded, depth, wildcard, max-targets, time."
    )
    wildcards: dict[str, int] = Field(description="Wildcard records found ('*.parent'), with the names they made up.")
    wildcard_detection: bool = Field(description="False when no adapter of the run resolves names (no dns).")


class RunSummary(BaseModel):
    """The end-of-run summary (stderr, and the last ndjson line with --summary)."""

    targets: int = Field(description="Targets finished.")
    targets_read: int = Field(description="Targets read from the command line and inputs.")
    invalid_lines: int = Field(description="Input lines that were no target, skipped.")
    resumed: int = Field(description="Targets skipped by --resume, already complete.")
    other_shards: int = Field(default=0, description="Targets left to the other shards (--shard K/N).")
    not_started: int | None = Field(
        description="Targets in the inputs never taken up (the run was stopped by --max-time or a signal); "
        "null when an input is a pipe, whose length is unknown."
    )
    results: dict[str, int] = Field(description="Results by status.")
    by_adapter: dict[str, dict[str, int]] = Field(description="Results by adapter, then status.")
    errors: dict[str, int] = Field(description="Errors by type.")
    waited_s: dict[str, float] = Field(description="Time waited for Retry-After and retry backoff, by adapter.")
    queued_s: dict[str, float] = Field(
        default_factory=dict,
        description="Time queued for running places and the upstreams' own rate limits, by adapter.",
    )
    cached: int = Field(
        description="Results reused from the store (--max-age, max_age) instead of asking the upstream; "
        "also counted in results and by_adapter under their status."
    )
    cached_by_adapter: dict[str, int] = Field(description="Results reused from the store, by adapter.")
    pivot: PivotSummary | None = Field(default=None, description="search --depth N only: what the pivot did.")
    wall_s: float


class SummaryLine(BaseModel):
    """The last ndjson line of a run with --summary."""

    summary: RunSummary
