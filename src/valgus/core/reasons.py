"""Why a rep or a clip is not scored, as codes with their numbers, and the one place that turns
them into words.

Rep issues (``RepIssue``) and clip checks (``QualityIssue`` in ``core.checks``) carry a code from
``RepIssueCode`` / ``QualityCode`` and the numbers their message needs (``values``), so that they
can be filtered, counted and translated; ``describe`` and ``describe_quality`` /
``quality_guidance`` give the words (the JSON keeps both). Clip-level reasons for no verdict
(``ClipProblem``) and the per-leg verdict reasons are worded here too, for the person filming
themselves (the app and the CLI: "you") or for the clinician (records and reports).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from valgus.core.uncertainty import SetEstimate

Audience = Literal["person", "clinician"]
Values = Mapping[str, float | str]


class RepIssueCode(StrEnum):
    """Why a rep is not measurable (or not a rep of the test)."""

    CLIP_START = "clip_start"
    CLIP_END = "clip_end"
    TRACKING_LOST = "tracking_lost"
    TOO_SLOW = "too_slow"
    INCOMPLETE = "incomplete"
    DOUBLE_LEG = "double_leg"
    NOT_FRONTAL = "not_frontal"
    CLIP_BLOCKED = "clip_blocked"  # values: "quality" (a QualityCode) and that issue's values
    LANDMARKS_LOST = "landmarks_lost"  # values: lost_pct
    UNRELIABLE_JOINTS = "unreliable_joints"  # values: untrusted_pct
    FEW_DESCENT_FRAMES = "few_descent_frames"  # values: frames
    THIGH_FORESHORTENED = "thigh_foreshortened"
    FPPA_UNMEASURED = "fppa_unmeasured"
    UNRELIABLE_SCORED_FRAME = "unreliable_scored_frame"
    NOT_SQUARE = "not_square"  # values: yaw_deg, possible_error_deg
    RECORDED = "recorded"  # values: text (words stored by schema valgus.analysis/1)
    KNEE_HIDDEN = "knee_hidden"  # values: hidden_pct, information (fixed words, issue 13)
    # Issue 16: cycles that are not reps of the test, and the scored point's own checks.
    FREE_FOOT_DOWN = "free_foot_down"  # a rep on this leg with the free foot on the floor
    FREE_FOOT_LOW = "free_foot_low"  # free foot level with the standing one: touch unseen
    FREE_LEG_PHASE = "free_leg_phase"  # this knee bent as the free leg (not a rep of this leg)
    STANCE_UNCLEAR = "stance_unclear"  # the cues do not say which foot stood
    BOTTOM_GAP = "bottom_gap"  # values: gap_s, at_s (the recording's step around the bottom)
    # Issue 16 item 4: values shift_pct, source ("background": also zoom_pct, roll_deg,
    # speed_pct_per_s; "standing_foot": the shift only), percent of the picture width
    CAMERA_MOVED = "camera_moved"


class QualityCode(StrEnum):
    """A failed clip check (``core.checks.assess_quality``)."""

    CLIP_TOO_SHORT = "clip_too_short"  # values: duration_s
    FRAME_RATE_TOO_LOW = "frame_rate_too_low"  # values: fps, min_fps
    TOO_DARK = "too_dark"
    TOO_BLURRED = "too_blurred"
    UPSIDE_DOWN = "upside_down"
    SIDEWAYS = "sideways"
    CAMERA_TILTED = "camera_tilted"  # values: roll_deg (+ = clockwise fix)
    PERSON_TOO_SMALL = "person_too_small"  # values: height_pct
    FEET_OUT_OF_FRAME = "feet_out_of_frame"  # values: frames_pct
    HIPS_OUT_OF_FRAME = "hips_out_of_frame"  # values: frames_pct
    SEVERAL_PEOPLE = "several_people"  # values: frames_pct
    LEFT_THE_PICTURE = "left_the_picture"  # values: frames_pct
    UNRELIABLE_LANDMARKS = "unreliable_landmarks"  # values: frames_pct
    # What the camera saw (issue 13): the active picture, pixels, the view from behind.
    PICTURE_CROPPED = "picture_cropped"  # values: x_px, y_px, width_px, height_px (information)
    PERSON_TOO_FEW_PIXELS = "person_too_few_pixels"  # values: height_px, min_px
    FILMED_FROM_BEHIND = "filmed_from_behind"  # values: frames_pct
    PERSON_SWITCH = "person_switch"  # values: seconds, first_s (information: frames set aside)
    CAMERA_MOVED = "camera_moved"  # values: reps, shift_pct, [speed_pct_per_s] (not scored)


class ClipProblem(StrEnum):
    """Why none of a clip's reps can count (``core.result.clip_problem``)."""

    BLOCKED = "blocked"
    NOT_FRONTAL = "not_frontal"
    DOUBLE_LEG = "double_leg"


