"""Per-rep scores and bands, then per-leg verdicts and left-right symmetry. Pure numpy.

Each rep is scored on its own first (values at its deepest frame, peak on the way down), and only
then aggregated per leg, so that per-rep values are always kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from valgus.config import AnalysisConfig, ValgusThresholds
from valgus.core.checks import QualityIssue
from valgus.core.kinematics import Kinematics
from valgus.core.reasons import Audience, RepIssue, RepIssueCode, incomplete_issue, leg_reasons
from valgus.core.reps import RepCandidate
from valgus.landmarks import SIDES, Side

Band = Literal["fine", "borderline", "excessive", "not_measurable"]
ScoredAt = Literal["bottom", "reference_flexion"] | None
Verdict = Literal["PASS", "NOT YET", "CANNOT ASSESS"]
BANDS: tuple[Band, ...] = ("fine", "borderline", "excessive", "not_measurable")


@dataclass(frozen=True)
class RepScore:
    """Scores of one rep. Angles in degrees; times in seconds from the clip start.

    ``fppa_bottom_deg``: at the deepest frame; None when the thigh is too foreshortened there.
    ``fppa_peak_deg``: largest on the way down (frames with a usable thigh only).
    ``fppa_ref_deg``: at the first frame of the descent reaching the reference flexion (60 deg).
    ``scored_at``: which value the band comes from ("bottom", or "reference_flexion" for squats
    too deep to measure at the bottom); None when the rep is not measurable, and ``issues`` says
    why (codes with their numbers; ``reasons.describe`` words them). ``bottom_index`` is the
    frame index of the deepest frame. ``clip_assessable``: the clip it is from can be assessed
    at all (``result.clip_problem``: camera in front, no blocking check, a single-leg squat).
    """

    leg: Side
    exercise: str
    complete: bool
    start_s: float
    bottom_s: float
    end_s: float
    bottom_index: int
    depth_deg: float
    fppa_bottom_deg: float | None
    fppa_peak_deg: float | None
    fppa_ref_deg: float | None
    scored_at: ScoredAt
    pelvic_drop_deg: float | None
    trunk_lean_deg: float | None
    knee_medial_of_foot: float | None
    descent_s: float
    ascent_s: float
    band: Band
    issues: tuple[RepIssue, ...]
    clip_assessable: bool = True

    @property
    def scored_fppa_deg(self) -> float | None:
        """The FPPA (deg) the band is based on: at the bottom, or at the reference flexion (60
        deg) for squats too deep to measure at the bottom; None when not measured. The one
        picker of "the scored FPPA"."""
        if self.scored_at == "bottom":
            return self.fppa_bottom_deg
        if self.scored_at == "reference_flexion":
            return self.fppa_ref_deg
        return None

    @property
    def valid(self) -> bool:
        """The rep has a trustworthy FPPA (its band is not "not measurable")."""
        return self.band != "not_measurable"

    @property
    def test_rep(self) -> bool:
        """A complete single-leg squat: the kind of rep the test counts (and a reviewer may
        re-band)."""
        return self.complete and self.exercise == "single_leg"

    @property
    def counts_towards_test(self) -> bool:
        """Counts towards the test's 20 reps: a complete single-leg squat, from a clip that can
        be assessed, measurable."""
        return self.test_rep and self.clip_assessable and self.valid


def yaw_fppa_error_deg(flexion_deg: float, yaw_deg: float) -> float:
    """How far a body turn of ``yaw_deg`` can shift the 2D FPPA of a knee flexed ``flexion_deg``.

    A flexed knee sits h = L sin(theta / 2) in front of the hip-ankle line; turning the body by psi
    moves it sideways in the image by h sin(psi), an apparent FPPA of 2 atan(tan(theta/2) sin psi).
    NaN inputs give inf (unknown, so not trusted).
    """
    if not (math.isfinite(flexion_deg) and math.isfinite(yaw_deg)):
        return math.inf
    half = math.radians(min(abs(flexion_deg), 179.0)) / 2.0
    return math.degrees(2.0 * math.atan(math.tan(half) * math.sin(math.radians(abs(yaw_deg)))))


def band_for(fppa_deg: float, threshold_deg: float, margin_deg: float) -> Band:
    """Fine below threshold - margin, excessive above threshold + margin, borderline between."""
    if fppa_deg > threshold_deg + margin_deg:
        return "excessive"
    if fppa_deg >= threshold_deg - margin_deg:
        return "borderline"
    return "fine"


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def score_rep(
    rep: RepCandidate,
    kin: Kinematics,
    cfg: AnalysisConfig,
    frontal_view: bool,
    trusted: np.ndarray | None = None,
    clip_blockers: Sequence[QualityIssue] = (),
) -> RepScore:
    """Score one rep from the clip's kinematics (indices in ``rep.cycle`` refer to ``kin``).

    ``trusted``: (T,) bool per frame from ``trust.landmark_trust`` (None = all trusted).
    ``clip_blockers``: the clip's blocking checks, which make every rep not measurable.
    """
    c = rep.cycle
    leg = kin.leg(rep.leg)
    t = kin.t_s
    b = c.bottom_i
    issues: list[RepIssue] = []
    if not c.complete:
        issues.append(incomplete_issue(c.incomplete))
    if rep.exercise != "single_leg":
        issues.append(RepIssue(RepIssueCode.DOUBLE_LEG))
    if not frontal_view:
        issues.append(RepIssue(RepIssueCode.NOT_FRONTAL))
    issues.extend(
        RepIssue(RepIssueCode.CLIP_BLOCKED, {"quality": q.code, **q.values})
        for q in clip_blockers
    )
    window = slice(c.start_i, c.end_i + 1)
    coverage = float(np.mean(kin.detected[window])) if c.end_i >= c.start_i else 0.0
    if coverage < cfg.view.min_rep_coverage:
        issues.append(RepIssue(RepIssueCode.LANDMARKS_LOST, {"lost_pct": 100 * (1 - coverage)}))
    elif trusted is not None:
        untrusted = 1.0 - float(np.mean(trusted[window]))
        if untrusted > cfg.quality.max_untrusted_rep_fraction:
            issues.append(
                RepIssue(RepIssueCode.UNRELIABLE_JOINTS, {"untrusted_pct": 100 * untrusted})
            )
    if c.complete and b - c.start_i + 1 < cfg.quality.min_descent_frames:
        issues.append(
            RepIssue(RepIssueCode.FEW_DESCENT_FRAMES, {"frames": float(b - c.start_i + 1)})
        )
    standing_thigh = float(np.nanmax(leg.thigh_len_px[window])) if coverage > 0 else math.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        thigh_ok = leg.thigh_len_px / standing_thigh >= cfg.view.min_thigh_length_ratio
    descent = np.arange(c.start_i, b + 1)
    usable = descent[thigh_ok[descent] & np.isfinite(leg.fppa_deg[descent])]
    fppa_peak = float(np.max(leg.fppa_deg[usable])) if usable.size else None
    # Studies also sample FPPA at 60 deg of knee flexion (Willson 2006; Munro 2012); deep squats
    # are scored there when the thigh is too foreshortened at the bottom.
    at_ref = usable[leg.flexion_deg[usable] >= cfg.view.reference_flexion_deg]
    fppa_ref = float(leg.fppa_deg[at_ref[0]]) if at_ref.size else None
    fppa_bottom = _finite_or_none(leg.fppa_deg[b]) if thigh_ok[b] else None
    scored_at: ScoredAt = "bottom"
    if fppa_bottom is None:
        if fppa_ref is not None:
            scored_at = "reference_flexion"
        elif not thigh_ok[b]:
            issues.append(RepIssue(RepIssueCode.THIGH_FORESHORTENED))
        else:
            issues.append(RepIssue(RepIssueCode.FPPA_UNMEASURED))
    scored_i = b if scored_at == "bottom" else (int(at_ref[0]) if at_ref.size else b)
    if trusted is not None and not issues:
        near = np.abs(t - t[scored_i]) <= cfg.quality.scored_window_s / 2.0
        if not np.all(trusted[near]):
            issues.append(RepIssue(RepIssueCode.UNRELIABLE_SCORED_FRAME))
    rep_yaw = np.abs(kin.yaw_deg[window])
    rep_yaw = rep_yaw[np.isfinite(rep_yaw)]
    yaw_deg = float(np.median(rep_yaw)) if rep_yaw.size else math.nan
    beyond_noise = max(0.0, yaw_deg - cfg.view.yaw_noise_deg) if rep_yaw.size else math.nan
    possible_error = yaw_fppa_error_deg(leg.flexion_deg[scored_i], beyond_noise)
    if frontal_view and possible_error > cfg.view.max_yaw_fppa_error_deg:
        issues.append(RepIssue(
            RepIssueCode.NOT_SQUARE, {"yaw_deg": yaw_deg, "possible_error_deg": possible_error}
        ))
    band: Band
    if issues:
        band = "not_measurable"
        fppa_bottom = fppa_peak = fppa_ref = None
        scored_at = None
    else:
        v: ValgusThresholds = cfg.valgus
        scored = fppa_bottom if scored_at == "bottom" else fppa_ref
        band = band_for(scored or 0.0, v.threshold_deg(cfg.sex), v.borderline_margin_deg)
    return RepScore(
        leg=rep.leg,
        exercise=rep.exercise,
        complete=c.complete,
        start_s=float(t[c.start_i]),
        bottom_s=float(t[b]),
        end_s=float(t[c.end_i]),
        bottom_index=int(b),
        depth_deg=float(c.depth_deg),
        fppa_bottom_deg=fppa_bottom,
        fppa_peak_deg=fppa_peak,
        fppa_ref_deg=fppa_ref,
        scored_at=scored_at,
        # Frontal-plane measures mean nothing from the side: withhold them with the FPPA.
        pelvic_drop_deg=_finite_or_none(leg.pelvic_drop_deg[b]) if frontal_view else None,
        trunk_lean_deg=_finite_or_none(leg.trunk_lean_deg[b]) if frontal_view else None,
        knee_medial_of_foot=(
            _finite_or_none(leg.knee_medial_of_foot[b]) if frontal_view else None
        ),
        descent_s=float(t[b] - t[c.start_i]),
        ascent_s=float(t[c.end_i] - t[b]),
        band=band,
        issues=tuple(issues),
    )


@dataclass(frozen=True)
class SquatRep:
    """A rep as a verdict sees it: the analysis's ``score`` and the ``band`` in force (the
    reviewer's when ``override_reason`` is set, else the analysis's). ``analysis_id``/``index``
    (1-based) name it in the records; a fresh analysis uses analysis id 0."""

    analysis_id: int
    index: int
    score: RepScore
    band: Band
    override_reason: str | None = None

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
    def original_band(self) -> Band:
        return self.score.band

    @property
    def fppa_deg(self) -> float | None:
        """The FPPA (deg, + = valgus) the analysis banded; None when not measured (also for a
        rep a reviewer marked valid by eye)."""
        return self.score.scored_fppa_deg

    @property
    def overridden(self) -> bool:
        return self.override_reason is not None


@dataclass(frozen=True)
class LegVerdict:
    """The squat criterion's verdict for one leg. Angles in degrees; None where there is no
    valid rep (or, after review, no valid rep with a measured FPPA).

    ``reps_seen``: complete single-leg reps of the leg; ``valid_reps``: those counting towards
    the test; ``overridden_reps``: counted reps a reviewer re-banded.
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


