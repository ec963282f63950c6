"""Test sessions (visits), their clips and the analyses of those clips.

A session may change (new clips, reviews, clearance values) until its clearance record is
signed; ``open_session`` is the one check of that, and it locks the session's row so that the
changes to one session happen one after the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from valgus.store import audit
from valgus.store.db import CLIPS_DIR, POSES_DIR, Database, StagedFile, finish_stage
from valgus.store.errors import NotFoundError, RecordError
from valgus.store.info import AnalysisInfo, SessionInfo, analysis_info, clean_file_name, now, utc
from valgus.store.models import Analysis, ClearanceRecord, Clip, TestSession
from valgus.store.people import find_person
from valgus.store.snapshot import canonical, has_signature

VERIFY_HINT = "its clearance record does not show the signature: run `valgus records verify`"

if TYPE_CHECKING:
    from valgus.core.pose import PoseSeries
    from valgus.core.result import AnalysisResult


# --------------------------------------------------------------------------- rows


def find_session(s: Session, session_id: int, lock: bool = False) -> TestSession:
    """The session; ``lock``: held until the transaction ends (see ``open_session``).

    Raises:
        NotFoundError: no such session.
    """
    row = (
        s.scalar(select(TestSession).where(TestSession.id == session_id).with_for_update())
        if lock else s.get(TestSession, session_id)
    )
    if row is None:
        raise NotFoundError(f"no session {session_id} in the records")
    return row


def signed_record(s: Session, session_id: int) -> ClearanceRecord | None:
    """The session's clearance record if it is signed (the session is final), else None."""
    return s.scalar(select(ClearanceRecord).where(
        ClearanceRecord.session_id == session_id, ClearanceRecord.signed_at.is_not(None)
    ))


def open_session(s: Session, session_id: int, lock: bool = True) -> TestSession:
    """The session, if it may still change (its clearance record is not signed).

    ``lock``: the session's row stays locked until the transaction ends, so that every
    change to one session (saves, reviews, clearance values, the signature) happens one
    after the other and none lands after the signature. SQLite locks the whole database for
    each writer anyway (FOR UPDATE is not emitted there); PostgreSQL needs the row lock.

    Raises:
        NotFoundError: no such session.
        RecordError: the session is signed.
    """
    row = find_session(s, session_id, lock)
    signed = signed_record(s, session_id)
    if signed is None and has_signature(s, session_id):
        # Its clearance record was un-signed behind valgus's back: still final.
        raise RecordError(f"session {session_id} is signed and final ({VERIFY_HINT})")
    if signed is not None:
        when = utc(signed.signed_at or now()).strftime("%Y-%m-%d %H:%M UTC")
        raise RecordError(
            f"session {session_id} was signed by {signed.signed_by} on {when} and is final; "
            "start a new session for new data"
        )
    return row


def session_info(s: Session, row: TestSession) -> SessionInfo:
    n_clips = s.scalar(select(func.count(Clip.id)).where(Clip.session_id == row.id)) or 0
    signed = signed_record(s, row.id) is not None or has_signature(s, row.id)
    return SessionInfo(row.id, row.person.code, row.session_date, utc(row.created_at),
                       int(n_clips), signed)


def current_analyses(s: Session, session_id: int) -> list[Analysis]:
    """The current (newest) analysis of each clip of the session, in clip order."""
    clips = s.scalars(
        select(Clip).where(Clip.session_id == session_id).order_by(Clip.id)
        .options(selectinload(Clip.analyses))
    ).all()
    return [c.analyses[-1] for c in clips if c.analyses]


def stored_results(analyses: Sequence[Analysis]) -> dict[int, AnalysisResult]:
    """Analysis id -> its stored result, typed (``AnalysisResult.from_dict``, schema 1 or 2):
    what the clearance rules read. The one place the store hands stored results on."""
    from valgus.core.result import AnalysisResult

    return {a.id: AnalysisResult.from_dict(a.result) for a in analyses}


# --------------------------------------------------------------------------- sessions


def create_session(
    db: Database, person_code: str, session_date: date | None = None
) -> SessionInfo:
    """A new test session for the person (``session_date`` defaults to today)."""
    with db.write() as s:
        person = find_person(s, person_code)
        row = TestSession(person=person, session_date=session_date or date.today(),
                          created_at=now())
        s.add(row)
        s.flush()
        return session_info(s, row)


def session_for_date(db: Database, person_code: str, session_date: date) -> SessionInfo:
    """The person's open (unsigned) session on that date, or a new one: several clips of one
    visit (e.g. one per leg) land in the same session."""
    with db.write() as s:
        # Locked, so two saves of one visit at once do not each open a session.
        person = find_person(s, person_code, lock=True)
        rows = s.scalars(
            select(TestSession)
            .where(TestSession.person_id == person.id, TestSession.session_date == session_date)
            .order_by(TestSession.id.desc())
        ).all()
        for row in rows:
            if not signed_record(s, row.id):
                return session_info(s, row)
        row = TestSession(person=person, session_date=session_date, created_at=now())
        s.add(row)
        s.flush()
        return session_info(s, row)


def get_session(db: Database, session_id: int) -> SessionInfo:
    with db.read() as s:
        return session_info(s, find_session(s, session_id))


def person_sessions(s: Session, person_id: int) -> Sequence[TestSession]:
    """The person's sessions, oldest first (by date, then by when they were added)."""
    return s.scalars(
        select(TestSession).where(TestSession.person_id == person_id)
        .order_by(TestSession.session_date, TestSession.id)
    ).all()


