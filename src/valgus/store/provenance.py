"""Settings provenance (issue 15 item 4): every stored analysis keeps the settings it was made
with (``AnalysisResult.config`` and ``leg_choice``, in the stored result). ``settings_check``
compares them with the clinic's: the default thresholds for the person's recorded sex, the
clinic policy's reps per leg, the stance leg found for each rep; a runner's own settings
(a raised threshold, another sex, fewer reps, a forced leg) are named so the Review page and
the report can flag them. An analysis scored on another FPPA definition than the clinic's
for the same sex (one stored before the sex-specific thresholds' FPPA was mapped to skin
markers) is named as such, not as the runner's choice, and flagged the same way. ``rescore``
applies the clinic's settings to the stored poses (``pipeline.analyze_series``, no pose model)
and stores the result as a new analysis of the same clip, the one in force, with a line in the
audit log.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, cast

from valgus.config import AnalysisConfig, ClearanceConfig, Sex
from valgus.core.clearance import ClearancePolicy
from valgus.core.fppa import definition_label
from valgus.core.result import AnalysisResult
from valgus.store import audit
from valgus.store.accounts import require
from valgus.store.db import POSES_DIR, Database, finish_stage
from valgus.store.errors import NotFoundError, RecordError
from valgus.store.info import AnalysisInfo, analysis_info, now
from valgus.store.models import Analysis
from valgus.store.sessions import open_session

# A sex in words, as the CLI and the flags show it (None: no sex recorded for the person).
SEX_WORDS: dict[str | None, str] = {None: "none", "unspecified": "not given",
                                    "female": "female", "male": "male"}
# Compared one by one below in words; every other setting is compared field by field.
NAMED = {"sex", "valgus.female_deg", "valgus.male_deg", "valgus.unspecified_deg",
         "valgus.method_sem_deg", "valgus.tool_error_sd_deg", "clearance.required_reps",
         "clearance.fppa_sdc_deg", "valgus.female_definition", "valgus.male_definition",
         "valgus.unspecified_definition"}
# The keypoint -> thigh-marker map's parameters (ValgusThresholds.thigh_marker_*).
MAP_PREFIX = "valgus.thigh_marker_"


@dataclass(frozen=True)
class SettingsCheck:
    """How an analysis's settings compare with the clinic's.

    ``own``: the settings that decide the verdict and differ (threshold, sex, reps per leg,
    stance leg, borderline margin), in words such as "FPPA threshold 20.0 deg (clinic: 11.3
    deg)". ``definition``: for the person's own sex, the FPPA definition the analysis was
    scored on when it is not the clinic's, and the borderline margin that follows from it
    ("FPPA from pose keypoints (clinic: mapped to skin markers)"): an analysis stored before the
    clinic's definition changed, not the runner's choice; it decides the verdict too. ``other``:
    any other setting that differs from this version's defaults (a result of an older version,
    or a changed setting), as "section.name value (default value)"; the thigh-marker map's
    parameters only where the analysis used the map.
    """

    own: tuple[str, ...]
    other: tuple[str, ...]
    definition: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        """The verdict was made with settings other than the clinic's."""
        return bool(self.own or self.definition)

    @property
    def differs(self) -> bool:
        return bool(self.own or self.definition or self.other)

    @property
    def replaced(self) -> tuple[str, ...]:
        """Every difference, in words (what ``rescore`` replaces)."""
        return self.own + self.definition + self.other

    def text(self) -> str:
        """One line for the page and the report ("" when nothing differs)."""
        parts = []
        if self.own:
            parts.append("Analysed with the runner's own settings: " + "; ".join(self.own))
        if self.definition:
            parts.append("Scored on another FPPA definition than the clinic's: "
                         + "; ".join(self.definition) + "; re-score to apply the clinic's")
        if self.other:
            parts.append("Other settings differ from the defaults: " + "; ".join(self.other))
        return ". ".join(parts) + ("." if parts else "")


def clinic_config(person_sex: Sex | None, policy: ClearancePolicy) -> AnalysisConfig:
    """The settings the clinic scores with: the defaults, the person's recorded sex (not given:
    the sex-neutral threshold) and the policy's reps per leg and smallest detectable change."""
    base = AnalysisConfig()
    return dataclasses.replace(
        base, sex=person_sex or "unspecified",
        clearance=dataclasses.replace(ClearanceConfig(), required_reps=policy.required_reps,
                                      fppa_sdc_deg=policy.fppa_sdc_deg))