def leg_verdict(
    leg: Side,
    reps: Sequence[SquatRep],
    required_reps: int,
    thresholds: tuple[float, float],
    not_assessable: Sequence[str] = (),
    audience: Audience = "person",
) -> LegVerdict:
    """The criterion "single-leg squat, N repetitions, no excessive knee valgus" (REFERENCE
    section 1) on one leg: PASS = at least ``required_reps`` (20) valid reps and none excessive;
    NOT YET = an excessive rep or too few valid reps; CANNOT ASSESS = no valid rep. The one rule
    for fresh analyses and reviewed records (where overrides re-band reps).

    ``reps`` may pool several clips (e.g. one per leg); only ``counted`` reps of ``leg`` count,
    in the band in force. ``thresholds``: (excessive FPPA, borderline margin) in deg, for the
    words. ``not_assessable``: why clips could not be assessed (the reasons when nothing
    counted). ``audience``: who the reasons are worded for (``reasons.leg_reasons``).
    """
    own = [r for r in reps if r.leg == leg]
    counted = [r for r in own if r.counted]
    valid = [r for r in counted if r.counts_towards_test]
    fppa = [f for f in (r.fppa_deg for r in valid) if f is not None]
    depth = [r.score.depth_deg for r in valid]
    excessive = sum(r.band == "excessive" for r in valid)
    borderline = sum(r.band == "borderline" for r in valid)
    overridden = sum(r.overridden for r in counted)
    verdict: Verdict
    if not valid:
        verdict = "CANNOT ASSESS"
    else:
        verdict = "NOT YET" if excessive or len(valid) < required_reps else "PASS"
    reasons = leg_reasons(
        seen=len(counted), valid=len(valid), excessive=excessive, borderline=borderline,
        overridden=overridden, required=required_reps, passed=verdict == "PASS",
        threshold_deg=thresholds[0], margin_deg=thresholds[1],
        not_assessable=tuple(not_assessable), audience=audience,
    )
    return LegVerdict(
        leg=leg,
        reps_seen=sum(r.score.test_rep for r in own),
        valid_reps=len(valid),
        excessive_reps=excessive,
        borderline_reps=borderline,
        worst_fppa_deg=float(max(fppa)) if fppa else None,
        median_fppa_deg=float(np.median(fppa)) if fppa else None,
        median_depth_deg=float(np.median(depth)) if depth else None,
        verdict=verdict,
        reasons=reasons,
        overridden_reps=overridden,
    )


