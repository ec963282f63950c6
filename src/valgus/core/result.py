"""The analysis result of one clip: per-rep scores, per-leg verdicts, the checks, the settings;
whether the clip can be assessed at all (``clip_problem``, the one rule).

Pure data. ``AnalysisResult.to_dict`` writes the JSON of schema ``valgus.analysis/2`` and
``AnalysisResult.from_dict`` reads it back, and also ``valgus.analysis/1`` (the records hold
those), so that stored and fresh results are the same type.

Schema 2 against 1: rep issues are ``{"code", "values", "text"}`` objects (1: sentences), quality
issues carry their ``values``, each rep its ``clip_assessable`` and ``counts_towards_test``, each
leg its ``overridden_reps``. Later additions to schema 2, absent from results stored before them
and read back as None (or 0): each rep's ``knee_ankle_separation_ratio``; each leg's set of reps
(``measured_reps``, ``mean_fppa_deg``, ``fppa_spread_deg``, ``uncertainty_deg``,
``threshold_deg``, ``position``) and the verdict ``UNCERTAIN``; in ``thresholds`` the two
measurement errors the borderline margin is derived from (``ValgusThresholds``). A stored config's
``borderline_margin_deg`` (a setting before it was derived) is ignored on reading.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from valgus import __version__
from valgus.config import AnalysisConfig
from valgus.core.checks import QualityIssue, ViewAssessment
from valgus.core.reasons import (
    Audience,
    ClipProblem,
    QualityCode,
    RepIssue,
    RepIssueCode,
    describe,
    describe_clip_problem,
)
from valgus.core.scoring import LegVerdict, RepScore, Symmetry
from valgus.landmarks import SIDES, Side

SCHEMA = "valgus.analysis/2"
# The legs' rule in one line for the JSON (``scoring.leg_verdict`` has it in full).
VERDICT_RULE = (
    "per leg, mean FPPA m of the measured reps with uncertainty u = sqrt(borderline_margin^2 + "
    "spread^2 / n): NOT YET if m - u > threshold, a reviewer's excessive rep or too few reps; "
    "UNCERTAIN if the threshold lies within m +/- u or a rep is excessive; PASS if m + u < "
    "threshold"
)
SCHEMA_V1 = "valgus.analysis/1"
READABLE_SCHEMAS = (SCHEMA, SCHEMA_V1)
ExerciseLabel = Literal["single_leg", "double_leg", "unknown"]
LegChoice = Literal["auto", "left", "right"]


def clip_problem(
    view: ViewAssessment, quality: Iterable[QualityIssue], exercise: str
) -> ClipProblem | None:
    """Why none of a clip's reps can count, or None when it can be assessed. The one rule, in
    one order: clip-wide blocking checks first (they say why nothing can be scored: for a
    rotated video that is the rotation, not the view), then the camera not in front, then a
    double-leg squat (the test is a single-leg squat)."""
    if any(q.blocking for q in quality):
        return ClipProblem.BLOCKED
    if not view.frontal:
        return ClipProblem.NOT_FRONTAL
    if exercise == "double_leg":
        return ClipProblem.DOUBLE_LEG
    return None


def clip_problem_text(
    problem: ClipProblem | None, quality: Iterable[QualityIssue], audience: Audience = "person"
) -> str:
    """The words of ``clip_problem`` ("" when assessable)."""
    if problem is None:
        return ""
    blockers = tuple(q.message for q in quality if q.blocking)
    return describe_clip_problem(problem, blockers, audience)


@dataclass(frozen=True)
class AnalysisResult:
    """Everything valgus concludes about one clip. Times in seconds, angles in degrees.
    ``valgus_version``: the version that made it (kept when read back from the records)."""

    source: str
    duration_s: float
    n_frames: int
    detection_fraction: float
    view: ViewAssessment
    quality: tuple[QualityIssue, ...]
    exercise: ExerciseLabel
    reps: tuple[RepScore, ...]
    legs: dict[Side, LegVerdict]
    symmetry: Symmetry | None
    config: AnalysisConfig
    leg_choice: LegChoice = "auto"
    valgus_version: str = __version__

    def __post_init__(self) -> None:
        # A rep's ``clip_assessable`` follows the clip (``clip_problem``), whoever built it.
        ok = self.assessable
        if any(r.clip_assessable != ok for r in self.reps):
            reps = tuple(dataclasses.replace(r, clip_assessable=ok) for r in self.reps)
            object.__setattr__(self, "reps", reps)

    @property
    def problem(self) -> ClipProblem | None:
        """Why the clip cannot be assessed (``clip_problem``), None when it can."""
        return clip_problem(self.view, self.quality, self.exercise)

    @property
    def assessable(self) -> bool:
        return self.problem is None

    def problem_text(self, audience: Audience = "person") -> str:
        """Why the clip cannot be assessed, in words ("" when it can)."""
        return clip_problem_text(self.problem, self.quality, audience)

    @property
    def threshold_deg(self) -> float:
        """The excessive-FPPA threshold the reps were banded with (deg, sex-specific)."""
        return self.config.valgus.threshold_deg(self.config.sex)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (schema ``valgus.analysis/2``): floats rounded to 0.001, NaN/inf as
        None; issues with their code, values and words."""
        reps = []
        for n, r in enumerate(self.reps, start=1):
            rep = dataclasses.asdict(r)
            rep["issues"] = [_issue_dict(i) for i in r.issues]
            rep["counts_towards_test"] = r.counts_towards_test
            rep["not_a_rep"] = r.not_a_rep
            reps.append({"index": n, **rep})
        return _clean(
            {
                "schema": SCHEMA,
                "valgus_version": self.valgus_version,
                "source": self.source,
                "duration_s": self.duration_s,
                "n_frames": self.n_frames,
                "detection_fraction": self.detection_fraction,
                "leg_choice": self.leg_choice,
                "view": dataclasses.asdict(self.view),
                "quality": [
                    {"code": str(q.code), "blocking": q.blocking, "message": q.message,
                     "guidance": q.guidance, "values": dict(q.values)}
                    for q in self.quality
                ],
                "exercise": self.exercise,
                "reps": reps,
                "legs": {s: dataclasses.asdict(v) for s, v in self.legs.items()},
                "symmetry": dataclasses.asdict(self.symmetry) if self.symmetry else None,
                "thresholds": {
                    "sex": self.config.sex,
                    "excessive_fppa_deg": self.threshold_deg,
                    "borderline_margin_deg": self.config.valgus.margin_deg(self.config.sex),
                    "method_sem_deg": self.config.valgus.method_sem_deg,
                    "tool_error_sd_deg": self.config.valgus.tool_error_deg(self.config.sex),
                    "fppa_definition": self.config.valgus.definition(self.config.sex),
                    "required_reps": self.config.clearance.required_reps,
                    "verdict_rule": VERDICT_RULE,
                },
                "config": dataclasses.asdict(self.config),
            }
        )

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AnalysisResult:
        """The result of a ``to_dict`` dict, of schema ``valgus.analysis/2`` or ``/1``.

        Schema 1 kept issues as words only: a quality issue keeps its recorded message and
        guidance, a rep issue becomes its code where the words are a fixed sentence, else
        ``RepIssueCode.RECORDED`` with the words; a rep's ``clip_assessable`` comes from
        ``clip_problem``.

        Raises:
            ValueError: another schema, or a missing or malformed field.
        """
        schema = d.get("schema")
        if schema not in READABLE_SCHEMAS:
            raise ValueError(f"analysis schema {schema!r} is not one of {READABLE_SCHEMAS}")
        try:
            view = ViewAssessment(
                frontal=bool(d["view"]["frontal"]),
                median_yaw_deg=_opt_float(d["view"].get("median_yaw_deg")),
                frontal_fraction=float(d["view"].get("frontal_fraction") or 0.0),
                guidance=tuple(d["view"].get("guidance", ())),
            )
            quality = tuple(_quality(q, schema) for q in d.get("quality", ()))
            exercise = d.get("exercise", "unknown")
            assessable = clip_problem(view, quality, exercise) is None
            return cls(
                source=str(d.get("source", "")),
                duration_s=float(d.get("duration_s") or 0.0),
                n_frames=int(d.get("n_frames") or 0),
                detection_fraction=float(d.get("detection_fraction") or 0.0),
                view=view,
                quality=quality,
                exercise=exercise,
                reps=tuple(_rep(r, assessable) for r in d.get("reps", ())),
                legs={s: _leg(d["legs"][s]) for s in SIDES if s in d.get("legs", {})},
                symmetry=_symmetry(d["symmetry"]) if d.get("symmetry") else None,
                config=_config(d.get("config", {})),
                leg_choice=d.get("leg_choice", "auto"),
                valgus_version=str(d.get("valgus_version", "")),
            )
        except (KeyError, TypeError, AttributeError) as err:
            raise ValueError(f"malformed analysis ({schema}): {err!r}") from err


