"""``valgus batch``: a folder of short clips cut from the sample plus a file that is not a video,
on local worker processes and on Ray started on this machine; a batch killed part-way resumes
with only the clips that were not done; a worker that dies costs one row."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from valgus.batch.jobs import (
    SUMMARY_COLUMNS,
    BatchOptions,
    ClipOutcome,
    ClipRecord,
    analyze_clip,
    iter_summary,
)
from valgus.batch.runner import run_batch
from valgus.files import PARTIAL_PREFIX
from valgus.runtime.video import iter_frames

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_videos" / "demo_single_leg_squats.mp4"
# Each part holds one complete rep per leg of the sample (bottoms at 2.2/5.4, 8.6/11.8, 15.0/18.2
# s; demo_single_leg_squats.truth.json).
PARTS = {"part1.mp4": (0.0, 6.6), "part2.mp4": (6.6, 13.0), "part3.mp4": (13.0, 21.0)}
BAD = "broken.mp4"
CLIP_NAMES = sorted([*PARTS, BAD])


@pytest.fixture(scope="module")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three ~6.5 s clips of the sample at 270x360 (small: fast to decode) and a text file."""
    folder = tmp_path_factory.mktemp("clips")
    frames = list(iter_frames(SAMPLE, max_side_px=360))
    for name, (start, end) in PARTS.items():
        with av.open(str(folder / name), "w") as out:
            stream = out.add_stream("libx264", rate=25)
            stream.width, stream.height, stream.pix_fmt = 270, 360, "yuv420p"
            stream.options = {"preset": "ultrafast", "crf": "18"}
            for t_s, rgb in frames:
                if start <= t_s < end:
                    out.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
            out.mux(stream.encode())
    (folder / BAD).write_text("this is not a video\n")
    (folder / "notes.txt").write_text("not a clip: left out of the batch\n")
    return folder


def check_summary(out_dir: Path) -> dict[str, dict[str, str]]:
    """summary.csv: one row per clip, the bad file as an error, every part scored on both legs."""
    rows = {row["file"]: row for row in iter_summary(out_dir / "summary.csv")}
    assert sorted(rows) == CLIP_NAMES
    assert tuple(next(iter(rows.values()))) == SUMMARY_COLUMNS
    bad = rows[BAD]
    assert bad["status"] == "error" and "Cannot read" in bad["error"]
    assert bad["reps_left"] == bad["verdict_left"] == ""
    for name in PARTS:
        row = rows[name]
        assert row["status"] == "ok" and row["error"] == "", row
        assert (row["reps_left"], row["reps_right"]) == ("1", "1")
        # One rep per leg is short of 20: NOT YET on both legs.
        assert (row["verdict_left"], row["verdict_right"]) == ("NOT YET", "NOT YET")
        for leg in ("left", "right"):  # every leg short of a PASS says why
            assert "only 1 of the 20 reps" in row[f"reason_{leg}"], row
        # The sample's left knee stays out (about -4 deg), its right knee goes in (about 13).
        assert -8.0 < float(row["median_fppa_left_deg"]) < 0.0
        assert 10.0 < float(row["median_fppa_right_deg"]) < 16.0
        assert 6.0 < float(row["duration_s"]) < 8.0
        for suffix in (".valgus.json", ".reps.csv", ".frames.csv"):
            assert (out_dir / f"{name}{suffix}").is_file()
        result = json.loads((out_dir / f"{name}.valgus.json").read_text())
        assert result["schema"] == "valgus.analysis/2" and result["source"] == name
    assert not list(out_dir.glob(f"{PARTIAL_PREFIX}*"))
    return rows


