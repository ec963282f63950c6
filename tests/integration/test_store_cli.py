"""The records commands of the CLI: history, review, clearance, report, analyze --save; exit
codes and one-line errors. One test runs the real pose model on the bundled sample clip."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from tests.records_data import clip_variant, squats, write_clip
from valgus.cli.main import main
from valgus.paths import DATA_DIR_ENV
from valgus.store.db import DATABASE_URL_ENV, sha256_file
from valgus.store.service import Records

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "sample_videos" / "demo_single_leg_squats.mp4"
MODEL = ROOT / "src" / "valgus" / "models" / "pose_landmarker_full.task"


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def _one_line_error(err: str, fragment: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("valgus: error: "), err
    assert fragment in lines[0]
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two sessions of RUN-5 (one clip per leg each). Made once: the tests below only add to
    session 2 or read."""
    tmp = tmp_path_factory.mktemp("cli")
    data = tmp / "data"
    clip = write_clip(tmp / "c.mp4", n_frames=150)
    with Records.open(data) as rec:
        rec.ensure_person("RUN-5", "male")
        for day, (left, right) in ((date(2025, 1, 2), (19.0, 8.0)),
                                   (date(2025, 2, 2), (7.0, 6.0))):
            sid = rec.create_session("RUN-5", day).id
            for k, (leg, value) in enumerate((("left", left), ("right", right))):
                result, series = squats(leg, value)  # type: ignore[arg-type]
                rec.save_analysis(sid, clip_variant(clip, k), result, series,
                                  original_name=f"{leg}.mp4")
    return data