@dataclass(frozen=True)
class RepIssue:
    """One reason a rep is not measurable: ``code`` and the numbers its words need."""

    code: RepIssueCode
    values: Mapping[str, float | str] = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        return describe(self)


def _f(values: Values, key: str) -> float:
    return float(values[key])


_UNRELIABLE = "(jumps, swapped legs or changing bone lengths)"

_REP_TEXT: dict[RepIssueCode, str] = {
    RepIssueCode.CLIP_START: "rep already under way when the clip starts",
    RepIssueCode.CLIP_END: "rep still under way when the clip ends",
    RepIssueCode.TRACKING_LOST: "the person was lost from view during the rep",
    RepIssueCode.TOO_SLOW: "rep took longer than the maximum rep duration",
    RepIssueCode.INCOMPLETE: "incomplete rep",
    RepIssueCode.DOUBLE_LEG: "double-leg squat: the valgus criterion is for single-leg squats",
    RepIssueCode.NOT_FRONTAL: "camera not in front of you",
    RepIssueCode.THIGH_FORESHORTENED: (
        "thigh too foreshortened at the bottom (hip near knee height) for FPPA"
    ),
    RepIssueCode.FREE_FOOT_DOWN: (
        "your free foot touched the floor during this rep, so it is not counted: keep the free "
        "foot off the floor for the whole rep"
    ),
    RepIssueCode.FREE_FOOT_LOW: (
        "your free foot stayed level with your standing foot, where the camera cannot tell "
        "hovering from touching the floor, so this rep is not counted: hold the free foot "
        "clearly off the floor (a hand's width), or bend the knee to lift it behind you"
    ),
    RepIssueCode.FREE_LEG_PHASE: (
        "this knee bent as the free leg while you stood on the other leg: not a rep of this leg"
    ),
    RepIssueCode.STANCE_UNCLEAR: (
        "could not tell which foot you stood on during this knee bend, so it is not counted: "
        "keep both feet in the picture and lift the free foot clearly off the floor"
    ),
    RepIssueCode.FPPA_UNMEASURED: "FPPA could not be measured at the deepest frame",
    RepIssueCode.KNEE_HIDDEN: (
        "something hides your knee or shin during the rep, so its position was guessed: move "
        "objects away from your legs and wear clothes that show your knees"
    ),
    RepIssueCode.UNRELIABLE_SCORED_FRAME: (
        f"joints placed unreliably around the scored frame {_UNRELIABLE}"
    ),
}


def describe(issue: RepIssue) -> str:
    """The words of a rep issue (as shown in the app, the CLI, the JSON and the report)."""
    v = issue.values
    match issue.code:
        case RepIssueCode.RECORDED:
            return str(v["text"])
        case RepIssueCode.CLIP_BLOCKED:
            return describe_quality(QualityCode(str(v["quality"])), v)
        case RepIssueCode.LANDMARKS_LOST:
            return f"landmarks lost in {_f(v, 'lost_pct'):.0f}% of the rep's frames"
        case RepIssueCode.UNRELIABLE_JOINTS:
            return (f"joints placed unreliably in {_f(v, 'untrusted_pct'):.0f}% of the rep's "
                    f"frames {_UNRELIABLE}")
        case RepIssueCode.FEW_DESCENT_FRAMES:
            return (f"only {_f(v, 'frames'):.0f} frames on the way down: the frame rate is too "
                    "low for this tempo (film at 30 fps or squat more slowly)")
        case RepIssueCode.BOTTOM_GAP:
            return (f"frames missing around the bottom: the recording skips "
                    f"{_f(v, 'gap_s'):.2f} s at {_f(v, 'at_s'):.1f} s, so the deepest point may "
                    "not have been filmed (keep the phone recording steadily; close other apps)")
        case RepIssueCode.THIGH_FORESHORTENED if "ratio" in v:
            return (f"thigh too foreshortened at the bottom (hip near knee height: the thigh "
                    f"shows {100 * _f(v, 'ratio'):.0f}% of its length) for FPPA")
        case RepIssueCode.CAMERA_MOVED:
            return (f"the camera moved too much during this rep ({_camera_numbers(v)}), so it "
                    "is not scored: put the phone on a stand or lean it against something "
                    "steady")
        case RepIssueCode.NOT_SQUARE:
            return (f"camera not square to you (body turned {_f(v, 'yaw_deg'):.0f} deg during "
                    f"the rep, which can shift the FPPA by up to "
                    f"{_f(v, 'possible_error_deg'):.0f} deg)")
    return _REP_TEXT[issue.code]


