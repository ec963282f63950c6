"""A person's recorded sex set after the first save (``Records.set_person_sex``, ``valgus
person``: a clinician's task, audited with the old and new value, refused for an erased
person), ``analyze --save --sex`` saying on one line that it did not change the record,
``valgus rescore`` from the command line, and the clearance summary's rep counts."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from tests.integration.test_store_cli import _one_line_error, _run
from tests.records_data import clip_variant, squats, write_clip
from valgus.cli.main import main
from valgus.config import AnalysisConfig
from valgus.paths import DATA_DIR_ENV
from valgus.pipeline import VideoAnalysis, analyze_series
from valgus.store.errors import NotFoundError, RecordError
from valgus.store.service import Records
from valgus.store.verify import clear_file_cache

PASSWORD = "correct horse battery"
DAY = date(2025, 3, 4)


def _refused(args: list[str], code: int, fragment: str,
             capsys: pytest.CaptureFixture[str]) -> None:
    """The command exits with ``code`` and one error line holding ``fragment``."""
    got, _, err = _run(args, capsys)
    assert got == code, err
    _one_line_error(err, fragment)


@pytest.fixture
def rec(tmp_path: Path, database_url: str | None) -> Iterator[Records]:
    """RUN-1 saved without a sex: one session, a clip per leg analysed as "not given"."""
    data = tmp_path / "data"
    clip = write_clip(tmp_path / "c.mp4", n_frames=150)
    with Records.open(data, url=database_url or f"sqlite:///{data / 'valgus.db'}") as records:
        records.ensure_person("RUN-1")
        sid = records.create_session("RUN-1", DAY).id
        for k, leg in enumerate(("left", "right")):
            result, series = squats(leg, 9.0, 3)  # type: ignore[arg-type]
            records.save_analysis(sid, clip_variant(clip, k), result, series,
                                  original_name=f"{leg}.mp4")
        records.add_user("dr.vega", "clinician", PASSWORD)
        records.add_user("sam", "assistant", PASSWORD)
        yield records
    clear_file_cache()


def test_a_clinician_sets_the_sex_audited_and_the_old_analyses_are_flagged(
    rec: Records,
) -> None:
    analysis = rec.list_analyses(rec.list_sessions("RUN-1")[0].id)[0]
    assert rec.get_person("RUN-1").sex is None
    assert not rec.settings_check(analysis, None).flagged
    change = rec.set_person_sex("RUN-1", "female", "dr.vega")
    assert change.changed and change.old is None and change.person.sex == "female"
    assert rec.get_person("RUN-1").sex == "female"
    line = rec.audit_log(1)[0]
    assert (line.actor, line.action, line.subject) == ("dr.vega", "person_changed",
                                                      "person RUN-1")
    assert line.detail == {"sex": {"old": None, "new": "female"}}
    assert rec.settings_check(analysis, "female").flagged
    # Changed again: old and new in the log; the same value again writes nothing.
    assert rec.set_person_sex("RUN-1", "male", "dr.vega").old == "female"
    assert rec.audit_log(1)[0].detail == {"sex": {"old": "female", "new": "male"}}
    same = rec.set_person_sex("RUN-1", "male", "dr.vega")
    assert not same.changed and rec.audit_log(1)[0].detail["sex"]["new"] == "male"
    assert len([e for e in rec.audit_log() if e.action == "person_changed"]) == 2


def test_setting_the_sex_is_refused_to_others_and_for_an_erased_person(rec: Records) -> None:
    with pytest.raises(RecordError, match="only a clinician"):
        rec.set_person_sex("RUN-1", "female", "sam")
    with pytest.raises(RecordError, match="not an active valgus account"):
        rec.set_person_sex("RUN-1", "female", "nobody")
    with pytest.raises(RecordError, match="sex must be one of"):
        rec.set_person_sex("RUN-1", "woman", "dr.vega")
    with pytest.raises(NotFoundError):
        rec.set_person_sex("RUN-404", "female", "dr.vega")
    assert rec.get_person("RUN-1").sex is None
    assert not any(e.action == "person_changed" for e in rec.audit_log())
    gone = rec.erase_person("RUN-1", "dr.vega", "asked to be forgotten").code
    with pytest.raises(RecordError, match="was erased"):
        rec.set_person_sex(gone, "female", "dr.vega")


@pytest.fixture
def data_dir(rec: Records, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_person_command_shows_and_sets_the_sex(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(["person", "RUN-1"], capsys)
    assert code == 0 and out.startswith("RUN-1: recorded sex: none (scored as not given); "
                                        "1 session;")
    assert "no analysis in force is flagged" in out
    _refused(["person", "RUN-1", "--sex", "female", "--by", "sam"],
             7, "only a clinician may", capsys)
    # --sex and --by go together: option misuse, a usage error (exit 2).
    _refused(["person", "RUN-1", "--sex", "female"], 2, "give --by NAME", capsys)
    _refused(["person", "RUN-1", "--by", "dr.vega"],
             2, "--by names who changes the record: give --sex too", capsys)
    _refused(["person", "RUN-1", "--sex", "female", "--by", ""], 2, "give --by NAME", capsys)
    _refused(["person", "RUN-9", "--sex", "female", "--by", "dr.vega"],
             6, "no person with code 'RUN-9'", capsys)
    code, out, _ = _run(["person", "RUN-1", "--sex", "female", "--by", "dr.vega"], capsys)
    assert code == 0
    assert out.splitlines()[0] == ("RUN-1: recorded sex set to female (was none) by dr.vega; "
                                   "the clinic's settings for RUN-1 follow it from now on")
    assert ("2 analyses in open sessions (analyses 1, 2) were made with other settings than "
            "the clinic's") in out
    assert "valgus rescore ANALYSIS_ID --by NAME" in out
    code, out, _ = _run(["person", "RUN-1", "--sex", "female", "--by", "dr.vega"], capsys)
    assert code == 0 and "is female already; nothing changed" in out
    with pytest.raises(SystemExit) as exc:
        main(["person", "RUN-1", "--sex", "woman", "--by", "dr.vega"])
    assert exc.value.code == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_rescore_command(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _refused(["rescore", "1", "--by", "dr.vega"],
             7, "analysis 1 was made with the clinic's settings already", capsys)
    assert _run(["person", "RUN-1", "--sex", "female", "--by", "dr.vega"], capsys)[0] == 0
    _refused(["rescore", "1", "--by", "sam"], 7, "only a clinician may", capsys)
    _refused(["rescore", "404", "--by", "dr.vega"], 6, "no analysis 404", capsys)
    code, out, _ = _run(["rescore", "1", "--by", "dr.vega"], capsys)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("re-scored analysis 1 (left.mp4, session 1 of RUN-1) under the "
                               "clinic's settings: analysis 3 is in force")
    assert lines[1].startswith("settings replaced: FPPA threshold 11.3 deg (clinic: 12.0 deg)")
    assert "sex not given (the person's record: female)" in lines[1]
    assert lines[2].startswith("session 1 of RUN-1")
    _refused(["rescore", "1", "--by", "dr.vega"],
             7, "not the one in force for its clip (analysis 3 is)", capsys)
    code, out, _ = _run(["person", "RUN-1"], capsys)
    assert "1 analysis in open sessions (analysis 2) was made" in out
    assert _run(["rescore", "2", "--by", "dr.vega"], capsys)[0] == 0
    assert _run(["clearance", "1", "--by", "dr.vega", "--sign"], capsys)[0] == 0
    _refused(["rescore", "3", "--by", "dr.vega"], 7, "signed", capsys)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_save_with_another_sex_says_the_record_was_not_changed(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pose model is stood in for by the synthetic poses: the clip is staged, scored with
    the sex given and stored; the person's record keeps its sex, and says so on one line."""
    _, series = squats("left", 9.0, 3)

    def fake(args: argparse.Namespace, cfg: AnalysisConfig,
             copy: Path | None = None) -> VideoAnalysis:
        result, kin = analyze_series(series, cfg)
        return VideoAnalysis(result, kin, series)

    monkeypatch.setattr(sys.modules["valgus.cli.main"], "_analyze", fake)
    clip = write_clip(tmp_path / "new.mp4", n_frames=120)
    code, _, err = _run(["analyze", str(clip), "--save", "--person", "RUN-1", "--sex",
                         "female"], capsys)
    assert code == 0, err
    note = [line for line in err.splitlines() if line.startswith("note:")]
    assert note == ["note: RUN-1's recorded sex (none) was not changed to female: this analysis "
                    "is scored as female and flagged against the record; a clinician changes "
                    "the record with `valgus person RUN-1 --sex female --by NAME`"]
    with Records.open(data_dir, readonly=True) as records:
        assert records.get_person("RUN-1").sex is None
    # No sex recorded is scored as not given: --sex unspecified is the clinic's setting for
    # the record, nothing is flagged, so there is no note.
    code, _, err = _run(["analyze", str(clip), "--save", "--person", "RUN-1", "--sex",
                         "unspecified"], capsys)
    assert code == 0 and "note:" not in err, err
    with Records.open(data_dir, readonly=True) as records:
        assert records.get_person("RUN-1").sex is None
        visit = records.list_sessions("RUN-1")[-1]
        newest = records.list_analyses(visit.id)[-1]
        assert newest.result.config.sex == "unspecified"
        assert not records.settings_check(newest, None).flagged
    # A new person is added with the sex given, and the same sex again says nothing.
    for person in ("RUN-2", "RUN-2"):
        code, _, err = _run(["analyze", str(clip), "--save", "--person", person, "--sex",
                             "female"], capsys)
        assert code == 0 and "note:" not in err, err
    assert _run(["person", "RUN-1", "--sex", "female", "--by", "dr.vega"], capsys)[0] == 0
    code, _, err = _run(["analyze", str(clip), "--save", "--person", "RUN-1"], capsys)
    assert code == 0 and "note:" not in err, err


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_clearance_counts_one_valid_rep_in_the_singular(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Records.open(data_dir) as records:
        sid = records.create_session("RUN-1", date(2025, 4, 1)).id
        result, series = squats("left", 5.0, 1)
        records.save_analysis(sid, write_clip(tmp_path / "one.mp4", n_frames=90), result,
                              series, original_name="one.mp4")
        valid = records.session_summary(sid).squat["left"].valid_reps
    code, out, _ = _run(["clearance", str(sid), "--by", "dr.vega"], capsys)
    assert code == 0
    left = next(line for line in out.splitlines() if line.startswith("  left  squat"))
    assert f" {valid} valid rep{'' if valid == 1 else 's'}," in left, left
    assert valid == 1 or pytest.fail(f"the clip gave {valid} valid reps, not one")
