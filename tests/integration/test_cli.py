"""CLI: exit codes and one-line messages on bad input; JSON and files on good input."""

from __future__ import annotations

import csv
import errno
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from tests.synthetic import Rep, person_series, squat_curve, time_base
from valgus.cli.main import main


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def _write_blank_video(path: Path, n_frames: int = 12) -> Path:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for _ in range(n_frames):
            frame = av.VideoFrame.from_ndarray(np.full((240, 320, 3), 90, np.uint8), "rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


@pytest.fixture
def poses_npz(tmp_path: Path) -> Path:
    """A saved pose series: three left-leg single-leg squats of a synthetic person."""
    t = time_base(12.0, 30.0)
    reps = [Rep(1.0, 3.0, 70.0), Rep(4.5, 3.0, 70.0), Rep(8.0, 3.0, 70.0)]
    series = person_series(t, squat_curve(t, reps, standing_deg=10.0), "left", 20.0)
    return series.save(tmp_path / "synthetic.npz")


def _assert_one_line_error(err: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("valgus: error: ")
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("missing.mp4", None, "not found"),
        ("empty.mp4", b"", "empty"),
        ("notes.mp4", b"this is not a video\n" * 50, "Cannot read"),
        ("random.mov", bytes(np.random.default_rng(0).integers(0, 256, 4096, np.uint8)), "read"),
    ],
)
def test_bad_files_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, content: bytes | None,
    fragment: str,
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    code, out, err = _run(["analyze", str(path)], capsys)
    assert code == 2
    assert out == ""
    _assert_one_line_error(err)
    assert fragment.lower() in err.lower()


def test_missing_model_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video = _write_blank_video(tmp_path / "blank.mp4")
    code, _, err = _run(["analyze", str(video), "--model", str(tmp_path / "no.task")], capsys)
    assert code == 3
    _assert_one_line_error(err)
    assert "pose model not found" in err


def test_video_without_a_person_exits_4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video = _write_blank_video(tmp_path / "blank.mp4")
    code, out, err = _run(["analyze", str(video)], capsys)
    assert code == 4
    assert out == ""
    _assert_one_line_error(err)
    assert "person" in err