# --------------------------------------------------------------------------- JSON helpers


def _clean(x: Any) -> Any:
    if isinstance(x, float):
        return round(x, 3) if math.isfinite(x) else None
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    return x


def _issue_dict(issue: RepIssue) -> dict[str, Any]:
    return {"code": str(issue.code), "values": dict(issue.values), "text": describe(issue)}


def _opt_float(v: Any) -> float | None:
    return None if v is None else float(v)


def _quality(q: Mapping[str, Any], schema: str) -> QualityIssue:
    code = QualityCode(q["code"])
    if schema == SCHEMA_V1:
        return QualityIssue(code, bool(q["blocking"]),
                            recorded=(str(q.get("message", "")), str(q.get("guidance", ""))))
    issue = QualityIssue(code, bool(q["blocking"]), dict(q.get("values") or {}))
    try:
        issue.message, issue.guidance  # noqa: B018 (schema 2 written from a schema 1 result)
    except KeyError:
        return dataclasses.replace(issue, recorded=(str(q["message"]), str(q["guidance"])))
    return issue


# Rep issues of schema 1 whose words are a fixed sentence, back to their code.
_FIXED_WORDS = {
    describe(RepIssue(code)): code
    for code in RepIssueCode
    if code not in (RepIssueCode.CLIP_BLOCKED, RepIssueCode.LANDMARKS_LOST,
                    RepIssueCode.UNRELIABLE_JOINTS, RepIssueCode.FEW_DESCENT_FRAMES,
                    RepIssueCode.NOT_SQUARE, RepIssueCode.RECORDED, RepIssueCode.BOTTOM_GAP,
                    RepIssueCode.CAMERA_MOVED)
}


