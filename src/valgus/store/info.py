"""What the records hand back: plain frozen dataclasses (never ORM objects), so results can be
kept across Streamlit reruns and outlive the database session that read them; the conversions
from rows to them; and the small value rules shared by every room of the store (times, names).
"""

from __future__ import annotations

import dataclasses
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, cast, get_args

from valgus.config import Sex
from valgus.core.clearance import (
    Band,
    ClearanceDecision,
    ClearanceInputs,
    ClearancePolicy,
    Override,
    ProgressRow,
    Side,
    SquatLegResult,
    SquatRep,
)
from valgus.core.result import AnalysisResult
from valgus.store.db import Database
from valgus.store.errors import RecordError
from valgus.store.models import (
    MAX_CODE_CHARS as MAX_CODE_CHARS,  # re-exported: the checker's limits are the columns'
)
from valgus.store.models import (
    MAX_FILE_NAME_CHARS,
    MAX_NAME_CHARS,
    Analysis,
    ClearanceRecord,
    Clip,
    Person,
    RepOverride,
    Review,
)

SEXES: tuple[Sex, ...] = get_args(Sex)
MAX_TEXT_CHARS = 10_000  # notes (TEXT columns: the checker's limit only)


# --------------------------------------------------------------------------- returned data


@dataclass(frozen=True)
class PersonInfo:
    """A person known by a pseudonymous ``code``; ``created_at`` in UTC."""

    id: int
    code: str
    sex: Sex | None
    notes: str
    created_at: datetime


@dataclass(frozen=True)
class SessionInfo:
    """A test session (visit). ``signed``: its clearance record is final."""

    id: int
    person_code: str
    session_date: date
    created_at: datetime
    n_clips: int
    signed: bool


@dataclass(frozen=True)
class ClipInfo:
    """A stored clip: ``path`` is absolute (inside the data directory), ``sha256`` hex."""

    id: int
    session_id: int
    original_name: str
    path: Path
    sha256: str
    size_bytes: int
    created_at: datetime


@dataclass(frozen=True)
class AnalysisInfo:
    """A stored analysis; ``result`` is the typed result (``AnalysisResult.from_dict`` of the
    stored JSON, schema ``valgus.analysis/2`` or ``/1``), ``poses_path`` the pose landmarks
    (.npz) if kept."""

    id: int
    clip: ClipInfo
    schema: str
    valgus_version: str
    config: dict[str, Any]
    result: AnalysisResult
    poses_path: Path | None
    created_at: datetime


@dataclass(frozen=True)
class ReviewInfo:
    """A review: notes and the per-rep band overrides it set (the newest review is in force)."""

    id: int
    session_id: int
    reviewer: str
    notes: str
    created_at: datetime
    overrides: tuple[Override, ...]


@dataclass(frozen=True)
class ClearanceInfo:
    """The entered clearance values, who entered them last and when, and the signature.
    ``signed_decision`` / ``signed_detail``: the decision as it stood at signing."""

    inputs: ClearanceInputs
    updated_by: str
    updated_at: datetime
    signed_by: str | None
    signed_at: datetime | None
    signed_decision: str | None
    signed_detail: dict[str, Any] | None

    @property
    def signed(self) -> bool:
        return self.signed_at is not None


