"""The look and the words of the results, shared by the app, the annotated video, the live
overlay, the chart and the report: band colours and names, side labels, number formats and the
one-line rep feedback.

No drawing and no third-party imports (no OpenCV, no plotly): the report and the app's tables
use it without the drawing extras.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from valgus.config import AnalysisConfig
from valgus.core.fppa import definition_label as definition_label
from valgus.core.scoring import Band, RepScore, band_for

RGB = tuple[int, int, int]

# Traffic-light colours, darkened so white text on them stays readable; every coloured mark also
# carries the band in words, so colour is never the only cue.
BAND_RGB: dict[str, RGB] = {
    "fine": (46, 125, 50),
    "borderline": (217, 119, 6),
    "excessive": (198, 40, 40),
    "not_measurable": (97, 97, 97),
}
BAND_HEX: dict[str, str] = {k: "#{:02x}{:02x}{:02x}".format(*v) for k, v in BAND_RGB.items()}
BAND_TEXT: dict[str, str] = {
    "fine": "fine",
    "borderline": "borderline",
    "excessive": "excessive",
    "not_measurable": "not measurable",
}
# Lighter versions for text on the dark panels (the darker ones lack contrast there).
BAND_RGB_ON_DARK: dict[str, RGB] = {
    "fine": (129, 199, 132),
    "borderline": (255, 183, 77),
    "excessive": (239, 118, 118),
    "not_measurable": (189, 189, 189),
}
NEUTRAL: RGB = (235, 235, 235)
FREE_LEG: RGB = (150, 150, 150)
SHADOW: RGB = (20, 20, 20)
WHITE: RGB = (255, 255, 255)
SIDE_SHORT = {"left": "L", "right": "R"}


def live_band(fppa_deg: float, cfg: AnalysisConfig) -> Band:
    """Band of a single FPPA value (degrees) under ``cfg``'s threshold; not measurable if NaN."""
    if not math.isfinite(fppa_deg):
        return "not_measurable"
    v = cfg.valgus
    return band_for(fppa_deg, v.threshold_deg(cfg.sex), v.margin_deg(cfg.sex))


def band_rule_text(cfg: AnalysisConfig) -> str:
    """The rep bands with their real edges and where the margin comes from (plain text)."""
    v = cfg.valgus
    thr, e = v.threshold_deg(cfg.sex), v.margin_deg(cfg.sex)
    return (
        f"Each rep: excessive above {thr + e:.1f} deg, borderline {thr - e:.1f} to {thr + e:.1f}"
        f" deg, fine below {thr - e:.1f} deg (threshold {thr:.1f} deg +/- the measurement error "
        f"{e:.2f} deg: SEM of 2D FPPA {v.method_sem_deg:.1f} deg, Munro 2012, combined with "
        f"valgus's own {v.tool_error_deg(cfg.sex):.1f} deg{_in_definition(cfg)})."
    )


# The definition a rule's numbers are in, as the rules' labels say it (empty: unmapped keypoint).
DEFINITION_NOTE: dict[str, str] = {
    "thigh_marker": " in the skin-marker FPPA the threshold was set on, to which valgus maps its "
                    "own (README \"FPPA definitions\")",
}


def _in_definition(cfg: AnalysisConfig) -> str:
    return DEFINITION_NOTE.get(cfg.valgus.definition(cfg.sex), "")


def leg_rule_text(cfg: AnalysisConfig) -> str:
    """The per-leg rule (``scoring.leg_verdict``) with the numbers in force (plain text)."""
    thr = cfg.valgus.threshold_deg(cfg.sex)
    return (
        f"Each leg, on the mean FPPA of its reps +/- its uncertainty (the measurement error "
        f"combined with the reps' spread): PASS when that stays below {thr:.1f} deg, with "
        f"{cfg.clearance.required_reps} measured reps and none excessive; NOT YET when it stays "
        f"above {thr:.1f} deg, or too few reps; UNCERTAIN (re-test or clinician review) when "
        f"{thr:.1f} deg lies within it or a single rep is excessive."
    )


def rule_text(cfg: AnalysisConfig) -> str:
    """Bands and leg rule, as every label of the results states them."""
    return f"{band_rule_text(cfg)} {leg_rule_text(cfg)} FPPA + = knee towards the midline."


