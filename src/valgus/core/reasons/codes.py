"""The codes of why a rep or a clip is not scored (worded in ``core.reasons``)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Literal

Audience = Literal["person", "clinician"]
Values = Mapping[str, float | str]


class RepIssueCode(StrEnum):
    """Why a rep is not measurable (or not a rep of the test)."""

    CLIP_START = "clip_start"
    CLIP_END = "clip_end"
    TRACKING_LOST = "tracking_lost"  # the person not followed from mid-rep on (a gap)
    FOUND_MID_REP = "found_mid_rep"  # the rep under way when the person was found (again)
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
    # The other leg hidden over the rep, so the body turn (read from the whole 3D body) cannot
    # be checked: values hidden_pct (issue 13).
    OTHER_LEG_HIDDEN = "other_leg_hidden"
    # The FPPA could not be put on the threshold's definition: the rep's hip width ratio lies
    # outside the range the map was fitted on; values: ratio, low, high (issue 12).
    DEFINITION_UNMAPPED = "definition_unmapped"
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


def number(values: Values, key: str) -> float:
    """``values[key]`` as a float (the numbers a code's words need)."""
    return float(values[key])


UNRELIABLE = "(jumps, swapped legs or changing bone lengths)"


def plural(n: int, thing: str, things: str | None = None) -> str:
    """``n`` and the noun for it: "1 rep", "2 reps", "0 reps" (``things``: an irregular
    plural; default ``thing`` + "s"). The one place "N thing(s)" is worded."""
    return f"{n} {thing if n == 1 else (things or thing + 's')}"
