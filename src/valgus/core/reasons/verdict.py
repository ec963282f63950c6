"""The words of a leg's verdict: counts, set estimates, why cycles were not counted
(``core.reasons``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from valgus.core.reasons.codes import Audience, RepIssueCode, plural
from valgus.core.uncertainty import SetEstimate


def _reps(n: int) -> str:
    return plural(n, "rep")


def _deg(value: float) -> str:
    return f"{value:.1f} deg"


def set_sentence(estimate: SetEstimate, threshold_deg: float, margin_deg: float) -> str:
    """Where a leg's set of reps stands against the threshold, with the numbers."""
    m, u, lo, hi = (
        estimate.mean_deg,
        estimate.uncertainty_deg,
        estimate.low_deg,
        estimate.high_deg,
    )
    # One rep has no spread to speak of: only the measurement error is said.
    spread = (f", reps' spread {estimate.spread_deg:.1f} deg" if estimate.reps > 1
              else ", one rep: no spread")
    numbers = (
        f"mean FPPA {m:.1f} +/- {u:.1f} deg over {_reps(estimate.reps)} (measurement "
        f"error {margin_deg:.1f} deg{spread})"
    )
    match estimate.position(threshold_deg):
        case "above":
            return (
                f"excessive knee valgus: {numbers}, clearly above the {_deg(threshold_deg)} "
                f"threshold ({lo:.1f} deg or more)"
            )
        case "below":
            return (
                f"{numbers}, clearly below the {_deg(threshold_deg)} threshold "
                f"({hi:.1f} deg at most)"
            )
    return (
        f"{numbers}: {lo:.1f} to {hi:.1f} deg takes in the {_deg(threshold_deg)} "
        "threshold, within the measurement error"
    )


_CYCLE_LABEL: dict[str, str] = {
    RepIssueCode.FREE_LEG_PHASE: "the free leg's bend",
    RepIssueCode.STANCE_UNCLEAR: "stance leg unclear",
    RepIssueCode.FREE_FOOT_DOWN: "free foot down",
    RepIssueCode.FREE_FOOT_LOW: "free foot too low to see",
    RepIssueCode.BOTTOM_GAP: "frames missing around the bottom",
    RepIssueCode.CAMERA_MOVED: "camera moved",
    RepIssueCode.KNEE_HIDDEN: "knee hidden",
    RepIssueCode.OTHER_LEG_HIDDEN: "other leg hidden",
    RepIssueCode.DEFINITION_UNMAPPED: "outside the FPPA map's range",
    RepIssueCode.THIGH_FORESHORTENED: "thigh foreshortened",
    RepIssueCode.NOT_SQUARE: "camera not square",
    RepIssueCode.NOT_FRONTAL: "camera not in front",
    RepIssueCode.CLIP_BLOCKED: "video cannot be scored",
    RepIssueCode.DOUBLE_LEG: "double-leg squat",
    RepIssueCode.CLIP_START: "cut by the clip's start",
    RepIssueCode.CLIP_END: "cut by the clip's end",
    RepIssueCode.TRACKING_LOST: "not followed to its end",
    RepIssueCode.FOUND_MID_REP: "not followed from its start",
    RepIssueCode.UNRELIABLE_JOINTS: "joints unreliable",
    RepIssueCode.UNRELIABLE_SCORED_FRAME: "joints unreliable at the bottom",
}


_CODES = frozenset(str(c) for c in RepIssueCode)


def cycle_label(code: str) -> str:
    """A short label of why a knee-bend cycle was not counted (a leg's tally, tables): ``code`` a
    ``RepIssueCode`` or "clip_not_assessable" / "not_measurable"."""
    return _CYCLE_LABEL.get(code) or str(code).replace("_", " ")


def cycles_sentence(found: int, counted: int, not_counted: Mapping[str, int]) -> str:
    """How many knee-bend cycles of a leg were found, how many were counted as measured reps,
    and why the others were not (``not_counted``: first reason code -> cycles)."""
    if not found:
        return "no knee bend reaching the minimum depth was found on this leg"
    head = (
        f"{found} knee-bend {'cycle' if found == 1 else 'cycles'} found on this leg, "
        f"{counted} counted"
    )
    if not not_counted:
        return head
    why = ", ".join(
        f"{n} {cycle_label(RepIssueCode(code)) if code in _CODES else code.replace('_', ' ')}"
        for code, n in not_counted.items()
    )
    return f"{head}; not counted: {why}"


def too_few_reps(valid: int, required: int) -> bool:
    """A leg with some measured reps but fewer than the test asks for (``required``)."""
    return 0 < valid < required


