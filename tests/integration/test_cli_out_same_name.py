"""``valgus analyze CLIP --out DIR``: two different clips of the same name, length and frame
count (two phones' ``IMG_0001.MOV``) are told apart by their content, never overwrite each
other's results, and a re-run of either finds its own files again."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pytest

from tests.synthetic import Rep, person_series, squat_curve, time_base
from valgus.cli.main import main
from valgus.core.result import AnalysisResult
from valgus.present.export import SOURCE_SHA256

PHONE_NAME = "IMG_0001.MOV"


def _pose_file(path: Path, valgus_turn_deg: float) -> Path:
    """A pose file whose series names the clip ``PHONE_NAME``: the results' stem is
    ``IMG_0001`` whatever the file is called."""
    t = time_base(8.0, 30.0)
    reps = [Rep(1.0, 3.0, 70.0), Rep(4.5, 3.0, 70.0)]
    series = dataclasses.replace(
        person_series(t, squat_curve(t, reps, standing_deg=10.0), "left", valgus_turn_deg),
        source=PHONE_NAME,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    return series.save(path)


def _analyze(clip: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["analyze", str(clip), "--out", str(out)]) == 0
    return capsys.readouterr().err


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_clips_of_the_same_name_and_length_never_overwrite_each_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _pose_file(tmp_path / "phone_a" / "poses.npz", 20.0)
    second = _pose_file(tmp_path / "phone_b" / "poses.npz", 2.0)
    assert _sha256(first) != _sha256(second)
    out = tmp_path / "out"

    err = _analyze(first, out, capsys)
    assert "another clip" not in err and f"wrote {out / 'IMG_0001.valgus.json'}" in err
    first_json = json.loads((out / "IMG_0001.valgus.json").read_text())
    assert first_json[SOURCE_SHA256] == _sha256(first)
    kept = {p.name: p.read_bytes() for p in out.iterdir()}

    err = _analyze(second, out, capsys)
    assert (f"{out} holds results of another clip named IMG_0001: these are written as "
            "IMG_0001-2.*") in err
    second_json = json.loads((out / "IMG_0001-2.valgus.json").read_text())
    # What the name, frame count and duration cannot tell apart: only the content does.
    same = ("source", "n_frames", "duration_s")
    assert [first_json[k] for k in same] == [second_json[k] for k in same]
    assert second_json[SOURCE_SHA256] == _sha256(second)
    assert second_json["reps"] != first_json["reps"]
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name in kept} == kept

    # A re-run of either clip replaces its own files; nothing new is made.
    err = _analyze(first, out, capsys)
    assert "another clip" not in err and f"wrote {out / 'IMG_0001.valgus.json'}" in err
    err = _analyze(second, out, capsys)  # said again: its files are not named IMG_0001
    assert "written as IMG_0001-2.*" in err and f"wrote {out / 'IMG_0001-2.valgus.json'}" in err
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f"IMG_0001{n}.{kind}" for n in ("", "-2")
        for kind in ("valgus.json", "frames.csv", "reps.csv")
    )
    # The recorded hash does not get in the way of reading the result back.
    assert AnalysisResult.from_dict(second_json).source == PHONE_NAME


def test_results_of_an_earlier_valgus_are_never_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Results without ``source_sha256`` (written before it was recorded) may be of another
    clip: this clip's are written beside them."""
    clip = _pose_file(tmp_path / "poses.npz", 20.0)
    out = tmp_path / "out"
    _analyze(clip, out, capsys)
    old = out / "IMG_0001.valgus.json"
    data = json.loads(old.read_text())
    del data[SOURCE_SHA256]
    old.write_text(json.dumps(data, indent=2) + "\n")
    before = old.read_bytes()
    err = _analyze(clip, out, capsys)
    assert "these are written as IMG_0001-2.*" in err
    assert old.read_bytes() == before
    assert json.loads((out / "IMG_0001-2.valgus.json").read_text())[SOURCE_SHA256] == (
        _sha256(clip))