@pytest.fixture
def data_dir(populated: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The data directory comes from VALGUS_DATA_DIR, as a user would set it."""
    monkeypatch.setenv(DATA_DIR_ENV, str(populated))
    return populated


def test_history_table(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(["history", "RUN-5"], capsys)
    assert code == 0
    rows = [line.split() for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert [r[1] for r in rows][:2] == ["2025-01-02", "2025-02-02"]
    assert float(rows[0][2]) == pytest.approx(19.0, abs=1.5)
    assert "less valgus, a real change" in out  # left 19 -> 7
    assert "within the 7.5 deg noise" in out  # right 8 -> 6
    code, _, err = _run(["history", "NOBODY"], capsys)
    assert code == 6
    _one_line_error(err, "no person with code 'NOBODY'")


def test_review_clearance_sign_and_report(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Records.open() as rec:
        sid = rec.list_sessions("RUN-5")[1].id
        right = rec.list_analyses(sid)[1].id
    code, out, _ = _run(["review", str(sid), "--reviewer", "Dr Lee", "--notes", "ok",
                         "--band", f"{right}:3=excessive:knee caves in"], capsys)
    assert code == 0
    assert "right squat: NOT YET" in out and "1 rep re-banded by the reviewer" in out
    code, _, err = _run(["review", str(sid), "--reviewer", "Dr Lee",
                         "--band", f"{right}:77=fine:x"], capsys)
    assert code == 7
    _one_line_error(err, "has no rep 77")
    code, out, _ = _run(["review", str(sid), "--reviewer", "Dr Lee", "--notes", "rep 3 fine"],
                        capsys)
    assert code == 0 and "right squat: PASS" in out
    # Values entered over two runs; the second keeps the first's values.
    code, out, _ = _run(["clearance", str(sid), "--by", "Dr Lee", "--squat-pain-left", "0",
                         "--squat-pain-right", "0", "--stair-pain", "no"], capsys)
    assert code == 0 and "clearance: NOT YET (draft, not signed)" in out
    assert "[met] Stair descent" in out and "[not recorded] 20-30 minutes" in out
    code, out, _ = _run(["clearance", str(sid), "--by", "Dr Lee", "--run-minutes", "25",
                         "--run-pain-during", "0", "--run-pain-next-morning", "0",
                         "--strength-left", "88", "--strength-right", "100",
                         "--involved", "left", "--min-lsi", "85", "--sign"], capsys)
    assert code == 0
    assert "clearance: CLEARED (signed by Dr Lee on" in out and "(final)" in out
    code, _, err = _run(["clearance", str(sid), "--by", "Dr Lee", "--stair-pain", "yes"], capsys)
    assert code == 7
    _one_line_error(err, "is final")
    pdf, html = tmp_path / "out" / "s.pdf", tmp_path / "out" / "s.html"
    pdf.parent.mkdir()
    code, _, err = _run(["report", str(sid), "--pdf", str(pdf), "--html", str(html)], capsys)
    assert code == 0 and f"wrote {pdf}" in err
    assert pdf.read_bytes().startswith(b"%PDF") and "CLEARED" in html.read_text()
    assert "LSI 88 %" in html.read_text()  # signed under --min-lsi 85


@pytest.mark.parametrize(
    ("args", "code", "fragment"),
    [
        (["report", "999", "--pdf", "x.pdf"], 6, "no session 999"),
        (["report", "1"], 7, "give --pdf FILE and/or --html FILE"),
        (["report", "1", "--pdf", "/nonexistent-dir/x.pdf"], 8, "no such directory"),
        (["clearance", "1", "--by", "x", "--min-lsi", "80"], 7, "min_lsi_pct must be 85-90"),
        (["review", "1", "--reviewer", "  "], 7, "name must not be empty"),
    ],
)
def test_records_errors_are_one_line(
    data_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], code: int,
    fragment: str,
) -> None:
    got, _, err = _run(args, capsys)
    assert got == code
    _one_line_error(err, fragment)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["review", "1", "--reviewer", "x", "--band", "1:2=awful:x"], "band must be one of"),
        (["review", "1", "--reviewer", "x", "--band", "nonsense"], "ANALYSIS:REP=BAND:REASON"),
        (["clearance", "1", "--by", "x", "--squat-pain-left", "11"], "0-10"),
        (["clearance", "1", "--by", "x", "--stair-pain", "maybe"], "yes or no"),
        (["analyze", "v.mp4", "--save"], "--save needs --person"),
        (["analyze", "v.mp4", "--session-date", "March"], "YYYY-MM-DD"),
    ],
)
def test_bad_arguments_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], fragment: str
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 2
    assert fragment in capsys.readouterr().err


def test_save_needs_the_video_not_a_pose_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    npz = squats("left", 5.0, 3)[1].save(tmp_path / "p.npz")
    code, out, err = _run(["analyze", str(npz), "--save", "--person", "P",
                           "--data-dir", str(tmp_path / "d")], capsys)
    assert code == 2 and out == ""  # a usage error, like the other option misuse
    _one_line_error(err, "give the video file")


def test_a_bad_clip_saved_is_named_as_the_user_gave_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--save`` analyses its staged copy in ``data/tmp``; the error names the user's file."""
    bad = tmp_path / "knee clip.mp4"
    bad.write_bytes(b"not a video at all " * 64)
    data = tmp_path / "d"
    code, out, err = _run(["analyze", str(bad), "--save", "--person", "P",
                           "--data-dir", str(data)], capsys)
    assert code == 2 and out == ""
    _one_line_error(err, f"Cannot read {bad} as a video")
    assert str(data) not in err, err
    assert not any((data / "tmp").iterdir()) and not any((data / "clips").iterdir())


def test_analyze_save_with_the_real_model_then_report(tmp_path: Path) -> None:
    """The bundled sample clip through the real pose model, stored, then reported."""
    if not MODEL.is_file():
        pytest.skip("bundled pose model missing")
    data = tmp_path / "data"
    cmd = [sys.executable, "-m", "valgus.cli"]
    proc = subprocess.run(
        [*cmd, "analyze", str(DEMO), "--save", "--person", "DEMO-1", "--sex", "female",
         "--session-date", "2025-04-01", "--data-dir", str(data)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "LEFT  leg:" in proc.stdout  # the usual report is printed as without --save
    assert "saved analysis" in proc.stderr and "Traceback" not in proc.stderr
    with Records.open(data) as rec:
        assert rec.get_person("DEMO-1").sex == "female"
        (visit,) = rec.list_sessions("DEMO-1")
        assert visit.session_date == date(2025, 4, 1)
        (analysis,) = rec.list_analyses(visit.id)
        assert analysis.clip.sha256 == sha256_file(DEMO)
        assert analysis.result.config.sex == "female"
        assert analysis.result.reps, "the sample clip has reps"
        assert analysis.poses_path is not None and analysis.poses_path.is_file()
    pdf = tmp_path / "demo.pdf"
    proc = subprocess.run([*cmd, "report", str(visit.id), "--pdf", str(pdf),
                           "--data-dir", str(data)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    artifacts = ROOT / "test-artifacts" / "report"
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "demo.pdf").write_bytes(pdf.read_bytes())


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_commands_on_a_postgresql_server(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A clinic's server instead of the SQLite file: VALGUS_DATABASE_URL, as a user sets it."""
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "files"))
    monkeypatch.setenv(DATABASE_URL_ENV, database_url)
    clip = write_clip(tmp_path / "c.mp4", n_frames=150)
    with Records.open() as rec:
        assert rec.db.engine.dialect.name == "postgresql"
        rec.ensure_person("PG-1", "female")
        sid = rec.create_session("PG-1", date(2025, 4, 1)).id
        for k, (leg, value) in enumerate((("left", 19.0), ("right", 6.0))):
            result, series = squats(leg, value)  # type: ignore[arg-type]
            rec.save_analysis(sid, clip_variant(clip, k), result, series,
                              original_name=f"{leg}.mp4")
    code, out, _ = _run(["history", "PG-1"], capsys)
    assert code == 0 and "2025-04-01" in out
    code, out, _ = _run(["clearance", str(sid), "--by", "Dr Lee", "--squat-pain-left", "0",
                         "--squat-pain-right", "0", "--stair-pain", "no", "--sign"], capsys)
    assert code == 0 and "clearance: NOT YET (signed by Dr Lee on" in out
    code, _, err = _run(["review", str(sid), "--reviewer", "Dr Lee", "--notes", "late"], capsys)
    assert code == 7
    _one_line_error(err, "is final")
    html = tmp_path / "s.html"
    code, _, _ = _run(["report", str(sid), "--html", str(html)], capsys)
    assert code == 0 and "NOT YET" in html.read_text()
    # The SQLite file was never made: everything went to the server.
    assert not (tmp_path / "files" / "valgus.db").exists()


def test_policy_command_shows_and_sets_the_clinics_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "data"))
    code, out, _ = _run(["policy"], capsys)
    assert code == 0
    assert "(the defaults; never set)" in out and "at least 90 %" in out
    code, _, err = _run(["policy", "--min-lsi", "85"], capsys)
    assert code == 7
    _one_line_error(err, "give --by NAME")
    code, _, err = _run(["policy", "--min-lsi", "95", "--by", "Dr Lee"], capsys)
    assert code == 7
    _one_line_error(err, "min_lsi_pct must be 85-90")
    code, out, _ = _run(["policy", "--min-lsi", "85", "--max-pain", "1", "--by", "Dr Lee"],
                        capsys)
    assert code == 0
    assert "set by Dr Lee on" in out and "at least 85 %" in out and "up to 1/10" in out
    with Records.open() as rec:
        assert (rec.policy.min_lsi_pct, rec.policy.max_pain_score) == (85.0, 1)
    # The same options on another command apply to that command only: nothing is stored.
    code, _, _ = _run(["report", "999", "--html", str(tmp_path / "r.html"), "--min-lsi", "90",
                       "--max-pain", "0"], capsys)
    assert code == 6
    code, out, _ = _run(["policy"], capsys)
    assert "at least 85 %" in out and "up to 1/10" in out
