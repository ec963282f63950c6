"""Two writers at once on one SQLite file (threads and processes), and crashes in the middle of a
save: the database stays consistent and no file is left without its row (or a row without its
file)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import create_engine

from tests.records_data import clip_variant, squats, write_clip
from valgus.core.clearance import Override
from valgus.store.db import sha256_file
from valgus.store.errors import RecordError
from valgus.store.service import Records

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]


def check_consistent(data_dir: Path, url: str | None = None) -> tuple[int, int]:
    """Open the data directory as a new process would, move what crashed saves left to the
    quarantine folder (``valgus records quarantine``; opening alone never removes a file) and
    check: every clip and pose row has its file with the right sha256, every analysis has its
    clip, and no file lies in clips/, poses/ or tmp/ without a row; on SQLite also the file's
    integrity and foreign keys. ``url``: the database (None = SQLite in ``data_dir``). Returns
    the number of clips and analyses."""
    with Records.open(data_dir, url=url) as records:
        records.quarantine()
    engine = create_engine(url or f"sqlite:///{data_dir / 'valgus.db'}")
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
                assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
            clips = conn.exec_driver_sql("SELECT stored_path, sha256 FROM clips").fetchall()
            poses = [p for (p,) in conn.exec_driver_sql("SELECT poses_path FROM analyses") if p]
            n_analyses = conn.exec_driver_sql("SELECT count(*) FROM analyses").scalar()
            orphan_analyses = conn.exec_driver_sql(
                "SELECT count(*) FROM analyses a LEFT JOIN clips c ON a.clip_id = c.id "
                "WHERE c.id IS NULL"
            ).scalar()
    finally:
        engine.dispose()
    assert orphan_analyses == 0
    for stored, sha in clips:
        assert sha256_file(data_dir / stored) == sha
    on_disk = {f"{d}/{p.name}" for d in ("clips", "poses") for p in (data_dir / d).iterdir()}
    assert on_disk == {p for p, _ in clips} | set(poses)
    assert list((data_dir / "tmp").iterdir()) == []
    return len(clips), int(n_analyses or 0)


# --------------------------------------------------------------------------- concurrency


def _race(n: int, work: Callable[[int], T]) -> list[T]:
    """``work(0) .. work(n - 1)`` in n threads released at the same moment; their results in
    order. Any exception in a thread fails the test."""
    start = threading.Barrier(n)
    results: list[T | None] = [None] * n
    errors: list[BaseException] = []

    def run(k: int) -> None:
        try:
            start.wait(timeout=30)
            results[k] = work(k)
        except BaseException as err:  # reported to the main thread below
            errors.append(err)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results  # type: ignore[return-value]


def test_two_threads_write_at_once_without_mixing(
    tmp_path: Path, database_url: str | None
) -> None:
    """Two 'browser sessions' share one Records object (as the app does), each with its own
    person and session; their writes interleave and nothing mixes or fails."""
    data = tmp_path / "data"
    clips = [write_clip(tmp_path / f"c{k}.mp4", seed=k) for k in range(2)]
    result, series = squats("left", 5.0)
    n_each = 6
    with Records.open(data, url=database_url) as rec:
        sids = []
        for k in range(2):
            rec.add_person(f"T-{k}")
            sids.append(rec.create_session(f"T-{k}", date(2025, 1, 1 + k)).id)

        def worker(k: int) -> None:
            for i in range(n_each):
                clip = clip_variant(clips[k], i)  # another clip each time (same video)
                saved = rec.save_analysis(sids[k], clip, result, series if i % 2 else None)
                rec.save_review(sids[k], f"reviewer {k}", f"pass {i}",
                                [Override(saved.id, 1, "fine", f"thread {k}")])

        _race(2, worker)
        for k in range(2):
            sessions = rec.list_sessions(f"T-{k}")
            assert len(sessions) == 1 and sessions[0].n_clips == n_each
            analyses = rec.list_analyses(sessions[0].id)
            assert {a.clip.sha256 for a in analyses} == {
                sha256_file(clip_variant(clips[k], i)) for i in range(n_each)}
            reviews = rec.review_history(sessions[0].id)
            assert {r.reviewer for r in reviews} == {f"reviewer {k}"}
            assert len(reviews) == n_each
    assert check_consistent(data, database_url) == (2 * n_each, 2 * n_each)


def test_racing_get_or_create_gives_one_person_and_one_session(
    tmp_path: Path, database_url: str | None
) -> None:
    """Six app sessions save the first clip of the same visit at once: one person, one session
    (SQLite serialises writers; PostgreSQL needs the person's row locked)."""
    with Records.open(tmp_path / "data", url=database_url) as rec:
        for attempt in range(3):  # a race is a matter of timing: several rounds
            code = f"RACE-{attempt}"

            def open_visit(_k: int, code: str = code) -> int:
                return rec.session_for_date(rec.ensure_person(code).code, date(2025, 6, 1)).id

            ids = _race(6, open_visit)
            assert len(set(ids)) == 1
            assert len(rec.list_sessions(code)) == 1
        assert [p.code for p in rec.list_people()] == ["RACE-0", "RACE-1", "RACE-2"]


def test_nothing_lands_in_a_session_after_it_is_signed(
    tmp_path: Path, database_url: str | None
) -> None:
    """Saves and reviews racing the signature: each one either lands before it (and is part of
    what was signed) or is refused because the session is final; none slips in after."""
    clip = write_clip(tmp_path / "c.mp4")
    result = squats("left", 5.0, 3)[0]
    with Records.open(tmp_path / "data", url=database_url) as rec:
        for attempt in range(3):
            sid = rec.session_for_date(rec.ensure_person(f"SIGN-{attempt}").code,
                                       date(2025, 6, 1)).id
            rec.save_analysis(sid, clip, result)
            first_saved = threading.Event()

            def work(k: int, sid: int = sid, first_saved: threading.Event = first_saved) -> int:
                if k == 0:
                    first_saved.wait(timeout=30)
                    rec.sign_clearance(sid, "Dr Vega")
                    return 0
                # Save until refused: every saver is still saving when the signature lands.
                # The short pause is a person's pace: SQLite's busy wait is not fair, and writers
                # in a tight loop could keep the signature waiting for its lock.
                deadline = time.monotonic() + 30.0
                i = 0
                while time.monotonic() < deadline:
                    try:
                        if k == 1:
                            rec.save_analysis(sid, clip_variant(clip, i), result)
                        else:
                            rec.save_review(sid, "Dr Ruiz", f"note {i}")
                    except RecordError as err:
                        assert "final" in str(err)
                        return i
                    i += 1
                    first_saved.set()
                    time.sleep(0.005)
                raise AssertionError("the session was never signed")

            saved_before = _race(3, work)
            summary = rec.session_summary(sid)
            assert summary.final and summary.clearance is not None
            detail = summary.clearance.signed_detail
            assert detail is not None
            assert detail["analysis_ids"] == [a.id for a in rec.list_analyses(sid)]
            latest = rec.latest_review(sid)
            assert detail["review_id"] == (latest.id if latest else None)
            assert saved_before[1] + saved_before[2] >= 1


WRITER = textwrap.dedent("""
    import sys
    from datetime import date
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from tests.records_data import clip_variant, squats
    from valgus.store.service import Records

    data, clip, code, n = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    result, series = squats("left", 5.0, 3)
    with Records.open(data) as rec:
        sid = rec.session_for_date(rec.ensure_person(code).code, date(2025, 1, 1)).id
        print("ready", flush=True)
        sys.stdin.readline()  # start together
        for i in range(n):
            rec.save_analysis(sid, clip_variant(clip, i), result, series)
            rec.save_review(sid, code, f"note {{i}}")
            print("saved", i, flush=True)
""").format(root=str(ROOT))


def test_two_processes_write_to_one_sqlite_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    clip = write_clip(tmp_path / "c.mp4")
    Records.open(data).close()  # migrate once, as an installed app would have
    n = 5
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(data), str(clip), f"P-{k}", str(n)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=ROOT,
        )
        for k in range(2)
    ]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert out.count("saved") == n
    with Records.open(data) as rec:
        for k in range(2):
            (session,) = rec.list_sessions(f"P-{k}")
            assert session.n_clips == n
            assert len(rec.review_history(session.id)) == n
    assert check_consistent(data) == (2 * n, 2 * n)


