"""The records service: what the app's review page and the CLI call.

Every method is one unit of work with its own database session and returns plain frozen
dataclasses (never ORM objects), so results can be kept across Streamlit reruns and two browser
sessions never share state. Open one ``Records`` per process (it is thread-safe) with
``Records.open(data_dir=None, url=None)``; see ``valgus.store.db`` for where data goes.

    records = Records.open()
    person = records.ensure_person("RUN-017", sex="female")
    visit = records.create_session(person.code, date(2025, 3, 4))
    analysis = records.save_analysis(visit.id, Path("left.mp4"), result, series)
    records.save_review(visit.id, "Dr Vega", "good depth", [Override(analysis.id, 3, "fine",
                        "landmark glitch at the bottom; visually aligned")])
    records.save_clearance(visit.id, ClearanceInputs(squat_pain_left=0, ...), "Dr Vega")
    summary = records.session_summary(visit.id)     # squat per leg, decision and reasons
    records.sign_clearance(visit.id, "Dr Vega")     # final from now on
    history = records.history(person.code)          # FPPA per leg over sessions, SDC

Errors are ``ValgusError`` subclasses with one-line messages: ``NotFoundError`` (exit 6),
``RecordError`` (7: duplicate code, signed record, bad value), ``StorageError`` (8).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from valgus.core.clearance import (
    BANDS,
    SIDES,
    ClearanceDecision,
    ClearanceInputs,
    ClearancePolicy,
    Override,
    ProgressRow,
    SessionFppa,
    Side,
    SquatLegResult,
    SquatRep,
    decide,
    progress,
    squat_results,
)
from valgus.store.db import CLIPS_DIR, POSES_DIR, Database, StagedFile, finish_stage
from valgus.store.errors import NotFoundError, RecordError
from valgus.store.models import (
    Analysis,
    ClearanceRecord,
    Clip,
    Person,
    RepOverride,
    Review,
    Setting,
    TestSession,
)

if TYPE_CHECKING:
    from valgus.core.pose import PoseSeries
    from valgus.core.result import AnalysisResult

SEXES = ("female", "male", "unspecified")
MAX_NAME_CHARS = 128
MAX_CODE_CHARS = 64


# --------------------------------------------------------------------------- returned data


@dataclass(frozen=True)
class PersonInfo:
    id: int
    code: str
    sex: str | None
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
    """A stored analysis; ``result`` is ``AnalysisResult.to_dict()`` (schema
    ``valgus.analysis/1``), ``poses_path`` the pose landmarks (.npz) if kept."""

    id: int
    clip: ClipInfo
    schema: str
    valgus_version: str
    config: dict[str, Any]
    result: dict[str, Any]
    poses_path: Path | None
    created_at: datetime


@dataclass(frozen=True)
class ReviewInfo:
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
class SessionSummary:
    """Everything about one session that a review page or report shows.

    ``analyses``: the current analysis of each clip (the newest). ``reps``: all their reps with
    the latest review's overrides applied; ``squat``: the squat verdict per leg after review;
    ``decision``: the four criteria combined under ``policy`` (a proposal until signed;
    ``clearance.signed`` says whether it is final).
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

    @property
    def final(self) -> bool:
        return self.clearance is not None and self.clearance.signed


@dataclass(frozen=True)
class PolicySetting:
    """The clinic's stored clearance policy, who set it and when (None: never set, the
    defaults apply)."""

    policy: ClearancePolicy
    updated_by: str | None
    updated_at: datetime | None


# The clinic's choices kept as the stored policy; required reps and the smallest detectable
# change come from the analysis configuration.
POLICY_SETTING = "clearance_policy"
POLICY_FIELDS = ("max_pain_score", "min_lsi_pct", "min_run_minutes")


@dataclass(frozen=True)
class History:
    """A person's sessions in date order with FPPA per leg and its changes; ``sdc_deg`` is the
    smallest detectable change used to call a change real."""

    person: PersonInfo
    rows: tuple[ProgressRow, ...]
    sdc_deg: float
    signed_decisions: Mapping[int, str | None]


# --------------------------------------------------------------------------- helpers