def _rep_issue(i: Any) -> RepIssue:
    if isinstance(i, str):  # schema 1
        code = _FIXED_WORDS.get(i)
        return RepIssue(code) if code else RepIssue(RepIssueCode.RECORDED, {"text": i})
    return RepIssue(RepIssueCode(i["code"]), dict(i.get("values") or {}))


_REP_FIELDS = {f.name for f in dataclasses.fields(RepScore)}


def _rep(r: Mapping[str, Any], clip_assessable: bool) -> RepScore:
    values = {k: v for k, v in r.items() if k in _REP_FIELDS}
    values["issues"] = tuple(_rep_issue(i) for i in r.get("issues", ()))
    values.setdefault("clip_assessable", clip_assessable)
    return RepScore(**values)


def _leg(v: Mapping[str, Any]) -> LegVerdict:
    names = {f.name for f in dataclasses.fields(LegVerdict)}
    values = {k: val for k, val in v.items() if k in names}
    values["reasons"] = tuple(values.get("reasons", ()))
    values["not_counted"] = tuple((str(c), int(n)) for c, n in values.get("not_counted", ()))
    return LegVerdict(**values)


def _symmetry(v: Mapping[str, Any]) -> Symmetry:
    return Symmetry(
        reps_lsi_pct=_opt_float(v.get("reps_lsi_pct")),
        depth_lsi_pct=_opt_float(v.get("depth_lsi_pct")),
        fppa_lsi_pct=_opt_float(v.get("fppa_lsi_pct")),
        fppa_difference_deg=_opt_float(v.get("fppa_difference_deg")),
        notes=tuple(v.get("notes", ())),
    )


def _config(c: Mapping[str, Any]) -> AnalysisConfig:
    """``AnalysisConfig`` from its ``dataclasses.asdict``; unknown keys are ignored and missing
    ones keep their defaults (a result stored before a setting existed)."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(AnalysisConfig):
        if f.name not in c:
            continue
        factory = f.default_factory
        if factory is not dataclasses.MISSING and dataclasses.is_dataclass(factory):
            names = {g.name for g in dataclasses.fields(factory)}
            # JSON turns a tuple setting (a range) into a list: back to the tuple it was.
            stored = {k: tuple(v) if isinstance(v, list) else v
                      for k, v in c[f.name].items() if k in names}
            if f.name == "valgus" and "female_definition" not in stored:
                # Stored before issue 12's mapping: every threshold was applied to the
                # unmapped keypoint FPPA, so that is what its reps hold.
                stored.update(female_definition="keypoint", male_definition="keypoint")
            values[f.name] = factory(**stored)
        else:
            values[f.name] = c[f.name]
    return AnalysisConfig(**values)
