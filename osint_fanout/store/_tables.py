"""The store's tables, as of the newest migration (migrations/versions/ must match:
tests/test_store.py compares them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

__all__ = [
    "ID",
    "UtcDateTime",
    "found_assets",
    "found_relations",
    "metadata",
    "quota_usage",
    "result_origins",
    "results",
    "runs",
]


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend. SQLAlchemy's own
    DateTime drops the zone on SQLite (it has no such type) and returns naive values; this
    stores UTC there and gives the zone back (the pattern SQLAlchemy's docs describe)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the store takes aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # a value written by hand, or by a future version
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


ID = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit keys; on SQLite, INTEGER PRIMARY KEY is the rowid and counts by itself."""

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
    Column("tool_version", String(64), nullable=False),
    Column("host", String(255), nullable=False),
)

results = Table(
    "results",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("run_id", ID, ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("target", Text(), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("unicode", Text(), nullable=True),
    Column("adapter", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("elapsed_ms", Integer(), nullable=False),
    Column("waited_ms", Integer(), nullable=False),
    Column("data", Text(), nullable=True),
    Column("error_type", String(64), nullable=True),
    Column("error_message", Text(), nullable=True),
    Column("reason", Text(), nullable=True),
    Column("summary", Text(), nullable=False),
    Index("ix_results_target_adapter_recorded", "target", "adapter", "recorded_at"),
    Index("ix_results_recorded", "recorded_at"),
    Index("ix_results_run", "run_id"),
)

quota_usage = Table(
    "quota_usage",
    metadata,
    Column("scope", String(255), primary_key=True),
    Column("period_start", UtcDateTime(), primary_key=True),
    Column("used", Integer(), nullable=False),
)
"""Requests counted against a quota: by scope (adapter/upstream/key fingerprint) and period."""


# -- assets (migration 0004_assets): what each result found, and how a pivot came to it ----

result_origins = Table(
    "result_origins",
    metadata,
    Column("result_id", ID, ForeignKey("results.id", ondelete="CASCADE"), primary_key=True),
    Column("depth", Integer(), nullable=False),
    Column("seed", Text(), nullable=False),
    Column("parent", Text(), nullable=False),
    Column("adapter", String(64), nullable=False),
    Column("relation", String(32), nullable=False),
    Index("ix_result_origins_seed", "seed"),
)
"""A pivoted result's depth and found_by (a seed's results have no row: depth 0, found_by null)."""

found_assets = Table(
    "found_assets",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("result_id", ID, ForeignKey("results.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(32), nullable=False),
    Column("value", Text(), nullable=False),
    Column("attrs", Text(), nullable=True),
    Index("ix_found_assets_result", "result_id"),
    Index("ix_found_assets_type_value", "type", "value"),
)
"""One asset one result found (its provenance: the result's target, adapter and time)."""

found_relations = Table(
    "found_relations",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("result_id", ID, ForeignKey("results.id", ondelete="CASCADE"), nullable=False),
    Column("source_type", String(32), nullable=False),
    Column("source_value", Text(), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("target_type", String(32), nullable=False),
    Column("target_value", Text(), nullable=False),
    Index("ix_found_relations_result", "result_id"),
)
"""One relation one result found."""
