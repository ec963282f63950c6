"""The words of clip checks and clip problems (``core.reasons``)."""

from __future__ import annotations

from valgus.core.reasons.codes import (
    UNRELIABLE,
    Audience,
    ClipProblem,
    QualityCode,
    Values,
    number,
    plural,
)

# ------------------------------------------------------------------------------- clip checks

_QUALITY_TEXT: dict[QualityCode, tuple[str, str]] = {
    QualityCode.TOO_DARK: (
        "the video is too dark to see the joints reliably",
        "Film in good light: switch on the room lights or face a window; avoid a bright "
        "window behind you.",
    ),
    QualityCode.TOO_BLURRED: (
        "the video is too blurred to place the joints reliably",
        "Clean the lens, let the camera focus on you before starting, and keep it still "
        "(prop it up or use a stand).",
    ),
    QualityCode.UPSIDE_DOWN: (
        "the video is upside down",
        "Rotate the video upright (or film with the phone held the right way up).",
    ),
    QualityCode.SIDEWAYS: (
        "the video is turned sideways (its rotation was lost)",
        "Rotate the video upright before uploading, or film again with the phone upright.",
    ),
}


def describe_quality(code: QualityCode, values: Values) -> str:
    """What a failed clip check found, in words (lower case, no full stop)."""
    v = values
    match code:
        case QualityCode.CLIP_TOO_SHORT:
            return f"the clip is only {number(v, 'duration_s'):.1f} s long"
        case QualityCode.FRAME_RATE_TOO_LOW:
            return f"the clip has only {number(v, 'fps'):.0f} frames per second"
        case QualityCode.CAMERA_TILTED:
            return f"the camera is tilted by about {abs(number(v, 'roll_deg')):.0f} deg"
        case QualityCode.PERSON_TOO_SMALL:
            return f"you fill only {number(v, 'height_pct'):.0f}% of the picture's height"
        case QualityCode.FEET_OUT_OF_FRAME:
            return (
                f"your feet are outside the picture in {number(v, 'frames_pct'):.0f}% of the frames"
            )
        case QualityCode.HIPS_OUT_OF_FRAME:
            return (
                f"your hips are outside the picture in {number(v, 'frames_pct'):.0f}% of the frames"
            )
        case QualityCode.SEVERAL_PEOPLE:
            return (
                f"more than one person is in the picture ({number(v, 'frames_pct'):.0f}% of "
                "the checked frames); valgus followed one of them"
            )
        case QualityCode.LEFT_THE_PICTURE:
            return (
                f"you were out of the picture (or hidden) in {number(v, 'frames_pct'):.0f}% of "
                "the frames between first and last sighting"
            )
        case QualityCode.CAMERA_MOVED:
            n = int(number(v, "reps"))
            speed = (
                f", at up to {number(v, 'speed_pct_per_s'):.0f}% a second"
                if "speed_pct_per_s" in v
                else ""
            )
            return (
                f"the camera moved too much during {plural(n, 'knee bend')} (up to "
                f"{number(v, 'shift_pct'):.0f}% of the picture's width{speed}): "
                f"{'it is' if n == 1 else 'they are'} listed but not scored"
            )
        case QualityCode.UNRELIABLE_LANDMARKS:
            return (
                f"the joints could not be placed reliably in {number(v, 'frames_pct'):.0f}% of "
                f"the frames {UNRELIABLE}"
            )
    return _describe_picture(code, v) or _QUALITY_TEXT[code][0]


def quality_guidance(code: QualityCode, values: Values) -> str:
    """What to do about a failed clip check (a sentence for the person filming)."""
    v = values
    match code:
        case QualityCode.CLIP_TOO_SHORT:
            return "Film the whole test: at least one full squat, ideally all 20 reps of each leg."
        case QualityCode.FRAME_RATE_TOO_LOW:
            return f"Record at 30 frames per second (at least {number(v, 'min_fps'):.0f})."
        case QualityCode.CAMERA_TILTED:
            roll = number(v, "roll_deg")
            side = "clockwise" if roll > 0 else "counter-clockwise"
            return (
                f"Level the camera (turn it {side} by {abs(roll):.0f} deg); pelvis and trunk "
                "angles are read against the image's horizontal and vertical."
            )
        case QualityCode.PERSON_TOO_SMALL:
            return (
                "Move the camera closer (2-4 m away) or zoom in, so that you fill most of the "
                "picture from head to feet."
            )
        case QualityCode.FEET_OUT_OF_FRAME:
            return (
                "Step back, or tilt the camera down, until your feet are in the picture the "
                "whole time."
            )
        case QualityCode.HIPS_OUT_OF_FRAME:
            return "Step back until your whole body, head to feet, is in the picture."
        case QualityCode.SEVERAL_PEOPLE:
            return (
                "Film with only the person being tested in the picture; check on the "
                "annotated frames that the skeleton is on the right person."
            )
        case QualityCode.LEFT_THE_PICTURE:
            return (
                "Stay in the picture for the whole test; reps where you were lost are not scored."
            )
        case QualityCode.UNRELIABLE_LANDMARKS:
            return (
                "Wear fitted clothes that show your knees, film against a plain background "
                "in good light, and keep other people out of the picture."
            )
    return _PICTURE_GUIDANCE.get(code) or _QUALITY_TEXT[code][1]


# ----------------------------------------------------- what the camera saw (issue 13, runtime)


def _describe_picture(code: QualityCode, v: Values) -> str | None:
    """Words of the picture, pixel and view checks (None for the other codes)."""
    match code:
        case QualityCode.PICTURE_CROPPED:
            return (
                f"bars around the picture were left out: only the "
                f"{number(v, 'width_px'):.0f}x{number(v, 'height_px'):.0f} px picture inside them "
                "was analysed"
            )
        case QualityCode.PERSON_TOO_FEW_PIXELS:
            return (
                f"you are only {number(v, 'height_px'):.0f} px tall in the video (at least "
                f"{number(v, 'min_px'):.0f} px are needed to place the knees)"
            )
        case QualityCode.FILMED_FROM_BEHIND:
            return (
                f"filmed from behind ({number(v, 'frames_pct'):.0f}% of the frames show your "
                "back): left, right and the valgus direction cannot be checked"
            )
        case QualityCode.PERSON_SWITCH:
            return (
                f"for {number(v, 'seconds'):.1f} s from {number(v, 'first_s'):.1f} s the camera "
                "followed someone else (another body size, or a jump across the picture): "
                "those frames were left out, and no rep was made of them"
            )
    return None


_PICTURE_GUIDANCE: dict[QualityCode, str] = {
    QualityCode.PICTURE_CROPPED: (
        "Nothing to change; exporting the video without the bars gives the model more pixels "
        "of you."
    ),
    QualityCode.PERSON_TOO_FEW_PIXELS: (
        "Film at 720p or more (not a low-quality or 144p setting) and stand 2-4 m from the "
        "camera, so that you fill most of the picture."
    ),
    QualityCode.FILMED_FROM_BEHIND: (
        "Film from the front: face the camera, 2-4 m away at knee-to-hip height."
    ),
    QualityCode.CAMERA_MOVED: (
        "Put the phone on a stand or lean it against something steady (a shelf, a chair, a pile "
        "of books) at knee-to-hip height, 2-4 m away, and leave it untouched while you squat; "
        "a phone held by someone else moves too much. A little sway is fine."
    ),
    QualityCode.PERSON_SWITCH: (
        "Stay in the picture for the whole test and keep other people out of it (or behind "
        "the camera); check on the annotated frames that the skeleton is on you. If you came "
        "back closer or further away, film again from one spot."
    ),
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
