"""A reviewer's point corrections at a rep's scored frame (issue 15 item 2).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

MAX_NAME_CHARS = 128  # models.MAX_NAME_CHARS at this revision


def upgrade() -> None:
    op.create_table(
        "point_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("analysis_id", sa.Integer(), nullable=False),
        sa.Column("rep_index", sa.Integer(), nullable=False),
        sa.Column("leg", sa.String(length=8), nullable=False),
        sa.Column("frame_index", sa.Integer(), nullable=False),
        sa.Column("point", sa.String(length=8), nullable=False),
        sa.Column("original_x", sa.Float(), nullable=False),
        sa.Column("original_y", sa.Float(), nullable=False),
        sa.Column("corrected_x", sa.Float(), nullable=False),
        sa.Column("corrected_y", sa.Float(), nullable=False),
        sa.Column("fppa_deg", sa.Float(), nullable=False),
        sa.Column("tool_fppa_deg", sa.Float(), nullable=False),
        sa.Column("corrected_by", sa.String(length=MAX_NAME_CHARS), nullable=False),
        sa.Column("corrected_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("undone_by", sa.String(length=MAX_NAME_CHARS), nullable=True),
        sa.Column("undone_at", sa.DateTime(), nullable=True),
        sa.Column("undo_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("point IN ('hip', 'knee', 'ankle')",
                           name=op.f("ck_point_corrections_point")),
        sa.CheckConstraint("leg IN ('left', 'right')", name=op.f("ck_point_corrections_leg")),
        sa.CheckConstraint("length(reason) > 0", name=op.f("ck_point_corrections_reason")),
        sa.CheckConstraint(
            "(undone_by IS NULL AND undone_at IS NULL AND undo_reason IS NULL) OR "
            "(undone_by IS NOT NULL AND undone_at IS NOT NULL AND length(undo_reason) > 0)",
            name=op.f("ck_point_corrections_undone"),
        ),
        sa.ForeignKeyConstraint(["analysis_id"], ["analyses.id"],
                                name=op.f("fk_point_corrections_analysis_id_analyses")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_point_corrections")),
    )
    with op.batch_alter_table("point_corrections") as batch:
        batch.create_index(batch.f("ix_point_corrections_analysis_id"), ["analysis_id"],
                           unique=False)


def downgrade() -> None:
    with op.batch_alter_table("point_corrections") as batch:
        batch.drop_index(batch.f("ix_point_corrections_analysis_id"))
    op.drop_table("point_corrections")
