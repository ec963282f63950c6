"""``valgus analyze`` without ``--save`` stores nothing: ``--person``, ``--session-date`` and
``--data-dir``, which only ``--save`` uses, are refused on one line (exit 2) before the clip is
read, rather than ignored, so that nobody takes the result for stored."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.records_data import squats
from valgus.cli.main import main


def _no_analysis(*args: object, **kwargs: object) -> None:
    raise AssertionError("the clip was analysed although the options are refused")


@pytest.mark.parametrize(
    ("options", "named"),
    [
        (["--person", "RUN-1"], "--person only applies with --save"),
        (["--session-date", "2025-03-04"], "--session-date only applies with --save"),
        (["--data-dir", "DATA"], "--data-dir only applies with --save"),
        (["--person", "RUN-1", "--session-date", "2025-03-04", "--data-dir", "DATA"],
         "--person, --session-date and --data-dir only apply with --save"),
    ],
)
def test_options_of_save_without_save_are_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    options: list[str], named: str,
) -> None:
    monkeypatch.setattr(sys.modules["valgus.cli.main"], "analyze_series", _no_analysis)
    monkeypatch.setattr(sys.modules["valgus.cli.main"], "analyze_video", _no_analysis)
    data = tmp_path / "data"
    args = [str(data) if a == "DATA" else a for a in options]
    poses = squats("left", 5.0, 3)[1].save(tmp_path / "p.npz")
    for clip in (tmp_path / "missing.mp4", poses):
        code = main(["analyze", str(clip), *args])
        out, err = capsys.readouterr()
        lines = [line for line in err.splitlines() if line.strip()]
        assert code == 2 and out == "", err
        assert len(lines) == 1 and lines[0].startswith("valgus: error: "), err
        assert named in lines[0] and "nothing is stored without it" in lines[0]
    assert not data.exists()  # no records made


def test_save_with_them_is_not_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With ``--save`` the same options pass this check (here the pose file is refused next,
    as ``--save`` stores the video)."""
    poses = squats("left", 5.0, 3)[1].save(tmp_path / "p.npz")
    code = main(["analyze", str(poses), "--save", "--person", "RUN-1", "--session-date",
                 "2025-03-04", "--data-dir", str(tmp_path / "data")])
    err = capsys.readouterr().err
    assert code == 2 and "give the video file" in err and "only apply" not in err


def test_a_pose_file_alone_is_still_analysed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    poses = squats("left", 5.0, 3)[1].save(tmp_path / "p.npz")
    code = main(["analyze", str(poses), "--sex", "male"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.strip()
