"""Per-rep scores and bands, then per-leg verdicts and left-right symmetry. Pure numpy.

Each rep is scored on its own first (``core.rep_score``, re-exported here: values at its deepest
frame, peak on the way down), and only then aggregated per leg, so that per-rep values are always
kept. A leg is decided on its set of reps (``leg_verdict``; the error model is in
``core.uncertainty``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from valgus.config import AnalysisConfig, FppaDefinition
from valgus.core.correction import PointCorrection
from valgus.core.reasons import Audience, cycles_sentence, leg_reasons
from valgus.core.reasons.verdict import deeper_than_protocol, symmetry_withheld, too_few_reps
from valgus.core.rep_score import BANDS as BANDS
from valgus.core.rep_score import RepScore as RepScore
from valgus.core.rep_score import ScoredAt as ScoredAt
from valgus.core.rep_score import knee_ankle_separation_ratio as knee_ankle_separation_ratio
from valgus.core.rep_score import score_rep as score_rep
from valgus.core.rep_score import yaw_fppa_error_deg as yaw_fppa_error_deg
from valgus.core.uncertainty import Band as Band
from valgus.core.uncertainty import Position, SetEstimate, set_estimate
from valgus.core.uncertainty import band_for as band_for
from valgus.landmarks import SIDES, Side

Verdict = Literal["PASS", "UNCERTAIN", "NOT YET", "CANNOT ASSESS"]


@dataclass(frozen=True)
class SquatRep:
    """A rep as a verdict sees it: the analysis's ``score`` and the ``band`` in force (the
    reviewer's when ``override_reason`` is set, else the analysis's). ``analysis_id``/``index``
    (1-based) name it in the records; a fresh analysis uses analysis id 0. ``correction``: a
    reviewer moved a point at the scored frame (``core.correction``): its re-measured FPPA is
    the rep's FPPA and ``band`` is banded from it (unless re-banded by hand)."""

    analysis_id: int
    index: int
    score: RepScore
    band: Band
    override_reason: str | None = None
    correction: PointCorrection | None = None

    @classmethod
    def of(cls, score: RepScore, index: int, analysis_id: int = 0) -> SquatRep:
        """The rep as the analysis banded it."""
        return cls(analysis_id, index, score, score.band)

    @property
    def leg(self) -> Side:
        return self.score.leg

    @property
    def counted(self) -> bool:
        """A complete single-leg rep from a clip that could be assessed: it counts towards the
        verdict (as measured, or as a reviewer re-banded it)."""
        return self.score.test_rep and self.score.clip_assessable

    @property
    def counts_towards_test(self) -> bool:
        """Counted and measurable in the band in force."""
        return self.counted and self.band != "not_measurable"

    @property
    def not_counted_code(self) -> str | None:
        """Why the rep does not count towards the test: the code of its first issue, else
        "clip_not_assessable" or "not_measurable"; None when it counts. The one rule a leg's
        tally (``leg_verdict``) and the records' rep tables use."""
        if self.counts_towards_test:
            return None
        if self.score.issues:
            return str(self.score.issues[0].code)
        return "not_measurable" if self.score.clip_assessable else "clip_not_assessable"

    @property
    def original_band(self) -> Band:
        return self.score.band

    @property
    def fppa_deg(self) -> float | None:
        """The FPPA (deg, + = valgus) in force: re-measured from a reviewer's corrected points
        when there is a correction, else the one the analysis banded; None when not measured
        (also for a rep a reviewer marked valid by eye)."""
        if self.correction is not None:
            return self.correction.fppa_deg
        return self.score.scored_fppa_deg

    @property
    def tool_fppa_deg(self) -> float | None:
        """The FPPA (deg) the analysis measured, whatever a reviewer corrected."""
        return self.score.scored_fppa_deg

    @property
    def corrected(self) -> bool:
        return self.correction is not None

    @property
    def overridden(self) -> bool:
        return self.override_reason is not None


