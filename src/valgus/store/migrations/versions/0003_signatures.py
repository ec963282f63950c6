"""Tamper-evident signatures: an append-only, hash-chained table of signed session snapshots.

Sessions signed before this revision get a ``legacy`` snapshot of what their clearance record
kept (the decision, its detail, who signed and when), sealed into the chain at the upgrade; the
records themselves are kept as they are.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
# Append-only, enforced by the database itself (defence in depth: the hash chain is what makes a
# change visible; these make an accidental one impossible).
SQLITE_TRIGGERS = [
    "CREATE TRIGGER signatures_no_update BEFORE UPDATE ON signatures "
    "BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END",
    "CREATE TRIGGER signatures_no_delete BEFORE DELETE ON signatures "
    "BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END",
]
POSTGRESQL_TRIGGERS = [
    "CREATE FUNCTION signatures_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'signatures are append-only'; END $$",
    "CREATE TRIGGER signatures_no_change BEFORE UPDATE OR DELETE ON signatures "
    "FOR EACH ROW EXECUTE FUNCTION signatures_append_only()",
]


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def upgrade() -> None:
    signatures = op.create_table(
        "signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("signed_by", sa.String(length=128), nullable=False),
        sa.Column("signed_at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("snapshot", sa.Text(), nullable=False),
        sa.Column("snapshot_sha256", sa.String(length=64), nullable=False),
        sa.Column("prev_sha256", sa.String(length=64), nullable=False),
        sa.Column("chain_sha256", sa.String(length=64), nullable=False),
        sa.CheckConstraint("kind IN ('signature', 'amendment', 'legacy')",
                           name=op.f("ck_signatures_kind")),
        sa.ForeignKeyConstraint(["session_id"], ["test_sessions.id"],
                                name=op.f("fk_signatures_session_id_test_sessions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signatures")),
        sa.UniqueConstraint("seq", name=op.f("uq_signatures_seq")),
    )
    op.create_index(op.f("ix_signatures_session_id"), "signatures", ["session_id"])
    conn = op.get_bind()
    signed = conn.execute(sa.text(
        "SELECT session_id, signed_by, signed_at, decision, decision_detail "
        "FROM clearance_records WHERE signed_at IS NOT NULL ORDER BY signed_at, id"
    )).fetchall()
    prev = GENESIS
    for seq, (session_id, by, at, decision, detail) in enumerate(signed, 1):
        when = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
        if isinstance(detail, str):
            detail = json.loads(detail)
        snapshot = _canonical({
            "format": "valgus.signed/1", "kind": "legacy", "session_id": session_id,
            "signed_by": by, "signed_at": when.isoformat(), "decision": decision,
            "decision_detail": detail,
        })
        digest = hashlib.sha256(snapshot.encode("utf-8")).hexdigest()
        chain = hashlib.sha256(f"{prev}\n{seq}\n{digest}".encode()).hexdigest()
        op.bulk_insert(signatures, [{
            "seq": seq, "session_id": session_id, "kind": "legacy", "signed_by": by,
            "signed_at": when, "reason": "signed before valgus kept signed snapshots",
            "snapshot": snapshot, "snapshot_sha256": digest, "prev_sha256": prev,
            "chain_sha256": chain,
        }])
        prev = chain
    triggers = {"sqlite": SQLITE_TRIGGERS, "postgresql": POSTGRESQL_TRIGGERS}
    for statement in triggers.get(conn.dialect.name, []):
        op.execute(statement)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS signatures_no_change ON signatures")
        op.execute("DROP FUNCTION IF EXISTS signatures_append_only()")
    op.drop_index(op.f("ix_signatures_session_id"), table_name="signatures")
    op.drop_table("signatures")