def _now() -> datetime:
    """Current UTC time, stored naive (SQLite keeps no zone); read back as UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _name(value: str, what: str, limit: int = MAX_NAME_CHARS) -> str:
    text = " ".join(value.split())
    if not text:
        raise RecordError(f"{what} must not be empty")
    if len(text) > limit:
        raise RecordError(f"{what} is longer than {limit} characters")
    return text


def _person_info(p: Person) -> PersonInfo:
    return PersonInfo(p.id, p.code, p.sex, p.notes, _utc(p.created_at))


class Records:
    """The clinician records API (see the module docstring). ``policy``: the clearance choices
    (pain counted as none, LSI needed) for this object's decisions; None = the clinic's stored
    policy (``save_policy``), else the defaults. It is stored with each signed decision."""

    def __init__(self, db: Database, policy: ClearancePolicy | None = None) -> None:
        self.db = db
        self.policy = policy or self.policy_setting().policy

    @classmethod
    def open(
        cls,
        data_dir: Path | str | None = None,
        url: str | None = None,
        policy: ClearancePolicy | None = None,
    ) -> Records:
        """Open the data directory and database (migrated to head). ``data_dir`` defaults to
        ``VALGUS_DATA_DIR`` or ``~/.local/share/valgus``; ``url`` to ``VALGUS_DATABASE_URL`` or
        SQLite in the data directory."""
        return cls(Database.open(data_dir, url), policy)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Records:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ clinic policy

    def policy_setting(self) -> PolicySetting:
        """The clinic's stored clearance policy (the defaults if none was ever saved)."""
        with self.db.read() as s:
            row = s.get(Setting, POLICY_SETTING)
            if row is None:
                return PolicySetting(ClearancePolicy(), None, None)
            values = {k: row.value[k] for k in POLICY_FIELDS if k in row.value}
            try:
                policy = ClearancePolicy(**values)
            except (TypeError, ValueError) as err:
                raise RecordError(f"the stored clearance policy is not valid ({err}); save "
                                  "the policy again") from err
            return PolicySetting(policy, row.updated_by, _utc(row.updated_at))

    def save_policy(self, policy: ClearancePolicy, updated_by: str) -> PolicySetting:
        """Store ``policy`` as the clinic's clearance policy; this object uses it from now on.
        Sessions signed earlier keep the policy they were signed under."""
        updated_by = _name(updated_by, "name of who sets the policy")
        value = {k: getattr(policy, k) for k in POLICY_FIELDS}
        with self.db.write() as s:
            row = s.scalar(select(Setting).where(Setting.name == POLICY_SETTING)
                           .with_for_update())
            if row is None:
                row = Setting(name=POLICY_SETTING)
                s.add(row)
            row.value, row.updated_by, row.updated_at = value, updated_by, _now()
            try:
                s.flush()
            except IntegrityError as err:  # saved by another writer at the same moment
                raise RecordError("the policy was being saved by someone else at the same "
                                  "time; save it again") from err
            saved = PolicySetting(ClearancePolicy(**value), updated_by, _utc(row.updated_at))
        self.policy = saved.policy
        return saved

    # ------------------------------------------------------------------ people

    def add_person(self, code: str, sex: str | None = None, notes: str = "") -> PersonInfo:
        """Add a person by pseudonymous code (never a name). ``sex``: female, male,
        unspecified or None. Raises ``RecordError`` if the code exists."""
        code = _name(code, "person code", MAX_CODE_CHARS)
        if sex is not None and sex not in SEXES:
            raise RecordError(f"sex must be one of {', '.join(SEXES)}")
        with self.db.write() as s:
            if s.scalar(select(Person).where(Person.code == code)) is not None:
                raise RecordError(f"person {code} already exists")
            person = Person(code=code, sex=sex, notes=notes, created_at=_now())
            s.add(person)
            try:
                s.flush()
            except IntegrityError as err:
                # Added by another writer since the check above (PostgreSQL; SQLite serialises
                # writers): the unique code refuses the second.
                raise RecordError(f"person {code} already exists") from err
            return _person_info(person)

    def ensure_person(self, code: str, sex: str | None = None) -> PersonInfo:
        """The person with this code, added if new (``sex`` is only used when adding)."""
        try:
            return self.get_person(code)
        except NotFoundError:
            pass
        try:
            return self.add_person(code, sex)
        except RecordError:
            # Added by someone else in between: fine, it is the same code.
            return self.get_person(code)

    def get_person(self, code: str) -> PersonInfo:
        with self.db.read() as s:
            return _person_info(self._person(s, code))

    def list_people(self) -> list[PersonInfo]:
        with self.db.read() as s:
            return [_person_info(p) for p in s.scalars(select(Person).order_by(Person.code))]

    @staticmethod
    def _person(s: Session, code: str, lock: bool = False) -> Person:
        """The person with this code; ``lock``: held until the transaction ends (see
        ``_open_session``)."""
        query = select(Person).where(Person.code == " ".join(code.split()))
        person = s.scalar(query.with_for_update() if lock else query)
        if person is None:
            raise NotFoundError(f"no person with code {code!r} in the records")
        return person

    # ------------------------------------------------------------------ sessions

    def create_session(self, person_code: str, session_date: date | None = None) -> SessionInfo:
        """A new test session for the person (``session_date`` defaults to today)."""
        with self.db.write() as s:
            person = self._person(s, person_code)
            row = TestSession(person=person, session_date=session_date or date.today(),
                              created_at=_now())
            s.add(row)
            s.flush()
            return self._session_info(s, row)

    def session_for_date(self, person_code: str, session_date: date) -> SessionInfo:
        """The person's open (unsigned) session on that date, or a new one: several clips of
        one visit (e.g. one per leg) land in the same session."""
        with self.db.write() as s:
            # Locked, so two saves of one visit at once do not each open a session.
            person = self._person(s, person_code, lock=True)
            rows = s.scalars(
                select(TestSession)
                .where(TestSession.person_id == person.id,
                       TestSession.session_date == session_date)
                .order_by(TestSession.id.desc())
            ).all()
            for row in rows:
                if not self._signed(s, row.id):
                    return self._session_info(s, row)
            row = TestSession(person=person, session_date=session_date, created_at=_now())
            s.add(row)
            s.flush()
            return self._session_info(s, row)

    def get_session(self, session_id: int) -> SessionInfo:
        with self.db.read() as s:
            return self._session_info(s, self._session(s, session_id))

    def list_sessions(self, person_code: str) -> list[SessionInfo]:
        """The person's sessions, oldest first."""
        with self.db.read() as s:
            person = self._person(s, person_code)
            rows = s.scalars(
                select(TestSession).where(TestSession.person_id == person.id)
                .order_by(TestSession.session_date, TestSession.id)
            )
            return [self._session_info(s, r) for r in rows]

    @staticmethod
    def _session(s: Session, session_id: int, lock: bool = False) -> TestSession:
        """The session; ``lock``: held until the transaction ends (see ``_open_session``)."""
        row = (
            s.scalar(select(TestSession).where(TestSession.id == session_id).with_for_update())
            if lock else s.get(TestSession, session_id)
        )
        if row is None:
            raise NotFoundError(f"no session {session_id} in the records")
        return row

    @staticmethod
    def _signed(s: Session, session_id: int) -> ClearanceRecord | None:
        return s.scalar(select(ClearanceRecord).where(
            ClearanceRecord.session_id == session_id, ClearanceRecord.signed_at.is_not(None)
        ))

    def _open_session(self, s: Session, session_id: int, lock: bool = True) -> TestSession:
        """The session, if it may still change (its clearance record is not signed).

        ``lock``: the session's row stays locked until the transaction ends, so that every
        change to one session (saves, reviews, clearance values, the signature) happens one
        after the other and none lands after the signature. SQLite locks the whole database for
        each writer anyway (FOR UPDATE is not emitted there); PostgreSQL needs the row lock.
        """
        row = self._session(s, session_id, lock)
        signed = self._signed(s, session_id)
        if signed is not None:
            when = _utc(signed.signed_at or _now()).strftime("%Y-%m-%d %H:%M UTC")
            raise RecordError(
                f"session {session_id} was signed by {signed.signed_by} on {when} and is final; "
                "start a new session for new data"
            )
        return row

    def _session_info(self, s: Session, row: TestSession) -> SessionInfo:
        n_clips = s.scalar(select(func.count(Clip.id)).where(Clip.session_id == row.id)) or 0
        return SessionInfo(row.id, row.person.code, row.session_date, _utc(row.created_at),
                           int(n_clips), self._signed(s, row.id) is not None)

    # ------------------------------------------------------------------ clips and analyses

    def save_analysis(
        self,
        session_id: int,
        video: Path | str,
        result: AnalysisResult | Mapping[str, Any],
        series: PoseSeries | None = None,
        original_name: str | None = None,
    ) -> AnalysisInfo:
        """Store a clip (copied into the data directory, with its sha256) and its analysis.

        ``result``: an ``AnalysisResult`` or its ``to_dict()``; ``series``: the pose landmarks,
        kept as .npz so a report can draw the skeleton on the deepest frames. All or nothing:
        files are copied first, renamed into place inside the transaction, and removed again if
        it does not commit; a crash leaves no row without its file (see ``valgus.store.db``).
        """
        from valgus.core.result import SCHEMA

        data = dict(result) if isinstance(result, Mapping) else result.to_dict()
        if data.get("schema") != SCHEMA:
            raise RecordError(f"analysis schema {data.get('schema')!r} is not {SCHEMA}")
        video = Path(video)
        if not video.is_file():
            raise NotFoundError(f"video not found: {video}")
        with self.db.read() as s:
            self._open_session(s, session_id, lock=False)  # fail before copying a large file
        staged: list[StagedFile] = [self.db.stage_copy(video, CLIPS_DIR)]
        try:
            if series is not None:
                poses = self.db.stage_new(".npz", POSES_DIR)
                series.save(poses.temp)
                staged.append(finish_stage(poses))
            with self.db.write() as s:
                self._open_session(s, session_id)
                clip = Clip(
                    session_id=session_id,
                    original_name=(original_name or video.name)[:255],
                    stored_path=staged[0].relative,
                    sha256=staged[0].sha256,
                    size_bytes=staged[0].size_bytes,
                    created_at=_now(),
                )
                analysis = Analysis(
                    clip=clip,
                    schema=str(data["schema"]),
                    valgus_version=str(data.get("valgus_version", "")),
                    config=data.get("config", {}),
                    result=data,
                    poses_path=staged[1].relative if len(staged) > 1 else None,
                    created_at=_now(),
                )
                s.add_all([clip, analysis])
                s.flush()
                # Renamed while this transaction holds the write lock, just before commit: an
                # orphan sweep never sees the file unreferenced unless this process died.
                for f in staged:
                    f.publish()
                info = self._analysis_info(analysis)
        except BaseException:
            for f in staged:
                f.discard()
            raise
        return info

    def get_analysis(self, analysis_id: int) -> AnalysisInfo:
        with self.db.read() as s:
            row = s.get(Analysis, analysis_id)
            if row is None:
                raise NotFoundError(f"no analysis {analysis_id} in the records")
            return self._analysis_info(row)

    def list_analyses(self, session_id: int) -> list[AnalysisInfo]:
        """The current (newest) analysis of each clip of the session, in clip order."""
        with self.db.read() as s:
            self._session(s, session_id)
            return [self._analysis_info(a) for a in self._current_analyses(s, session_id)]

    @staticmethod
    def _current_analyses(s: Session, session_id: int) -> list[Analysis]:
        clips = s.scalars(
            select(Clip).where(Clip.session_id == session_id).order_by(Clip.id)
            .options(selectinload(Clip.analyses))
        ).all()
        return [c.analyses[-1] for c in clips if c.analyses]

    def _clip_info(self, c: Clip) -> ClipInfo:
        return ClipInfo(c.id, c.session_id, c.original_name, self.db.path(c.stored_path),
                        c.sha256, c.size_bytes, _utc(c.created_at))

    def _analysis_info(self, a: Analysis) -> AnalysisInfo:
        return AnalysisInfo(
            id=a.id,
            clip=self._clip_info(a.clip),
            schema=a.schema,
            valgus_version=a.valgus_version,
            config=a.config,
            result=a.result,
            poses_path=self.db.path(a.poses_path) if a.poses_path else None,
            created_at=_utc(a.created_at),
        )

    # ------------------------------------------------------------------ review

    def save_review(
        self,
        session_id: int,
        reviewer: str,
        notes: str = "",
        overrides: Sequence[Override] = (),
    ) -> ReviewInfo:
        """Record a review: notes and per-rep band overrides, each with its reason. The newest
        review is the one in force (it replaces, not adds to, the previous overrides); earlier
        ones stay on record. Raises ``RecordError`` for a rep that does not exist or cannot
        count, an unknown band, an empty reason, or a signed session."""
        reviewer = _name(reviewer, "reviewer name")
        seen: set[tuple[int, int]] = set()
        for o in overrides:
            if o.band not in BANDS:
                raise RecordError(f"band must be one of {', '.join(BANDS)}, got {o.band!r}")
            if not o.reason.strip():
                raise RecordError(f"give a reason for the band of rep {o.index}")
            if (o.analysis_id, o.index) in seen:
                raise RecordError(f"rep {o.index} of analysis {o.analysis_id} is given twice")
            seen.add((o.analysis_id, o.index))
        with self.db.write() as s:
            self._open_session(s, session_id)
            current = {a.id: a.result for a in self._current_analyses(s, session_id)}
            for o in overrides:
                if o.analysis_id not in current:
                    raise RecordError(
                        f"analysis {o.analysis_id} is not a current analysis of session "
                        f"{session_id}"
                    )
            try:
                squat_results(current, overrides)
            except ValueError as err:
                raise RecordError(str(err)) from err
            review = Review(session_id=session_id, reviewer=reviewer, notes=notes.strip(),
                            created_at=_now())
            review.overrides = [
                RepOverride(analysis_id=o.analysis_id, rep_index=o.index, band=o.band,
                            reason=o.reason.strip())
                for o in overrides
            ]
            s.add(review)
            s.flush()
            return self._review_info(review)

    def latest_review(self, session_id: int) -> ReviewInfo | None:
        with self.db.read() as s:
            self._session(s, session_id)
            row = self._latest_review(s, session_id)
            return self._review_info(row) if row else None

    def review_history(self, session_id: int) -> list[ReviewInfo]:
        """Every review of the session, oldest first."""
        with self.db.read() as s:
            return [self._review_info(r) for r in self._session(s, session_id).reviews]

    @staticmethod
    def _latest_review(s: Session, session_id: int) -> Review | None:
        return s.scalar(select(Review).where(Review.session_id == session_id)
                        .order_by(Review.id.desc()).limit(1))

    @staticmethod
    def _review_info(r: Review) -> ReviewInfo:
        return ReviewInfo(
            r.id, r.session_id, r.reviewer, r.notes, _utc(r.created_at),
            tuple(Override(o.analysis_id, o.rep_index, o.band, o.reason)  # type: ignore[arg-type]
                  for o in r.overrides),
        )

    # ------------------------------------------------------------------ clearance

    def save_clearance(
        self, session_id: int, inputs: ClearanceInputs, entered_by: str
    ) -> ClearanceInfo:
        """Enter or replace the session's clearance values (pain, stairs, run, strength).
        Refused once the record is signed."""
        entered_by = _name(entered_by, "name of who enters the values")
        with self.db.write() as s:
            self._open_session(s, session_id)
            row = s.scalar(select(ClearanceRecord)
                           .where(ClearanceRecord.session_id == session_id))
            if row is None:
                row = ClearanceRecord(session_id=session_id)
                s.add(row)
            for f in dataclasses.fields(ClearanceInputs):
                setattr(row, f.name, getattr(inputs, f.name))
            row.updated_by, row.updated_at = entered_by, _now()
            s.flush()
            return self._clearance_info(row)

    def sign_clearance(self, session_id: int, reviewer: str) -> SessionSummary:
        """Sign the session's clearance record: the decision (CLEARED or NOT YET, with its
        criteria, the squat result per leg and the policy) is stored as it stands now, and the
        session cannot change any more. Signing a NOT YET is allowed (it documents the visit)."""
        reviewer = _name(reviewer, "reviewer name")
        with self.db.write() as s:
            self._open_session(s, session_id)
            summary = self._summary(s, session_id)
            row = s.scalar(select(ClearanceRecord)
                           .where(ClearanceRecord.session_id == session_id))
            if row is None:
                row = ClearanceRecord(session_id=session_id, updated_by=reviewer,
                                      updated_at=_now())
                s.add(row)
            row.signed_by, row.signed_at = reviewer, _now()
            row.decision = summary.decision.status
            row.decision_detail = {
                "status": summary.decision.status,
                "reasons": list(summary.decision.reasons),
                "criteria": [dataclasses.asdict(c) for c in summary.decision.criteria],
                "lsi_pct": summary.decision.lsi_pct,
                "squat": {leg: dataclasses.asdict(r) for leg, r in summary.squat.items()},
                "policy": dataclasses.asdict(summary.policy),
                "analysis_ids": [a.id for a in summary.analyses],
                "review_id": summary.review.id if summary.review else None,
            }
            s.flush()
            return self._summary(s, session_id)

    @staticmethod
    def _clearance_info(row: ClearanceRecord) -> ClearanceInfo:
        inputs = ClearanceInputs(**{
            f.name: getattr(row, f.name) for f in dataclasses.fields(ClearanceInputs)
        })
        return ClearanceInfo(
            inputs=inputs,
            updated_by=row.updated_by,
            updated_at=_utc(row.updated_at),
            signed_by=row.signed_by,
            signed_at=_utc(row.signed_at) if row.signed_at else None,
            signed_decision=row.decision,
            signed_detail=row.decision_detail,
        )

    # ------------------------------------------------------------------ read models

    def session_summary(self, session_id: int) -> SessionSummary:
        """The session with its analyses, review, squat result per leg and clearance
        decision (see ``SessionSummary``)."""
        with self.db.read() as s:
            return self._summary(s, session_id)

    def _summary(self, s: Session, session_id: int) -> SessionSummary:
        row = self._session(s, session_id)
        analyses = self._current_analyses(s, session_id)
        review = self._latest_review(s, session_id)
        current = {a.id: a.result for a in analyses}
        overrides = [
            Override(o.analysis_id, o.rep_index, o.band, o.reason)  # type: ignore[arg-type]
            for o in (review.overrides if review else []) if o.analysis_id in current
        ]
        record = s.scalar(select(ClearanceRecord)
                          .where(ClearanceRecord.session_id == session_id))
        clearance = self._clearance_info(record) if record else None
        policy = self.policy
        if clearance and clearance.signed_detail and "policy" in clearance.signed_detail:
            policy = ClearancePolicy(**clearance.signed_detail["policy"])
        squat, reps = squat_results(current, overrides, policy.required_reps)
        decision = decide(squat, clearance.inputs if clearance else ClearanceInputs(), policy)
        return SessionSummary(
            session=self._session_info(s, row),
            person=_person_info(row.person),
            analyses=tuple(self._analysis_info(a) for a in analyses),
            review=self._review_info(review) if review else None,
            reps=tuple(reps),
            squat=squat,
            clearance=clearance,
            decision=decision,
            policy=policy,
        )

    def history(self, person_code: str) -> History:
        """The person's sessions in date order: squat FPPA per leg (median of valid reps after
        review) and its change from the previous and the first session, marked real when at
        least the smallest detectable change (``policy.fppa_sdc_deg``, 7.5 deg)."""
        with self.db.read() as s:
            person = self._person(s, person_code)
            sessions = s.scalars(select(TestSession).where(TestSession.person_id == person.id)
                                 .order_by(TestSession.session_date, TestSession.id)).all()
            points: list[SessionFppa] = []
            signed: dict[int, str | None] = {}
            for row in sessions:
                summary = self._summary(s, row.id)
                points.append(SessionFppa(
                    session_id=row.id,
                    session_date=row.session_date,
                    median_fppa_deg={leg: summary.squat[leg].median_fppa_deg for leg in SIDES},
                    valid_reps={leg: summary.squat[leg].valid_reps for leg in SIDES},
                ))
                signed[row.id] = (summary.clearance.signed_decision
                                  if summary.clearance else None)
            rows = progress(points, self.policy.fppa_sdc_deg)
            return History(_person_info(person), tuple(rows), self.policy.fppa_sdc_deg, signed)
