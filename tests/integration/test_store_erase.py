"""Erasing a person (issue 14, point 8): clips and poses deleted, identifying fields replaced,
the measurements kept under ERASED-<id>, an audit line; signed sessions stay verifiable and are
reported as erased, not tampered. SQLite and PostgreSQL, and the CLI."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.records_data import clip_variant, squats, write_clip
from valgus.cli.main import main
from valgus.store.errors import NotFoundError, RecordError
from valgus.store.service import Records

PASSWORD = "correct horse battery"


def _person(rec: Records, tmp: Path, code: str) -> list[Path]:
    """Two sessions of ``code``, the first signed; returns the stored files."""
    rec.add_person(code, "female", notes="runs on Tuesdays")
    clip = write_clip(tmp / f"{code}.mp4")
    stored = []
    for k, day in enumerate((date(2025, 1, 7), date(2025, 2, 4))):
        sid = rec.create_session(code, day).id
        result, series = squats("left", 5.0, 3)
        saved = rec.save_analysis(sid, clip_variant(clip, k), result, series,
                                  original_name=f"{code} left.mp4")
        assert saved.poses_path is not None
        stored += [saved.clip.path, saved.poses_path]
        if k == 0:
            rec.sign_clearance(sid, "dr.vega")
    return stored


def test_erasing_a_person(tmp_path: Path, database_url: str | None) -> None:
    with Records.open(tmp_path / "data", url=database_url) as rec:
        rec.add_user("dr.vega", "clinician", PASSWORD)
        rec.add_user("sam", "assistant", PASSWORD)
        files = _person(rec, tmp_path, "RUN-070")
        others = _person(rec, tmp_path, "RUN-071")
        with pytest.raises(RecordError, match="only a clinician"):
            rec.erase_person("RUN-070", "sam", "asked to")
        with pytest.raises(RecordError, match="reason"):
            rec.erase_person("RUN-070", "dr.vega", "  ")
        done = rec.erase_person("RUN-070", "dr.vega", "the person asked (GDPR art. 17)")
        assert done.sessions == 2 and done.files_removed == 4
        assert not any(p.exists() for p in files) and all(p.exists() for p in others)
        with pytest.raises(NotFoundError):
            rec.get_person("RUN-070")
        erased = rec.get_person(done.code)
        assert erased.notes == "" and erased.sex is None
        for visit in rec.list_sessions(done.code):
            summary = rec.session_summary(visit.id)
            assert all(a.clip.original_name == "erased" for a in summary.analyses)
            assert all(a.result.source == "erased" for a in summary.analyses)
            if summary.signature is not None:
                assert summary.signature.intact, summary.signature.problems
        assert rec.verify().ok, rec.verify().problems
        assert rec.check().clean, rec.check()
        line = rec.audit_log(subject=f"person {done.code}")[0]
        assert line.action == "person_erased" and line.actor == "dr.vega"
        assert "RUN-070" not in str(line)
        with pytest.raises(RecordError, match="erased already"):
            rec.erase_person(done.code, "dr.vega", "again")


def test_erase_command_asks_first(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    with Records.open(data) as rec:
        _person(rec, tmp_path, "RUN-080")
    base = ["records", "erase", "RUN-080", "--by", "Dr Vega", "--reason", "asked",
            "--data-dir", str(data)]
    assert main(base) == 0
    assert "Run again with --yes" in capsys.readouterr().out
    with Records.open(data) as rec:
        assert rec.get_person("RUN-080").notes == "runs on Tuesdays"
    assert main([*base, "--yes"]) == 0
    assert "erased: now ERASED-1; 2 sessions, 4 files deleted" in capsys.readouterr().out