def _camera_numbers(v: Values) -> str:
    """How far the camera moved, in words (``core.camera.camera_moved``'s values): the shift,
    and the speed, zoom and roll where measured and worth saying; read from the standing foot
    where the background showed nothing to follow."""
    if v.get("source") == "standing_foot":
        return (f"your standing foot, which stays put on the floor, moved across the picture by "
                f"{_f(v, 'shift_pct'):.0f}% of its width")
    parts = [f"the picture shifted by {_f(v, 'shift_pct'):.0f}% of its width"]
    if "speed_pct_per_s" in v:
        parts[0] += f", at up to {_f(v, 'speed_pct_per_s'):.0f}% a second"
    if abs(float(v.get("zoom_pct", 0.0))) >= 5:
        parts.append(f"zoomed by {_f(v, 'zoom_pct'):.0f}%")
    if abs(float(v.get("roll_deg", 0.0))) >= 3:
        parts.append(f"turned by {_f(v, 'roll_deg'):.0f} deg")
    return ", ".join(parts)


def incomplete_issue(why: str | None) -> RepIssue:
    """The issue of a rep cut short (``why``: ``reps.Cycle.incomplete``)."""
    try:
        code = RepIssueCode(why or "incomplete")
    except ValueError:
        code = RepIssueCode.INCOMPLETE
    if code not in _INCOMPLETE_CODES:
        code = RepIssueCode.INCOMPLETE
    return RepIssue(code)


_INCOMPLETE_CODES = frozenset({
    RepIssueCode.CLIP_START, RepIssueCode.CLIP_END, RepIssueCode.TRACKING_LOST,
    RepIssueCode.TOO_SLOW, RepIssueCode.INCOMPLETE,
})

# ------------------------------------------------------------------------------- clip checks

_QUALITY_TEXT: dict[QualityCode, tuple[str, str]] = {
    QualityCode.TOO_DARK: (
        "the video is too dark to see the joints reliably",
        "Film in good light: switch on the room lights or face a window; avoid a bright "
        "window behind you."),
    QualityCode.TOO_BLURRED: (
        "the video is too blurred to place the joints reliably",
        "Clean the lens, let the camera focus on you before starting, and keep it still "
        "(prop it up or use a stand)."),
    QualityCode.UPSIDE_DOWN: (
        "the video is upside down",
        "Rotate the video upright (or film with the phone held the right way up)."),
    QualityCode.SIDEWAYS: (
        "the video is turned sideways (its rotation was lost)",
        "Rotate the video upright before uploading, or film again with the phone upright."),
}


