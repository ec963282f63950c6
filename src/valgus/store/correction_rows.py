"""Point corrections as stored rows, read (``valgus.store.corrections`` changes them): as the
verdict takes them, as the signed snapshot keeps them, and the rows of an analysis or a
session. No import of the session rules, so the snapshot and verify can use it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from valgus.core.correction import Point, PointCorrection
from valgus.landmarks import Side
from valgus.store.info import utc
from valgus.store.models import Analysis, Clip, PointCorrectionRow


def correction_of(row: PointCorrectionRow) -> PointCorrection:
    """A stored correction as the verdict and the pages take it."""
    return PointCorrection(
        analysis_id=row.analysis_id, index=row.rep_index, leg=cast(Side, row.leg),
        frame_index=row.frame_index, point=cast(Point, row.point),
        original_xy=(row.original_x, row.original_y),
        corrected_xy=(row.corrected_x, row.corrected_y), fppa_deg=row.fppa_deg,
        tool_fppa_deg=row.tool_fppa_deg, by=row.corrected_by, at=utc(row.corrected_at),
        reason=row.reason, id=row.id,
    )


def correction_dict(row: PointCorrectionRow) -> dict[str, Any]:
    """A stored correction, undo included, as the signed snapshot keeps it."""
    return {
        "id": row.id, "analysis_id": row.analysis_id, "rep_index": row.rep_index,
        "leg": row.leg, "frame_index": row.frame_index, "point": row.point,
        "original": [row.original_x, row.original_y],
        "corrected": [row.corrected_x, row.corrected_y], "fppa_deg": row.fppa_deg,
        "tool_fppa_deg": row.tool_fppa_deg, "by": row.corrected_by,
        "at": utc(row.corrected_at).isoformat(), "reason": row.reason,
        "undone_by": row.undone_by,
        "undone_at": utc(row.undone_at).isoformat() if row.undone_at else None,
        "undo_reason": row.undo_reason,
    }


def from_dict(d: dict[str, Any]) -> PointCorrection:
    """A correction from its snapshot entry (``correction_dict``)."""
    return PointCorrection(
        d["analysis_id"], d["rep_index"], d["leg"], d["frame_index"], d["point"],
        (float(d["original"][0]), float(d["original"][1])),
        (float(d["corrected"][0]), float(d["corrected"][1])), float(d["fppa_deg"]),
        float(d["tool_fppa_deg"]), d["by"], datetime.fromisoformat(d["at"]), d["reason"],
        id=d["id"])


def rows_of(s: Session, analysis_ids: Iterable[int]) -> list[PointCorrectionRow]:
    """Every correction (undone ones too) of the analyses, oldest first."""
    ids = list(analysis_ids)
    if not ids:
        return []
    return list(s.scalars(select(PointCorrectionRow)
                          .where(PointCorrectionRow.analysis_id.in_(ids))
                          .order_by(PointCorrectionRow.id)))


def session_rows(s: Session, session_id: int) -> list[PointCorrectionRow]:
    """Every correction of every analysis of the session's clips, oldest first."""
    ids = s.scalars(select(Analysis.id).join(Clip).where(Clip.session_id == session_id))
    return rows_of(s, ids)


def active(rows: Sequence[PointCorrectionRow]) -> list[PointCorrection]:
    """The corrections not undone."""
    return [correction_of(r) for r in rows if r.undone_at is None]
