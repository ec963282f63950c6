"""Settings provenance (issue 15 item 4): a saved analysis made with a runner's own settings
(threshold, sex, reps per leg, stance leg) is named as such against the clinic's settings, one
scored on another FPPA definition for the person's sex (stored before the definition changed)
as that, and either is re-scored under them from its stored poses (no pose model) as a new
analysis in force, audited. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.records_data import squats, write_clip
from valgus.config import AnalysisConfig
from valgus.core.clearance import ClearancePolicy
from valgus.pipeline import analyze_series
from valgus.store.errors import RecordError
from valgus.store.provenance import settings_check
from valgus.store.service import Records
from valgus.store.verify import clear_file_cache

DAY = date(2025, 3, 4)
PASSWORD = "correct horse battery"


def runner_config(threshold: float = 25.0, sex: str = "female", reps: int = 20) -> AnalysisConfig:
    """The upload page's sidebar with the threshold for ``sex`` raised to ``threshold``."""
    base = AnalysisConfig()
    field = {"female": "female_deg", "male": "male_deg"}.get(sex, "unspecified_deg")
    return dataclasses.replace(
        base, sex=sex, valgus=dataclasses.replace(base.valgus, **{field: threshold}),
        clearance=dataclasses.replace(base.clearance, required_reps=reps))


def keypoint_era_config(sex: str) -> AnalysisConfig:
    """The defaults of an earlier valgus: a sex's threshold compared with the unmapped
    keypoint FPPA, and other parameters of the (then unused) thigh-marker map."""
    v = dataclasses.replace(AnalysisConfig().valgus, female_definition="keypoint",
                            male_definition="keypoint", thigh_marker_offset_deg=-24.0,
                            thigh_marker_slope=0.9, thigh_marker_ratio_range=(0.2, 0.5))
    return AnalysisConfig(sex=sex, valgus=v)  # type: ignore[arg-type]


@pytest.fixture
def rec(tmp_path: Path, database_url: str | None) -> Iterator[Records]:
    data = tmp_path / "data"
    with Records.open(data, url=database_url or f"sqlite:///{data / 'valgus.db'}") as records:
        records.add_user("dr.vega", "clinician", PASSWORD)
        records.add_user("sam", "assistant", PASSWORD)
        yield records
    clear_file_cache()


def test_settings_check_names_what_differs_from_the_clinic() -> None:
    _, series = squats("left", 17.0, 3)
    policy = ClearancePolicy()
    result, _ = analyze_series(series)  # the defaults, sex not given
    assert not settings_check(result, None, policy).differs
    # A woman analysed as "not given": her record's sex picks the 12 deg threshold.
    check = settings_check(result, "female", policy)
    assert check.own == ("FPPA threshold 11.3 deg (clinic: 12.0 deg)",
                         "sex not given (the person's record: female)",
                         "FPPA from pose keypoints (clinic: mapped to skin markers)",
                         "borderline margin 3.35 deg (clinic: 4.04 deg)")
    # A woman's analysis from before the map was the default (keypoint definition stored):
    # scored on another definition, not the runner's own choice; flagged all the same.
    before, _ = analyze_series(series, keypoint_era_config("female"))
    check = settings_check(before, "female", policy)
    assert check.own == () and check.other == () and check.flagged
    assert check.definition == ("FPPA from pose keypoints (clinic: mapped to skin markers)",
                                "borderline margin 3.35 deg (clinic: 4.04 deg)")
    result, _ = analyze_series(series, runner_config(20.0, reps=5), "left")
    check = settings_check(result, "female", policy)
    assert check.flagged and check.own == (
        "FPPA threshold 20.0 deg (clinic: 12.0 deg)", "5 reps per leg (clinic: 20)",
        "stance leg set to left (clinic: found for each rep)")
    assert check.text().startswith("Analysed with the runner's own settings: FPPA threshold "
                                   "20.0 deg (clinic: 12.0 deg); 5 reps per leg")
    # Another setting (rep detection depth): listed apart, not as the runner's own verdict.
    cfg = AnalysisConfig()
    cfg = dataclasses.replace(cfg, reps=dataclasses.replace(cfg.reps, min_depth_deg=30.0))
    result, _ = analyze_series(series, cfg)
    check = settings_check(result, None, policy)
    assert not check.flagged and check.other == ("reps.min_depth_deg 30.0 (default 40.0)",)