def describe_quality(code: QualityCode, values: Values) -> str:
    """What a failed clip check found, in words (lower case, no full stop)."""
    v = values
    match code:
        case QualityCode.CLIP_TOO_SHORT:
            return f"the clip is only {_f(v, 'duration_s'):.1f} s long"
        case QualityCode.FRAME_RATE_TOO_LOW:
            return f"the clip has only {_f(v, 'fps'):.0f} frames per second"
        case QualityCode.CAMERA_TILTED:
            return f"the camera is tilted by about {abs(_f(v, 'roll_deg')):.0f} deg"
        case QualityCode.PERSON_TOO_SMALL:
            return f"you fill only {_f(v, 'height_pct'):.0f}% of the picture's height"
        case QualityCode.FEET_OUT_OF_FRAME:
            return (f"your feet are outside the picture in {_f(v, 'frames_pct'):.0f}% of the "
                    "frames")
        case QualityCode.HIPS_OUT_OF_FRAME:
            return (f"your hips are outside the picture in {_f(v, 'frames_pct'):.0f}% of the "
                    "frames")
        case QualityCode.SEVERAL_PEOPLE:
            return (f"more than one person is in the picture ({_f(v, 'frames_pct'):.0f}% of "
                    "the checked frames); valgus followed one of them")
        case QualityCode.LEFT_THE_PICTURE:
            return (f"you were out of the picture (or hidden) in {_f(v, 'frames_pct'):.0f}% of "
                    "the frames between first and last sighting")
        case QualityCode.CAMERA_MOVED:
            n = int(_f(v, "reps"))
            speed = (f", at up to {_f(v, 'speed_pct_per_s'):.0f}% a second"
                     if "speed_pct_per_s" in v else "")
            return (f"the camera moved too much during {plural(n, 'knee bend')} (up to "
                    f"{_f(v, 'shift_pct'):.0f}% of the picture's width{speed}): "
                    f"{'it is' if n == 1 else 'they are'} listed but not scored")
        case QualityCode.UNRELIABLE_LANDMARKS:
            return (f"the joints could not be placed reliably in {_f(v, 'frames_pct'):.0f}% of "
                    f"the frames {_UNRELIABLE}")
    return _describe_picture(code, v) or _QUALITY_TEXT[code][0]


def quality_guidance(code: QualityCode, values: Values) -> str:
    """What to do about a failed clip check (a sentence for the person filming)."""
    v = values
    match code:
        case QualityCode.CLIP_TOO_SHORT:
            return "Film the whole test: at least one full squat, ideally all 20 reps of each leg."
        case QualityCode.FRAME_RATE_TOO_LOW:
            return f"Record at 30 frames per second (at least {_f(v, 'min_fps'):.0f})."
        case QualityCode.CAMERA_TILTED:
            roll = _f(v, "roll_deg")
            side = "clockwise" if roll > 0 else "counter-clockwise"
            return (f"Level the camera (turn it {side} by {abs(roll):.0f} deg); pelvis and trunk "
                    "angles are read against the image's horizontal and vertical.")
        case QualityCode.PERSON_TOO_SMALL:
            return ("Move the camera closer (2-4 m away) or zoom in, so that you fill most of the "
                    "picture from head to feet.")
        case QualityCode.FEET_OUT_OF_FRAME:
            return ("Step back, or tilt the camera down, until your feet are in the picture the "
                    "whole time.")
        case QualityCode.HIPS_OUT_OF_FRAME:
            return "Step back until your whole body, head to feet, is in the picture."
        case QualityCode.SEVERAL_PEOPLE:
            return ("Film with only the person being tested in the picture; check on the "
                    "annotated frames that the skeleton is on the right person.")
        case QualityCode.LEFT_THE_PICTURE:
            return ("Stay in the picture for the whole test; reps where you were lost are not "
                    "scored.")
        case QualityCode.UNRELIABLE_LANDMARKS:
            return ("Wear fitted clothes that show your knees, film against a plain background "
                    "in good light, and keep other people out of the picture.")
    return _PICTURE_GUIDANCE.get(code) or _QUALITY_TEXT[code][1]


# ----------------------------------------------------- what the camera saw (issue 13, runtime)


def _describe_picture(code: QualityCode, v: Values) -> str | None:
    """Words of the picture, pixel and view checks (None for the other codes)."""
    match code:
        case QualityCode.PICTURE_CROPPED:
            return (f"bars around the picture were left out: only the "
                    f"{_f(v, 'width_px'):.0f}x{_f(v, 'height_px'):.0f} px picture inside them "
                    "was analysed")
        case QualityCode.PERSON_TOO_FEW_PIXELS:
            return (f"you are only {_f(v, 'height_px'):.0f} px tall in the video (at least "
                    f"{_f(v, 'min_px'):.0f} px are needed to place the knees)")
        case QualityCode.FILMED_FROM_BEHIND:
            return (f"filmed from behind ({_f(v, 'frames_pct'):.0f}% of the frames show your "
                    "back): left, right and the valgus direction cannot be checked")
        case QualityCode.PERSON_SWITCH:
            return (f"for {_f(v, 'seconds'):.1f} s from {_f(v, 'first_s'):.1f} s the camera "
                    "followed someone else (another body size, or a jump across the picture): "
                    "those frames were left out, and no rep was made of them")
    return None