def verdict_words(
    verdict: str, *, valid: int, required: int, position: str | None, excessive: int
) -> str:
    """A leg's verdict with why it is NOT YET beside it, so that a leg short of reps does not
    read as a valgus failure: "NOT YET (too few reps: 3 of 20 measured)". ``valid``: the
    leg's measured reps; ``position``: its set against the threshold; ``excessive``: its reps
    banded excessive. Other verdicts are returned as they are (their reasons follow them)."""
    if verdict != "NOT YET":
        return verdict
    why: list[str] = []
    if too_few_reps(valid, required):
        why.append(f"too few reps: {valid} of {required} measured")
    if position == "above":
        why.append("excessive knee valgus")
    elif excessive:
        why.append(f"{_reps(excessive)} excessive")
    return f"{verdict} ({'; '.join(why)})" if why else verdict


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
    if too_few_reps(valid, required):
        # First: a leg short of reps is NOT YET whatever its FPPA, and must not read as valgus.
        were = "was" if valid == 1 else "were"
        reasons.append(f"only {valid} of the {required} reps the test asks for {were} measured")
    if verdict == "UNCERTAIN":
        reasons.append(
            "uncertain: re-test, or have a clinician review the reps"
            if audience == "person"
            else "uncertain: re-test or review the reps"
        )
    if estimate is not None:
        reasons.append(set_sentence(estimate, threshold_deg, margin_deg))
    elif verdict == "PASS":
        reasons.append(f"{_reps(valid)}, all judged by the reviewer, none excessive")
    above = estimate is not None and estimate.position(threshold_deg) == "above"
    edge = _deg(threshold_deg + margin_deg)
    if measured_excessive:
        reasons.append(
            f"{measured_excessive} of {_reps(valid)} excessive (FPPA above {edge})"
            if above
            else f"{measured_excessive} of {_reps(valid)} read excessive (FPPA above {edge}) "
            "while the set's mean does not"
        )
    if confirmed_excessive:
        reasons.append(
            f"{confirmed_excessive} of {_reps(valid)} banded excessive knee valgus by the reviewer"
        )
    if reviewer_borderline:
        reasons.append(
            f"{_reps(reviewer_borderline)} banded borderline by the reviewer"
            + ("" if estimate else ", and no measured FPPA left to decide on")
        )
    if overridden:
        reasons.append(f"{_reps(overridden)} re-banded by the reviewer")
    return tuple(reasons)


def deeper_than_protocol(deep: int, counted: int, deepest_deg: float, limit_deg: float,
                         definition: str = "keypoint") -> str:
    """The reason naming ``deep`` of a leg's ``counted`` reps that went deeper than the depth
    the thresholds were set on (``ClearanceConfig.protocol_depth_deg``), worded for the FPPA
    definition in force: on the unmapped keypoint FPPA such reps read low, and the leg is not
    passed on the measured ones (``scoring.leg_verdict``); "reviewed": all of them were banded
    by a reviewer, whose band stands."""
    which = ("the one counted rep" if counted == 1
             else f"all {counted} counted reps" if deep == counted
             else f"{deep} of the {counted} counted reps")
    went = (f"{which} went deeper than {limit_deg:.0f} deg of knee flexion "
            f"(to {deepest_deg:.0f} deg)")
    if definition == "reviewed":
        return (f"{went}, deeper than the squats the thresholds were set on (toward 45-60 deg); "
                "a reviewer banded them: squat toward 60 deg")
    if definition == "keypoint":
        return (
            f"{went}, where this pose-keypoint FPPA reads lower than it does at the depth the "
            "thresholds were set on (squats toward 45-60 deg), so the leg is not passed on "
            "such measured reps: squat toward 60 deg, or give the sex to use the skin-marker "
            "thresholds"
        )
    return (
        f"{went}: the thresholds were set on squats toward 45-60 deg, and deeper the FPPA "
        "changes with depth and the map to skin markers reads less well: squat toward 60 deg"
    )


def mixed_definitions(by_definition: Mapping[str, Sequence[int]]) -> str:
    """Why a session's reps are not pooled: its analyses (ids) were scored on different FPPA
    definitions (``by_definition``: the definition in words -> analysis ids)."""
    parts = "; ".join(
        f"{words}: analysis {', '.join(str(i) for i in ids)}" if len(ids) == 1
        else f"{words}: analyses {', '.join(str(i) for i in ids)}"
        for words, ids in by_definition.items())
    return (
        f"the session's clips were scored on different FPPA definitions ({parts}), which "
        "differ by several degrees for the same knee, so their reps are not pooled: re-score "
        "the analyses not on the clinic's settings so that all are on one"
    )


def symmetry_withheld(valid: Mapping[str, int], minimum: int) -> str:
    """Why the legs are not compared: ``valid`` (leg -> measured reps) has a leg with fewer
    than ``minimum`` (``ClearanceConfig.min_symmetry_reps``)."""
    short = [f"the {leg} leg has {plural(n, 'measured rep')}" for leg, n in valid.items()
             if n < minimum]
    return (f"limb symmetry withheld: {' and '.join(short)}, fewer than the {minimum} per leg "
            "a comparison of the legs needs")


def forced_leg_reasons(leg: str, forced: str, cycles_found: int, counted: int) -> tuple[str, ...]:
    """What a leg's verdict says when the person named the stance leg (``--leg``/the app's leg
    choice ``forced``): the other leg was not analysed; the named one, when none of its reps
    counted, may have been the wrong choice."""
    if leg != forced:
        return (f"not analysed: the {forced} leg was chosen as the standing leg; analyse with "
                "the leg found automatically to measure both legs",)
    if not counted:
        other = "left" if forced == "right" else "right"
        why = (": every knee bend of it looked like the free leg's" if cycles_found else "")
        return (f"no rep of the {forced} leg counted{why}; if you stood on the {other} leg, "
                "analyse with the leg found automatically",)
    return ()
