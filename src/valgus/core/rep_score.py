"""The score of one rep: its FPPA at the deepest point, its band, and the other frontal-plane
measures there; or why it is not measurable. Pure numpy.

The scored point (issue 16 item 5) is always the rep's deepest point, as the clinical protocol
takes it (peak knee flexion: Willson 2006; Munro 2012; Herrington 2014; REFERENCE section 1),
read robustly as the median FPPA over the bottom plateau (frames within
``ViewConfig.bottom_plateau_deg`` of the peak flexion). The FPPA where the descent first
reaches 60 deg of flexion, the literature's alternative point, is reported beside it for every
measured rep and never sets the band. A thigh too foreshortened at the bottom
(``ViewConfig.min_thigh_length_ratio``) is an issue on the rep, not a move to another point;
so is a gap in the recording around the bottom (``QualityConfig.max_bottom_gap_s``).

``core.scoring`` re-exports everything here; per-leg verdicts are there.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from valgus.config import AnalysisConfig, ValgusThresholds
from valgus.core.bottom import bottom_gap, bottom_plateau, plateau_fppa
from valgus.core.camera import CameraMovement, CameraPath, camera_moved
from valgus.core.checks import QualityIssue
from valgus.core.fppa import hip_width_ratio_series, leg_fppa, mapping_for
from valgus.core.kinematics import Kinematics
from valgus.core.reasons import RepIssue, RepIssueCode, incomplete_issue
from valgus.core.reps import RepCandidate
from valgus.core.stance import RepReason
from valgus.core.uncertainty import Band, band_for
from valgus.landmarks import SIDES, Side
from valgus.landmarks import other as lm_other

ScoredAt = Literal["bottom", "reference_flexion"] | None
BANDS: tuple[Band, ...] = ("fine", "borderline", "excessive", "not_measurable")


@dataclass(frozen=True)
class RepScore:
    """Scores of one rep. Angles in degrees; times in seconds from the clip start.

    ``fppa_bottom_deg``: at the deepest point, the median over the bottom plateau (the scored
    value of every measured rep). ``fppa_peak_deg``: largest on the way down (frames with a
    usable thigh only). ``fppa_ref_deg``: at the first frame of the descent reaching the
    reference flexion (60 deg), reported beside the bottom's, never banded (None when the
    descent does not reach it).
    ``scored_at``: "bottom" for a measured rep ("reference_flexion" only in results stored
    before issue 16); None when the rep is not measurable, and ``issues`` says why (codes with
    their numbers; ``reasons.describe`` words them). ``bottom_index``: the frame index of the
    deepest frame; ``scored_index``: the plateau frame whose FPPA is the plateau's median, the
    frame every picture of the scored point shows (-1 in results stored before it: use
    ``bottom_index``). ``thigh_ratio``: the thigh's image length at the bottom over its longest
    in the rep (None when unknown). ``clip_assessable``: the clip it is from can be assessed
    at all (``result.clip_problem``: camera in front, no blocking check, a single-leg squat).
    ``knee_ankle_separation_ratio``: at the scored frame, see ``knee_ankle_separation_ratio``;
    None with the FPPA, and when the ankles are too close together across the image.
    ``camera_shift_pct`` / ``camera_zoom_pct`` / ``camera_roll_deg`` /
    ``camera_speed_pct_per_s``: how far the camera moved over the rep (``core.camera``: shift
    and speed in percent of the picture width, zoom in percent), for every rep whose camera
    motion is known, scored or not; None when unknown (a plain background, a stored result).
    ``camera_measured_from``: "background", or "standing_foot" where the background showed
    nothing to follow and the shift was read from the planted foot (the others None there).
    The FPPA fields follow the definition the threshold was set on
    (``ValgusThresholds.definition``): the keypoint FPPA mapped (``core.fppa``) where that is a
    skin-marker one. ``fppa_keypoint_deg``: the unmapped keypoint FPPA at the scored point (the
    plateau median), for every rep with one; ``hip_width_ratio``: the hips' image distance over
    the stance leg's image length there (``core.fppa.hip_width_ratio``, plateau median), which
    the mapping uses. Both None in results stored before them.
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
    knee_ankle_separation_ratio: float | None = None
    scored_index: int = -1
    camera_shift_pct: float | None = None
    camera_zoom_pct: float | None = None
    camera_roll_deg: float | None = None
    camera_speed_pct_per_s: float | None = None
    camera_measured_from: str | None = None
    thigh_ratio: float | None = None
    fppa_keypoint_deg: float | None = None
    hip_width_ratio: float | None = None

    @property
    def picture_index(self) -> int:
        """The frame (index in the clip's series) that pictures of the scored point show."""
        return self.scored_index if self.scored_index >= 0 else self.bottom_index

    @property
    def not_a_rep(self) -> bool:
        """A knee-bend cycle listed but not a rep of this leg (the free leg's bend, or a bend
        whose stance leg is unclear): it is in the result, never in a leg's count of reps."""
        return any(i.code in _NOT_A_REP for i in self.issues)

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
        return self.complete and self.exercise == "single_leg" and not self.not_a_rep

    @property
    def counts_towards_test(self) -> bool:
        """Counts towards the test's 20 reps: a complete single-leg squat, from a clip that can
        be assessed, measurable."""
        return self.test_rep and self.clip_assessable and self.valid