@dataclass(frozen=True)
class LegRule:
    """What ``leg_verdict`` applies: ``threshold_deg`` (FPPA above it is excessive valgus, deg),
    ``error_sd_deg`` (one SD of the measurement error of a person's FPPA, deg:
    ``ValgusThresholds.margin_deg``, also the half-width of the rep bands) and
    ``required_reps`` (measurable reps the test asks for per leg)."""

    threshold_deg: float
    error_sd_deg: float
    required_reps: int
    # Counted reps deeper than this knee flexion (deg) are named in the reasons; on "keypoint"
    # the measured ones among them also keep the leg from PASS
    # (``ClearanceConfig.protocol_depth_deg``); inf: never.
    protocol_depth_deg: float = math.inf
    # The FPPA definition the reps are in (``ValgusThresholds.definition``): on "keypoint" a
    # leg with reps deeper than ``protocol_depth_deg`` is never PASS (that reading runs low
    # there: README "FPPA definitions").
    definition: FppaDefinition = "keypoint"

    @classmethod
    def of(cls, cfg: AnalysisConfig, required_reps: int | None = None) -> LegRule:
        """The rule of an analysis config (its sex-specific threshold); ``required_reps``
        overrides the config's."""
        need = cfg.clearance.required_reps if required_reps is None else required_reps
        return cls(cfg.valgus.threshold_deg(cfg.sex), cfg.valgus.margin_deg(cfg.sex), need,
                   cfg.clearance.protocol_depth_deg, cfg.valgus.definition(cfg.sex))

    @property
    def excessive_above_deg(self) -> float:
        """A single rep is "excessive" above this FPPA (deg)."""
        return self.threshold_deg + self.error_sd_deg

    @property
    def fine_below_deg(self) -> float:
        """A single rep is "fine" below this FPPA (deg)."""
        return self.threshold_deg - self.error_sd_deg


@dataclass(frozen=True)
class LegVerdict:
    """The squat criterion's verdict for one leg. Angles in degrees; None where there is no
    valid rep with a measured FPPA.

    ``reps_seen``: complete single-leg reps of the leg; ``valid_reps``: those counting towards
    the test; ``overridden_reps``: counted reps a reviewer re-banded. ``measured_reps``: valid
    reps whose measured FPPA stands (not re-banded by a reviewer): the set that ``worst``,
    ``median``, ``mean_fppa_deg``, ``fppa_spread_deg`` (sample SD) and ``uncertainty_deg`` (one
    SD of the mean, ``uncertainty.set_estimate``) describe. ``threshold_deg``: the rule's.
    ``position``: the set against the threshold ("below", "within", "above").
    ``cycles_found``: every knee-bend cycle of this knee in the result (reps, the free leg's
    bends, unclear ones); ``not_counted``: why those not counting towards the test were not,
    as (reason code, cycles) by the first reason of each (a ``RepIssueCode``, or
    "clip_not_assessable" / "not_measurable"); 0 and () in results stored before issue 16.
    """

    leg: Side
    reps_seen: int
    valid_reps: int
    excessive_reps: int
    borderline_reps: int
    worst_fppa_deg: float | None
    median_fppa_deg: float | None
    median_depth_deg: float | None
    verdict: Verdict
    reasons: tuple[str, ...]
    overridden_reps: int = 0
    measured_reps: int = 0
    mean_fppa_deg: float | None = None
    fppa_spread_deg: float | None = None
    uncertainty_deg: float | None = None
    threshold_deg: float | None = None
    position: Position | None = None
    cycles_found: int = 0
    not_counted: tuple[tuple[str, int], ...] = ()


def _decide(
    valid: int, estimate: SetEstimate | None, rule: LegRule, measured_excessive: int,
    confirmed_excessive: int, reviewer_borderline: int, deep_reps: int = 0,
) -> Verdict:
    """The verdict from the counts and the set (see ``leg_verdict``)."""
    if not valid:
        return "CANNOT ASSESS"
    position = estimate.position(rule.threshold_deg) if estimate else None
    if position == "above" or confirmed_excessive or too_few_reps(valid, rule.required_reps):
        return "NOT YET"
    if position == "within" or measured_excessive or (reviewer_borderline and not estimate):
        return "UNCERTAIN"
    if deep_reps and rule.definition == "keypoint":
        # Past the protocol's depth the unmapped keypoint FPPA reads low (lenient): never a
        # pass on such reps.
        return "UNCERTAIN"
    return "PASS"


