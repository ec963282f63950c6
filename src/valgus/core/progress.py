"""A person's squat FPPA across sessions, judged against the smallest detectable change. Pure
Python on plain data (``valgus.core.clearance`` re-exports it; ``valgus.store.summary`` builds
the sessions from the records).

A session's FPPA is on one of several definitions (``config.ValgusThresholds.definition``: the
pose keypoints' own reading with no sex given, mapped to skin markers with one), which differ by
several degrees for the same knee. A change is only ever computed between sessions on the same
definition; across definitions it is reported as not comparable, never as a number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from valgus.config import AnalysisConfig
from valgus.core.fppa import DEFINITION_LABEL
from valgus.core.scoring import SquatRep
from valgus.landmarks import SIDES, Side

# A leg's median pooled over analyses on different FPPA definitions: comparable with nothing.
# Since such a session has no verdict or median (``clearance.squat_results``), this is reached
# only by sessions signed before that rule, whose sealed results may still pool them.
MIXED = "mixed"
# The start of the not-comparable wording (a table cell may show only this).
NOT_COMPARABLE = "not comparable"


def definition_text(definition: str | None) -> str:
    """A session leg's FPPA definition in words: "from pose keypoints", "mapped to skin
    markers" (``core.fppa.DEFINITION_LABEL``), "from mixed FPPA definitions" (``MIXED``), "of an
    unrecorded definition" (None)."""
    if definition == MIXED:
        return "from mixed FPPA definitions"
    if definition is None:
        return "of an unrecorded definition"
    return DEFINITION_LABEL.get(definition, definition)


def leg_definitions(
    reps: Sequence[SquatRep], configs: Mapping[int, AnalysisConfig]
) -> dict[Side, str | None]:
    """The FPPA definition each leg's session median is on: that of the analyses (analysis id
    -> config) with counted reps of the leg; ``MIXED`` when they disagree, None when the leg has
    no counted rep (or its analysis is not in ``configs``)."""
    out: dict[Side, str | None] = {}
    for leg in SIDES:
        found = {configs[r.analysis_id].valgus.definition(configs[r.analysis_id].sex)
                 for r in reps if r.leg == leg and r.counted and r.analysis_id in configs}
        out[leg] = found.pop() if len(found) == 1 else (MIXED if found else None)
    return out


