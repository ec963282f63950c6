"""Return-to-running clearance: the four criteria combined into CLEARED / NOT YET, with reasons,
and a person's FPPA across sessions judged against the smallest detectable change (that part in
``valgus.core.progress``, re-exported here). Pure Python on plain data (typed analysis
results, entered values, overrides), so the rules are unit-tested without a database, a video
or a model. The squat criterion per leg is ``scoring.leg_verdict``, the same rule as the
analysis's, on reps re-banded by the reviewer; only PASS meets it (UNCERTAIN, a set of reps
within the measurement error of the threshold, is not cleared: re-test or review).

Criteria (REFERENCE section 1, return to running after patellofemoral pain):

1. single-leg squat, 20 repetitions per leg: no excessive knee valgus (measured from video, after
   the clinician's per-rep band overrides) and no pain (entered, 0-10 per leg);
2. stair descent: no pain (entered, yes/no);
3. 20-30 minutes of easy running: no pain during it, none the following morning (entered, 0-10);
4. strength: limb symmetry index LSI = involved / uninvolved x 100 at least 85-90 %.

A decision computed here is a proposal; the clearance record is final only when a reviewer signs
it (``valgus.store``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from valgus.config import AnalysisConfig, ClearanceConfig
from valgus.core.correction import PointCorrection, in_force
from valgus.core.fppa import definition_label
from valgus.core.progress import MIXED as MIXED
from valgus.core.progress import NOT_COMPARABLE as NOT_COMPARABLE
from valgus.core.progress import FppaChange as FppaChange
from valgus.core.progress import NotComparable as NotComparable
from valgus.core.progress import ProgressRow as ProgressRow
from valgus.core.progress import SessionFppa as SessionFppa
from valgus.core.progress import leg_definitions as leg_definitions
from valgus.core.progress import progress as progress
from valgus.core.reasons.verdict import mixed_definitions
from valgus.core.result import AnalysisResult
from valgus.core.scoring import BANDS as BANDS  # re-exported: the review offers them
from valgus.core.scoring import (
    Band,
    LegRule,
    LegVerdict,
    RepScore,
    SquatRep,
    band_for,
    leg_verdict,
)
from valgus.landmarks import SIDES, Side

# The squat criterion's result for one leg after review is the analysis's own verdict type.
SquatLegResult = LegVerdict
Status = Literal["CLEARED", "NOT YET"]
CriterionStatus = Literal["met", "not met", "not recorded"]
InvolvedSide = Literal["left", "right", "both"]

PAIN_MIN, PAIN_MAX = 0, 10
# Strength symmetry: "within 10-15 % side to side", i.e. LSI >= 85-90 %. The stricter end is the
# default; a clinic may choose any value in this range.
LSI_RANGE_PCT = (85.0, 90.0)


@dataclass(frozen=True)
class ClearancePolicy:
    """The clinic's choices within the published criteria.

    ``max_pain_score`` (0-10 numeric rating scale): the highest pain that still counts as "no
    pain". The criterion says *no pain*, so the default is 0. Some rehabilitation programmes
    monitor pain and accept mild pain (e.g. up to 2/10) during loading; that is a clinical choice,
    allowed up to 2 here and stated on every report.
    ``min_lsi_pct``: limb symmetry index needed, 85-90 % (default 90, the conservative end).
    ``min_run_minutes``: the easy run must have lasted this long (the criterion says 20-30 min).
    ``required_reps``: measurable reps per leg (``ClearanceConfig.required_reps``, 20).
    ``fppa_sdc_deg``: smallest detectable change of 2D FPPA between sessions (Munro 2012: 7.5-8.9
    deg; the lower end, so that a real change is not missed, is ``ClearanceConfig.fppa_sdc_deg``).
    """

    max_pain_score: int = 0
    min_lsi_pct: float = 90.0
    min_run_minutes: float = 20.0
    required_reps: int = field(default_factory=lambda: ClearanceConfig().required_reps)
    fppa_sdc_deg: float = field(default_factory=lambda: ClearanceConfig().fppa_sdc_deg)

    def __post_init__(self) -> None:
        if not 0 <= self.max_pain_score <= 2:
            raise ValueError(f"max_pain_score must be 0-2 (0 = no pain), got {self.max_pain_score}")
        lo, hi = LSI_RANGE_PCT
        if not lo <= self.min_lsi_pct <= hi:
            raise ValueError(f"min_lsi_pct must be {lo:.0f}-{hi:.0f} %, got {self.min_lsi_pct}")
        if self.required_reps < 1 or self.min_run_minutes <= 0 or self.fppa_sdc_deg <= 0:
            raise ValueError("required_reps, min_run_minutes and fppa_sdc_deg must be positive")


@dataclass(frozen=True)
class ClearanceInputs:
    """What the clinician enters for one session. None = not recorded yet.

    Pain on a 0-10 numeric rating scale; strength in any unit, the same for both sides
    (``strength_unit`` is only printed). ``involved_side``: the painful / injured leg; None or
    "both" compares the weaker side with the stronger one (the stricter reading).
    """

    squat_pain_left: int | None = None
    squat_pain_right: int | None = None
    stair_descent_pain: bool | None = None
    run_minutes: float | None = None
    run_pain_during: int | None = None
    run_pain_next_morning: int | None = None
    strength_left: float | None = None
    strength_right: float | None = None
    strength_unit: str = ""
    involved_side: InvolvedSide | None = None

    def __post_init__(self) -> None:
        for name in ("squat_pain_left", "squat_pain_right", "run_pain_during",
                     "run_pain_next_morning"):
            value = getattr(self, name)
            if value is not None and not (
                isinstance(value, int) and PAIN_MIN <= value <= PAIN_MAX
            ):
                raise ValueError(f"{name.replace('_', ' ')} must be a whole number 0-10")
        for name in ("run_minutes", "strength_left", "strength_right"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{name.replace('_', ' ')} must be a number >= 0")


# --------------------------------------------------------------------------- single-leg squat


@dataclass(frozen=True)
class Override:
    """A reviewer's band for one rep (``index`` is 1-based as in the analysis), with the reason."""

    analysis_id: int
    index: int
    band: Band
    reason: str