def test_local_batch_scores_every_clip_and_a_rerun_skips_them(
    clip_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    report = run_batch(clip_dir, out, BatchOptions(), workers=2)
    assert sorted(report.analysed) == CLIP_NAMES and report.skipped == []
    assert report.failed == [BAD] and report.exit_code == 9
    check_summary(out)
    again = run_batch(clip_dir, out, BatchOptions(), workers=2)
    assert again.analysed == [] and sorted(again.skipped) == CLIP_NAMES
    # Other settings give other results: nothing counts as done.
    female = run_batch(clip_dir, out, BatchOptions(sex="female"), workers=2,
                       clip_fn=fake_analyze_clip)
    assert sorted(female.analysed) == CLIP_NAMES


def _stamps(out_dir: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in out_dir.glob("*.batch.json")}


def test_killed_batch_resumes_with_only_the_missing_clips(clip_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "valgus.cli", "batch", str(clip_dir), "--out", str(out),
           "--workers", "1"]
    # A session of its own, so that the kill reaches the batch's worker process too.
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    first = out / "part1.mp4.batch.json"
    deadline = time.monotonic() + 180
    try:
        # One worker takes the clips in name order: broken.mp4, part1, part2, part3. Kill the
        # batch (no chance to clean up) as soon as part1 is done.
        while not first.exists():
            assert time.monotonic() < deadline, "the batch never finished its first clip"
            assert proc.poll() is None, "the batch ended before it could be killed"
            with pytest.raises(subprocess.TimeoutExpired):
                proc.wait(timeout=0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done_before = _stamps(out)
    assert f"{BAD}.batch.json" in done_before and first.name in done_before
    assert len(done_before) < len(CLIP_NAMES), "killed too late: nothing left to resume"

    result = subprocess.run([*cmd[:-1], "2"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 9, result.stderr  # done, with the bad file's error row
    check_summary(out)
    after = _stamps(out)
    # Done clips were skipped (their records untouched); exactly the others were analysed.
    assert {k: after[k] for k in done_before} == done_before
    skipped = {name.removesuffix(".batch.json") for name in done_before}
    assert f"{len(CLIP_NAMES) - len(skipped)} analysed, {len(skipped)} done before" in (
        result.stdout
    )


def fake_analyze_clip(path: str, options: BatchOptions) -> ClipOutcome:
    """A stand-in for analyze_clip without the model: a plain row. Module-level, so that spawned
    workers can import it."""
    st = Path(path).stat()
    record = ClipRecord(file=Path(path).name, status="ok", reps_left=0, reps_right=0,
                        size_bytes=st.st_size, mtime_ns=st.st_mtime_ns,
                        settings=options.settings())
    return ClipOutcome(record)


def crashing_analyze_clip(path: str, options: BatchOptions) -> ClipOutcome:
    """As fake_analyze_clip, but part2 kills its worker process, as a crash in native code would."""
    if Path(path).name == "part2.mp4":
        os._exit(3)
    return fake_analyze_clip(path, options)


def test_a_worker_that_dies_costs_one_row(clip_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = run_batch(clip_dir, out, BatchOptions(), workers=2, clip_fn=crashing_analyze_clip)
    rows = {row["file"]: row for row in iter_summary(out / "summary.csv")}
    assert sorted(rows) == CLIP_NAMES and sorted(report.analysed) == CLIP_NAMES
    assert rows["part2.mp4"]["status"] == "error"
    assert "worker analysing this clip died (exit code 3)" in rows["part2.mp4"]["error"]
    # The replacement worker went on with the rest.
    assert all(rows[n]["status"] == "ok" for n in CLIP_NAMES if n != "part2.mp4")
    assert report.failed == ["part2.mp4"]
    retried = run_batch(clip_dir, out, BatchOptions(), workers=2, clip_fn=fake_analyze_clip,
                        retry_failed=True)
    assert retried.analysed == ["part2.mp4"]


def test_bad_clip_is_a_row_not_an_exception(tmp_path: Path) -> None:
    bad = tmp_path / "empty.mov"
    bad.write_bytes(b"")
    outcome = analyze_clip(str(bad), BatchOptions())
    assert outcome.record.status == "error" and outcome.record.exit_code == 2
    assert "empty" in outcome.record.error and outcome.files == {}


@pytest.fixture
def local_ray(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Ray started on this machine only: 2 CPUs, no dashboard, its nodes on loopback, no usage
    statistics sent."""
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'valgus[ray]')")
    if "RAY_ADDRESS" in os.environ:
        pytest.skip("RAY_ADDRESS is set: this test starts its own local Ray")
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             _node_ip_address="127.0.0.1")
    try:
        yield ray
    finally:
        ray.shutdown()


def test_ray_batch_scores_every_clip(
    clip_dir: Path, tmp_path: Path, local_ray: object
) -> None:
    out = tmp_path / "out"
    report = run_batch(clip_dir, out, BatchOptions(), engine="ray")
    assert sorted(report.analysed) == CLIP_NAMES and report.failed == [BAD]
    check_summary(out)
    # The same clips and settings on local workers count as done.
    again = run_batch(clip_dir, out, dataclasses.replace(BatchOptions()), workers=1)
    assert again.analysed == []


def test_results_that_cannot_be_written_are_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The summary's place is taken by a folder (as a full disk or a read-only share would
    refuse it): a one-line error and its exit code, no traceback, no partial file left."""
    from valgus.cli.main import main

    clips, out = tmp_path / "clips", tmp_path / "out"
    clips.mkdir()
    (out / "summary.csv").mkdir(parents=True)
    (out / "summary.csv" / "keep").write_text("x")
    assert main(["batch", str(clips), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("valgus: error: ")]
    assert len(lines) == 1 and "Traceback" not in err
    assert f"cannot write {out / 'summary.csv'}" in lines[0]
    assert "run the same command again to resume" in lines[0]
    assert not list(out.glob(f"{PARTIAL_PREFIX}*"))


def test_summary_gives_the_reason_of_every_leg_that_is_not_a_pass() -> None:
    """reason_left/right: blank for PASS, else the verdict's reasons (never an empty reason
    beside CANNOT ASSESS); a clip that cannot be scored says why, in core/reasons' words."""
    from tests.records_data import squats
    from valgus.batch.jobs import leg_reason
    from valgus.core.checks import QualityIssue
    from valgus.core.reasons import QualityCode, describe_quality

    few, _ = squats("left", 18.0, 3)
    assert few.legs["left"].verdict == "NOT YET" and few.legs["right"].verdict == "CANNOT ASSESS"
    assert "only 3 of the 20 reps" in leg_reason(few, "left")
    assert leg_reason(few, "right") == "no complete single-leg squat on this leg was found"
    good, _ = squats("left", 2.0)
    assert good.legs["left"].verdict == "PASS" and leg_reason(good, "left") == ""
    tilted = QualityIssue(QualityCode.CAMERA_TILTED, True, {"roll_deg": 25.0})
    blocked = dataclasses.replace(few, quality=(tilted,))
    assert not blocked.assessable
    words = describe_quality(QualityCode.CAMERA_TILTED, {"roll_deg": 25.0})
    assert words in leg_reason(blocked, "left") and words in leg_reason(blocked, "right")
    record = ClipRecord(file="a.mp4", status="ok", verdict_right="CANNOT ASSESS",
                        reason_right=leg_reason(few, "right"))
    row = record.row()
    assert tuple(row) == SUMMARY_COLUMNS and row["reason_right"].startswith("no complete")


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_summary_cells_are_never_spreadsheet_formulas(tmp_path: Path, start: str) -> None:
    """A clip's name or an error message starting like a formula is text in summary.csv (a
    leading apostrophe, ``files.csv_cell``); numbers, negative ones too, stay numbers."""
    from valgus.batch.jobs import write_summary
    from valgus.files import csv_cell

    name = f"{start}HYPERLINK(\"x\";\"y\").mp4"
    record = ClipRecord(file=name, status="error", error=f"{start}1+1",
                        median_fppa_left_deg=-4.5, reps_left=-1)
    write_summary(tmp_path, [tmp_path / name], {name: record})
    (row,) = iter_summary(tmp_path / "summary.csv")
    if start in "\t\r":  # a control character is escaped (``files.printable``): plain text
        shown = {"\t": "\\t", "\r": "\\r"}[start]
        assert row["file"] == shown + name[1:] and row["error"] == f"{shown}1+1"
    else:
        assert row["file"] == "'" + name and row["error"] == f"'{start}1+1"
    assert row["median_fppa_left_deg"] == "-4.50" and row["reps_left"] == "-1"
    assert csv_cell(-3.25) == -3.25 and csv_cell("-3.25") == "-3.25"
    assert csv_cell("1e-05") == "1e-05"
    assert csv_cell("-1+2") == "'-1+2" and csv_cell("plain") == "plain"


def sleeping_analyze_clip(path: str, options: BatchOptions) -> ClipOutcome:
    """A clip that takes forever; the worker notes its process id in ``$VALGUS_TEST_PIDS``."""
    Path(os.environ["VALGUS_TEST_PIDS"], f"{os.getpid()}.pid").write_text(path)
    time.sleep(600)
    return fake_analyze_clip(path, options)


def _start_sleeping_driver(clips: Path, out: Path, pids: Path) -> subprocess.Popen[bytes]:
    """A ``run_batch`` in a process of its own (a session of its own, so that the test can clean
    up every process it made) whose one worker sleeps on its clip; returns once it does."""
    code = ("import sys; from pathlib import Path; from tests.integration.test_batch import "
            "sleeping_analyze_clip as f; from valgus.batch.runner import run_batch; "
            "from valgus.batch.jobs import BatchOptions; "
            "run_batch(Path(sys.argv[1]), Path(sys.argv[2]), BatchOptions(), workers=1, "
            "clip_fn=f)")
    env = {**os.environ, "VALGUS_TEST_PIDS": str(pids)}
    proc = subprocess.Popen([sys.executable, "-c", code, str(clips), str(out)], cwd=ROOT,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while not list(pids.glob("*.pid")):
        assert proc.poll() is None, "the driver ended before its worker started"
        assert time.monotonic() < deadline, "the worker never started its clip"
        time.sleep(0.05)
    return proc


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie waiting for a parent to reap it does not)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _two_clips(tmp_path: Path) -> Path:
    clips = tmp_path / "clips"
    clips.mkdir()
    for name in ("a.mp4", "b.mp4"):
        (clips / name).write_bytes(b"not analysed: the clip function is a stand-in")
    return clips


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_second_run_on_the_same_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two batch runs on one output folder (issue 14, point 7): the second says that another
    run holds the folder and exits, without removing the first run's files in progress."""
    from valgus.cli.main import main

    clips, out, pids = _two_clips(tmp_path), tmp_path / "out", tmp_path / "pids"
    pids.mkdir()
    first = _start_sleeping_driver(clips, out, pids)
    try:
        in_progress = out / f"{PARTIAL_PREFIX}being-written"
        in_progress.write_bytes(b"the first run's file, half written")
        assert main(["batch", str(clips), "--out", str(out)]) == 1
        err = capsys.readouterr().err
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and "Traceback" not in err
        assert f"another valgus batch run is writing to {out}" in lines[0]
        assert f"process {first.pid}" in lines[0]
        assert in_progress.exists() and not (out / "summary.csv").exists()
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    # Once the first run is gone (killed: the system released its lock) the folder is free.
    report = run_batch(clips, out, BatchOptions(), workers=1, clip_fn=fake_analyze_clip)
    assert sorted(report.analysed) == ["a.mp4", "b.mp4"]
    assert stat_mode(out) == 0o700


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_their_driver(tmp_path: Path) -> None:
    """A driver killed outright (no chance to stop its workers) takes its workers with it,
    also one in the middle of a clip: none is left analysing for nobody."""
    clips, out, pids = _two_clips(tmp_path), tmp_path / "out", tmp_path / "pids"
    pids.mkdir()
    driver = _start_sleeping_driver(clips, out, pids)
    (pid_file,) = pids.glob("*.pid")
    worker = int(pid_file.stem)
    try:
        assert _alive(worker)
        os.kill(driver.pid, signal.SIGKILL)  # the driver only, not its process group
        driver.wait()
        deadline = time.monotonic() + 10
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker), "the worker outlived its driver"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(driver.pid, signal.SIGKILL)


def test_control_characters_in_a_clip_name_are_escaped(tmp_path: Path) -> None:
    """A clip named with terminal controls (ESC sequences, CR) is shown escaped (``\\x1b``) on
    the terminal and in summary.csv (``files.printable``): no escape injection."""
    import io

    from valgus.batch.jobs import write_summary
    from valgus.batch.runner import BatchProgress

    name = "a\x1b[2J\x1b]0;owned\x07\rb.mp4"
    shown = "a\\x1b[2J\\x1b]0;owned\\x07\\rb.mp4"
    record = ClipRecord(file=name, status="error", error="bad\x1b[31m clip")
    stream = io.StringIO()
    progress = BatchProgress(stream, 1, 0, 1)
    progress.clip_done(record)
    text = stream.getvalue()
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text
    assert text == f"[1/1] {shown}: error: bad\\x1b[31m clip\n"
    write_summary(tmp_path, [tmp_path / name], {name: record})
    raw = (tmp_path / "summary.csv").read_text(encoding="utf-8")
    assert "\x1b" not in raw and "\x07" not in raw
    (row,) = iter_summary(tmp_path / "summary.csv")
    assert row["file"] == shown and row["error"] == "bad\\x1b[31m clip"