def symmetry_index_pct(left: float, right: float) -> float | None:
    """Limb symmetry index, smaller / larger x 100; None when undefined (both ~0 or missing)."""
    if not (math.isfinite(left) and math.isfinite(right)):
        return None
    hi = max(abs(left), abs(right))
    return None if hi < 1e-9 else 100.0 * min(abs(left), abs(right)) / hi


@dataclass(frozen=True)
class Symmetry:
    """Left-right comparison; ``*_lsi_pct`` = smaller / larger x 100 (100 = symmetric)."""

    reps_lsi_pct: float | None
    depth_lsi_pct: float | None
    fppa_lsi_pct: float | None
    fppa_difference_deg: float | None
    notes: tuple[str, ...]


def symmetry(left: LegVerdict, right: LegVerdict, cfg: AnalysisConfig) -> Symmetry | None:
    """Compare the legs; None unless both have valid reps."""
    if not (left.valid_reps and right.valid_reps):
        return None
    nan = math.nan
    lfp, rfp = left.median_fppa_deg, right.median_fppa_deg
    reps = symmetry_index_pct(left.valid_reps, right.valid_reps)
    depth = symmetry_index_pct(left.median_depth_deg or nan, right.median_depth_deg or nan)
    fppa = symmetry_index_pct(lfp if lfp is not None else nan, rfp if rfp is not None else nan)
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
    return Symmetry(reps, depth, fppa, diff, tuple(notes))


def all_leg_verdicts(
    reps: Sequence[RepScore], cfg: AnalysisConfig, not_assessable: Sequence[str] = ()
) -> dict[Side, LegVerdict]:
    """Both legs' verdicts of one fresh analysis (``leg_verdict`` without overrides), worded
    for the person filmed."""
    pool = [SquatRep.of(r, n) for n, r in enumerate(reps, start=1)]
    thr = (cfg.valgus.threshold_deg(cfg.sex), cfg.valgus.borderline_margin_deg)
    return {
        s: leg_verdict(s, pool, cfg.clearance.required_reps, thr, not_assessable)
        for s in SIDES
    }