def test_rescore_under_the_clinics_settings(rec: Records, tmp_path: Path) -> None:
    rec.add_person("RUN-080", "female")
    sid = rec.create_session("RUN-080", DAY).id
    _, series = squats("left", 17.0, 3)
    own, _ = analyze_series(series, runner_config(25.0))
    assert {r.band for r in own.reps if r.counts_towards_test} == {"fine"}
    saved = rec.save_analysis(sid, write_clip(tmp_path / "c.mp4", n_frames=40), own, series,
                              by="sam")
    person_sex = rec.session_summary(sid).person.sex
    assert rec.settings_check(saved, person_sex).own == (
        "FPPA threshold 25.0 deg (clinic: 12.0 deg)",)
    with pytest.raises(RecordError, match="only a clinician"):
        rec.rescore(saved.id, "sam")
    new = rec.rescore(saved.id, "dr.vega")
    assert new.id != saved.id and new.clip.id == saved.clip.id
    assert new.result.threshold_deg == 12.0 and new.result.config.sex == "female"
    assert {r.band for r in new.result.reps if r.counts_towards_test} == {"excessive"}
    assert len(new.result.reps) == len(own.reps)
    assert not rec.settings_check(new, person_sex).differs
    assert new.poses_path is not None and new.poses_path != saved.poses_path
    assert saved.poses_path is not None and saved.poses_path.is_file()  # the old one kept
    # The new analysis is the one in force; the session's verdict follows it.
    (current,) = rec.list_analyses(sid)
    assert current.id == new.id
    assert rec.session_summary(sid).squat["left"].excessive_reps == 3
    (line,) = [a for a in rec.audit_log() if a.action == "rescored"]
    assert line.actor == "dr.vega" and line.detail["from_analysis"] == saved.id
    assert line.detail["analysis_id"] == new.id
    assert line.detail["replaced"] == ["FPPA threshold 25.0 deg (clinic: 12.0 deg)"]
    assert new.replaced == ("FPPA threshold 25.0 deg (clinic: 12.0 deg)",)
    assert new.from_analysis == saved.id and new.person_code == "RUN-080"
    with pytest.raises(RecordError, match="clinic's settings already"):
        rec.rescore(new.id, "dr.vega")
    with pytest.raises(RecordError, match="not the one in force"):
        rec.rescore(saved.id, "dr.vega")


def test_rescore_is_refused_on_a_signed_session_or_without_poses(
    rec: Records, tmp_path: Path
) -> None:
    rec.add_person("RUN-081", "male")
    sid = rec.create_session("RUN-081", DAY).id
    _, series = squats("right", 4.0, 3)
    own, _ = analyze_series(series, runner_config(20.0, sex="male"))
    no_poses = rec.save_analysis(sid, write_clip(tmp_path / "a.mp4", n_frames=40), own)
    with pytest.raises(RecordError, match="kept no poses"):
        rec.rescore(no_poses.id, "dr.vega")
    saved = rec.save_analysis(sid, write_clip(tmp_path / "b.mp4", n_frames=40, seed=1), own,
                              series)
    rec.sign_clearance(sid, "dr.vega")
    with pytest.raises(RecordError, match="signed"):
        rec.rescore(saved.id, "dr.vega")


def test_an_analysis_stored_before_the_definition_changed_says_so() -> None:
    """Stored by an earlier valgus with the clinic's defaults of the time (a sex, scored on
    the unmapped keypoint FPPA, other map parameters): worded as scored on another FPPA
    definition, not as the runner's own settings, and the map it never used is not listed. A
    runner who chose another sex keeps the runner's-own wording."""
    _, series = squats("left", 17.0, 3)
    policy = ClearancePolicy()
    before, _ = analyze_series(series, keypoint_era_config("male"))
    check = settings_check(before, "male", policy)
    assert check.flagged and check.differs and not check.own and not check.other
    assert check.text() == (
        "Scored on another FPPA definition than the clinic's: FPPA from pose keypoints "
        "(clinic: mapped to skin markers); borderline margin 3.35 deg (clinic: 4.04 deg); "
        "re-score to apply the clinic's.")
    assert "thigh_marker" not in check.text() and "runner's own" not in check.text()
    # Neither it nor the clinic maps (sex not given on both sides): nothing differs that was
    # used.
    unmapped, _ = analyze_series(series, keypoint_era_config("unspecified"))
    assert not settings_check(unmapped, None, policy).differs
    # The runner chose another sex: the runner's own settings, the definition among them; the
    # unused map is not listed.
    check = settings_check(before, "female", policy)
    assert check.text().startswith("Analysed with the runner's own settings: FPPA threshold "
                                   "9.0 deg (clinic: 12.0 deg); sex male (the person's record: "
                                   "female); FPPA from pose keypoints (clinic: mapped to skin "
                                   "markers); borderline margin 3.35 deg (clinic: 4.04 deg).")
    assert check.definition == () and check.other == ()
    # A mapped analysis with other map parameters than the clinic's: they are listed.
    mapped_cfg = dataclasses.replace(keypoint_era_config("male"), valgus=dataclasses.replace(
        keypoint_era_config("male").valgus, male_definition="thigh_marker"))
    mapped, _ = analyze_series(series, mapped_cfg)
    check = settings_check(mapped, "male", policy)
    assert not check.flagged
    assert "valgus.thigh_marker_offset_deg -24.0 (default -14.76)" in check.other


def test_rescore_an_analysis_of_another_definition(rec: Records, tmp_path: Path) -> None:
    rec.add_person("RUN-082", "female")
    sid = rec.create_session("RUN-082", DAY).id
    _, series = squats("left", 17.0, 3)
    before, _ = analyze_series(series, keypoint_era_config("female"))
    saved = rec.save_analysis(sid, write_clip(tmp_path / "c.mp4", n_frames=40), before, series,
                              by="sam")
    person_sex = rec.session_summary(sid).person.sex
    assert rec.settings_check(saved, person_sex).flagged
    new = rec.rescore(saved.id, "dr.vega")
    assert new.result.config.valgus.definition("female") == "thigh_marker"
    assert not rec.settings_check(new, person_sex).differs
    (line,) = [a for a in rec.audit_log() if a.action == "rescored"]
    # What it replaced, in words; not the map parameters it never used.
    assert line.detail["replaced"] == ["FPPA from pose keypoints (clinic: mapped to skin "
                                       "markers)",
                                       "borderline margin 3.35 deg (clinic: 4.04 deg)"]
    # Given back as audited, with the analysis it replaced.
    assert list(new.replaced) == line.detail["replaced"]
    assert new.from_analysis == saved.id and new.person_code == "RUN-082"