_PICTURE_GUIDANCE: dict[QualityCode, str] = {
    QualityCode.PICTURE_CROPPED: (
        "Nothing to change; exporting the video without the bars gives the model more pixels "
        "of you."),
    QualityCode.PERSON_TOO_FEW_PIXELS: (
        "Film at 720p or more (not a low-quality or 144p setting) and stand 2-4 m from the "
        "camera, so that you fill most of the picture."),
    QualityCode.FILMED_FROM_BEHIND: (
        "Film from the front: face the camera, 2-4 m away at knee-to-hip height."),
    QualityCode.CAMERA_MOVED: (
        "Put the phone on a stand or lean it against something steady (a shelf, a chair, a pile "
        "of books) at knee-to-hip height, 2-4 m away, and leave it untouched while you squat; "
        "a phone held by someone else moves too much. A little sway is fine."),
    QualityCode.PERSON_SWITCH: (
        "Stay in the picture for the whole test and keep other people out of it (or behind "
        "the camera); check on the annotated frames that the skeleton is on you. If you came "
        "back closer or further away, film again from one spot."),
}


# ------------------------------------------------------------------------------- verdicts


def describe_clip_problem(
    problem: ClipProblem, blockers: tuple[str, ...] = (), audience: Audience = "person"
) -> str:
    """Why a clip's reps cannot count. ``blockers``: the messages of its blocking checks."""
    match problem:
        case ClipProblem.BLOCKED:
            return "the video cannot be scored: " + "; ".join(blockers)
        case ClipProblem.NOT_FRONTAL:
            return "camera not in front of " + ("you" if audience == "person" else "the person")
    return "this is a double-leg squat; the test is a single-leg squat"


def plural(n: int, thing: str, things: str | None = None) -> str:
    """``n`` and the noun for it: "1 rep", "2 reps", "0 reps" (``things``: an irregular
    plural; default ``thing`` + "s"). The one place "N thing(s)" is worded."""
    return f"{n} {thing if n == 1 else (things or thing + 's')}"


def _reps(n: int) -> str:
    return plural(n, "rep")


def _deg(value: float) -> str:
    return f"{value:.1f} deg"


def set_sentence(estimate: SetEstimate, threshold_deg: float, margin_deg: float) -> str:
    """Where a leg's set of reps stands against the threshold, with the numbers."""
    m, u, lo, hi = (estimate.mean_deg, estimate.uncertainty_deg, estimate.low_deg,
                    estimate.high_deg)
    numbers = (f"mean FPPA {m:.1f} +/- {u:.1f} deg over {_reps(estimate.reps)} (measurement "
               f"error {margin_deg:.1f} deg, reps' spread {estimate.spread_deg:.1f} deg)")
    match estimate.position(threshold_deg):
        case "above":
            return (f"excessive knee valgus: {numbers}, clearly above the {_deg(threshold_deg)} "
                    f"threshold ({lo:.1f} deg or more)")
        case "below":
            return (f"{numbers}, clearly below the {_deg(threshold_deg)} threshold "
                    f"({hi:.1f} deg at most)")
    return (f"{numbers}: {lo:.1f} to {hi:.1f} deg takes in the {_deg(threshold_deg)} "
            "threshold, within the measurement error")


_CYCLE_LABEL: dict[RepIssueCode, str] = {
    RepIssueCode.FREE_LEG_PHASE: "the free leg's bend",
    RepIssueCode.STANCE_UNCLEAR: "stance leg unclear",
    RepIssueCode.FREE_FOOT_DOWN: "free foot down",
    RepIssueCode.FREE_FOOT_LOW: "free foot too low to see",
    RepIssueCode.BOTTOM_GAP: "frames missing around the bottom",
    RepIssueCode.CAMERA_MOVED: "camera moved",
    RepIssueCode.KNEE_HIDDEN: "knee hidden",
    RepIssueCode.THIGH_FORESHORTENED: "thigh foreshortened",
    RepIssueCode.NOT_SQUARE: "camera not square",
    RepIssueCode.NOT_FRONTAL: "camera not in front",
    RepIssueCode.CLIP_BLOCKED: "video cannot be scored",
    RepIssueCode.DOUBLE_LEG: "double-leg squat",
    RepIssueCode.CLIP_START: "cut by the clip's start",
    RepIssueCode.CLIP_END: "cut by the clip's end",
    RepIssueCode.UNRELIABLE_JOINTS: "joints unreliable",
    RepIssueCode.UNRELIABLE_SCORED_FRAME: "joints unreliable at the bottom",
}


