"""``summary.csv`` says what each clip was scored against: ``sex``, ``threshold_deg`` and
``fppa_definition``, after the earlier columns (kept, in their order), so that summaries run
with and without ``--sex`` can be told apart. A resumed batch reads the records of an earlier
valgus, which lack them, and fills them from each clip's stored result, or for a clip that
failed from the batch's options, as a clip failing now gets them. No pose model: the clip's
analysis is synthetic squats run through the real scoring."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from tests.records_data import squats
from valgus.batch import jobs
from valgus.batch.jobs import (
    SUMMARY_COLUMNS,
    BatchOptions,
    ClipRecord,
    analyze_clip,
    failed_outcome,
    iter_summary,
    write_summary,
)
from valgus.batch.runner import run_batch
from valgus.config import AnalysisConfig
from valgus.errors import VideoError
from valgus.pipeline import VideoAnalysis, analyze_series
from valgus.present.export import write_all

EARLIER = (
    "file", "status", "error", "reps_left", "reps_right", "verdict_left", "verdict_right",
    "reason_left", "reason_right", "median_fppa_left_deg", "median_fppa_right_deg", "duration_s",
)


def _synthetic(clip: Path, cfg: AnalysisConfig, *args: Any, **kwargs: Any) -> VideoAnalysis:
    """``pipeline.analyze_video`` without a video or model: the same scoring of poses; an
    empty file is not a video."""
    if not clip.stat().st_size:
        raise VideoError(f"{clip} is empty")
    _, series = squats("left", 10.0, 3)
    result, kin = analyze_series(series, cfg)
    return VideoAnalysis(result, kin, series)


@pytest.fixture
def synthetic(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("valgus.pipeline.analyze_video", _synthetic)


def test_the_columns_come_last_and_say_what_the_clip_was_scored_against(
    tmp_path: Path, synthetic: None
) -> None:
    assert SUMMARY_COLUMNS[: len(EARLIER)] == EARLIER
    assert SUMMARY_COLUMNS[len(EARLIER):] == ("sex", "threshold_deg", "fppa_definition")
    clip = tmp_path / "a.mp4"
    clip.write_bytes(b"stands in for a video")
    bad = tmp_path / "b.mp4"
    bad.write_bytes(b"")
    rows = {}
    for options in (BatchOptions(), BatchOptions(sex="female"), BatchOptions(sex="male")):
        outcome = analyze_clip(str(clip), options)
        assert outcome.record.status == "ok", outcome.record.error
        write_summary(tmp_path, [clip], {clip.name: outcome.record})
        (rows[options.sex],) = iter_summary(tmp_path / "summary.csv")
        assert tuple(rows[options.sex]) == SUMMARY_COLUMNS
    got = {sex: (r["sex"], r["threshold_deg"], r["fppa_definition"]) for sex, r in rows.items()}
    assert got == {"unspecified": ("unspecified", "11.30", "keypoint"),
                   "female": ("female", "12.00", "thigh_marker"),
                   "male": ("male", "9.00", "thigh_marker")}
    # A clip that could not be analysed, and one not done yet: the settings it is scored with.
    failed = analyze_clip(str(bad), BatchOptions(sex="female")).record
    assert failed.status == "error"
    write_summary(tmp_path, [bad, clip], {bad.name: failed}, BatchOptions(sex="female"))
    for row in iter_summary(tmp_path / "summary.csv"):
        assert (row["sex"], row["threshold_deg"], row["fppa_definition"]) == (
            "female", "12.00", "thigh_marker"), row


def test_a_resumed_batch_reads_an_earlier_valgus_records_and_summary(tmp_path: Path) -> None:
    """Records and a summary.csv written before the columns existed: the done clip is skipped
    and its row says what its stored result was scored against (here a woman's clip scored on
    the unmapped keypoint FPPA, as an earlier valgus did); the clip that failed gets the
    batch's settings, the same three as a clip failing in this run; a clip whose stored result
    cannot be read keeps its sex alone."""
    clips, out = tmp_path / "clips", tmp_path / "out"
    clips.mkdir()
    out.mkdir(mode=0o700)
    options = BatchOptions(sex="female")
    _, series = squats("left", 10.0, 3)
    v = dataclasses.replace(AnalysisConfig().valgus, female_definition="keypoint")
    result, kin = analyze_series(series, AnalysisConfig(sex="female", valgus=v))
    names = [p.name for p in write_all(result, kin, out, "a.mp4")]
    unreadable = [p.name for p in write_all(result, kin, out, "c.mp4")]
    (out / "c.mp4.valgus.json").write_text("{not json")
    for name, outputs, status in (
        ("a.mp4", names, "ok"), ("b.mp4", [], "error"), ("c.mp4", unreadable, "ok")
    ):
        clip = clips / name
        clip.write_bytes(b"stands in for a video")
        st = clip.stat()
        record = dataclasses.asdict(ClipRecord(
            file=name, status=status, size_bytes=st.st_size, mtime_ns=st.st_mtime_ns,
            settings=options.settings(), outputs=outputs))
        for column in ("sex", "threshold_deg", "fppa_definition"):
            del record[column]  # as an earlier valgus wrote it
        (out / f"{name}{jobs.RECORD_SUFFIX}").write_text(json.dumps(record))
    (out / "summary.csv").write_text(",".join(EARLIER) + "\r\na.mp4,ok" + "," * 10 + "\r\n")
    (old,) = iter_summary(out / "summary.csv")
    assert old["status"] == "ok" and old.get("sex") is None
    report = run_batch(clips, out, options, workers=1, clip_fn=_never)
    assert report.analysed == [] and sorted(report.skipped) == ["a.mp4", "b.mp4", "c.mp4"]
    rows = {r["file"]: r for r in iter_summary(out / "summary.csv")}
    assert tuple(rows["a.mp4"]) == SUMMARY_COLUMNS
    assert (rows["a.mp4"]["sex"], rows["a.mp4"]["threshold_deg"],
            rows["a.mp4"]["fppa_definition"]) == ("female", "12.00", "keypoint")
    assert (rows["b.mp4"]["sex"], rows["b.mp4"]["threshold_deg"],
            rows["b.mp4"]["fppa_definition"]) == ("female", "12.00", "thigh_marker")
    fresh = failed_outcome(clips / "b.mp4", options, "the worker died").record.row()
    settings = ("sex", "threshold_deg", "fppa_definition")
    assert {c: rows["b.mp4"][c] for c in settings} == {c: fresh[c] for c in settings}
    assert (rows["c.mp4"]["sex"], rows["c.mp4"]["threshold_deg"],
            rows["c.mp4"]["fppa_definition"]) == ("female", "", "")


def _never(path: str, options: BatchOptions) -> jobs.ClipOutcome:
    raise AssertionError("a clip done before was analysed again")