def test_json_output_has_the_documented_fields(
    poses_npz: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(["analyze", str(poses_npz), "--json"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["schema"] == "valgus.analysis/2"
    assert data["exercise"] == "single_leg"
    assert data["view"]["frontal"] is True and data["view"]["guidance"] == []
    assert [r["leg"] for r in data["reps"]] == ["left"] * 3
    for rep in data["reps"]:
        for key in ("complete", "start_s", "bottom_s", "end_s", "depth_deg",
                    "fppa_bottom_deg", "fppa_peak_deg", "band"):
            assert key in rep
        assert rep["complete"] is True
        assert rep["band"] in {"fine", "borderline", "excessive"}
    assert set(data["legs"]) == {"left", "right"}
    assert data["legs"]["left"]["valid_reps"] == 3
    assert data["legs"]["left"]["verdict"] == "NOT YET"  # 3 of the 20 reps
    assert data["legs"]["right"]["verdict"] == "CANNOT ASSESS"
    assert all(data["legs"][s]["reasons"] for s in ("left", "right"))


def test_out_writes_json_and_csvs(
    poses_npz: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "results"
    code, out, _ = _run(["analyze", str(poses_npz), "--out", str(out_dir)], capsys)
    assert code == 0
    # 3 reps of the 20, and clearly excessive: the verdict names both reasons with it.
    assert ("LEFT  leg: NOT YET (too few reps: 3 of 20 measured; excessive knee valgus) - "
            "FPPA median") in out
    data = json.loads((out_dir / "synthetic.valgus.json").read_text())
    with (out_dir / "synthetic.reps.csv").open() as f:
        reps = list(csv.DictReader(f))
    with (out_dir / "synthetic.frames.csv").open() as f:
        frames = list(csv.DictReader(f))
    assert len(reps) == len(data["reps"]) == 3
    assert float(reps[0]["fppa_bottom_deg"]) == pytest.approx(data["reps"][0]["fppa_bottom_deg"])
    assert len(frames) == data["n_frames"]
    assert {"t_s", "left_fppa_deg", "right_flexion_deg"} <= set(frames[0])


def test_out_is_private_and_made_whole(
    poses_npz: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out as batch and report write (issue 14, point 7): the folders it makes are 0700 and
    every file 0600 whatever the umask, each written under a temporary name and renamed."""
    out_dir = tmp_path / "results" / "clinic"
    old = os.umask(0o022)
    try:
        code, _, _ = _run(["analyze", str(poses_npz), "--out", str(out_dir)], capsys)
    finally:
        os.umask(old)
    assert code == 0
    for folder in (out_dir, out_dir.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    files = sorted(out_dir.iterdir())
    assert [f.name for f in files] == [
        "synthetic.frames.csv", "synthetic.reps.csv", "synthetic.valgus.json"]
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f


def test_out_leaves_no_partial_file_when_the_disk_fills(
    poses_npz: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A write that fails (disk full when the data reaches the disk) leaves no half file and
    no temporary file behind, and says so on one line."""
    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    out_dir = tmp_path / "results"
    code, _, err = _run(["analyze", str(poses_npz), "--out", str(out_dir)], capsys)
    assert code == 1
    assert "No space left on device" in err and "Traceback" not in err
    assert list(out_dir.iterdir()) == []


def test_out_csvs_keep_numbers_as_numbers(
    poses_npz: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The formula escape (``files.csv_cell``) leaves numbers alone: a negative angle in the
    per-frame CSV is still the number a spreadsheet reads, not text with an apostrophe."""
    out_dir = tmp_path / "results"
    code, _, _ = _run(["analyze", str(poses_npz), "--out", str(out_dir)], capsys)
    assert code == 0
    with (out_dir / "synthetic.frames.csv").open(newline="") as f:
        frames = list(csv.reader(f))
    numbers = [cell for row in frames[1:] for cell in row if cell]
    assert any(cell.startswith("-") for cell in numbers)
    assert all(not cell.startswith("'") for cell in numbers)
    assert all(np.isfinite(float(cell)) for cell in numbers)


def test_console_script_reports_bad_input_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "photo.mp4"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 100)
    proc = subprocess.run(
        [sys.executable, "-m", "valgus.cli", "analyze", str(bad)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("valgus: error: ")


def _no_analysis(*args: object, **kwargs: object) -> None:
    raise AssertionError("the analysis ran before the output paths were checked")


@pytest.mark.parametrize("target", ["missing/x.npz", "file.txt/x.npz", "folder"])
def test_bad_save_poses_target_fails_before_the_analysis(
    poses_npz: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, target: str,
) -> None:
    """--save-poses into no folder, a file or onto a folder: one line and exit 2 (bad input)
    before any analysis, not a zipfile traceback after it."""
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "folder.npz").mkdir()
    monkeypatch.setattr(sys.modules["valgus.cli.main"], "analyze_series", _no_analysis)
    monkeypatch.setattr(sys.modules["valgus.cli.main"], "analyze_video", _no_analysis)
    for video in (poses_npz, tmp_path / "short.mp4"):
        code, out, err = _run(
            ["analyze", str(video), "--save-poses", str(tmp_path / target)], capsys)
        assert code == 2 and out == ""
        _assert_one_line_error(err)
        assert "cannot write pose file" in err


def test_save_poses_onto_a_folder_or_from_a_pose_file_says_so(
    poses_npz: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--save-poses naming an existing folder wrote FOLDER.npz beside it without a word, and
    with a pose file as input it was ignored: both now say so, before any analysis."""
    (tmp_path / "adir").mkdir()
    monkeypatch.setattr(sys.modules["valgus.cli.main"], "analyze_series", _no_analysis)
    monkeypatch.setattr(sys.modules["valgus.cli.main"], "analyze_video", _no_analysis)
    code, out, err = _run(["analyze", str(tmp_path / "short.mp4"), "--save-poses",
                           str(tmp_path / "adir")], capsys)
    assert code == 2 and out == "" and "is a folder: give a file name" in err
    assert not (tmp_path / "adir.npz").exists()
    code, out, err = _run(["analyze", str(poses_npz), "--save-poses",
                           str(tmp_path / "again.npz")], capsys)
    assert code == 2 and out == "" and "is already a pose file" in err
    _assert_one_line_error(err)


def test_out_naming_a_file_says_so_before_the_analysis(
    poses_npz: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--out demo.json, an existing file: "... is a file, not a folder" (not ": None"), before
    the analysis, and the file is left as it was."""
    existing = tmp_path / "demo.json"
    existing.write_text("{}")
    monkeypatch.setattr(sys.modules["valgus.cli.main"], "analyze_series", _no_analysis)
    for out_dir in (existing, existing / "sub"):
        code, out, err = _run(["analyze", str(poses_npz), "--out", str(out_dir)], capsys)
        assert code == 2 and out == ""
        _assert_one_line_error(err)
        assert f"{existing} is a file, not a folder" in err and "None" not in err
    assert existing.read_text() == "{}"


def test_out_where_nothing_can_be_made_fails_before_the_analysis(
    poses_npz: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--out /proc/x.json passes the permission check (as root /proc reads writable) but no
    folder can be made there: one line and exit 2 before the analysis, not after it. A good
    --out is tried the same way and left as it was (no folder made yet, no trial file)."""
    monkeypatch.setattr(sys.modules["valgus.cli.main"], "analyze_series", _no_analysis)
    for args in (["--out", "/proc/x.json"], ["--save-poses", "/proc/x.npz"]):
        code, out, err = _run(["analyze", str(poses_npz), *args], capsys)
        assert code == 2 and out == "", err
        _assert_one_line_error(err)
        assert f"cannot write {'results to' if args[0] == '--out' else 'pose file'} /proc/x." in err
    with pytest.raises(AssertionError, match="the analysis ran"):
        main(["analyze", str(poses_npz), "--out", str(tmp_path / "new" / "results")])
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_a_device_or_a_pipe_is_not_a_video_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    kind: str,
) -> None:
    """/dev/zero reads as 0 bytes long and a named pipe would be read for ever: each is "not a
    video file" (exit 2, one line), before anything reads it."""
    monkeypatch.setattr(sys.modules["valgus.cli.main"], "analyze_video", _no_analysis)
    if kind == "device":
        path = Path("/dev/zero")
    else:
        path = tmp_path / "clip.mp4"
        os.mkfifo(path)
    code, out, err = _run(["analyze", str(path)], capsys)
    assert code == 2 and out == ""
    _assert_one_line_error(err)
    words = "is a device" if kind == "device" else "is a named pipe (FIFO)"
    assert f"{path} {words}, not a video file" in err
    assert "empty" not in err


def test_save_poses_file_is_private_and_whole(
    poses_npz: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The pose file holds patient landmarks: 0600 whatever the umask, written under a
    temporary name and renamed (no partial file left), and it loads back."""
    from valgus.core.pose import PoseSeries
    from valgus.pipeline import VideoAnalysis, analyze_series

    series = PoseSeries.load(poses_npz)

    def fake_video(*args: object, **kwargs: object) -> VideoAnalysis:
        return VideoAnalysis(*analyze_series(series), series)

    monkeypatch.setattr(sys.modules["valgus.cli.main"], "analyze_video", fake_video)
    video = _write_blank_video(tmp_path / "short.mp4")
    target = tmp_path / "poses" / "x"
    target.parent.mkdir()
    old = os.umask(0o022)
    try:
        code, _, err = _run(["analyze", str(video), "--save-poses", str(target)], capsys)
    finally:
        os.umask(old)
    assert code == 0, err
    saved = target.with_suffix(".npz")
    assert [p.name for p in target.parent.iterdir()] == ["x.npz"]
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert len(PoseSeries.load(saved).t_s) == len(series.t_s)


def test_counts_are_worded_in_the_singular_for_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """"1 of 20 measured ... 1 rep", never "1 reps" (``core.reasons.plural``)."""
    from valgus.core.reasons import plural

    t = time_base(6.0, 30.0)
    series = person_series(t, squat_curve(t, [Rep(1.0, 3.0, 70.0)], standing_deg=10.0),
                           "left", 20.0)
    path = series.save(tmp_path / "one.npz")
    code, out, _ = _run(["analyze", str(path)], capsys)
    assert code == 0
    assert "LEFT  leg: NOT YET (too few reps: 1 of 20 measured;" in out
    assert "only 1 of the 20 reps the test asks for was measured" in out
    assert "over 1 rep " in out and "1 reps" not in out
    assert "one rep: no spread" in out and "spread 0.0" not in out  # one rep has no spread
    assert (plural(0, "clip"), plural(1, "clip"), plural(2, "analysis", "analyses")) == (
        "0 clips", "1 clip", "2 analyses")
