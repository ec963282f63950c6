"""Point corrections in the records (issue 15 item 2): a reviewer moves the hip, knee or ankle
point of a rep's scored leg at its scored frame; the FPPA is measured again from the corrected
points (``core.correction``, on the smoothed landmarks of the stored poses that the rep was
scored on) and stored beside the tool's value with who, when and why. The verdict of the
session takes the corrected value (``summary.summarize`` -> ``clearance.squat_results``).

Who may: whoever may review (a clinician), the same as a reviewer's re-banding, on an open
session. A signed session is final, as for reviews: a correction (or an undo) after sign-off is
an amendment (``amendment``: its reason) by a clinician, sealed as such with the original
signature kept (``signing.amend``'s rule). Every correction and every undo is a line in the
audit log. An undo never deletes: the row keeps the correction and says
who undid it, when and why; only the newest correction of a rep in force can be undone (the
later ones were measured with it). Corrections are sealed into the signed snapshot
(``snapshot.take``), checked by ``verify`` and removed when the person is erased.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from sqlalchemy.orm import Session

from valgus.core.clearance import ClearancePolicy, correctable
from valgus.core.correction import (
    POINTS,
    XY,
    LegPoints,
    Point,
    PointCorrection,
    in_force,
    remeasure,
)
from valgus.core.fppa import IDENTITY, FppaMapping, mapping_for
from valgus.errors import ValgusError
from valgus.landmarks import Side
from valgus.store import audit, signing
from valgus.store.accounts import require
from valgus.store.correction_rows import active, correction_of, rows_of
from valgus.store.db import Database
from valgus.store.errors import NotFoundError, RecordError
from valgus.store.info import AnalysisInfo, analysis_info, clean_text, now, utc
from valgus.store.models import Analysis, PointCorrectionRow
from valgus.store.sessions import open_session

MAX_REASON_CHARS = 1000


def history(db: Database, analysis_id: int) -> list[tuple[PointCorrection, str | None]]:
    """Every correction of the analysis, oldest first, each with how it was undone ("undone
    by NAME on DATE: REASON") or None while in force."""
    with db.read() as s:
        return [(correction_of(r), None if r.undone_at is None else
                 f"undone by {r.undone_by} on {utc(r.undone_at):%Y-%m-%d %H:%M} UTC: "
                 f"{r.undo_reason}") for r in rows_of(s, [analysis_id])]


# --------------------------------------------------------------------------- the points


@dataclass(frozen=True)
class ScoredPoints:
    """Where a rep was scored: its ``frame`` (index in the clip), the tool's ``points`` of the
    rep's ``leg`` there and the ``image_size`` (width, height) px they refer to."""

    frame: int
    leg: Side
    points: LegPoints
    image_size: tuple[int, int]


def scored_points(a: AnalysisInfo, index: int) -> ScoredPoints:
    """The scored frame of rep ``index`` (1-based) of the analysis and the points of the rep's
    leg there: the smoothed landmarks of its stored poses, the ones the rep was scored on.

    Raises:
        RecordError: no such rep, the rep has no measured FPPA, no poses were kept, or they
            cannot be read.
    """
    from valgus.core.kinematics import smooth_landmarks
    from valgus.core.pose import PoseSeries

    reps = a.result.reps
    if not 0 < index <= len(reps):
        raise RecordError(f"analysis {a.id} has no rep {index}")
    score = reps[index - 1]
    if not correctable(score):
        raise RecordError(f"rep {index} of analysis {a.id} has no measured FPPA: its points "
                          "cannot be corrected")
    if a.poses_path is None:
        raise RecordError(f"analysis {a.id} kept no poses: its points cannot be corrected")
    try:
        series = PoseSeries.load(a.poses_path)
        xy, _ = smooth_landmarks(series, a.result.config.smoothing)
        frame = score.picture_index
        return ScoredPoints(frame, score.leg, LegPoints.at(xy, frame, score.leg),
                            (int(series.image_size[0]), int(series.image_size[1])))
    except (OSError, ValueError, KeyError, ValgusError) as err:
        raise RecordError(f"the poses of analysis {a.id} cannot be read: {err}") from err


def _moves(rows: Sequence[PointCorrectionRow], index: int) -> dict[Point, XY]:
    """The points of rep ``index`` corrected so far (the newest position of each)."""
    moves: dict[Point, XY] = {}
    for r in rows:
        if r.rep_index == index and r.undone_at is None:
            moves[cast(Point, r.point)] = (r.corrected_x, r.corrected_y)
    return moves


def preview(points: LegPoints, corrections: Sequence[PointCorrection], point: Point,
            xy: XY, mapping: FppaMapping = IDENTITY) -> float:
    """The FPPA a correction of ``point`` to ``xy`` would give, with the rep's corrections in
    force (``corrections``) applied first (what the Review page shows before saving), in the
    analysis's FPPA definition (``mapping``: ``core.fppa.mapping_for`` of its config).

    Raises:
        ValueError: an unknown point, a position that is not finite, or no angle.
    """
    moves: dict[Point, XY] = {c.point: c.corrected_xy for c in
                              sorted(corrections, key=lambda c: c.id)}
    moves[point] = xy
    return remeasure(points, moves, mapping)


# --------------------------------------------------------------------------- changing


@dataclass(frozen=True)
class _Change:
    """What may change: the analysis, the account, and for an amendment of a signed session
    the policy it was signed under and the amendment's reason."""

    analysis: Analysis
    by: str
    policy: ClearancePolicy | None = None
    amendment: str = ""

    def seal(self, s: Session, db: Database) -> None:
        """Seal an amendment (nothing for an open session)."""
        if self.policy is not None:
            signing.seal_amendment(s, db, self.analysis.clip.session_id, self.policy, self.by,
                                   self.amendment)


def _analysis_for_change(s: Session, db: Database, analysis_id: int, by: str,
                         amendment: str | None) -> _Change:
    """The analysis (in force) and the account allowed to change it: a reviewer on an open
    session; on a signed session only an amendment (``amendment``: its reason) by a
    clinician who may sign, as for a review after sign-off (``signing.amend``)."""
    row = s.get(Analysis, analysis_id)
    if row is None:
        raise NotFoundError(f"no analysis {analysis_id} in the records")
    if amendment is None:
        change = _Change(row, require(s, by, "review"))
        open_session(s, row.clip.session_id)
    else:
        reason = signing.amendment_reason(amendment)
        by = require(s, by, "sign")
        change = _Change(row, by, signing.amendable(s, db, row.clip.session_id), reason)
    if row.clip.analyses[-1].id != row.id:
        raise RecordError(f"analysis {analysis_id} is not the one in force for its clip "
                          f"(analysis {row.clip.analyses[-1].id} is)")
    return change


def save_correction(
    db: Database, analysis_id: int, index: int, point: str, xy: XY, reason: str, by: str,
    amendment: str | None = None,
) -> PointCorrection:
    """Move ``point`` (hip, knee or ankle) of rep ``index`` of the analysis to ``xy`` (pose
    image pixels) at the rep's scored frame, with the ``reason``: the FPPA is measured again
    with the rep's other corrections in force, and stored with the tool's value, who and when.
    ``amendment``: the reason of an amendment, for a signed session (see the module docstring).

    Raises:
        NotFoundError: no such analysis.
        RecordError: an unknown point, a position outside the image, no reason, a rep that
            cannot be corrected, no poses, an analysis not in force, a signed session without
            an amendment (or an open one with it), or ``by`` may not review (sign, to amend).
    """
    if point not in POINTS:
        raise RecordError(f"the point must be one of {', '.join(POINTS)}, got {point!r}")
    text = " ".join(clean_text(reason, "the reason", MAX_REASON_CHARS).split())
    if not text:
        raise RecordError(f"give the reason for correcting the {point} point")
    with db.read() as s:
        row = s.get(Analysis, analysis_id)
        if row is None:
            raise NotFoundError(f"no analysis {analysis_id} in the records")
        info = analysis_info(db, row)
    scored = scored_points(info, index)
    points, (width, height) = scored.points, scored.image_size
    try:
        x, y = float(xy[0]), float(xy[1])
    except (TypeError, ValueError, IndexError):
        raise RecordError(f"the corrected {point} point must be two numbers (x, y)") from None
    if not (math.isfinite(x) and math.isfinite(y) and 0 <= x <= width and 0 <= y <= height):
        raise RecordError(f"the corrected {point} point ({x:g}, {y:g}) is outside the picture")
    with db.write() as s:
        change = _analysis_for_change(s, db, analysis_id, by, amendment)
        analysis, by = change.analysis, change.by
        rows = rows_of(s, [analysis_id])
        moves = _moves(rows, index)
        moves[point] = (x, y)
        try:
            fppa = remeasure(points, moves, mapping_for(info.result.config))
        except ValueError as err:
            raise RecordError(str(err)) from err
        tool = info.result.reps[index - 1].scored_fppa_deg
        assert tool is not None  # scored_points checked it is measured
        original = points.point(point)
        new = PointCorrectionRow(
            analysis_id=analysis_id, rep_index=index, leg=scored.leg,
            frame_index=scored.frame, point=point, original_x=original[0], original_y=original[1],
            corrected_x=x, corrected_y=y, fppa_deg=fppa, tool_fppa_deg=float(tool),
            corrected_by=by, corrected_at=now(), reason=text)
        s.add(new)
        s.flush()
        audit.note(s, by, "point_corrected", f"session {analysis.clip.session_id}",
                   correction_id=new.id, analysis_id=analysis_id, rep=index, point=point,
                   frame=scored.frame, original=list(original), corrected=[x, y],
                   fppa_deg=round(fppa, 2), tool_fppa_deg=round(float(tool), 2), reason=text)
        change.seal(s, db)
        return in_force(active(rows_of(s, [analysis_id])))[(analysis_id, index)]


def undo_correction(db: Database, correction_id: int, reason: str, by: str,
                    amendment: str | None = None) -> PointCorrection:
    """Undo a correction (the newest in force of its rep), with the ``reason``: the row stays,
    marked undone by whom, when and why; the rep's FPPA goes back to the correction before it,
    or the tool's value. Returns the correction undone.

    Raises:
        NotFoundError: no such correction.
        RecordError: no reason, undone already, a newer correction of the rep is in force, a
            signed session without an amendment, or ``by`` may not review (sign, to amend).
    """
    text = " ".join(clean_text(reason, "the reason", MAX_REASON_CHARS).split())
    if not text:
        raise RecordError("give the reason for undoing the correction")
    with db.write() as s:
        row = s.get(PointCorrectionRow, correction_id)
        if row is None:
            raise NotFoundError(f"no point correction {correction_id} in the records")
        change = _analysis_for_change(s, db, row.analysis_id, by, amendment)
        analysis, by = change.analysis, change.by
        if row.undone_at is not None:
            raise RecordError(f"correction {correction_id} was undone already")
        newer = [r.id for r in rows_of(s, [row.analysis_id])
                 if r.rep_index == row.rep_index and r.undone_at is None and r.id > row.id]
        if newer:
            raise RecordError(f"correction {newer[-1]} of the same rep is newer: undo it first")
        row.undone_by, row.undone_at, row.undo_reason = by, now(), text
        s.flush()
        audit.note(s, by, "correction_undone", f"session {analysis.clip.session_id}",
                   correction_id=row.id, analysis_id=row.analysis_id, rep=row.rep_index,
                   point=row.point, reason=text)
        change.seal(s, db)
        return correction_of(row)