def leg_verdict(
    leg: Side,
    reps: Sequence[SquatRep],
    rule: LegRule,
    not_assessable: Sequence[str] = (),
    audience: Audience = "person",
) -> LegVerdict:
    """The criterion "single-leg squat, N repetitions, no excessive knee valgus" (REFERENCE
    section 1) on one leg, decided on its set of reps. The one rule, for fresh analyses, the
    live page and reviewed records (where a reviewer's bands replace the measured ones).

    The set: the valid reps whose measured FPPA stands, its mean m with uncertainty u = sqrt(e^2
    + s^2 / n) (e: ``rule.error_sd_deg``, the SEM of manual 2D FPPA, Munro 2012, combined with
    valgus's own error; s: the reps' spread; ``uncertainty.set_estimate``). The studies behind
    the thresholds score the mean of a leg's trials (Willson & Davis 2008; Munro 2012;
    Herrington 2014), and a band of one SEM around the threshold is where a 2D FPPA cannot be
    called either way (Munro 2012). With T the threshold:

    - CANNOT ASSESS: no valid rep (``not_assessable`` gives why, when clips could not count);
    - NOT YET: m - u > T (clearly excessive), or a reviewer banded a rep excessive, or fewer than
      ``rule.required_reps`` valid reps;
    - UNCERTAIN (re-test or clinician review): T lies within m +/- u, or a rep reads excessive
      (above T + e) while the set does not, or no measured FPPA is left and a reviewer banded a
      rep borderline;
    - PASS: enough valid reps, m + u < T (clearly fine, or every rep judged fine by a reviewer),
      no rep excessive.

    A rep a reviewer re-banded adds no number to the set (the reviewer overruled it) and counts
    by its band: excessive is a fail of the criterion, borderline or fine leaves the call to the
    set of measured reps. A rep whose points a reviewer corrected (``SquatRep.correction``)
    stays in the set with its re-measured FPPA in place of the tool's, and its band is that
    value's; the reasons say how many such reps the set holds.

    ``reps`` may pool several clips; only ``counted`` reps of ``leg`` count, in the band in
    force. ``audience``: who the reasons are worded for (``reasons.leg_reasons``).
    """
    own = [r for r in reps if r.leg == leg]
    counted = [r for r in own if r.counted]
    valid = [r for r in counted if r.counts_towards_test]
    stands = [r for r in valid if not r.overridden]
    fppa = [f for f in (r.fppa_deg for r in stands) if f is not None]
    depth = [r.score.depth_deg for r in valid]
    estimate = set_estimate(fppa, rule.error_sd_deg)
    measured_excessive = sum(r.band == "excessive" for r in stands)
    confirmed_excessive = sum(r.band == "excessive" and r.overridden for r in valid)
    reviewer_borderline = sum(r.band == "borderline" and r.overridden for r in valid)
    overridden = sum(r.overridden for r in counted)
    # Reps past the protocol's depth: named whether measured or banded by a reviewer; only the
    # measured ones keep a keypoint-FPPA leg from PASS (a reviewer's band is the reviewer's).
    deep = [r for r in valid if r.score.depth_deg > rule.protocol_depth_deg]
    deep_measured = sum(not r.overridden and r.fppa_deg is not None for r in deep)
    verdict = _decide(len(valid), estimate, rule, measured_excessive, confirmed_excessive,
                      reviewer_borderline, deep_measured)
    reasons = leg_reasons(
        seen=len(counted), valid=len(valid), verdict=verdict, estimate=estimate,
        measured_excessive=measured_excessive, confirmed_excessive=confirmed_excessive,
        reviewer_borderline=reviewer_borderline, overridden=overridden,
        required=rule.required_reps, threshold_deg=rule.threshold_deg,
        margin_deg=rule.error_sd_deg, not_assessable=tuple(not_assessable), audience=audience,
    )
    corrected = sum(r.corrected for r in stands if r.fppa_deg is not None)
    if corrected:
        reasons = (*reasons, _corrected_sentence(corrected))
    if deep:
        reasons = (*reasons, deeper_than_protocol(
            len(deep), len(valid), max(r.score.depth_deg for r in deep), rule.protocol_depth_deg,
            rule.definition if deep_measured else "reviewed"))
    tally = _not_counted(own)
    # The tally, unless the clip's own problem (the first reason) is all that kept them out.
    if len(own) > len(valid) and {code for code, _ in tally} != {"clip_not_assessable"}:
        reasons = (*reasons, cycles_sentence(len(own), len(valid), dict(tally)))
    return LegVerdict(
        leg=leg,
        reps_seen=sum(r.score.test_rep for r in own),
        valid_reps=len(valid),
        excessive_reps=sum(r.band == "excessive" for r in valid),
        borderline_reps=sum(r.band == "borderline" for r in valid),
        worst_fppa_deg=float(max(fppa)) if fppa else None,
        median_fppa_deg=float(np.median(fppa)) if fppa else None,
        median_depth_deg=float(np.median(depth)) if depth else None,
        verdict=verdict,
        reasons=reasons,
        overridden_reps=overridden,
        measured_reps=len(fppa),
        mean_fppa_deg=estimate.mean_deg if estimate else None,
        fppa_spread_deg=estimate.spread_deg if estimate else None,
        uncertainty_deg=estimate.uncertainty_deg if estimate else None,
        threshold_deg=rule.threshold_deg,
        position=estimate.position(rule.threshold_deg) if estimate else None,
        cycles_found=len(own),
        not_counted=tally,
    )