@dataclass(frozen=True)
class SessionFppa:
    """One session's squat FPPA per leg (median of the valid reps, deg; None = not measured) and
    the FPPA definition each leg's median is on (``config.FppaDefinition``, ``MIXED``, or None
    = not recorded: comparable only with other sessions not recorded either)."""

    session_id: int
    session_date: date
    median_fppa_deg: Mapping[Side, float | None]
    valid_reps: Mapping[Side, int]
    definition: Mapping[Side, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class FppaChange:
    """Change of a leg's median FPPA against an earlier session on the same definition (deg, +
    = more valgus). ``real``: at least the smallest detectable change, i.e. beyond measurement
    noise. ``skipped``: sessions on another definition lie between the two (the change is
    against the last one on this one, ``definition``)."""

    since_session_id: int
    since_date: date
    delta_deg: float
    real: bool
    definition: str | None = None
    skipped: bool = False

    def describe(self, sdc_deg: float) -> str:
        """The change in words, e.g. "-10.0 deg (less valgus, a real change)"."""
        if not self.real:
            text = f"{self.delta_deg:+.1f} deg (within the {sdc_deg:.1f} deg noise"
        else:
            direction = "less valgus" if self.delta_deg < 0 else "more valgus"
            text = f"{self.delta_deg:+.1f} deg ({direction}, a real change"
        if self.skipped:
            text += (f"; against {self.since_date.isoformat()}, the last session "
                     f"{definition_text(self.definition)}")
        return text + ")"


@dataclass(frozen=True)
class NotComparable:
    """An earlier session's FPPA of the leg is on another definition (``since_definition``) than
    this session's (``definition``): no change is computed. ``real`` is always False."""

    since_session_id: int
    since_date: date
    since_definition: str | None
    definition: str | None
    real: bool = False

    def describe(self, sdc_deg: float | None = None) -> str:
        """Why there is no number and what to do (``sdc_deg`` unused: the same call as
        ``FppaChange.describe``)."""
        redo = ("re-score this session's analyses under the clinic's settings"
                if self.definition == MIXED
                else "to compare, re-score whichever of the two sessions is not on the clinic's "
                     "settings (a signed session stays as it was signed)")
        return (f"{NOT_COMPARABLE}: the {self.since_date.isoformat()} FPPA "
                f"is {definition_text(self.since_definition)}, this one is "
                f"{definition_text(self.definition)}; {redo}")


Change = FppaChange | NotComparable


@dataclass(frozen=True)
class ProgressRow:
    """A session in a person's history with its change from the previous measured session and
    from the first one, per leg (``NotComparable`` where that session is on another FPPA
    definition and none earlier is on this one; None where there is no earlier one)."""

    session: SessionFppa
    since_previous: Mapping[Side, Change | None]
    since_first: Mapping[Side, Change | None]


def _change(point: SessionFppa, leg: Side, same: SessionFppa | None, any_: SessionFppa | None,
            sdc_deg: float, skipped: bool) -> Change | None:
    """``point``'s leg against ``same`` (an earlier session on its definition), else reported
    as not comparable with ``any_`` (an earlier measured session on another one)."""
    value = point.median_fppa_deg.get(leg)
    definition = point.definition.get(leg)
    ref_value = same.median_fppa_deg.get(leg) if same is not None else None
    if same is not None and value is not None and ref_value is not None:
        delta = value - ref_value
        return FppaChange(same.session_id, same.session_date, delta, abs(delta) >= sdc_deg,
                          definition, skipped)
    if any_ is not None:
        return NotComparable(any_.session_id, any_.session_date, any_.definition.get(leg),
                             definition)
    return None


def progress(points: Sequence[SessionFppa], sdc_deg: float) -> list[ProgressRow]:
    """Sessions in date order, each leg's FPPA compared with the last earlier session where that
    leg was measured on the same definition and with the first such session. A change counts as
    real when its size is at least ``sdc_deg`` (Munro 2012: 7.5 deg); smaller changes cannot be
    told from noise. Where no earlier session is on the leg's definition (``MIXED`` is on none)
    but one was measured, the change is ``NotComparable`` with the last (previous) or the first
    (first) measured one."""
    rows: list[ProgressRow] = []
    measured: dict[Side, list[SessionFppa]] = {leg: [] for leg in SIDES}
    for point in sorted(points, key=lambda p: (p.session_date, p.session_id)):
        since_prev: dict[Side, Change | None] = {}
        since_first: dict[Side, Change | None] = {}
        for leg in SIDES:
            since_prev[leg] = since_first[leg] = None
            if point.median_fppa_deg.get(leg) is None:
                continue
            earlier = measured[leg]
            definition = point.definition.get(leg)
            same = ([] if definition == MIXED else
                    [p for p in earlier if p.definition.get(leg) == definition])
            if earlier:
                last = same[-1] if same else None
                since_prev[leg] = _change(point, leg, last, earlier[-1], sdc_deg,
                                          skipped=last is not None and last is not earlier[-1])
                since_first[leg] = _change(point, leg, same[0] if same else None, earlier[0],
                                           sdc_deg, skipped=False)
            earlier.append(point)
        rows.append(ProgressRow(point, since_prev, since_first))
    return rows


def definition_runs(rows: Sequence[ProgressRow], leg: Side) -> list[list[ProgressRow]]:
    """The rows where ``leg`` was measured, in order, split into runs of one FPPA definition: a
    chart draws each run as its own line, never a line across definitions."""
    runs: list[list[ProgressRow]] = []
    for row in rows:
        if row.session.median_fppa_deg.get(leg) is None:
            continue
        if runs and runs[-1][-1].session.definition.get(leg) == row.session.definition.get(leg):
            runs[-1].append(row)
        else:
            runs.append([row])
    return runs
