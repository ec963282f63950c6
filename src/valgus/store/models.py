"""The database schema as SQLAlchemy 2 ORM classes. Alembic migrations
(``valgus/store/migrations``) create the same tables; a test checks that the two agree.

Times are stored in UTC. Nothing here is personal: a person is known only by a pseudonymous code
chosen by the clinic.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Explicit constraint names, so that migrations can refer to them on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PAIN_CHECK = "BETWEEN 0 AND 10"

# Lengths of the columns that hold what people type, in characters. The text checker
# (``valgus.store.info``: ``clean_name``, ``clean_file_name``) refuses or trims to these same
# constants, so a value it accepts fits on every database (SQLite ignores VARCHAR lengths,
# PostgreSQL refuses a longer value). Notes and reasons are TEXT, limited by the checker only
# (``info.MAX_TEXT_CHARS``, ``signing.MAX_REASON_CHARS``). The migrations hold the same numbers.
MAX_CODE_CHARS = 64  # people.code
MAX_NAME_CHARS = 128  # reviewers, signers, whoever entered values or a policy; audit actor
MAX_FILE_NAME_CHARS = 255  # clips.original_name


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Person(Base):
    """Someone tested, known by a pseudonymous code (never a name); ``erased_at``: when their
    clips, poses and identifying fields were erased."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(MAX_CODE_CHARS), unique=True)
    sex: Mapped[str | None] = mapped_column(String(16))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # Set when the person was erased (``valgus.store.erase``): code replaced, files removed.
    erased_at: Mapped[datetime | None] = mapped_column(DateTime)

    sessions: Mapped[list[TestSession]] = relationship(back_populates="person")

    __table_args__ = (
        CheckConstraint("sex IN ('female', 'male', 'unspecified')", name="sex"),
    )


class TestSession(Base):
    """One visit: the clips filmed that day, the review and the clearance record."""

    __tablename__ = "test_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    session_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    person: Mapped[Person] = relationship(back_populates="sessions")
    clips: Mapped[list[Clip]] = relationship(back_populates="session", order_by="Clip.id")
    reviews: Mapped[list[Review]] = relationship(back_populates="session", order_by="Review.id")


class Clip(Base):
    """A video copied into the data directory. ``stored_path`` is relative to the data
    directory; files are named by their sha256 (hex), so a clip saved twice is stored once."""

    __tablename__ = "clips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("test_sessions.id"), index=True)
    original_name: Mapped[str] = mapped_column(String(MAX_FILE_NAME_CHARS))
    stored_path: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    session: Mapped[TestSession] = relationship(back_populates="clips")
    analyses: Mapped[list[Analysis]] = relationship(back_populates="clip", order_by="Analysis.id")


class Analysis(Base):
    """One analysis of a clip: the config used and the whole result (``AnalysisResult.to_dict``,
    schema ``valgus.analysis/1``). ``poses_path``: the pose landmarks (.npz, relative to the data
    directory), kept so reports can draw the skeleton and thresholds can be re-applied."""

    __tablename__ = "analyses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id"), index=True)
    schema: Mapped[str] = mapped_column(String(64))
    valgus_version: Mapped[str] = mapped_column(String(32))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    poses_path: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime)

    clip: Mapped[Clip] = relationship(back_populates="analyses")


class Review(Base):
    """A clinician's review of a session. Reviews are never edited: each save adds one, and the
    latest is the one in force, so who changed what and when stays on record."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("test_sessions.id"), index=True)
    reviewer: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)

    session: Mapped[TestSession] = relationship(back_populates="reviews")
    overrides: Mapped[list[RepOverride]] = relationship(
        back_populates="review", order_by="RepOverride.id"
    )


class RepOverride(Base):
    """A reviewer's band for one rep of one analysis (``rep_index`` 1-based), with the reason."""

    __tablename__ = "rep_overrides"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"), index=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id"))
    rep_index: Mapped[int] = mapped_column(Integer)
    band: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)

    review: Mapped[Review] = relationship(back_populates="overrides")

    __table_args__ = (
        UniqueConstraint("review_id", "analysis_id", "rep_index",
                         name="uq_rep_overrides_review_rep"),
        CheckConstraint("band IN ('fine', 'borderline', 'excessive', 'not_measurable')",
                        name="band"),
        CheckConstraint("length(reason) > 0", name="reason"),
    )


class PointCorrectionRow(Base):
    """A reviewer's correction of one point of one rep (``valgus.core.correction``): at frame
    ``frame_index`` (the rep's scored frame) the ``point`` (hip, knee or ankle) of the rep's
    ``leg`` moved from the original to the corrected position (pose image pixels); ``fppa_deg``
    is the FPPA measured again from the rep's points with every correction then in force,
    ``tool_fppa_deg`` the analysis's own value. Who, when (UTC) and why (required). Rows are
    never deleted by valgus except when the person is erased: an undo sets ``undone_by`` /
    ``undone_at`` / ``undo_reason`` (all or none) and the row stays on record."""

    __tablename__ = "point_corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id"), index=True)
    rep_index: Mapped[int] = mapped_column(Integer)
    leg: Mapped[str] = mapped_column(String(8))
    frame_index: Mapped[int] = mapped_column(Integer)
    point: Mapped[str] = mapped_column(String(8))
    original_x: Mapped[float] = mapped_column(Float)
    original_y: Mapped[float] = mapped_column(Float)
    corrected_x: Mapped[float] = mapped_column(Float)
    corrected_y: Mapped[float] = mapped_column(Float)
    fppa_deg: Mapped[float] = mapped_column(Float)
    tool_fppa_deg: Mapped[float] = mapped_column(Float)
    corrected_by: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    corrected_at: Mapped[datetime] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(Text)
    undone_by: Mapped[str | None] = mapped_column(String(MAX_NAME_CHARS))
    undone_at: Mapped[datetime | None] = mapped_column(DateTime)
    undo_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("point IN ('hip', 'knee', 'ankle')", name="point"),
        CheckConstraint("leg IN ('left', 'right')", name="leg"),
        CheckConstraint("length(reason) > 0", name="reason"),
        CheckConstraint(
            "(undone_by IS NULL AND undone_at IS NULL AND undo_reason IS NULL) OR "
            "(undone_by IS NOT NULL AND undone_at IS NOT NULL AND length(undo_reason) > 0)",
            name="undone",
        ),
    )