@dataclass(frozen=True)
class SignatureInfo:
    """The signed snapshot a signed session is shown from, and whether it still holds.

    ``kind``: signature, amendment (a correction after signing; ``reason`` says why, the
    original stays in the chain) or legacy (signed before snapshots were kept). ``problems``:
    what ``valgus records verify`` finds wrong for this session (a changed analysis, review,
    value or file, a broken hash); empty when the record is intact. ``amendments``: how many
    corrections followed the first signature."""

    seq: int
    kind: str
    signed_by: str
    signed_at: datetime
    reason: str
    snapshot_sha256: str
    chain_sha256: str
    amendments: int
    problems: tuple[str, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class SessionSummary:
    """Everything about one session that a review page or report shows.

    ``analyses``: the current analysis of each clip (the newest). ``reps``: all their reps with
    the latest review's overrides applied; ``squat``: the squat verdict per leg after review;
    ``decision``: the four criteria combined under ``policy`` (a proposal until signed;
    ``clearance.signed`` says whether it is final). A signed session is shown from its signed
    snapshot (``signature``): its analyses, reps, squat result, decision and policy as they were
    signed, never recomputed; ``signature.problems`` lists what no longer matches.
    """

    session: SessionInfo
    person: PersonInfo
    analyses: tuple[AnalysisInfo, ...]
    review: ReviewInfo | None
    reps: tuple[SquatRep, ...]
    squat: Mapping[Side, SquatLegResult]
    clearance: ClearanceInfo | None
    decision: ClearanceDecision
    policy: ClearancePolicy
    signature: SignatureInfo | None = None

    @property
    def final(self) -> bool:
        return self.signature is not None or (
            self.clearance is not None and self.clearance.signed
        )


@dataclass(frozen=True)
class PolicySetting:
    """The clinic's stored clearance policy, who set it and when (None: never set, the
    defaults apply)."""

    policy: ClearancePolicy
    updated_by: str | None
    updated_at: datetime | None


@dataclass(frozen=True)
class History:
    """A person's sessions in date order with FPPA per leg and its changes; ``sdc_deg`` is the
    smallest detectable change used to call a change real; ``signed_decisions``: session id ->
    the decision it was signed with (None: not signed)."""

    person: PersonInfo
    rows: tuple[ProgressRow, ...]
    sdc_deg: float
    signed_decisions: Mapping[int, str | None]


# --------------------------------------------------------------------------- values


def now() -> datetime:
    """Current UTC time, stored naive (SQLite keeps no zone); read back as UTC (``utc``)."""
    return datetime.now(UTC).replace(tzinfo=None)


def utc(value: datetime) -> datetime:
    """A stored (naive, UTC) time as an aware UTC time."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _checked(value: str, what: str, limit: int, keep: str = "") -> str:
    """``value`` in NFC; refused if it holds a control or format character other than those in
    ``keep`` (NUL, terminal escapes, zero-width and bidi marks that make two texts look alike)
    or is longer than ``limit`` characters. Enforced here, the same on every database."""
    text = unicodedata.normalize("NFC", value)
    bad = next((c for c in text if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co")
                and c not in keep), None)
    if bad is not None:
        raise RecordError(f"{what} holds an invisible or control character "
                          f"(U+{ord(bad):04X}); type it again")
    if len(text) > limit:
        raise RecordError(f"{what} is longer than {limit} characters")
    return text


def clean_name(value: str, what: str, limit: int = MAX_NAME_CHARS) -> str:
    """``value`` in NFC with its whitespace collapsed to single spaces.

    Raises:
        RecordError: it is empty, holds a control or format character, or is longer than
            ``limit`` characters (``what`` names it).
    """
    text = " ".join(_checked(value, what, 4 * limit, keep=" \t").split())
    if not text:
        raise RecordError(f"{what} must not be empty")
    return _checked(text, what, limit)


def clean_text(value: str, what: str, limit: int = MAX_TEXT_CHARS) -> str:
    """Free text (notes, reasons) in NFC, stripped; line breaks and tabs allowed.

    Raises:
        RecordError: a control or format character, or longer than ``limit`` characters.
    """
    return _checked(value.replace("\r\n", "\n"), what, limit, keep="\n\t").strip()


def clean_file_name(value: str, limit: int = MAX_FILE_NAME_CHARS) -> str:
    """A clip's own file name as recorded: NFC, control and format characters left out, at most
    ``limit`` characters (a name comes from the user's file system; it is never refused)."""
    text = unicodedata.normalize("NFC", value)
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co"))
    return (text.strip() or "clip")[:limit]


# --------------------------------------------------------------------------- rows to data


def person_info(p: Person) -> PersonInfo:
    # The column's CHECK constraint keeps sex to the values of ``Sex``.
    return PersonInfo(p.id, p.code, cast("Sex | None", p.sex), p.notes, utc(p.created_at))


def clip_info(db: Database, c: Clip) -> ClipInfo:
    return ClipInfo(c.id, c.session_id, c.original_name, db.path(c.stored_path),
                    c.sha256, c.size_bytes, utc(c.created_at))


def analysis_info(db: Database, a: Analysis) -> AnalysisInfo:
    return AnalysisInfo(
        id=a.id,
        clip=clip_info(db, a.clip),
        schema=a.schema,
        valgus_version=a.valgus_version,
        config=a.config,
        result=AnalysisResult.from_dict(a.result),
        poses_path=db.path(a.poses_path) if a.poses_path else None,
        created_at=utc(a.created_at),
    )


def override(o: RepOverride) -> Override:
    """A stored override as the clearance rules take it."""
    # The column's CHECK constraint keeps band to the values of ``Band``.
    return Override(o.analysis_id, o.rep_index, cast(Band, o.band), o.reason)


def review_info(r: Review) -> ReviewInfo:
    return ReviewInfo(r.id, r.session_id, r.reviewer, r.notes, utc(r.created_at),
                      tuple(override(o) for o in r.overrides))


def clearance_info(row: ClearanceRecord) -> ClearanceInfo:
    inputs = ClearanceInputs(**{
        f.name: getattr(row, f.name) for f in dataclasses.fields(ClearanceInputs)
    })
    return ClearanceInfo(
        inputs=inputs,
        updated_by=row.updated_by,
        updated_at=utc(row.updated_at),
        signed_by=row.signed_by,
        signed_at=utc(row.signed_at) if row.signed_at else None,
        signed_decision=row.decision,
        signed_detail=row.decision_detail,
    )