def squat_reps(
    analysis: AnalysisResult, analysis_id: int, overrides: Sequence[Override] = (),
    corrections: Sequence[PointCorrection] = (),
) -> list[SquatRep]:
    """The reps of one analysis with the reviewer's overrides and point corrections applied
    (``SquatRep.band``, ``SquatRep.correction``). A corrected rep is banded from its re-measured
    FPPA with the analysis's own threshold and margin; a re-banded rep keeps the reviewer's
    band (a correction it has is still shown beside it).

    Raises:
        ValueError: an override names a rep the analysis does not have, or one that cannot count
            (incomplete, or not a single-leg squat): a clinician cannot turn those into reps; a
            correction names a rep the analysis does not have, or one without a measured FPPA.
    """
    by_index = {o.index: o for o in overrides if o.analysis_id == analysis_id}
    fixed = {k[1]: c for k, c in in_force(list(corrections)).items() if k[0] == analysis_id}
    cfg = analysis.config
    reps: list[SquatRep] = []
    for index, score in enumerate(analysis.reps, start=1):
        override = by_index.pop(index, None)
        correction = fixed.pop(index, None)
        if correction is not None and not correctable(score):
            raise ValueError(f"rep {index} of analysis {analysis_id} has no measured FPPA: its "
                             "points cannot be corrected")
        band = score.band if correction is None else band_for(
            correction.fppa_deg, cfg.valgus.threshold_deg(cfg.sex),
            cfg.valgus.margin_deg(cfg.sex))
        if override is None:
            reps.append(SquatRep(analysis_id, index, score, band, None, correction))
            continue
        if not score.test_rep:
            raise ValueError(
                f"rep {index} of analysis {analysis_id} is incomplete or not a single-leg squat "
                "and cannot be given a band"
            )
        reps.append(SquatRep(analysis_id, index, score, override.band, override.reason,
                             correction))
    if by_index or fixed:
        missing = ", ".join(str(i) for i in sorted({*by_index, *fixed}))
        raise ValueError(f"analysis {analysis_id} has no rep {missing}")
    return reps


def correctable(score: RepScore) -> bool:
    """A rep whose points may be corrected: a complete single-leg rep with a measured FPPA."""
    return score.test_rep and score.scored_fppa_deg is not None


