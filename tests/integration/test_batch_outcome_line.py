"""``valgus batch``'s closing line counts each clip once: a clip that failed is counted as
failed, not as analysed too; one that failed in an earlier run is among those done before, said
so. Without the pose model: the clips are scored by a stand-in, the broken one by the real
``analyze_clip`` (which fails before any model is loaded)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from valgus.batch.jobs import BatchOptions, ClipOutcome, ClipRecord, analyze_clip
from valgus.batch.runner import BatchReport, run_batch
from valgus.cli import batch as batch_cli
from valgus.cli.batch import outcome_line
from valgus.cli.main import main

BROKEN = "broken.mp4"


def scored_or_broken(path: str, options: BatchOptions) -> ClipOutcome:
    """``analyze_clip`` for the broken file (its real error row), else a plain ``ok`` row.
    Module-level, so that spawned workers can import it."""
    if Path(path).name == BROKEN:
        return analyze_clip(path, options)
    st = Path(path).stat()
    record = ClipRecord(file=Path(path).name, status="ok", reps_left=0, reps_right=0,
                        size_bytes=st.st_size, mtime_ns=st.st_mtime_ns,
                        settings=options.settings())
    return ClipOutcome(record)


def _report(analysed: list[str], skipped: list[str], failed: list[str]) -> BatchReport:
    return BatchReport(Path("summary.csv"), analysed, skipped, failed)


def test_each_clip_is_counted_once() -> None:
    # The run took up both clips; one failed.
    assert outcome_line(_report(["a.mp4", BROKEN], [], [BROKEN])) == (
        "1 analysed, 0 done before, 1 failed")
    # A rerun: both done before, one of them as a failure.
    assert outcome_line(_report([], ["a.mp4", BROKEN], [BROKEN])) == (
        "0 analysed, 2 done before (1 of them failed; --retry-failed analyses it again), "
        "0 failed")
    assert outcome_line(_report(["c.mp4"], ["a.mp4", "b.mp4", "d.mp4"], ["a.mp4", "b.mp4"])) == (
        "1 analysed, 3 done before (2 of them failed; --retry-failed analyses them again), "
        "0 failed")
    # --retry-failed: the failed clip is taken up again, and fails again.
    assert outcome_line(_report([BROKEN], ["a.mp4"], [BROKEN])) == (
        "0 analysed, 1 done before, 1 failed")
    assert outcome_line(_report(["a.mp4", "b.mp4"], [], [])) == (
        "2 analysed, 0 done before, 0 failed")


def test_batch_command_counts_a_failed_clip_only_as_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    clips, out = tmp_path / "clips", tmp_path / "out"
    clips.mkdir()
    (clips / "a.mp4").write_bytes(b"scored by the stand-in")
    (clips / BROKEN).write_text("this is not a video\n")
    monkeypatch.setattr(batch_cli, "run_batch",
                        functools.partial(run_batch, clip_fn=scored_or_broken))
    command = ["batch", str(clips), "--out", str(out), "--workers", "1"]

    assert main(command) == 9  # done, with a failed clip
    stdout = capsys.readouterr().out
    assert stdout == f"1 analysed, 0 done before, 1 failed; summary: {out / 'summary.csv'}\n"

    assert main(command) == 9  # the failure stands: its row says why
    stdout = capsys.readouterr().out
    assert stdout.startswith("0 analysed, 2 done before (1 of them failed; --retry-failed "
                             "analyses it again), 0 failed; summary: ")

    assert main([*command, "--retry-failed"]) == 9
    assert capsys.readouterr().out.startswith("0 analysed, 1 done before, 1 failed; summary: ")
