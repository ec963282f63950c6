"""Saving clips (issue 14, points 4 and 6): ``analyze --save`` copies and hashes the clip first
and analyses that copy, so the record holds exactly the bytes analysed; a clip saved twice into
a session is stored once and its reps count once."""

from __future__ import annotations

import argparse
import hashlib
import importlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.records_data import squats, write_clip
from valgus.pipeline import VideoAnalysis, analyze_series
from valgus.store.db import sha256_file
from valgus.store.service import Records

# The module, not the function valgus.cli exports under the same name.
cli_main = importlib.import_module("valgus.cli.main")


def test_analyze_save_stores_exactly_the_bytes_it_analysed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    clip = write_clip(tmp_path / "left squats.mp4", n_frames=20)
    original = hashlib.sha256(clip.read_bytes()).hexdigest()
    analysed: list[tuple[Path, str]] = []

    def fake_analyze_video(path: Path, *_: Any, name: str | None = None,
                           **__: Any) -> VideoAnalysis:
        analysed.append((Path(path), sha256_file(Path(path))))
        # Meanwhile someone replaces the original file.
        write_clip(clip, n_frames=25, seed=99)
        result, series = squats("left", 5.0, 3)
        result, kin = analyze_series(series)
        return VideoAnalysis(result, kin, series)

    monkeypatch.setattr(cli_main, "analyze_video", fake_analyze_video)
    code = cli_main.main(["analyze", str(clip), "--save", "--person", "RUN-9",
                          "--session-date", "2025-03-04", "--data-dir", str(data)])
    assert code == 0, capsys.readouterr().err
    (path, seen_sha), = analysed
    assert path.parent == data / "tmp" and seen_sha == original  # the copy, before any change
    with Records.open(data) as rec:
        (visit,) = rec.list_sessions("RUN-9")
        (saved,) = rec.list_analyses(visit.id)
    assert saved.clip.sha256 == original == sha256_file(saved.clip.path)
    assert saved.clip.original_name == "left squats.mp4"
    assert list((data / "tmp").iterdir()) == []


def test_analyze_save_leaves_no_copy_when_the_analysis_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from valgus.errors import ValgusError

    data = tmp_path / "data"
    clip = write_clip(tmp_path / "clip.mp4", n_frames=20)

    def failing(*_: Any, **__: Any) -> VideoAnalysis:
        raise ValgusError("no person in the video")

    monkeypatch.setattr(cli_main, "analyze_video", failing)
    assert cli_main.main(["analyze", str(clip), "--save", "--person", "RUN-9",
                          "--data-dir", str(data)]) == 1
    assert "no person" in capsys.readouterr().err
    assert list((data / "tmp").iterdir()) == [] and list((data / "clips").iterdir()) == []


def test_a_clip_saved_seven_times_is_stored_once_and_counts_once(
    tmp_path: Path, database_url: str | None
) -> None:
    clip = write_clip(tmp_path / "short.mp4", n_frames=20)
    result, series = squats("left", 5.0, 3)
    with Records.open(tmp_path / "data", url=database_url) as rec:
        rec.add_person("RUN-7")
        sid = rec.create_session("RUN-7", date(2025, 3, 4)).id
        ids = {rec.save_analysis(sid, clip, result, series).id for _ in range(7)}
        assert len(ids) == 1  # the same analysis saved again: nothing new
        summary = rec.session_summary(sid)
        assert summary.session.n_clips == 1 and len(summary.analyses) == 1
        assert summary.squat["left"].valid_reps == 3
        assert summary.squat["left"].verdict != "PASS" and summary.decision.status == "NOT YET"
        # The same clip analysed again (other settings): its newest analysis is in force.
        other, _ = squats("left", 12.0, 3)
        again = rec.save_analysis(sid, clip, other)
        assert again.id not in ids and again.clip.id == summary.analyses[0].clip.id
        assert [a.id for a in rec.list_analyses(sid)] == [again.id]
        assert rec.session_summary(sid).squat["left"].valid_reps == 3
    files = list((tmp_path / "data" / "clips").iterdir())
    assert len(files) == 1
    assert list((tmp_path / "data" / "tmp").iterdir()) == []


def test_save_refuses_a_pose_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``analyze --save`` with a pose file: a usage error (exit 2) with the other ``--save``
    option checks, before anything is read or any records are made."""
    from valgus.cli.argtypes import UsageError
    from valgus.cli.main import check_save_options, main

    args = argparse.Namespace(video=tmp_path / "x.NPZ", save=True, person="RUN-1",
                              session_date=None, data_dir=None)
    with pytest.raises(UsageError, match="give the video file, not a pose file"):
        check_save_options(args)
    data = tmp_path / "data"
    code = main(["analyze", str(tmp_path / "missing.npz"), "--save", "--person", "RUN-1",
                 "--data-dir", str(data)])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("valgus: error: "), err
    assert "give the video file, not a pose file" in lines[0], err
    assert not data.exists()  # no records made