def _corrected_sentence(n: int) -> str:
    """The reason that says the set holds FPPA values re-measured from corrected points."""
    reps = "1 rep's FPPA" if n == 1 else f"{n} reps' FPPA"
    return (f"{reps} re-measured from points a reviewer corrected at the scored frame (in "
            "place of the tool's value)")


def _not_counted(reps: Sequence[SquatRep]) -> tuple[tuple[str, int], ...]:
    """(reason code, cycles) for the reps that do not count towards the test, by the first
    reason of each, most frequent first."""
    counts: dict[str, int] = {}
    for r in reps:
        code = r.not_counted_code
        if code is not None:
            counts[code] = counts.get(code, 0) + 1
    return tuple(sorted(counts.items(), key=lambda kv: -kv[1]))


def symmetry_index_pct(left: float, right: float) -> float | None:
    """Limb symmetry index, smaller / larger x 100; None when undefined (both ~0 or missing)."""
    if not (math.isfinite(left) and math.isfinite(right)):
        return None
    hi = max(abs(left), abs(right))
    return None if hi < 1e-9 else 100.0 * min(abs(left), abs(right)) / hi


@dataclass(frozen=True)
class Symmetry:
    """Left-right comparison; ``*_lsi_pct`` = smaller / larger x 100 (100 = symmetric) of the
    rep counts and median depths; the median FPPA compared by ``fppa_difference_deg`` (deg)
    only (``fppa_lsi_pct`` is None: kept for stored results). Every value None and a note saying
    why when it is withheld (``symmetry``)."""

    reps_lsi_pct: float | None
    depth_lsi_pct: float | None
    fppa_lsi_pct: float | None
    fppa_difference_deg: float | None
    notes: tuple[str, ...]

    @property
    def given(self) -> bool:
        """Any comparison made (False: withheld, the notes say why)."""
        return any(v is not None for v in (self.reps_lsi_pct, self.depth_lsi_pct,
                                           self.fppa_lsi_pct, self.fppa_difference_deg))


def symmetry(left: LegVerdict, right: LegVerdict, cfg: AnalysisConfig) -> Symmetry | None:
    """Compare the legs; None unless both have valid reps, withheld (no values, the reason as
    its note) while either has fewer than ``cfg.clearance.min_symmetry_reps``."""
    if not (left.valid_reps and right.valid_reps):
        return None
    minimum = cfg.clearance.min_symmetry_reps
    if min(left.valid_reps, right.valid_reps) < minimum:
        counts: dict[str, int] = {v.leg: v.valid_reps for v in (left, right)}
        return Symmetry(None, None, None, None, (symmetry_withheld(counts, minimum),))
    nan = math.nan
    lfp, rfp = left.median_fppa_deg, right.median_fppa_deg
    reps = symmetry_index_pct(left.valid_reps, right.valid_reps)
    depth = symmetry_index_pct(left.median_depth_deg or nan, right.median_depth_deg or nan)
    # No FPPA index: a ratio of signed angles means nothing (-3 and +3 deg would read 100 %,
    # 1 and 2 deg 50 %); the legs' FPPA are compared by their difference against the smallest
    # detectable change. ``fppa_lsi_pct`` stays for results stored with it, empty from now on.
    diff = abs(lfp - rfp) if lfp is not None and rfp is not None else None
    notes: list[str] = []
    limit = cfg.clearance.min_symmetry_pct
    if reps is not None and reps < limit:
        notes.append(f"rep counts differ: limb symmetry {reps:.0f}% (below {limit:.0f}%)")
    if depth is not None and depth < limit:
        notes.append(f"squat depth differs: limb symmetry {depth:.0f}% (below {limit:.0f}%)")
    if diff is not None:
        sdc = cfg.clearance.fppa_sdc_deg
        if diff >= sdc:
            notes.append(f"median FPPA differs by {diff:.1f} deg, more than measurement noise")
        else:
            notes.append(
                f"median FPPA differs by {diff:.1f} deg, within measurement noise "
                f"({sdc:.1f} deg); the ratio of two small angles is not meaningful"
            )
    return Symmetry(reps, depth, None, diff, tuple(notes))


def all_leg_verdicts(
    reps: Sequence[RepScore], cfg: AnalysisConfig, not_assessable: Sequence[str] = ()
) -> dict[Side, LegVerdict]:
    """Both legs' verdicts of one fresh analysis (``leg_verdict`` without overrides), worded
    for the person filmed. The upload, the CLI, batch and the live page all call this."""
    pool = [SquatRep.of(r, n) for n, r in enumerate(reps, start=1)]
    rule = LegRule.of(cfg)
    return {s: leg_verdict(s, pool, rule, not_assessable) for s in SIDES}