# What the reported FPPA is, per definition (``config.ValgusThresholds.definition``,
# ``config.FppaDefinition``): the one wording of it.
FPPA_DEFINITION_TEXT: dict[str, str] = {
    "keypoint": (
        "the angle in the picture between the thigh (hip to knee) and the shank (knee to ankle) "
        "of the stance leg, from the pose model's hip, knee and ankle points (unmapped), scored "
        "at the deepest point of each rep: the median over the bottom plateau (the frames "
        "within {plateau:.0f} deg of the deepest knee flexion); the value where the descent "
        "reaches 60 deg of knee flexion is reported beside it and never sets the band; 0 deg = "
        "straight, + = knee towards the midline (valgus)"
    ),
    "thigh_marker": (
        "the angle in the picture between the thigh and the shank of the stance leg as skin "
        "markers on the proximal thigh, the knee and the ankle would give it (the definition "
        "the sex-specific thresholds were set on): the pose model's hip, knee and ankle FPPA "
        "mapped as {offset:+.2f} deg + {slope:.3f} x FPPA + {per_ratio:.1f} deg x (hip width / "
        "leg length in the picture), scored at the deepest point of each rep: the median over "
        "the bottom plateau (the frames within {plateau:.0f} deg of the deepest knee flexion); "
        "the value where the descent reaches 60 deg of knee flexion is reported beside it and "
        "never sets the band; the unmapped value is kept beside it; + = knee towards the "
        "midline (valgus)"
    ),
}


def method_text(cfg: AnalysisConfig | None) -> str:
    """How the FPPA is measured and how well: its definition and its measured error, with the
    numbers in force (``config.ValgusThresholds``; plain text, for the report's method note)."""
    cfg = cfg or AnalysisConfig()
    v = cfg.valgus
    definition = v.definition(cfg.sex)
    offset, slope, per_ratio = v.mapping(cfg.sex)
    text = FPPA_DEFINITION_TEXT.get(definition, definition).format(
        plateau=cfg.view.bottom_plateau_deg, offset=offset, slope=slope, per_ratio=per_ratio)
    against = ("reference joint points" if definition == "keypoint"
               else "proximal-thigh skin markers on bodies the mapping was not fitted on")
    return (
        f"FPPA (frontal plane projection angle): {text}. Measured error: valgus's own "
        f"error against {against} is {v.tool_error_deg(cfg.sex):.1f} deg (one SD, "
        f"rendered bodies filmed square-on; README \"Accuracy\"); the standard error of "
        f"measurement of 2D FPPA between sessions is {v.method_sem_deg:.1f} deg (Munro 2012). "
        f"Combined, {v.margin_deg(cfg.sex):.2f} deg: the borderline margin around the "
        f"threshold."
    ) + DEFINITION_CAVEAT.get(definition, "")


# What each definition's numbers do not show, said after the method note (one wording).
DEFINITION_CAVEAT: dict[str, str] = {
    "keypoint": (
        " The threshold without a sex (Park 2024) was set on a pose model's keypoints, as this "
        "FPPA is measured (with another model). On rendered bodies this reading lies about 5 "
        "deg below the joint centres in squats to 45-90 deg of knee flexion and about 11 deg "
        "below in squats to 95-115 deg, so a leg with reps deeper than the protocol is not "
        "passed on them: squat toward 60 deg as the test asks, or give the sex to use the "
        "skin-marker thresholds "
        "(Herrington & Munro 2010), to which valgus maps its FPPA (README \"FPPA "
        "definitions\")."
    ),
    "thigh_marker": (
        " The map was fitted and checked on rendered bodies (squats to 45-115 deg, leaving "
        "each body out), not on real people with markers (README \"FPPA definitions\")."
    ),
}


def fmt_num(value: float | None, digits: int = 1) -> str:
    """'12.3', or '-' where the value is missing (None or NaN): a table cell."""
    return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def fmt_deg(value: float | None, digits: int = 1) -> str:
    """'12.3°' or '-' for missing values."""
    text = fmt_num(value, digits)
    return text if text == "-" else f"{text}°"


def leg_rep_number(reps: Sequence[RepScore], rep: RepScore) -> int:
    """Which of its leg's complete single-leg reps ``rep`` is (1-based; the count towards 20),
    or 0 for a rep that does not count (cut off, or a double-leg squat)."""
    n = 0
    for r in reps:
        counts = r.test_rep
        if r.leg == rep.leg and counts:
            n += 1
        if r is rep:
            return n if counts else 0
    return 0


def feedback_text(rep: RepScore, number: int) -> str:
    """'Left rep 3: FPPA 12.0° borderline', numbered per leg as the counters count
    (``number`` from ``leg_rep_number``; 0 = a rep that does not count)."""
    if number == 0:
        why = str(rep.issues[0]) if rep.issues else "cut off"
        return f"{rep.leg.capitalize()}: rep not counted ({why})"
    head = f"{rep.leg.capitalize()} rep {number}"
    if rep.band == "not_measurable":
        return f"{head}: not measurable"
    return f"{head}: FPPA {fmt_deg(rep.scored_fppa_deg)} {BAND_TEXT[rep.band]}"


def issues_text(rep: RepScore) -> str:
    """A rep's issues in words, '; '-separated ('' when it has none): a table cell."""
    return "; ".join(str(issue) for issue in rep.issues)