_CODES = frozenset(str(c) for c in RepIssueCode)


def cycle_label(code: RepIssueCode) -> str:
    """A short label of why a knee-bend cycle was not counted (a leg's tally, tables)."""
    return _CYCLE_LABEL.get(code) or str(code).replace("_", " ")


def cycles_sentence(found: int, counted: int, not_counted: Mapping[str, int]) -> str:
    """How many knee-bend cycles of a leg were found, how many were counted as measured reps,
    and why the others were not (``not_counted``: first reason code -> cycles)."""
    if not found:
        return "no knee bend reaching the minimum depth was found on this leg"
    head = (f"{found} knee-bend {'cycle' if found == 1 else 'cycles'} found on this leg, "
            f"{counted} counted")
    if not not_counted:
        return head
    why = ", ".join(
        f"{n} {cycle_label(RepIssueCode(code)) if code in _CODES else code.replace('_', ' ')}"
        for code, n in not_counted.items()
    )
    return f"{head}; not counted: {why}"


def leg_reasons(
    *,
    seen: int,
    valid: int,
    verdict: str,
    estimate: SetEstimate | None,
    measured_excessive: int,
    confirmed_excessive: int,
    reviewer_borderline: int,
    overridden: int,
    required: int,
    threshold_deg: float,
    margin_deg: float,
    not_assessable: tuple[str, ...],
    audience: Audience,
) -> tuple[str, ...]:
    """The reasons of a leg's squat verdict (``scoring.leg_verdict``), in order, each with the
    numbers of the rule it applies. ``seen``: the counted reps of the leg; ``valid``: those
    measurable (after any review); ``estimate``: the set of reps whose measured FPPA stands;
    ``measured_excessive``: of those, the reps banded excessive (above threshold + margin);
    ``confirmed_excessive`` / ``reviewer_borderline``: reps a reviewer banded so."""
    reasons: list[str] = []
    if not valid:
        if seen:
            reasons.append(f"none of the {seen} complete reps on this leg could be measured")
        elif not_assessable:
            reasons.extend(dict.fromkeys(not_assessable))
        else:
            reasons.append("no complete single-leg squat on this leg was found")
        if overridden:
            reasons.append(f"{_reps(overridden)} re-banded by the reviewer")
        return tuple(reasons)
    if verdict == "UNCERTAIN":
        reasons.append("uncertain: re-test, or have a clinician review the reps"
                       if audience == "person" else "uncertain: re-test or review the reps")
    if estimate is not None:
        reasons.append(set_sentence(estimate, threshold_deg, margin_deg))
    elif verdict == "PASS":
        reasons.append(f"{_reps(valid)}, all judged by the reviewer, none excessive")
    above = estimate is not None and estimate.position(threshold_deg) == "above"
    edge = _deg(threshold_deg + margin_deg)
    if measured_excessive:
        reasons.append(
            f"{measured_excessive} of {_reps(valid)} excessive (FPPA above {edge})" if above
            else f"{measured_excessive} of {_reps(valid)} read excessive (FPPA above {edge}) "
            "while the set's mean does not"
        )
    if confirmed_excessive:
        reasons.append(f"{confirmed_excessive} of {_reps(valid)} banded excessive knee valgus "
                       "by the reviewer")
    if reviewer_borderline:
        reasons.append(f"{_reps(reviewer_borderline)} banded borderline by the reviewer"
                       + ("" if estimate else ", and no measured FPPA left to decide on"))
    if valid < required:
        reasons.append(f"only {valid} of the {required} reps the test asks for were measured")
    if overridden:
        reasons.append(f"{_reps(overridden)} re-banded by the reviewer")
    return tuple(reasons)
