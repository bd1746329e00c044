"""Assets and relations found by each result, and how a pivot came to a result.

Revision ID: 0004_assets
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from osint_fanout.store._tables import ID

revision = "0004_assets"
down_revision = "0002"
branch_labels = None
depends_on = None


def _result_id(primary_key: bool = False) -> sa.Column[int]:
    foreign = sa.ForeignKey("results.id", ondelete="CASCADE")
    return sa.Column("result_id", ID, foreign, primary_key=primary_key, nullable=False)


def upgrade() -> None:
    op.create_table(
        "result_origins",
        _result_id(primary_key=True),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Text(), nullable=False),
        sa.Column("parent", sa.Text(), nullable=False),
        sa.Column("adapter", sa.String(64), nullable=False),
        sa.Column("relation", sa.String(32), nullable=False),
    )
    op.create_index("ix_result_origins_seed", "result_origins", ["seed"])
    op.create_table(
        "found_assets",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        _result_id(),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("attrs", sa.Text(), nullable=True),
    )
    op.create_index("ix_found_assets_result", "found_assets", ["result_id"])
    op.create_index("ix_found_assets_type_value", "found_assets", ["type", "value"])
    op.create_table(
        "found_relations",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        _result_id(),
        sa.Column("source_type", sa.String(32), nullable=False),
        sa.Column("source_value", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("target_type", sa.String(32), nullable=False),
        sa.Column("target_value", sa.Text(), nullable=False),
    )
    op.create_index("ix_found_relations_result", "found_relations", ["result_id"])


def downgrade() -> None:
    op.drop_table("found_relations")
    op.drop_table("found_assets")
    op.drop_table("result_origins")