# --------------------------------------------------------------------------- crashes

CRASHER = textwrap.dedent("""
    import os, signal, sys
    from datetime import date
    from pathlib import Path
    sys.path.insert(0, {root!r})
    from tests.records_data import clip_variant, squats
    from valgus.store import db as store_db
    from valgus.store.service import Records

    data, clip, point = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]

    def die() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    # Crash injection: the real code runs up to the chosen point, then the process is killed.
    if point == "after_copy":
        real_copy = store_db.Database.stage_copy
        def stage_copy(self, *a, **k):
            real_copy(self, *a, **k)
            die()
        store_db.Database.stage_copy = stage_copy
    elif point in ("after_first_rename", "after_all_renames"):
        real_publish = store_db.StagedFile.publish
        calls = []
        def publish(self):
            real_publish(self)
            calls.append(self)
            if point == "after_first_rename" or len(calls) == 2:
                die()
        store_db.StagedFile.publish = publish

    result, series = squats("left", 5.0, 3)
    with Records.open(data) as rec:
        sid = rec.session_for_date(rec.ensure_person("CRASH").code, date(2025, 1, 1)).id
        rec.save_analysis(sid, clip_variant(clip, 2), result, series)
        print("saved", flush=True)
        rec.save_analysis(sid, clip_variant(clip, 3), result, series)
        print("saved", flush=True)
""").format(root=str(ROOT))