class ClearanceRecord(Base):
    """The return-to-running clearance record of a session: the entered values (pain 0-10,
    stair descent pain yes/no, easy run minutes and pain, strength per side) and, once signed,
    the decision as it stood at signing (``decision``: CLEARED / NOT YET, ``decision_detail``:
    criteria, reasons, squat result per leg and the policy used). A signed record is final."""

    __tablename__ = "clearance_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("test_sessions.id"), unique=True)
    squat_pain_left: Mapped[int | None] = mapped_column(Integer)
    squat_pain_right: Mapped[int | None] = mapped_column(Integer)
    stair_descent_pain: Mapped[bool | None] = mapped_column()
    run_minutes: Mapped[float | None] = mapped_column(Float)
    run_pain_during: Mapped[int | None] = mapped_column(Integer)
    run_pain_next_morning: Mapped[int | None] = mapped_column(Integer)
    strength_left: Mapped[float | None] = mapped_column(Float)
    strength_right: Mapped[float | None] = mapped_column(Float)
    strength_unit: Mapped[str] = mapped_column(String(16), default="")
    involved_side: Mapped[str | None] = mapped_column(String(8))
    updated_by: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    signed_by: Mapped[str | None] = mapped_column(String(MAX_NAME_CHARS))
    signed_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision: Mapped[str | None] = mapped_column(String(16))
    decision_detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        CheckConstraint(f"squat_pain_left {PAIN_CHECK}", name="squat_pain_left"),
        CheckConstraint(f"squat_pain_right {PAIN_CHECK}", name="squat_pain_right"),
        CheckConstraint(f"run_pain_during {PAIN_CHECK}", name="run_pain_during"),
        CheckConstraint(f"run_pain_next_morning {PAIN_CHECK}", name="run_pain_next_morning"),
        CheckConstraint("involved_side IN ('left', 'right', 'both')", name="involved_side"),
        CheckConstraint("decision IN ('CLEARED', 'NOT YET')", name="decision"),
        # Signed means signed by someone at some time, with the decision kept.
        CheckConstraint(
            "(signed_by IS NULL AND signed_at IS NULL AND decision IS NULL) OR "
            "(signed_by IS NOT NULL AND signed_at IS NOT NULL AND decision IS NOT NULL)",
            name="signature",
        ),
    )


class Setting(Base):
    """A clinic-wide setting, e.g. the clearance policy (``name`` "clearance_policy", ``value``
    its fields). Who changed it last and when is kept; the decisions signed under an earlier
    value keep that value in their own record."""

    __tablename__ = "settings"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_by: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Signature(Base):
    """A signed snapshot of a session, append-only (database triggers refuse UPDATE and
    DELETE), chained over all signatures in ``seq`` order.

    ``snapshot``: canonical JSON (``valgus.store.snapshot``) of everything the decision rests
    on: the analysis results, the reviews, the clearance values, the policy, the decision and the
    reps as banded, the schema and software version, the sha256 of each clip and pose file.
    ``snapshot_sha256`` is its hash; ``chain_sha256`` = sha256 of ``prev_sha256`` (the previous
    signature's ``chain_sha256``, 64 zeros for the first), ``seq`` and ``snapshot_sha256``.
    ``kind``: ``signature`` (the sign-off), ``amendment`` (a correction after it, with its
    ``reason``; the original stays) or ``legacy`` (a signature made before snapshots existed,
    sealed at the upgrade)."""

    __tablename__ = "signatures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("test_sessions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    signed_by: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    signed_at: Mapped[datetime] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    snapshot: Mapped[str] = mapped_column(Text)
    snapshot_sha256: Mapped[str] = mapped_column(String(64))
    prev_sha256: Mapped[str] = mapped_column(String(64))
    chain_sha256: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        CheckConstraint("kind IN ('signature', 'amendment', 'legacy')", name="kind"),
    )


class User(Base):
    """An account of the records: a ``username``, a ``role`` (clinician: review and sign, and
    what an assistant does; assistant: record people, sessions, clips and clearance values), an
    argon2 ``password_hash`` (never the password), ``disabled`` accounts cannot log in or act.
    ``failed_logins`` / ``locked_until``: the back-off after wrong passwords."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(default=False)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        CheckConstraint("role IN ('clinician', 'assistant')", name="role"),
    )


class AuditEntry(Base):
    """One line of the append-only audit log (database triggers refuse UPDATE and DELETE): who
    (``actor``, an account or the name given) did what (``action``: login, login_failed,
    view, person_added, clip_saved, review_saved, point_corrected, correction_undone,
    values_saved, signed, amended, policy_saved, report_exported, user_added, user_changed,
    files_quarantined) to which record (``subject``, e.g. ``session 12``), when, with
    ``detail`` (e.g. old and new values)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(MAX_NAME_CHARS))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