def list_sessions(db: Database, person_code: str) -> list[SessionInfo]:
    """The person's sessions, oldest first."""
    with db.read() as s:
        person = find_person(s, person_code)
        return [session_info(s, r) for r in person_sessions(s, person.id)]


# --------------------------------------------------------------------------- clips and analyses


def stage_clip(db: Database, video: Path | str) -> StagedFile:
    """Copy a clip into the data directory's ``tmp/`` and hash it, before it is analysed: the
    caller analyses ``.temp`` (the copy) and hands the staged file to ``save_analysis``, so the
    record pairs the analysis with exactly the bytes analysed. ``discard()`` it if the analysis
    fails.

    Raises:
        NotFoundError: the video does not exist.
        StorageError: it cannot be copied.
    """
    video = Path(video)
    if not video.is_file():
        raise NotFoundError(f"video not found: {video}")
    return db.stage_copy(video, CLIPS_DIR)


def same_clip(s: Session, session_id: int, sha256: str) -> Clip | None:
    """The session's clip with this content (sha256), if it was saved already."""
    return s.scalar(select(Clip).where(Clip.session_id == session_id, Clip.sha256 == sha256)
                    .order_by(Clip.id).limit(1))


def save_analysis(
    db: Database,
    session_id: int,
    video: Path | str | StagedFile,
    result: AnalysisResult | Mapping[str, Any],
    series: PoseSeries | None = None,
    original_name: str | None = None,
    by: str | None = None,
) -> AnalysisInfo:
    """Store a clip (copied into the data directory, with its sha256) and its analysis;
    ``by`` (the logged-in account; default the local user) goes into the audit log.

    ``video``: the clip, or its copy staged by ``stage_clip`` (then it is not copied again;
    give ``original_name``). ``result``: an ``AnalysisResult`` or its ``to_dict()``;
    ``series``: the pose landmarks, kept as .npz so a report can draw the skeleton on the
    deepest frames. A clip whose content (sha256) the session holds already is stored once: the
    analysis is added to that clip as its newest (the one in force), so its reps count once
    however often it is saved. All or nothing: files are copied first, renamed into place inside
    the transaction, and removed again if it does not commit; a crash leaves no row without its
    file (see ``valgus.store.db``).

    Raises:
        RecordError: the result is of another schema, or the session is signed.
        NotFoundError: the video or the session does not exist.
        StorageError: the files cannot be copied or the database written.
    """
    from valgus.core.result import SCHEMA

    # The stored result dict and the fields read from it for its own columns.
    data = dict(result) if isinstance(result, Mapping) else result.to_dict()
    clip_copy = video if isinstance(video, StagedFile) else None
    poses: StagedFile | None = None
    try:
        if data.get("schema") != SCHEMA:
            raise RecordError(f"analysis schema {data.get('schema')!r} is not {SCHEMA}")
        with db.read() as s:
            open_session(s, session_id, lock=False)  # fail before copying a large file
        if clip_copy is None:
            clip_copy = stage_clip(db, Path(str(video)))
            original_name = original_name or Path(str(video)).name
        if series is not None:
            poses = db.stage_new(".npz", POSES_DIR)
            series.save(poses.temp)
            finish_stage(poses)
        with db.write() as s:
            open_session(s, session_id)
            clip = same_clip(s, session_id, clip_copy.sha256)
            if clip is None:
                clip = Clip(
                    session_id=session_id,
                    original_name=clean_file_name(original_name or "clip"),
                    stored_path=clip_copy.relative,
                    sha256=clip_copy.sha256,
                    size_bytes=clip_copy.size_bytes,
                    created_at=now(),
                )
            else:
                clip_copy.discard()  # the session holds this content already
                clip_copy = None
                newest = clip.analyses[-1] if clip.analyses else None
                if newest is not None and canonical(newest.result) == canonical(data):
                    # The same analysis saved again (Save pressed twice): nothing new.
                    if poses is not None:
                        poses.discard()
                    return analysis_info(db, newest)
            analysis = Analysis(
                clip=clip,
                schema=str(data["schema"]),
                valgus_version=str(data.get("valgus_version", "")),
                config=data.get("config", {}),
                result=data,
                poses_path=poses.relative if poses else None,
                created_at=now(),
            )
            s.add_all([clip, analysis])
            s.flush()
            # Renamed while this transaction holds the write lock, just before commit: a
            # quarantine never sees the file unreferenced unless this process died.
            audit.note(s, by or audit.local_actor(), "clip_saved", f"session {session_id}",
                       analysis_id=analysis.id, clip_id=clip.id, sha256=clip.sha256,
                       stored_again=clip_copy is None)
            for f in (clip_copy, poses):
                if f is not None:
                    f.publish()
            info = analysis_info(db, analysis)
    except BaseException:
        for f in (clip_copy, poses):
            if f is not None:
                f.discard()
        raise
    return info


def get_analysis(db: Database, analysis_id: int) -> AnalysisInfo:
    """One stored analysis. Raises ``NotFoundError`` if there is none."""
    with db.read() as s:
        row = s.get(Analysis, analysis_id)
        if row is None:
            raise NotFoundError(f"no analysis {analysis_id} in the records")
        return analysis_info(db, row)


def list_analyses(db: Database, session_id: int) -> list[AnalysisInfo]:
    """The current (newest) analysis of each clip of the session, in clip order."""
    with db.read() as s:
        find_session(s, session_id)
        return [analysis_info(db, a) for a in current_analyses(s, session_id)]
