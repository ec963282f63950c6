"""Records store (valgus.store): migrations from empty and their match with the ORM, round trips,
reviews with overrides, clearance records and signing, history, settings. Each runs on a real
SQLite file and on a real PostgreSQL database (``database_url`` in conftest.py). Concurrency and
crashes are in test_store_concurrency.py."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlalchemy.exc import IntegrityError

from tests.records_data import clip_variant, squats, write_clip
from valgus.core.clearance import ClearanceInputs, ClearancePolicy, Override
from valgus.core.pose import PoseSeries
from valgus.paths import DATA_DIR_ENV
from valgus.store.db import DATABASE_URL_ENV, Database, sha256_file
from valgus.store.errors import NotFoundError, RecordError, StorageError
from valgus.store.migrate import alembic_config, current_revision, head_revision
from valgus.store.models import Base
from valgus.store.service import Records

GOOD = ClearanceInputs(
    squat_pain_left=0, squat_pain_right=0, stair_descent_pain=False, run_minutes=25,
    run_pain_during=0, run_pain_next_morning=0, strength_left=95.0, strength_right=100.0,
    strength_unit="Nm", involved_side="left",
)


@pytest.fixture
def records(tmp_path: Path, database_url: str | None) -> Iterator[Records]:
    with Records.open(tmp_path / "data", url=database_url) as rec:
        yield rec


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return write_clip(tmp_path / "left squats.mp4")


def _visit(records: Records, clip: Path, code: str = "RUN-001",
           day: date = date(2025, 3, 4), fppa: tuple[float, float] = (5.0, 6.0)) -> int:
    """A session with one 20-rep clip per leg (two clips: a session stores a clip once)."""
    records.ensure_person(code, "female")
    visit = records.create_session(code, day)
    for k, (leg, value) in enumerate(zip(("left", "right"), fppa, strict=True)):
        result, series = squats(leg, value)  # type: ignore[arg-type]
        records.save_analysis(visit.id, clip_variant(clip, k), result, series,
                              original_name=f"{leg}.mp4")
    return visit.id


# --------------------------------------------------------------------------- migrations


def test_fresh_database_is_migrated_to_head_and_matches_the_models(
    tmp_path: Path, database_url: str | None
) -> None:
    db = Database.open(tmp_path / "d", url=database_url)
    try:
        with db.engine.connect() as conn:
            assert current_revision(conn) == head_revision() is not None
            # The migrations build exactly the schema the ORM declares.
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert diff == []
            tables = set(inspect(conn).get_table_names())
        assert {"people", "test_sessions", "clips", "analyses", "reviews", "rep_overrides",
                "clearance_records", "alembic_version"} <= tables
        with db.engine.begin() as conn:
            command.check(alembic_config(conn))  # raises if a new migration were needed
        if database_url is not None:
            assert db.engine.dialect.name == "postgresql"
            return
        raw = sqlite3.connect(tmp_path / "d" / "valgus.db")
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        raw.close()
    finally:
        db.close()


def test_compare_metadata_notices_a_schema_drift(tmp_path: Path) -> None:
    """The check above can fail: a table the ORM lacks is reported."""
    db = Database.open(tmp_path / "d")
    try:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE stray (id INTEGER PRIMARY KEY)")
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert any(d[0] == "remove_table" and d[1].name == "stray" for d in diff)
    finally:
        db.close()


def test_downgrade_and_upgrade_again(tmp_path: Path, database_url: str | None) -> None:
    url = database_url or f"sqlite:///{tmp_path / 'm.db'}"
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
        command.downgrade(alembic_config(conn), "base")
        assert "people" not in inspect(conn).get_table_names()
    engine.dispose()
    # Opening brings it back to head.
    with Database.open(tmp_path / "x", url=url) as db, db.engine.connect() as conn:
        assert current_revision(conn) == head_revision()


# --------------------------------------------------------------------------- round trips


def test_person_session_clip_and_analysis_round_trip(
    records: Records, clip: Path, database_url: str | None
) -> None:
    person = records.add_person("RUN-001", "female", notes="left PFP since May")
    assert records.get_person("RUN-001") == person
    visit = records.create_session("RUN-001", date(2025, 3, 4))
    result, series = squats("left", 5.0)
    saved = records.save_analysis(visit.id, clip, result, series)
    # The clip is a byte-exact copy inside the data directory, under its sha256.
    assert saved.clip.path.parent == records.db.data_dir / "clips"
    assert saved.clip.path.read_bytes() == clip.read_bytes()
    assert saved.clip.sha256 == sha256_file(clip)
    assert saved.clip.original_name == clip.name
    loaded = records.get_analysis(saved.id)
    # JSON in the database gives back exactly the analysis dict, as the typed result.
    assert loaded.result.to_dict() == json.loads(json.dumps(result.to_dict()))
    assert loaded.config == loaded.result.to_dict()["config"]
    assert loaded.schema == "valgus.analysis/2"
    assert loaded.valgus_version == result.to_dict()["valgus_version"]
    assert loaded.poses_path is not None
    back = PoseSeries.load(loaded.poses_path)
    np.testing.assert_array_equal(back.xy_px, series.xy_px)
    sessions = records.list_sessions("RUN-001")
    assert [(s.id, s.session_date, s.n_clips, s.signed) for s in sessions] == [
        (visit.id, date(2025, 3, 4), 1, False)
    ]
    # A second process (new engine) reads the same.
    with Records.open(records.db.data_dir, url=database_url) as other:
        assert other.get_analysis(saved.id).result == loaded.result


def test_session_for_date_gathers_clips_of_one_visit(records: Records, clip: Path) -> None:
    records.ensure_person("RUN-002")
    a = records.session_for_date("RUN-002", date(2025, 5, 1))
    b = records.session_for_date("RUN-002", date(2025, 5, 1))
    c = records.session_for_date("RUN-002", date(2025, 5, 8))
    assert a.id == b.id != c.id


def test_unknown_things_and_bad_values_are_one_line_errors(records: Records, clip: Path) -> None:
    with pytest.raises(NotFoundError, match="no person"):
        records.create_session("NOBODY")
    with pytest.raises(NotFoundError, match="no session 42"):
        records.session_summary(42)
    records.add_person("RUN-003")
    with pytest.raises(RecordError, match="already exists"):
        records.add_person("RUN-003")
    with pytest.raises(RecordError, match="sex"):
        records.add_person("RUN-004", sex="other")
    with pytest.raises(RecordError, match="empty"):
        records.add_person("   ")
    visit = records.create_session("RUN-003")
    with pytest.raises(NotFoundError, match="video not found"):
        records.save_analysis(visit.id, clip.with_name("gone.mp4"), squats("left", 5.0)[0])
    with pytest.raises(RecordError, match="schema"):
        records.save_analysis(visit.id, clip, {"schema": "other/9"})


# --------------------------------------------------------------------------- review


def test_review_overrides_change_the_squat_verdict_and_latest_review_wins(
    records: Records, clip: Path
) -> None:
    sid = _visit(records, clip)
    summary = records.session_summary(sid)
    assert [summary.squat[leg].verdict for leg in ("left", "right")] == ["PASS", "PASS"]
    right = summary.analyses[1]
    assert right.result.reps[0].leg == "right"
    records.save_review(sid, "Dr Vega", "valgus on rep 4 visible on video",
                        [Override(right.id, 4, "excessive", "knee caves in at the bottom")])
    summary = records.session_summary(sid)
    assert summary.squat["right"].verdict == "NOT YET"
    assert summary.squat["right"].overridden_reps == 1
    assert summary.review is not None and summary.review.reviewer == "Dr Vega"
    assert summary.review.notes == "valgus on rep 4 visible on video"
    overridden = [r for r in summary.reps if r.overridden]
    assert [(r.analysis_id, r.index, r.band, r.original_band) for r in overridden] == [
        (right.id, 4, "excessive", "fine")
    ]
    # A new review replaces the overrides; the old one stays on record.
    records.save_review(sid, "Dr Ruiz", "second look: rep 4 is fine")
    assert records.session_summary(sid).squat["right"].verdict == "PASS"
    history = records.review_history(sid)
    assert [(r.reviewer, len(r.overrides)) for r in history] == [("Dr Vega", 1), ("Dr Ruiz", 0)]


@pytest.mark.parametrize(
    ("override", "fragment"),
    [
        (Override(0, 99, "fine", "x"), "no rep 99"),
        (Override(0, 1, "awful", "x"), "band must be one of"),  # type: ignore[arg-type]
        (Override(0, 1, "fine", "  "), "give a reason"),
        (Override(12345, 1, "fine", "x"), "not a current analysis"),
    ],
)
def test_bad_overrides_are_refused_and_nothing_is_stored(
    records: Records, clip: Path, override: Override, fragment: str
) -> None:
    sid = _visit(records, clip)
    left_id = records.list_analyses(sid)[0].id
    if override.analysis_id == 0:
        override = Override(left_id, override.index, override.band, override.reason)
    with pytest.raises(RecordError, match=fragment):
        records.save_review(sid, "Dr Vega", "", [override])
    assert records.review_history(sid) == []


# --------------------------------------------------------------------------- clearance


def test_clearance_record_signed_is_final(records: Records, clip: Path) -> None:
    sid = _visit(records, clip)
    assert records.session_summary(sid).decision.status == "NOT YET"  # nothing entered yet
    records.save_clearance(sid, GOOD, "Dr Vega")
    summary = records.session_summary(sid)
    assert summary.decision.status == "CLEARED"
    assert not summary.final and summary.clearance is not None
    assert summary.clearance.inputs == GOOD
    signed = records.sign_clearance(sid, "Dr Vega")
    assert signed.final and signed.clearance is not None
    assert signed.clearance.signed_by == "Dr Vega" and signed.clearance.signed_at is not None
    assert signed.clearance.signed_decision == "CLEARED"
    detail = signed.clearance.signed_detail
    assert detail is not None and detail["squat"]["left"]["verdict"] == "PASS"
    assert detail["policy"]["min_lsi_pct"] == 90.0
    for change in (
        lambda: records.save_clearance(sid, GOOD, "Dr Ruiz"),
        lambda: records.save_review(sid, "Dr Ruiz", "late note"),
        lambda: records.sign_clearance(sid, "Dr Ruiz"),
        lambda: records.save_analysis(sid, clip, squats("left", 5.0)[0]),
    ):
        with pytest.raises(RecordError, match="final"):
            change()
    assert records.get_session(sid).signed
    # A new visit on the same date opens a new session.
    assert records.session_for_date("RUN-001", date(2025, 3, 4)).id != sid


def test_signed_decision_keeps_the_policy_it_was_signed_under(
    tmp_path: Path, clip: Path, database_url: str | None
) -> None:
    lenient = ClearancePolicy(min_lsi_pct=85.0)
    with Records.open(tmp_path / "d", url=database_url, policy=lenient) as rec:
        sid = _visit(rec, clip)
        rec.save_clearance(sid, ClearanceInputs(**{**GOOD.__dict__, "strength_left": 87.0}), "A")
        assert rec.sign_clearance(sid, "A").decision.status == "CLEARED"
    with Records.open(tmp_path / "d", url=database_url) as strict:  # default 90 % now
        summary = strict.session_summary(sid)
        assert summary.policy.min_lsi_pct == 85.0
        assert summary.decision.status == "CLEARED"


def test_pain_out_of_range_is_refused_by_the_database_too(records: Records, clip: Path) -> None:
    sid = _visit(records, clip)
    records.save_clearance(sid, GOOD, "Dr Vega")
    # Straight to the database, past the service's own checks.
    for statement in (
        "UPDATE clearance_records SET squat_pain_left = 11",
        "UPDATE clearance_records SET signed_by = 'x'",  # signed without a time
    ):
        with records.db.engine.connect() as conn, pytest.raises(IntegrityError):
            conn.exec_driver_sql(statement)
    assert records.session_summary(sid).clearance.inputs == GOOD  # type: ignore[union-attr]


# --------------------------------------------------------------------------- history


def test_history_reports_fppa_per_leg_and_real_changes(records: Records, clip: Path) -> None:
    _visit(records, clip, day=date(2025, 1, 10), fppa=(18.0, 8.0))
    _visit(records, clip, day=date(2025, 2, 10), fppa=(14.0, 6.0))
    _visit(records, clip, day=date(2025, 3, 10), fppa=(6.0, 5.0))
    history = records.history("RUN-001")
    assert [r.session.session_date.month for r in history.rows] == [1, 2, 3]
    left = [r.session.median_fppa_deg["left"] for r in history.rows]
    assert left == pytest.approx([18.0, 14.0, 6.0], abs=1.5)
    feb, mar = history.rows[1], history.rows[2]
    assert feb.since_previous["left"] is not None and not feb.since_previous["left"].real
    assert mar.since_previous["left"] is not None and mar.since_previous["left"].real
    assert mar.since_first["left"] is not None and mar.since_first["left"].real
    assert mar.since_first["right"] is not None and not mar.since_first["right"].real
    assert history.sdc_deg == 7.5


# --------------------------------------------------------------------------- settings


def test_data_dir_and_database_url_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clip: Path
) -> None:
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "env-data"))
    with Records.open() as rec:
        rec.add_person("ENV-1")
        assert rec.db.data_dir == tmp_path / "env-data"
    assert (tmp_path / "env-data" / "valgus.db").is_file()
    url = f"sqlite:///{tmp_path / 'clinic.db'}"
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    with Records.open(tmp_path / "files") as rec:
        assert rec.list_people() == []
        rec.add_person("URL-1")
        sid = rec.create_session("URL-1").id
        saved = rec.save_analysis(sid, clip, squats("left", 5.0)[0])
        assert saved.clip.path.is_relative_to(tmp_path / "files")
    assert (tmp_path / "clinic.db").is_file()
    assert not (tmp_path / "files" / "valgus.db").exists()


def test_unusable_data_dir_or_url_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StorageError, match="cannot create the data directory"):
        Records.open(blocker / "data")
    with pytest.raises(StorageError, match="not a database URL"):
        Records.open(tmp_path / "d", url="no such thing")
    with pytest.raises(StorageError, match="cannot open the database"):
        Records.open(tmp_path / "d2", url=f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}")


# --------------------------------------------------------------------------- clinic policy


def test_clinic_policy_is_stored_and_used_by_every_new_records_object(
    tmp_path: Path, clip: Path, database_url: str | None
) -> None:
    with Records.open(tmp_path / "d", url=database_url) as rec:
        never = rec.policy_setting()
        assert never.policy == ClearancePolicy() and never.updated_by is None
        sid = _visit(rec, clip)
        rec.save_clearance(sid, ClearanceInputs(**{**GOOD.__dict__, "strength_left": 87.0}), "A")
        assert rec.session_summary(sid).decision.status == "NOT YET"  # LSI 87 < 90
        with pytest.raises(RecordError, match="must not be empty"):
            rec.save_policy(ClearancePolicy(min_lsi_pct=85.0), " ")
        saved = rec.save_policy(ClearancePolicy(min_lsi_pct=85.0), "Dr Vega")
        assert saved.updated_by == "Dr Vega" and saved.updated_at is not None
        assert rec.session_summary(sid).decision.status == "CLEARED"
    with Records.open(tmp_path / "d", url=database_url) as other:
        assert other.policy.min_lsi_pct == 85.0
        assert other.policy_setting().updated_by == "Dr Vega"
        assert other.session_summary(sid).decision.status == "CLEARED"
        other.save_policy(ClearancePolicy(min_lsi_pct=88.0), "Dr Ruiz")  # an update, not a 2nd row
        with other.db.engine.connect() as conn:
            assert conn.exec_driver_sql(
                "SELECT count(*) FROM settings WHERE name = 'clearance_policy'").scalar() == 1
    # An explicit policy (e.g. a command-line option) wins over the stored one.
    with Records.open(tmp_path / "d", url=database_url, policy=ClearancePolicy()) as strict:
        assert strict.session_summary(sid).decision.status == "NOT YET"