def squat_results(
    analyses: Mapping[int, AnalysisResult],
    overrides: Sequence[Override] = (),
    required_reps: int | None = None,
    corrections: Sequence[PointCorrection] = (),
) -> tuple[dict[Side, LegVerdict], list[SquatRep]]:
    """Both legs' squat verdicts over all analyses of a session (analysis id -> result), after
    overrides and point corrections (``scoring.leg_verdict``, the same rule as a fresh
    analysis's, worded for the clinician); also returns the reps. ``required_reps`` defaults
    to the largest number the analyses were run with (20 unless configured otherwise). The
    threshold and the measurement error are the first analysis's (defaults without an
    analysis).

    Reps on different FPPA definitions (``ValgusThresholds.definition``: analyses scored with
    another sex, or before the clinic's definition changed) are never pooled: they differ by
    several degrees for the same knee. Both legs then read CANNOT ASSESS with the analyses of
    each definition named, until they are re-scored onto one."""
    reps: list[SquatRep] = []
    why_not: list[str] = []
    need = required_reps
    cfg = AnalysisConfig()
    by_definition: dict[str, list[int]] = {}
    for n, (analysis_id, analysis) in enumerate(analyses.items()):
        own = squat_reps(analysis, analysis_id, overrides, corrections)
        reps.extend(own)
        if not analysis.assessable:
            why_not.append(analysis.problem_text("clinician"))
        if any(r.counted for r in own):
            by_definition.setdefault(definition_label(analysis.config), []).append(analysis_id)
        if required_reps is None:
            need = max(need or 0, analysis.config.clearance.required_reps)
        if n == 0:
            cfg = analysis.config
    rule = LegRule.of(cfg, need or ClearanceConfig().required_reps)
    pooled: Sequence[SquatRep] = reps
    if len(by_definition) > 1:
        pooled, why_not = [], [mixed_definitions(by_definition), *why_not]
    legs = {leg: leg_verdict(leg, pooled, rule, why_not, audience="clinician") for leg in SIDES}
    return legs, reps


# --------------------------------------------------------------------------- the decision


@dataclass(frozen=True)
class CriterionResult:
    """One of the four criteria: ``key`` (squat, stairs, running, strength), a title, whether it
    is met, and the reasons in plain words."""

    key: str
    title: str
    status: CriterionStatus
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ClearanceDecision:
    """CLEARED only when all four criteria are met; ``reasons`` lists what is missing or not met
    (or, when cleared, that all are met). ``lsi_pct``: the strength limb symmetry index used."""

    status: Status
    criteria: tuple[CriterionResult, ...]
    reasons: tuple[str, ...]
    lsi_pct: float | None
    policy: ClearancePolicy


def limb_symmetry_index_pct(
    left: float, right: float, involved: InvolvedSide | None
) -> float | None:
    """LSI = involved / uninvolved x 100 (%). With no (or both) involved side the weaker side is
    compared with the stronger. None when the reference side is 0."""
    if involved == "left":
        ref, inv = right, left
    elif involved == "right":
        ref, inv = left, right
    else:
        ref, inv = max(left, right), min(left, right)
    return None if ref <= 0 else 100.0 * inv / ref


def _pain_ok(score: int, policy: ClearancePolicy) -> bool:
    return score <= policy.max_pain_score


def _pain_words(policy: ClearancePolicy) -> str:
    return "no pain" if policy.max_pain_score == 0 else f"pain at most {policy.max_pain_score}/10"


def _squat_criterion(
    squat: Mapping[Side, LegVerdict], inputs: ClearanceInputs, policy: ClearancePolicy
) -> CriterionResult:
    reasons: list[str] = []
    failed = missing = False
    for leg in SIDES:
        res = squat[leg]
        if res.verdict == "UNCERTAIN":
            # Not cleared on a measurement that cannot tell: the reasons say re-test or review.
            failed = True
            reasons.append(f"{leg} leg squat: UNCERTAIN, not cleared "
                           f"({'; '.join(res.reasons)})")
        elif res.verdict != "PASS":
            failed = True
            reasons.append(f"{leg} leg squat: {res.verdict} ({'; '.join(res.reasons)})")
        pain = inputs.squat_pain_left if leg == "left" else inputs.squat_pain_right
        if pain is None:
            missing = True
            reasons.append(f"{leg} leg: pain during the squats not recorded")
        elif not _pain_ok(pain, policy):
            failed = True
            reasons.append(f"{leg} leg: pain {pain}/10 during the squats")
    if not (failed or missing):
        reasons.append(
            f"both legs PASS ({squat['left'].valid_reps} and {squat['right'].valid_reps} reps, "
            f"FPPA clearly below the threshold), {_pain_words(policy)}"
        )
    status: CriterionStatus = "not met" if failed else "not recorded" if missing else "met"
    return CriterionResult("squat", "Single-leg squat, 20 reps per leg: no pain, no excessive "
                           "knee valgus", status, tuple(reasons))