def _leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """Dotted name -> value of every leaf field of a (nested) dataclass."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return {prefix: value}
    out: dict[str, Any] = {}
    for f in dataclasses.fields(value):
        out.update(_leaves(getattr(value, f.name), f"{prefix}.{f.name}" if prefix else f.name))
    return out


def settings_check(
    result: AnalysisResult, person_sex: Sex | None, policy: ClearancePolicy
) -> SettingsCheck:
    """Compare ``result``'s settings with ``clinic_config`` (see ``SettingsCheck``)."""
    clinic = clinic_config(person_sex, policy)
    cfg = result.config
    own: list[str] = []
    used, wanted = result.threshold_deg, clinic.valgus.threshold_deg(clinic.sex)
    if abs(used - wanted) > 1e-9:
        own.append(f"FPPA threshold {used:.1f} deg (clinic: {wanted:.1f} deg)")
    if cfg.sex != clinic.sex:
        own.append(f"sex {SEX_WORDS.get(cfg.sex, cfg.sex)} (the person's record: "
                   f"{SEX_WORDS.get(clinic.sex, clinic.sex)})")
    # The person's own sex scored on another definition: an analysis stored before the
    # clinic's definition for that sex changed (SettingsCheck.definition), not the runner's.
    used_def, wanted_def = definition_label(cfg), definition_label(clinic)
    redefined = cfg.sex == clinic.sex and used_def != wanted_def
    definition: list[str] = []
    if used_def != wanted_def:
        (definition if redefined else own).append(f"FPPA {used_def} (clinic: {wanted_def})")
    margin, clinic_margin = (cfg.valgus.margin_deg(cfg.sex),
                             clinic.valgus.margin_deg(clinic.sex))
    if abs(margin - clinic_margin) > 1e-9:
        words = f"borderline margin {margin:.2f} deg (clinic: {clinic_margin:.2f} deg)"
        follows = redefined and abs(margin - _margin_on(clinic, cfg)) <= 1e-9
        (definition if follows else own).append(words)
    if cfg.clearance.required_reps != clinic.clearance.required_reps:
        own.append(f"{cfg.clearance.required_reps} reps per leg (clinic: "
                   f"{clinic.clearance.required_reps})")
    if result.leg_choice != "auto":
        own.append(f"stance leg set to {result.leg_choice} (clinic: found for each rep)")
    theirs, defaults = _leaves(cfg), _leaves(clinic)
    # The map's parameters matter only where the analysis mapped its FPPA with them; where it
    # did not and the clinic does, the definition's line says so.
    unused = () if cfg.valgus.definition(cfg.sex) == "thigh_marker" else (MAP_PREFIX,)
    other = [f"{name} {theirs[name]} (default {defaults[name]})" for name in defaults
             if name not in NAMED and not name.startswith(unused)
             and theirs.get(name) != defaults[name]]
    return SettingsCheck(tuple(own), tuple(other), tuple(definition))


def _margin_on(clinic: AnalysisConfig, cfg: AnalysisConfig) -> float:
    """The clinic's borderline margin for its sex were its FPPA on ``cfg``'s definition: equal
    to ``cfg``'s own margin when that differs from the clinic's only through the definition."""
    used = cfg.valgus.definition(cfg.sex)
    valgus = dataclasses.replace(clinic.valgus, female_definition=used, male_definition=used,
                                 unspecified_definition=used)
    return valgus.margin_deg(clinic.sex)


@dataclass(frozen=True)
class Rescored(AnalysisInfo):
    """The analysis ``rescore`` stored (the one in force now), with what it replaced:
    ``from_analysis`` the id of the analysis re-scored, ``person_code`` whose session it is, and
    ``replaced`` the settings replaced, in words (``SettingsCheck.replaced``: as audited)."""

    from_analysis: int
    person_code: str
    replaced: tuple[str, ...]


def rescore(db: Database, analysis_id: int, by: str, policy: ClearancePolicy) -> Rescored:
    """Score the analysis's stored poses again under the clinic's settings (``clinic_config``
    for the person's recorded sex, the stance leg found for each rep) and store the result as
    the newest analysis of its clip: the one in force. Its poses are stored again with it (the
    old analysis keeps its own). Audited as "rescored" with the settings it replaced. Review
    overrides of the old analysis do not carry over: its reps may differ. Gives back the new
    analysis with the settings it replaced (``Rescored``).

    Raises:
        NotFoundError: no such analysis.
        RecordError: not the analysis in force, no poses kept, its settings are the clinic's
            already, the session is signed, or ``by`` may not review.
        ValgusError: the stored poses cannot be read or scored.
    """
    from valgus.core.pose import PoseSeries
    from valgus.pipeline import analyze_series

    with db.read() as s:
        row = s.get(Analysis, analysis_id)
        if row is None:
            raise NotFoundError(f"no analysis {analysis_id} in the records")
        require(s, by, "review")
        session_id = row.clip.session_id
        open_session(s, session_id, lock=False)
        if row.clip.analyses[-1].id != row.id:
            raise RecordError(f"analysis {analysis_id} is not the one in force for its clip "
                              f"(analysis {row.clip.analyses[-1].id} is)")
        info = analysis_info(db, row)
        sex = cast(Sex | None, row.clip.session.person.sex)
        person_code = row.clip.session.person.code
    if info.poses_path is None:
        raise RecordError(f"analysis {analysis_id} kept no poses: analyse the clip again")
    check = settings_check(info.result, sex, policy)
    if not check.differs:
        raise RecordError(f"analysis {analysis_id} was made with the clinic's settings already")
    try:
        series = PoseSeries.load(info.poses_path)
    except (OSError, ValueError, KeyError) as err:
        raise RecordError(f"the poses of analysis {analysis_id} cannot be read: {err}") from err
    result, _ = analyze_series(series, clinic_config(sex, policy), "auto")
    data = result.to_dict()
    poses = db.stage_new(".npz", POSES_DIR)
    try:
        series.save(poses.temp)
        finish_stage(poses)
        with db.write() as s:
            by = require(s, by, "review")
            open_session(s, session_id)
            old = s.get(Analysis, analysis_id)
            if old is None or old.clip.analyses[-1].id != analysis_id:
                raise RecordError(f"analysis {analysis_id} is no longer the one in force")
            new = Analysis(clip=old.clip, schema=str(data["schema"]),
                           valgus_version=str(data.get("valgus_version", "")),
                           config=data.get("config", {}), result=data,
                           poses_path=poses.relative, created_at=now())
            s.add(new)
            s.flush()
            audit.note(s, by, "rescored", f"session {session_id}", analysis_id=new.id,
                       from_analysis=analysis_id, replaced=list(check.replaced))
            poses.publish()
            new_info = analysis_info(db, new)
            return Rescored(**{f.name: getattr(new_info, f.name)
                               for f in dataclasses.fields(AnalysisInfo)},
                            from_analysis=analysis_id, person_code=person_code,
                            replaced=check.replaced)
    except BaseException:
        poses.discard()
        raise
