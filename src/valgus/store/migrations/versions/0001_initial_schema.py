"""Initial schema: people, test sessions, clips, analyses, reviews with per-rep overrides,
clearance records.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("sex", sa.String(length=16), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("sex IN ('female', 'male', 'unspecified')", name=op.f("ck_people_sex")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("code", name=op.f("uq_people_code")),
    )
    op.create_table(
        "test_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("session_date", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_test_sessions_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_test_sessions")),
    )
    with op.batch_alter_table("test_sessions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_test_sessions_person_id"), ["person_id"], unique=False)

    op.create_table(
        "clearance_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("squat_pain_left", sa.Integer(), nullable=True),
        sa.Column("squat_pain_right", sa.Integer(), nullable=True),
        sa.Column("stair_descent_pain", sa.Boolean(), nullable=True),
        sa.Column("run_minutes", sa.Float(), nullable=True),
        sa.Column("run_pain_during", sa.Integer(), nullable=True),
        sa.Column("run_pain_next_morning", sa.Integer(), nullable=True),
        sa.Column("strength_left", sa.Float(), nullable=True),
        sa.Column("strength_right", sa.Float(), nullable=True),
        sa.Column("strength_unit", sa.String(length=16), nullable=False),
        sa.Column("involved_side", sa.String(length=8), nullable=True),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("signed_by", sa.String(length=128), nullable=True),
        sa.Column("signed_at", sa.DateTime(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decision_detail", sa.JSON(), nullable=True),
        sa.CheckConstraint(
            "decision IN ('CLEARED', 'NOT YET')", name=op.f("ck_clearance_records_decision")
        ),
        sa.CheckConstraint(
            "involved_side IN ('left', 'right', 'both')",
            name=op.f("ck_clearance_records_involved_side"),
        ),
        sa.CheckConstraint(
            "(signed_by IS NULL AND signed_at IS NULL AND decision IS NULL) OR "
            "(signed_by IS NOT NULL AND signed_at IS NOT NULL AND decision IS NOT NULL)",
            name=op.f("ck_clearance_records_signature"),
        ),
        sa.CheckConstraint(
            "run_pain_during BETWEEN 0 AND 10", name=op.f("ck_clearance_records_run_pain_during")
        ),
        sa.CheckConstraint(
            "run_pain_next_morning BETWEEN 0 AND 10",
            name=op.f("ck_clearance_records_run_pain_next_morning"),
        ),
        sa.CheckConstraint(
            "squat_pain_left BETWEEN 0 AND 10", name=op.f("ck_clearance_records_squat_pain_left")
        ),
        sa.CheckConstraint(
            "squat_pain_right BETWEEN 0 AND 10", name=op.f("ck_clearance_records_squat_pain_right")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["test_sessions.id"],
            name=op.f("fk_clearance_records_session_id_test_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clearance_records")),
        sa.UniqueConstraint("session_id", name=op.f("uq_clearance_records_session_id")),
    )
    op.create_table(
        "clips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("stored_path", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["test_sessions.id"], name=op.f("fk_clips_session_id_test_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clips")),
    )
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_clips_session_id"), ["session_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_clips_sha256"), ["sha256"], unique=False)

    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=128), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"], ["test_sessions.id"], name=op.f("fk_reviews_session_id_test_sessions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviews_session_id"), ["session_id"], unique=False)

    op.create_table(
        "analyses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clip_id", sa.Integer(), nullable=False),
        sa.Column("schema", sa.String(length=64), nullable=False),
        sa.Column("valgus_version", sa.String(length=32), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("poses_path", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["clip_id"], ["clips.id"], name=op.f("fk_analyses_clip_id_clips")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analyses")),
    )
    with op.batch_alter_table("analyses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_analyses_clip_id"), ["clip_id"], unique=False)

    op.create_table(
        "rep_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("review_id", sa.Integer(), nullable=False),
        sa.Column("analysis_id", sa.Integer(), nullable=False),
        sa.Column("rep_index", sa.Integer(), nullable=False),
        sa.Column("band", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "band IN ('fine', 'borderline', 'excessive', 'not_measurable')",
            name=op.f("ck_rep_overrides_band"),
        ),
        sa.CheckConstraint("length(reason) > 0", name=op.f("ck_rep_overrides_reason")),
        sa.ForeignKeyConstraint(
            ["analysis_id"], ["analyses.id"], name=op.f("fk_rep_overrides_analysis_id_analyses")
        ),
        sa.ForeignKeyConstraint(
            ["review_id"], ["reviews.id"], name=op.f("fk_rep_overrides_review_id_reviews")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rep_overrides")),
        sa.UniqueConstraint(
            "review_id", "analysis_id", "rep_index", name="uq_rep_overrides_review_rep"
        ),
    )
    with op.batch_alter_table("rep_overrides", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rep_overrides_review_id"), ["review_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rep_overrides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rep_overrides_review_id"))

    op.drop_table("rep_overrides")
    with op.batch_alter_table("analyses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_analyses_clip_id"))

    op.drop_table("analyses")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_session_id"))

    op.drop_table("reviews")
    with op.batch_alter_table("clips", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clips_sha256"))
        batch_op.drop_index(batch_op.f("ix_clips_session_id"))

    op.drop_table("clips")
    op.drop_table("clearance_records")
    with op.batch_alter_table("test_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_test_sessions_person_id"))

    op.drop_table("test_sessions")
    op.drop_table("people")