def _stairs_criterion(inputs: ClearanceInputs) -> CriterionResult:
    title = "Stair descent: no pain"
    if inputs.stair_descent_pain is None:
        return CriterionResult("stairs", title, "not recorded", ("stair descent not recorded",))
    if inputs.stair_descent_pain:
        return CriterionResult("stairs", title, "not met", ("pain on stair descent",))
    return CriterionResult("stairs", title, "met", ("no pain on stair descent",))


def _running_criterion(inputs: ClearanceInputs, policy: ClearancePolicy) -> CriterionResult:
    title = "20-30 minutes of easy running: no pain during, none the next morning"
    reasons: list[str] = []
    failed = missing = False
    if inputs.run_minutes is None:
        missing = True
        reasons.append("easy run not recorded")
    elif inputs.run_minutes < policy.min_run_minutes:
        failed = True
        reasons.append(
            f"ran {inputs.run_minutes:.0f} min, less than {policy.min_run_minutes:.0f} min"
        )
    for label, pain in (("during the run", inputs.run_pain_during),
                        ("the next morning", inputs.run_pain_next_morning)):
        if pain is None:
            missing = True
            reasons.append(f"pain {label} not recorded")
        elif not _pain_ok(pain, policy):
            failed = True
            reasons.append(f"pain {pain}/10 {label}")
    if not (failed or missing):
        reasons.append(f"ran {inputs.run_minutes:.0f} min with {_pain_words(policy)} during "
                       "it or the next morning")
    status: CriterionStatus = "not met" if failed else "not recorded" if missing else "met"
    return CriterionResult("running", title, status, tuple(reasons))


def _strength_criterion(
    inputs: ClearanceInputs, policy: ClearancePolicy
) -> tuple[CriterionResult, float | None]:
    title = f"Strength symmetry: LSI >= {policy.min_lsi_pct:.0f} %"
    if inputs.strength_left is None or inputs.strength_right is None:
        return CriterionResult("strength", title, "not recorded",
                               ("strength not recorded for both sides",)), None
    lsi = limb_symmetry_index_pct(inputs.strength_left, inputs.strength_right,
                                  inputs.involved_side)
    unit = f" {inputs.strength_unit}" if inputs.strength_unit else ""
    values = (f"left {inputs.strength_left:g}{unit}, right {inputs.strength_right:g}{unit}")
    if lsi is None:
        return CriterionResult("strength", title, "not recorded",
                               (f"strength {values}: the reference side is 0",)), None
    how = (f"involved {inputs.involved_side} / uninvolved"
           if inputs.involved_side in ("left", "right") else "weaker / stronger side")
    text = f"LSI {lsi:.0f} % ({how}; {values})"
    if lsi < policy.min_lsi_pct:
        return CriterionResult("strength", title, "not met",
                               (f"{text}, below {policy.min_lsi_pct:.0f} %",)), lsi
    return CriterionResult("strength", title, "met", (text,)), lsi


def decide(
    squat: Mapping[Side, LegVerdict],
    inputs: ClearanceInputs,
    policy: ClearancePolicy | None = None,
) -> ClearanceDecision:
    """Combine the four criteria. CLEARED only when every one is met; anything not recorded
    keeps the decision at NOT YET (never cleared by omission)."""
    policy = policy or ClearancePolicy()
    strength, lsi = _strength_criterion(inputs, policy)
    criteria = (
        _squat_criterion(squat, inputs, policy),
        _stairs_criterion(inputs),
        _running_criterion(inputs, policy),
        strength,
    )
    if all(c.status == "met" for c in criteria):
        return ClearanceDecision("CLEARED", criteria, ("all four criteria are met",), lsi, policy)
    reasons = tuple(
        f"{c.title}: {'; '.join(c.reasons)}" for c in criteria if c.status != "met"
    )
    return ClearanceDecision("NOT YET", criteria, reasons, lsi, policy)
