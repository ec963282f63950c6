"""The words of rep issues: ``RepIssue`` and ``describe`` (``core.reasons``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from valgus.core.reasons.codes import UNRELIABLE, QualityCode, RepIssueCode, Values, number
from valgus.core.reasons.quality import describe_quality


@dataclass(frozen=True)
class RepIssue:
    """One reason a rep is not measurable: ``code`` and the numbers its words need."""

    code: RepIssueCode
    values: Mapping[str, float | str] = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        return describe(self)


_NOT_FOLLOWED = (
    "(out of the picture, hidden, or someone else in view), so it is not counted: keep your "
    "whole body in view, alone in the picture, from before the first rep to after the last"
)

_REP_TEXT: dict[RepIssueCode, str] = {
    RepIssueCode.CLIP_START: "rep already under way when the clip starts",
    RepIssueCode.CLIP_END: "rep still under way when the clip ends",
    # A rep cut by a gap in following the person, not by the clip (``cycles``).
    RepIssueCode.TRACKING_LOST: f"you were not followed to the end of this rep {_NOT_FOLLOWED}",
    RepIssueCode.FOUND_MID_REP: f"you were not followed from the start of this rep {_NOT_FOLLOWED}",
    RepIssueCode.TOO_SLOW: "rep took longer than the maximum rep duration",
    RepIssueCode.INCOMPLETE: "incomplete rep",
    RepIssueCode.DOUBLE_LEG: "double-leg squat: the valgus criterion is for single-leg squats",
    RepIssueCode.NOT_FRONTAL: "camera not in front of you",
    RepIssueCode.THIGH_FORESHORTENED: (
        "thigh too foreshortened at the bottom (hip near knee height) for FPPA"
    ),
    RepIssueCode.FREE_FOOT_DOWN: (
        "your free foot came down to the floor's level in the picture during this rep "
        "(touching the floor, or reaching far forward towards the camera, which a camera in "
        "front cannot tell apart), so it is not counted: keep the free foot off the floor, "
        "and not far in front of you, for the whole rep"
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
    RepIssueCode.DEFINITION_UNMAPPED: (
        "this rep's FPPA could not be converted to the skin-marker FPPA the threshold was set "
        "on, so it is not scored: squat toward 60 deg of knee flexion"
    ),
    RepIssueCode.OTHER_LEG_HIDDEN: (
        "something hides your other leg during this rep, so whether you faced the camera "
        "could not be checked and the rep is not scored: move objects away from your legs"
    ),
    RepIssueCode.UNRELIABLE_SCORED_FRAME: (
        f"joints placed unreliably around the scored frame {UNRELIABLE}"
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
            return f"landmarks lost in {number(v, 'lost_pct'):.0f}% of the rep's frames"
        case RepIssueCode.UNRELIABLE_JOINTS:
            return (
                f"joints placed unreliably in {number(v, 'untrusted_pct'):.0f}% of the rep's "
                f"frames {UNRELIABLE}"
            )
        case RepIssueCode.FEW_DESCENT_FRAMES:
            return (
                f"only {number(v, 'frames'):.0f} frames on the way down: the frame rate is too "
                "low for this tempo (film at 30 fps or squat more slowly)"
            )
        case RepIssueCode.BOTTOM_GAP if float(v.get("unseen_frames", 0.0)) > 0:
            return (
                f"you were not measured around the bottom: for {number(v, 'gap_s'):.2f} s from "
                f"{number(v, 'at_s'):.1f} s the recording has frames but you were not found in "
                "them (out of the picture, hidden, or someone else in view), so the deepest "
                "point was not measured (keep your whole body in view, alone in the picture)"
            )
        case RepIssueCode.BOTTOM_GAP:
            return (
                f"frames missing around the bottom: the recording skips "
                f"{number(v, 'gap_s'):.2f} s at {number(v, 'at_s'):.1f} s, so the deepest point "
                "may not have been filmed (keep the phone recording steadily; close other apps)"
            )
        case RepIssueCode.THIGH_FORESHORTENED if "ratio" in v:
            return (
                f"thigh too foreshortened at the bottom (hip near knee height: the thigh "
                f"shows {100 * number(v, 'ratio'):.0f}% of its length) for FPPA"
            )
        case RepIssueCode.CAMERA_MOVED:
            return (
                f"the camera moved too much during this rep ({_camera_numbers(v)}), so it "
                "is not scored: put the phone on a stand or lean it against something "
                "steady"
            )
        case RepIssueCode.DEFINITION_UNMAPPED if "ratio" in v:
            ratio, low, high = number(v, "ratio"), number(v, "low"), number(v, "high")
            deeper = ratio > high
            digits = 2  # as many as it takes not to print the range's own limit
            while round(ratio, digits) == round(high if deeper else low, 2) and digits < 6:
                digits += 1
            return (
                f"this rep went {'deeper' if deeper else 'less deep'} (or your hips look "
                f"{'wider' if deeper else 'narrower'} against your legs) than the conversion "
                "to the skin-marker FPPA the threshold was set on was checked for (hip width "
                f"{ratio:.{digits}f} of the leg's length in the picture, checked "
                f"{f'up to {high:.2f}' if deeper else f'from {low:.2f}'}), so it is not "
                "scored: squat toward 60 deg of knee flexion"
            )
        case RepIssueCode.NOT_SQUARE:
            return (
                f"camera not square to you (body turned {number(v, 'yaw_deg'):.0f} deg during "
                f"the rep, which can shift the FPPA by up to "
                f"{number(v, 'possible_error_deg'):.0f} deg)"
            )
    return _REP_TEXT[issue.code]


def _camera_numbers(v: Values) -> str:
    """How far the camera moved, in words (``core.camera.camera_moved``'s values): the shift,
    and the speed, zoom and roll where measured and worth saying; read from the standing foot
    where the background showed nothing to follow."""
    if v.get("source") == "standing_foot":
        return (
            f"your standing foot, which stays put on the floor, moved across the picture by "
            f"{number(v, 'shift_pct'):.0f}% of its width"
        )
    parts = [f"the picture shifted by {number(v, 'shift_pct'):.0f}% of its width"]
    if "speed_pct_per_s" in v:
        parts[0] += f", at up to {number(v, 'speed_pct_per_s'):.0f}% a second"
    if abs(float(v.get("zoom_pct", 0.0))) >= 5:
        parts.append(f"zoomed by {number(v, 'zoom_pct'):.0f}%")
    if abs(float(v.get("roll_deg", 0.0))) >= 3:
        parts.append(f"turned by {number(v, 'roll_deg'):.0f} deg")
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


_INCOMPLETE_CODES = frozenset(
    {
        RepIssueCode.CLIP_START,
        RepIssueCode.CLIP_END,
        RepIssueCode.TRACKING_LOST,
        RepIssueCode.FOUND_MID_REP,
        RepIssueCode.TOO_SLOW,
        RepIssueCode.INCOMPLETE,
    }
)