@pytest.mark.parametrize("point", ["after_copy", "after_first_rename", "after_all_renames"])
def test_crash_mid_save_leaves_a_consistent_database(tmp_path: Path, point: str) -> None:
    """The process dies at the worst moments of a save (files renamed into place, the
    transaction holding the write lock, not yet committed): an earlier save survives whole, the
    killed one leaves nothing behind once the data directory is opened again."""
    data = tmp_path / "data"
    clip = write_clip(tmp_path / "c.mp4")
    with Records.open(data) as rec:
        sid = rec.session_for_date(rec.ensure_person("CRASH").code, date(2025, 1, 1)).id
        result, series = squats("left", 5.0, 3)
        for i in range(2):
            rec.save_analysis(sid, clip_variant(clip, i), result, series)
    proc = subprocess.run(
        [sys.executable, "-c", CRASHER, str(data), str(clip), point],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "saved" not in proc.stdout
    # The killed save left files behind (the crash was real)...
    left_behind = [p for d in ("tmp", "clips", "poses") for p in (data / d).iterdir()]
    assert len(left_behind) > 4  # 2 clips + 2 pose files of the earlier saves, plus debris
    # ...and opening again removes them; only the two clean saves remain.
    assert check_consistent(data) == (2, 2)
    with Records.open(data) as rec:
        (session,) = rec.list_sessions("CRASH")
        assert len(rec.list_analyses(session.id)) == 2


def test_kill_at_an_arbitrary_moment_during_repeated_saves(tmp_path: Path) -> None:
    """No injection: the writer is killed by the parent as soon as it reports its third save,
    wherever its fourth save happens to be."""
    data = tmp_path / "data"
    clip = write_clip(tmp_path / "c.mp4", n_frames=120)
    Records.open(data).close()
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(data), str(clip), "KILLED", "1000"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        cwd=ROOT,
    )
    assert proc.stdout is not None and proc.stdin is not None
    assert proc.stdout.readline().strip() == "ready"
    proc.stdin.write("go\n")
    proc.stdin.flush()
    saved = 0
    while saved < 3:
        line = proc.stdout.readline()
        assert line, "writer ended early"
        saved += line.startswith("saved")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    n_clips, n_analyses = check_consistent(data)
    assert n_clips == n_analyses and n_clips >= 3
