"""The records service: what the app's review page, the reports and the CLI call.

``Records`` is a thin facade over the rooms of the store: ``people``, ``sessions`` (sessions,
clips, analyses), ``signing`` (reviews, clearance values, the signature), ``summary`` (what a
session and a person's history look like) and ``settings`` (the clinic's clearance policy).
Every method is one unit of work with its own database session and returns plain frozen
dataclasses (``valgus.store.info``; never ORM objects), so results can be kept across Streamlit
reruns and two browser sessions never share state. Open one ``Records`` per process (it is
thread-safe) with ``Records.open(data_dir=None, url=None)``; see ``valgus.store.db`` for where
data goes.

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

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from valgus.core.clearance import ClearanceInputs, ClearancePolicy, Override
from valgus.core.correction import PointCorrection
from valgus.store import (
    accounts,
    audit,
    check,
    corrections,
    erase,
    people,
    provenance,
    sessions,
    settings,
    signing,
    summary,
    verify,
)
from valgus.store.accounts import UserInfo
from valgus.store.audit import AuditInfo
from valgus.store.check import CheckReport
from valgus.store.db import Database, StagedFile
from valgus.store.erase import Erasure
from valgus.store.info import (
    AnalysisInfo,
    ClearanceInfo,
    ClipInfo,
    History,
    PersonInfo,
    PolicySetting,
    ReviewInfo,
    SessionInfo,
    SessionSummary,
)
from valgus.store.provenance import Rescored, SettingsCheck
from valgus.store.verify import VerifyReport

if TYPE_CHECKING:
    from valgus.config import Sex
    from valgus.core.pose import PoseSeries
    from valgus.core.result import AnalysisResult

__all__ = [
    "AnalysisInfo", "ClearanceInfo", "ClipInfo", "History", "PersonInfo", "PolicySetting",
    "Records", "Rescored", "ReviewInfo", "SessionInfo", "SessionSummary", "SettingsCheck",
    "UserInfo",
]


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
        *,
        readonly: bool = False,
    ) -> Records:
        """Open the data directory and database (a new one is created at the current schema;
        nothing stored is changed or removed). ``data_dir`` defaults to ``VALGUS_DATA_DIR`` or
        ``~/.local/share/valgus``; ``url`` to ``VALGUS_DATABASE_URL`` or SQLite in the data
        directory; ``readonly``: only read (no write lock, works on a read-only folder).
        Raises ``StorageError`` if either cannot be used (see ``Database.open``)."""
        db = Database.open(data_dir, url, readonly=readonly)
        try:
            return cls(db, policy)
        except BaseException:
            db.close()
            raise

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Records:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ accounts

    def add_user(self, username: str, role: str, password: str) -> UserInfo:
        """A new account (role clinician or assistant); see ``accounts``."""
        return accounts.add_user(self.db, username, role, password)

    def set_password(self, username: str, password: str) -> None:
        accounts.set_password(self.db, username, password)

    def set_disabled(self, username: str, disabled: bool = True) -> UserInfo:
        return accounts.set_disabled(self.db, username, disabled)

    def list_users(self) -> list[UserInfo]:
        return accounts.list_users(self.db)

    def get_user(self, username: str) -> UserInfo:
        return accounts.get_user(self.db, username)

    def has_accounts(self) -> bool:
        """Whether any account exists (from then on names must be accounts)."""
        with self.db.read() as s:
            return accounts.accounts_exist(s)

    def authenticate(self, username: str, password: str) -> UserInfo:
        """The account if the password is right (``LoginError`` otherwise, with back-off)."""
        return accounts.authenticate(self.db, username, password)

    # ------------------------------------------------------------------ audit

    def audit_log(self, limit: int = 200, subject: str | None = None) -> list[AuditInfo]:
        """The newest lines of the append-only audit log, newest first."""
        return audit.entries(self.db, limit, subject)

    def note_view(self, actor: str, person_code: str) -> None:
        """Log that ``actor`` opened a person's record."""
        audit.record(self.db, actor, "view", f"person {person_code}")

    def note_export(self, actor: str, session_id: int, what: str) -> None:
        """Log that ``actor`` exported a session (``what``: pdf, html)."""
        audit.record(self.db, actor, "report_exported", f"session {session_id}", format=what)

    # ------------------------------------------------------------------ upkeep

    def check(self) -> CheckReport:
        """Files and rows that do not match (``valgus records check``); changes nothing."""
        return check.check(self.db)

    def quarantine(self) -> tuple[Path | None, list[str]]:
        """Move unreferenced files aside (``valgus records quarantine``); see
        ``check.quarantine``."""
        return check.quarantine(self.db)

    # ------------------------------------------------------------------ clinic policy

    def policy_setting(self) -> PolicySetting:
        """The clinic's stored clearance policy (the defaults if none was ever saved)."""
        return settings.load_policy(self.db)

    def save_policy(self, policy: ClearancePolicy, updated_by: str) -> PolicySetting:
        """Store ``policy`` as the clinic's clearance policy; this object uses it from now on.
        Sessions signed earlier keep the policy they were signed under."""
        saved = settings.save_policy(self.db, policy, updated_by)
        self.policy = saved.policy
        return saved

    # ------------------------------------------------------------------ people

    def add_person(self, code: str, sex: str | None = None, notes: str = "") -> PersonInfo:
        """Add a person by pseudonymous code (never a name). ``sex``: female, male,
        unspecified or None. Raises ``RecordError`` if the code exists."""
        return people.add_person(self.db, code, sex, notes)

    def ensure_person(self, code: str, sex: str | None = None) -> PersonInfo:
        """The person with this code, added if new (``sex`` is only used when adding)."""
        return people.ensure_person(self.db, code, sex)

    def get_person(self, code: str) -> PersonInfo:
        return people.get_person(self.db, code)

    def list_people(self) -> list[PersonInfo]:
        return people.list_people(self.db)

    def set_person_sex(self, code: str, sex: str, by: str) -> people.SexChange:
        """Record or change a person's sex (female, male, unspecified): a clinician's task,
        audited with the old and new value, refused for an erased person. Analyses made under
        another sex are flagged from then on and can be re-scored (``rescore``); see
        ``people.set_sex``."""
        return people.set_sex(self.db, code, sex, by)

    def erase_person(self, code: str, by: str, reason: str) -> Erasure:
        """Erase a person's clips, poses and identifying fields (a clinician's task, with the
        reason; audited); see ``erase``."""
        return erase.erase_person(self.db, code, by, reason)

    # ------------------------------------------------------------------ sessions

    def create_session(self, person_code: str, session_date: date | None = None) -> SessionInfo:
        """A new test session for the person (``session_date`` defaults to today)."""
        return sessions.create_session(self.db, person_code, session_date)

    def session_for_date(self, person_code: str, session_date: date) -> SessionInfo:
        """The person's open (unsigned) session on that date, or a new one: several clips of
        one visit (e.g. one per leg) land in the same session."""
        return sessions.session_for_date(self.db, person_code, session_date)

    def get_session(self, session_id: int) -> SessionInfo:
        return sessions.get_session(self.db, session_id)

    def list_sessions(self, person_code: str) -> list[SessionInfo]:
        """The person's sessions, oldest first."""
        return sessions.list_sessions(self.db, person_code)

    # ------------------------------------------------------------------ clips and analyses

    def stage_clip(self, video: Path | str) -> StagedFile:
        """Copy and hash a clip before analysing it: analyse ``.temp``, then hand the staged
        file to ``save_analysis`` (or ``discard()`` it); see ``sessions.stage_clip``."""
        return sessions.stage_clip(self.db, video)

    def save_analysis(
        self,
        session_id: int,
        video: Path | str | StagedFile,
        result: AnalysisResult | Mapping[str, Any],
        series: PoseSeries | None = None,
        original_name: str | None = None,
        by: str | None = None,
    ) -> AnalysisInfo:
        """Store a clip (copied into the data directory, with its sha256, once per session
        however often it is saved) and its analysis, all or nothing; see
        ``sessions.save_analysis``."""
        return sessions.save_analysis(self.db, session_id, video, result, series, original_name,
                                      by)

    def get_analysis(self, analysis_id: int) -> AnalysisInfo:
        return sessions.get_analysis(self.db, analysis_id)

    def list_analyses(self, session_id: int) -> list[AnalysisInfo]:
        """The current (newest) analysis of each clip of the session, in clip order."""
        return sessions.list_analyses(self.db, session_id)

    # ------------------------------------------------------------------ review

    def save_review(
        self,
        session_id: int,
        reviewer: str,
        notes: str = "",
        overrides: Sequence[Override] = (),
    ) -> ReviewInfo:
        """Record a review: notes and per-rep band overrides, each with its reason. The newest
        review is the one in force; see ``signing.save_review``."""
        return signing.save_review(self.db, session_id, reviewer, notes, overrides)

    def latest_review(self, session_id: int) -> ReviewInfo | None:
        return signing.get_latest_review(self.db, session_id)

    def review_history(self, session_id: int) -> list[ReviewInfo]:
        """Every review of the session, oldest first."""
        return signing.review_history(self.db, session_id)

    def scored_points(self, analysis: AnalysisInfo, index: int) -> corrections.ScoredPoints:
        """The tool's hip, knee and ankle points of rep ``index`` at its scored frame (from the
        stored poses); see ``corrections.scored_points``."""
        return corrections.scored_points(analysis, index)

    def save_correction(
        self, analysis_id: int, index: int, point: str, xy: tuple[float, float], reason: str,
        by: str, amendment: str | None = None,
    ) -> PointCorrection:
        """Correct a point of a rep at its scored frame; the FPPA is measured again from the
        corrected points and used by the verdict. ``amendment``: its reason, on a signed
        session. See ``corrections.save_correction``."""
        return corrections.save_correction(self.db, analysis_id, index, point, xy, reason, by,
                                           amendment)

    def undo_correction(self, correction_id: int, reason: str, by: str,
                        amendment: str | None = None) -> PointCorrection:
        """Undo a point correction (audited; the row stays); ``amendment`` on a signed
        session. See ``corrections.undo_correction``."""
        return corrections.undo_correction(self.db, correction_id, reason, by, amendment)

    def correction_history(self, analysis_id: int) -> list[tuple[PointCorrection, str | None]]:
        """Every correction of the analysis with how it was undone (None: in force)."""
        return corrections.history(self.db, analysis_id)

    # ------------------------------------------------------------------ clearance

    def save_clearance(
        self, session_id: int, inputs: ClearanceInputs, entered_by: str
    ) -> ClearanceInfo:
        """Enter or replace the session's clearance values (pain, stairs, run, strength).
        Refused once the record is signed."""
        return signing.save_clearance(self.db, session_id, inputs, entered_by)

    def settings_check(self, analysis: AnalysisInfo, person_sex: Sex | None) -> SettingsCheck:
        """How the analysis's settings compare with the clinic's (this object's policy, the
        default thresholds for ``person_sex``); see ``provenance.settings_check``."""
        return provenance.settings_check(analysis.result, person_sex, self.policy)

    def rescore(self, analysis_id: int, by: str) -> Rescored:
        """Score a stored analysis's poses again under the clinic's settings and store it as
        the analysis in force of its clip (audited): the new analysis, with the settings it
        replaced; see ``provenance.rescore``."""
        return provenance.rescore(self.db, analysis_id, by, self.policy)

    def sign_clearance(
        self, session_id: int, reviewer: str, expected: str | None = None
    ) -> SessionSummary:
        """Sign the session's clearance record under this object's policy: the decision is
        stored as it stands now and the session cannot change any more (a NOT YET may be
        signed: it documents the visit). ``expected``: the ``signing_digest`` of the summary
        the signer confirmed (refused if the records changed since)."""
        return signing.sign_clearance(self.db, session_id, reviewer, self.policy, expected)

    def amend(
        self,
        session_id: int,
        by: str,
        reason: str,
        inputs: ClearanceInputs | None = None,
        review: tuple[str, Sequence[Override]] | None = None,
    ) -> SessionSummary:
        """Correct a signed session (new clearance values and/or review, with the reason):
        sealed as an amendment, the original kept; see ``signing.amend``."""
        return signing.amend(self.db, session_id, by, reason, inputs, review)

    def verify(self) -> VerifyReport:
        """Check every signature, the chain and every signed session against its snapshot
        and files (``valgus records verify``); reads only."""
        return verify.verify(self.db)

    # ------------------------------------------------------------------ read models

    def session_summary(self, session_id: int) -> SessionSummary:
        """The session with its analyses, review, squat result per leg and clearance
        decision (see ``SessionSummary``)."""
        return summary.session_summary(self.db, session_id, self.policy)

    def history(self, person_code: str) -> History:
        """The person's sessions in date order: squat FPPA per leg and its changes, marked real
        when at least the smallest detectable change (``policy.fppa_sdc_deg``, 7.5 deg)."""
        return summary.history(self.db, person_code, self.policy)
