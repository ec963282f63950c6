"""A reviewer's correction of a point (issue 15 item 2): at a rep's scored frame the hip, knee
or ankle point of the scored leg is moved to where it belongs, and the FPPA is measured again
from the corrected points with the one FPPA function (``kinematics.fppa_deg``, the other hip
still giving the medial side), mapped like the analysis's own (``core.fppa``). Pure numpy.

The corrected FPPA replaces the tool's value for that rep in the verdict (``scoring.SquatRep``
with a ``correction``): the rep is banded from it with the analysis's own threshold and
margin, and the leg's set of measured reps takes it as the rep's FPPA. The tool's value is
kept beside it. Only a rep with a measured FPPA (a complete single-leg rep whose scored frame
was measured) can be corrected: a correction moves a point, it does not make an unmeasurable
rep measurable.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import numpy as np

from valgus.core.fppa import IDENTITY, FppaMapping, points_hip_width_ratio
from valgus.core.kinematics import fppa_deg
from valgus.landmarks import Side, ankle, hip, knee, other

Point = Literal["hip", "knee", "ankle"]
POINTS: tuple[Point, ...] = ("hip", "knee", "ankle")
XY = tuple[float, float]


@dataclass(frozen=True)
class LegPoints:
    """The image points (pixels of the pose file's image, x right, y down) that one leg's FPPA
    is measured on at one frame: its hip, knee and ankle, and the other hip (medial side)."""

    hip: XY
    knee: XY
    ankle: XY
    other_hip: XY

    @classmethod
    def at(cls, xy_px: np.ndarray, frame: int, leg: Side) -> LegPoints:
        """The points of ``leg`` at ``frame`` of (T, 33, 2) landmarks (the smoothed ones the
        reps were scored on).

        Raises:
            ValueError: ``frame`` is outside the landmarks, or a point is missing there.
        """
        if not 0 <= frame < xy_px.shape[0]:
            raise ValueError(f"frame {frame} is not in the poses ({xy_px.shape[0]} frames)")
        row = xy_px[frame]
        found = cls(*(_xy(row[i]) for i in (hip(leg), knee(leg), ankle(leg), hip(other(leg)))))
        if not all(math.isfinite(v) for p in (found.hip, found.knee, found.ankle,
                                             found.other_hip) for v in p):
            raise ValueError(f"the {leg} leg's points are missing at frame {frame}")
        return found

    def point(self, name: Point) -> XY:
        return {"hip": self.hip, "knee": self.knee, "ankle": self.ankle}[name]

    def moved(self, moves: Mapping[Point, XY]) -> LegPoints:
        """These points with ``moves`` (point -> new position) applied."""
        bad = set(moves) - set(POINTS)
        if bad:
            raise ValueError(f"a point must be one of {', '.join(POINTS)}, got {sorted(bad)}")
        hip_, knee_, ankle_ = (check_xy(moves.get(n, self.point(n)), n) for n in POINTS)
        return LegPoints(hip_, knee_, ankle_, self.other_hip)

    def fppa_deg(self) -> float:
        """The FPPA of these points (deg, + = valgus): ``kinematics.fppa_deg``, NaN when the
        thigh or shank has no length."""
        value = fppa_deg(*(np.asarray(p, dtype=float) for p in
                           (self.hip, self.knee, self.ankle, self.other_hip)))
        return float(value)


def _xy(v: np.ndarray) -> XY:
    return (float(v[0]), float(v[1]))


def check_xy(xy: XY, what: str = "the point") -> XY:
    """``xy`` as two finite floats. Raises ValueError otherwise."""
    try:
        x, y = (float(v) for v in xy)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be two numbers (x, y), got {xy!r}") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"{what} must be finite, got ({x}, {y})")
    return (x, y)


def remeasure(
    points: LegPoints, moves: Mapping[Point, XY], mapping: FppaMapping = IDENTITY
) -> float:
    """The FPPA (deg) of ``points`` with ``moves`` applied, in the analysis's definition:
    ``mapping`` (``core.fppa.mapping_for`` of the analysis's config) applied to the keypoint
    FPPA with the hip width ratio of the corrected points (``core.fppa.hip_width_ratio``).

    Raises:
        ValueError: an unknown point, a position that is not two finite numbers, points
            that give no angle (two of them on top of each other), or points outside the
            map's range (``FppaMapping.ratio_range``).
    """
    moved = points.moved(moves)
    value = moved.fppa_deg()
    if mapping.maps and math.isfinite(value):
        ratio = points_hip_width_ratio(*(np.asarray(p, dtype=float) for p in
                                         (moved.hip, moved.knee, moved.ankle, moved.other_hip)))
        if math.isfinite(ratio) and not mapping.covers(ratio):
            low, high = mapping.ratio_range
            raise ValueError(
                f"the corrected points give a hip width of {ratio:.3f} of the leg's length, "
                f"outside the range ({low:.2f}-{high:.2f}) on which the map to skin markers was "
                "checked, so no FPPA can be given for them: check the points, or band the rep "
                "by eye")
        value = float(mapping.apply(value, ratio))
    if not math.isfinite(value):
        raise ValueError("the corrected points give no angle: hip, knee and ankle must be "
                         "apart")
    return value


@dataclass(frozen=True)
class PointCorrection:
    """A reviewer's correction of one point of one rep, as the verdict and the report use it.

    ``analysis_id``/``index`` (1-based) name the rep, ``leg`` its scored leg and
    ``frame_index`` the frame corrected (its scored frame). ``point`` was moved from
    ``original_xy`` to ``corrected_xy`` (pose image pixels). ``fppa_deg``: the FPPA measured
    again from the rep's points with every correction in force at the time (this one
    included); ``tool_fppa_deg``: the analysis's own value. ``by``/``at`` (UTC)/``reason``: who
    corrected it, when and why. ``id``: its record (0 before it is stored). ``earlier``: the
    rep's other points corrected before it and still in force, as (point, original,
    corrected), which its ``fppa_deg`` was measured with too (``in_force`` fills it)."""

    analysis_id: int
    index: int
    leg: Side
    frame_index: int
    point: Point
    original_xy: XY
    corrected_xy: XY
    fppa_deg: float
    tool_fppa_deg: float
    by: str
    at: datetime
    reason: str
    id: int = 0
    earlier: tuple[tuple[Point, XY, XY], ...] = ()

    def moves(self) -> dict[Point, tuple[XY, XY]]:
        """Every point of the rep moved by the corrections in force: point -> (original,
        corrected), this one last."""
        moved = {p: (o, c) for p, o, c in self.earlier}
        moved[self.point] = (self.original_xy, self.corrected_xy)
        return moved

    def text(self) -> str:
        """One line for tables and reports, e.g. "FPPA 11.2 deg (tool 8.4 deg, knee point
        corrected by dr.vega on 2026-11-30: the knee marker sat on the patella)"."""
        return (f"FPPA {self.fppa_deg:.1f} deg (tool {self.tool_fppa_deg:.1f} deg, "
                f"{self.point} point corrected by {self.by} on {self.at:%Y-%m-%d}: "
                f"{self.reason})")


def in_force(corrections: list[PointCorrection]) -> dict[tuple[int, int], PointCorrection]:
    """(analysis id, rep index) -> the newest of the rep's ``corrections`` (those not undone;
    by ``id``, then ``at``), its ``earlier`` filled with the rep's other points corrected
    before it: its ``fppa_deg`` was measured with all of them."""
    newest: dict[tuple[int, int], PointCorrection] = {}
    points: dict[tuple[int, int], dict[Point, tuple[XY, XY]]] = {}
    for c in sorted(corrections, key=lambda c: (c.id, c.at)):
        key = (c.analysis_id, c.index)
        before = points.setdefault(key, {})
        earlier = tuple((p, o, n) for p, (o, n) in before.items() if p != c.point)
        newest[key] = dataclasses.replace(c, earlier=earlier)
        before[c.point] = (c.original_xy, c.corrected_xy)
    return newest