_NOT_A_REP = frozenset({RepIssueCode.FREE_LEG_PHASE, RepIssueCode.STANCE_UNCLEAR})
_REASON_CODES: dict[RepReason, RepIssueCode] = {
    "free_foot_down": RepIssueCode.FREE_FOOT_DOWN,
    "free_foot_low": RepIssueCode.FREE_FOOT_LOW,
    "free_leg_phase": RepIssueCode.FREE_LEG_PHASE,
    "stance_unclear": RepIssueCode.STANCE_UNCLEAR,
}


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


def knee_ankle_separation_ratio(
    kin: Kinematics, i: int, min_ankle_hip_widths: float
) -> float | None:
    """Knee-to-ankle separation ratio at frame ``i``: the horizontal image distance between the
    two knees over that between the two ankles (image x only, so that a free foot held higher
    or lower than the stance foot does not change it); < 1 = knees closer together than the
    ankles. None when a point is missing, or when the ankles are less than
    ``min_ankle_hip_widths`` hip widths apart (a ratio of two small distances is mostly noise).

    Source: Mizner and colleagues (2012) proposed it as a 2D screening measure of bilateral drop
    landings; Tofte and colleagues found it explained more of the 3D knee abduction angle in drop
    landings than the FPPA did (r^2 about 0.35 against 0.15). Both studied landings on both feet.
    In a single-leg squat the free leg's knee and ankle enter the ratio, so it is reported beside
    the FPPA as a screening number only: no threshold, no part of any verdict.
    """
    knees = [kin.leg(s).knee_xy_px for s in SIDES]
    ankles = [kin.leg(s).ankle_xy_px for s in SIDES]
    if knees[0] is None or knees[1] is None or ankles[0] is None or ankles[1] is None:
        return None
    knee_gap = abs(float(knees[0][i, 0] - knees[1][i, 0]))
    ankle_gap = abs(float(ankles[0][i, 0] - ankles[1][i, 0]))
    hip_width = float(kin.hip_width_px[i]) if kin.hip_width_px is not None else math.nan
    if not (math.isfinite(knee_gap) and math.isfinite(ankle_gap) and math.isfinite(hip_width)):
        return None
    if ankle_gap < min_ankle_hip_widths * hip_width or ankle_gap <= 0.0:
        return None
    return knee_gap / ankle_gap


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def score_rep(
    rep: RepCandidate,
    kin: Kinematics,
    cfg: AnalysisConfig,
    frontal_view: bool,
    trusted: np.ndarray | None = None,
    clip_blockers: Sequence[QualityIssue] = (),
    hidden: np.ndarray | None = None,
    camera: CameraPath | None = None,
) -> RepScore:
    """Score one rep from the clip's kinematics (indices in ``rep.cycle`` refer to ``kin``).

    ``trusted``: (T,) bool per frame from ``trust.landmark_trust`` (None = all trusted).
    ``clip_blockers``: the clip's blocking checks, which make every rep not measurable.
    ``hidden``: (T, 2) bool, left then right leg hidden by something in front
    (``trust.hidden_leg_frames``; None = all seen): a rep whose stance leg is hidden on more
    than ``cfg.quality.max_hidden_rep_fraction`` of its frames is not measurable.
    ``camera``: the clip's camera path (None = unknown): a rep over which the camera moved
    beyond ``cfg.camera`` is not measurable ("camera moved").
    """
    c = rep.cycle
    leg = kin.leg(rep.leg)
    t = kin.t_s
    b = c.bottom_i
    issues: list[RepIssue] = []
    if not c.complete:
        issues.append(incomplete_issue(c.incomplete))
    if rep.exercise == "double_leg":
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
    share = _hidden_share(hidden, window, rep.leg)
    own_hidden = share is not None and share > cfg.quality.max_hidden_rep_fraction
    if share is not None and own_hidden:
        issues.append(RepIssue(RepIssueCode.KNEE_HIDDEN, {"hidden_pct": 100 * share}))
    other = _hidden_share(hidden, window, lm_other(rep.leg))
    # The other leg hidden on part of the rep (as the stance leg's own limit), or on most of it.
    other_partly = other is not None and other > cfg.quality.max_hidden_rep_fraction
    other_hidden = other is not None and other > cfg.quality.max_other_leg_hidden_fraction
    if other is not None and other_hidden and rep.reason == "" and not own_hidden:
        # The stance leg in view, the other hidden most of the rep: the model's fit of the
        # visible leg moves with the guess (demo, box over the free knee: +4.7 deg).
        issues.append(RepIssue(RepIssueCode.OTHER_LEG_HIDDEN, {"hidden_pct": 100 * other}))
    moved = None if camera is None else camera.movement(c.start_i, c.end_i, cfg.camera)
    if camera is not None and moved is not None and not moved.measured and rep.reason in (
        "", "free_foot_down", "free_foot_low"
    ) and camera.foot_usable(c.start_i, c.end_i):
        # Nothing to follow in the background: the standing foot, planted through the rep,
        # shows the camera's shift (not on a free leg's bend, where this foot is the moving one).
        moved = camera.foot_movement(leg.foot_xy_px, c.start_i, c.end_i, cfg.camera)
    beyond = None if moved is None else camera_moved(moved, cfg.camera)
    if beyond is not None:
        # The cause first, after what blocks the whole clip; a moving camera blurs the legs, so
        # the person's mask there says nothing of an object hiding the knee (a shaken clip read
        # "knee hidden", with advice to move objects away).
        issues = [i for i in issues if i.code not in _HIDDEN]
        first = sum(i.code == RepIssueCode.CLIP_BLOCKED for i in issues)
        issues.insert(first, RepIssue(RepIssueCode.CAMERA_MOVED, beyond))
    if rep.reason:
        issues.insert(0, RepIssue(_REASON_CODES[rep.reason]))
    if c.complete and b - c.start_i + 1 < cfg.quality.min_descent_frames:
        issues.append(
            RepIssue(RepIssueCode.FEW_DESCENT_FRAMES, {"frames": float(b - c.start_i + 1)})
        )
    standing_thigh = float(np.nanmax(leg.thigh_len_px[window])) if coverage > 0 else math.nan
    with np.errstate(invalid="ignore", divide="ignore"):
        thigh_ratio = leg.thigh_len_px / standing_thigh
    thigh_ok = thigh_ratio >= cfg.view.min_thigh_length_ratio
    descent = np.arange(c.start_i, b + 1)
    # Every FPPA of the rep in the threshold's definition (issue 12): the keypoint FPPA mapped
    # frame by frame with that frame's hip width ratio (the identity for "keypoint"); the
    # scored value maps the plateau medians of both, as the map was fitted.
    mapping = mapping_for(cfg)
    body_ratio = hip_width_ratio_series(kin, rep.leg)
    fppa, keypoint = leg_fppa(kin, rep.leg, cfg)
    usable = descent[thigh_ok[descent] & np.isfinite(fppa[descent])]
    fppa_peak = float(np.max(fppa[usable])) if usable.size else None
    # The literature's alternative point, reported beside the bottom's (never banded).
    at_ref = usable[leg.flexion_deg[usable] >= cfg.view.reference_flexion_deg]
    fppa_ref = float(fppa[at_ref[0]]) if at_ref.size else None
    plateau = bottom_plateau(leg.flexion_deg, c.start_i, c.end_i, b, cfg.view.bottom_plateau_deg)
    ratios = thigh_ratio[plateau][np.isfinite(thigh_ratio[plateau])]
    thigh_bottom = float(np.median(ratios)) if ratios.size else None
    read = plateau if trusted is None else plateau[trusted[plateau]]
    fppa_keypoint, scored_i = plateau_fppa(keypoint, read)
    body_at = body_ratio[read][np.isfinite(body_ratio[read])]
    hip_ratio = float(np.median(body_at)) if body_at.size else None
    fppa_bottom = fppa_keypoint
    unmapped: RepIssue | None = None
    if mapping.maps:
        low, high = mapping.ratio_range
        if hip_ratio is not None and not mapping.covers(hip_ratio):
            # Never extrapolated: outside the fitted range the map's error is unknown (said
            # below, unless the rep is withheld for another reason already).
            unmapped = RepIssue(RepIssueCode.DEFINITION_UNMAPPED,
                                {"ratio": hip_ratio, "low": low, "high": high})
        mapped = (math.nan if fppa_keypoint is None or hip_ratio is None
                  else float(mapping.apply(fppa_keypoint, hip_ratio)))
        fppa_bottom = mapped if math.isfinite(mapped) else None
    scored_i = scored_i if scored_i >= 0 else b
    gap = bottom_gap(t, kin.detected, b, plateau)
    if gap is not None and gap[0] > cfg.quality.max_bottom_gap_s:
        issues.append(RepIssue(RepIssueCode.BOTTOM_GAP,
                               {"gap_s": gap[0], "at_s": gap[1], "unseen_frames": float(gap[2])}))
    scored_at: ScoredAt = "bottom"
    if thigh_bottom is not None and thigh_bottom < cfg.view.min_thigh_length_ratio:
        issues.append(RepIssue(RepIssueCode.THIGH_FORESHORTENED, {"ratio": thigh_bottom}))
    elif fppa_bottom is None and not issues and unmapped is None:
        issues.append(RepIssue(RepIssueCode.FPPA_UNMEASURED))
    if trusted is not None and not issues:
        # The scored value is the median of the plateau's trusted frames: it needs them to be
        # the plateau's majority.
        share = float(np.mean(trusted[plateau]))
        if share < cfg.quality.min_trusted_plateau_fraction:
            issues.append(RepIssue(RepIssueCode.UNRELIABLE_SCORED_FRAME))
    rep_yaw = np.abs(kin.yaw_deg[window])
    rep_yaw = rep_yaw[np.isfinite(rep_yaw)]
    yaw_deg = float(np.median(rep_yaw)) if rep_yaw.size else math.nan
    beyond_noise = max(0.0, yaw_deg - cfg.view.yaw_noise_deg) if rep_yaw.size else math.nan
    possible_error = yaw_fppa_error_deg(leg.flexion_deg[scored_i], beyond_noise)
    # A hidden knee comes first (issue 13): the model fits the 3D body around the guessed
    # leg, so the body turn read on such a rep is not the camera's, and "square the camera"
    # would be the wrong thing to tell (the demo with both knees boxed: its right rep read
    # knee_hidden and not_square; with one knee boxed both reps read turned 8-10 deg, 2-5 clear).
    knee_hidden = any(i.code in _HIDDEN for i in issues)
    if frontal_view and possible_error > cfg.view.max_yaw_fppa_error_deg and not knee_hidden:
        # Likewise when the other leg is hidden a little: the turn is then the model's guess
        # about a leg it cannot see (the demo with a box over the free knee read turned 8-10
        # deg), so the rep is withheld for that reason, not for a camera that may be square.
        if other is not None and other_partly:
            issues.append(RepIssue(RepIssueCode.OTHER_LEG_HIDDEN, {"hidden_pct": 100 * other}))
        else:
            issues.append(RepIssue(
                RepIssueCode.NOT_SQUARE,
                {"yaw_deg": yaw_deg, "possible_error_deg": possible_error},
            ))
    if unmapped is not None and not issues:
        # Only where nothing else withholds the rep: a free leg's bend or a hidden knee says
        # why already, and "squat less deep" would not help it.
        issues.append(unmapped)
    figures = _camera_fields(moved)
    band: Band
    separation: float | None = None
    if issues:
        band = "not_measurable"
        fppa_bottom = fppa_peak = fppa_ref = None
        scored_at = None
    else:
        v: ValgusThresholds = cfg.valgus
        band = band_for(fppa_bottom or 0.0, v.threshold_deg(cfg.sex), v.margin_deg(cfg.sex))
        # The ratio takes both knees: withheld while the other one is hidden (a guessed knee
        # read 1.13 where the visible one read 0.85).
        separation = None if other_partly else knee_ankle_separation_ratio(
            kin, scored_i, v.separation_min_ankle_hip_widths)
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
        # Pelvic drop is withheld unless config.PelvicDropConfig.reported (it reads about a
        # third of the truth on the rendered bodies; the reason code is in the config).
        pelvic_drop_deg=(
            _finite_or_none(leg.pelvic_drop_deg[b])
            if frontal_view and cfg.pelvic_drop.reported
            else None
        ),
        trunk_lean_deg=_finite_or_none(leg.trunk_lean_deg[b]) if frontal_view else None,
        knee_medial_of_foot=(
            _finite_or_none(leg.knee_medial_of_foot[b]) if frontal_view else None
        ),
        descent_s=float(t[b] - t[c.start_i]),
        ascent_s=float(t[c.end_i] - t[b]),
        band=band,
        issues=tuple(issues),
        knee_ankle_separation_ratio=separation,
        scored_index=int(scored_i),
        thigh_ratio=thigh_bottom,
        fppa_keypoint_deg=None if band == "not_measurable" else fppa_keypoint,
        hip_width_ratio=hip_ratio,
        camera_shift_pct=figures[0],
        camera_zoom_pct=figures[1],
        camera_roll_deg=figures[2],
        camera_speed_pct_per_s=figures[3],
        camera_measured_from=None if moved is None or not moved.measured else moved.source,
    )


_NO_FIGURES: tuple[float | None, ...] = (None, None, None, None)
_HIDDEN = (RepIssueCode.KNEE_HIDDEN, RepIssueCode.OTHER_LEG_HIDDEN)


def _hidden_share(hidden: np.ndarray | None, window: slice, side: Side) -> float | None:
    """Share of the rep's frames on which ``side``'s leg is hidden; None when unknown."""
    if hidden is None or window.stop <= window.start:
        return None
    return float(np.mean(hidden[window, SIDES.index(side)]))



def _camera_fields(moved: CameraMovement | None) -> tuple[float | None, ...]:
    """A rep's camera figures (``RepScore.camera_shift_pct``, ``_zoom_pct``, ``_roll_deg``,
    ``_speed_pct_per_s``) from its ``CameraMovement``; None where unknown."""
    shift = None if moved is None else moved.shift_fraction
    if moved is None or shift is None:
        return _NO_FIGURES
    zoom, speed = moved.zoom, moved.speed_width_per_s
    return (100 * shift, None if zoom is None else 100 * (zoom - 1.0), moved.roll_deg,
            None if speed is None else 100 * speed)
