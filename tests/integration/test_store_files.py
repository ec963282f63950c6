"""Nothing stored is lost or changed by opening the records (issue 14, points 2 and 5).

* Opening the data folder with an empty ``valgus.db``, with another database URL or with a
  restored backup keeps every clip and pose file, also from a command that only reads; the
  unreferenced files are listed by ``valgus records check`` and moved aside only by
  ``valgus records quarantine --yes``.
* Commands that only show work while another process holds the write lock and on a read-only
  folder, and leave the folder as it was.
* Temporary files are named for their database: the check of one never lists another's.
* A database made by a newer valgus is refused (exit 8, naming that version); an older one is
  refused until ``valgus records upgrade``, which keeps its records.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine

from tests.records_data import squats, write_clip
from valgus.cli.main import main
from valgus.store.db import HOST, Database
from valgus.store.errors import StorageError
from valgus.store.migrate import alembic_config, current_revision, head_revision
from valgus.store.service import Records

ROOT = Path(__file__).resolve().parents[2]


def _fill(data: Path, url: str | None = None, code: str = "RUN-1") -> list[str]:
    """Save two clips with poses; returns the stored files (relative paths)."""
    with Records.open(data, url=url) as rec:
        rec.ensure_person(code)
        sid = rec.create_session(code, date(2025, 3, 4)).id
        stored = []
        for k, leg in enumerate(("left", "right")):
            result, series = squats(leg, 5.0)  # type: ignore[arg-type]
            clip = write_clip(data.parent / f"{code}-{leg}.mp4", seed=k)
            saved = rec.save_analysis(sid, clip, result, series)
            assert saved.poses_path is not None
            stored += [str(p.relative_to(data)) for p in (saved.clip.path, saved.poses_path)]
    return stored


def _files(data: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``data``: relative path -> (size, mtime in ns)."""
    return {str(p.relative_to(data)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(data.rglob("*")) if p.is_file()}


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_an_empty_database_keeps_every_file_until_quarantined(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    stored = _fill(data)
    assert len(stored) == 4
    backup = tmp_path / "backup.db"
    shutil.copy(data / "valgus.db", backup)
    (data / "valgus.db").unlink()
    (data / "valgus.db").write_bytes(b"")  # an empty valgus.db
    # A command that only reads, then one that writes: neither removes a file.
    assert _cli(["policy", "--data-dir", str(data)], capsys)[0] == 0
    with Records.open(data) as rec:
        rec.add_person("OTHER")
    assert all((data / p).is_file() for p in stored)
    code, out, _ = _cli(["records", "check", "--data-dir", str(data)], capsys)
    assert code == 1 and all(p in out for p in stored), out
    code, out, _ = _cli(["records", "quarantine", "--data-dir", str(data)], capsys)
    assert code == 0 and "--yes" in out and all((data / p).is_file() for p in stored)
    code, _, err = _cli(["records", "quarantine", "--yes", "--data-dir", str(data)], capsys)
    assert code == 0 and "moved 4 files" in err
    moved = sorted(p for p in (data / "quarantine").rglob("*") if p.is_file())
    assert sorted(p.name for p in moved) == sorted(Path(p).name for p in stored)
    assert _cli(["records", "check", "--data-dir", str(data)], capsys)[0] == 0
    # Restoring the backup and putting the files back gives the records as they were.
    shutil.copy(backup, data / "valgus.db")
    for p in moved:
        relative = p.relative_to(p.parents[1])
        os.replace(p, data / relative)
    code, out, _ = _cli(["records", "check", "--data-dir", str(data)], capsys)
    assert code == 0, out


@pytest.mark.parametrize("database", ["empty", "gone"])
def test_check_on_an_empty_database_lists_the_stored_files_and_deletes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], database: str
) -> None:
    """A restore gone wrong: an empty ``valgus.db`` (or none) beside stored clips. ``valgus
    records check`` says the database is empty and lists every stored file; it creates,
    changes and deletes nothing."""
    data = tmp_path / "data"
    stored = _fill(data)
    for extra in ("valgus.db-wal", "valgus.db-shm"):
        (data / extra).unlink(missing_ok=True)
    (data / "valgus.db").unlink()
    if database == "empty":
        (data / "valgus.db").write_bytes(b"")
    before = _files(data)
    code, out, err = _cli(["records", "check", "--data-dir", str(data)], capsys)
    assert code == 1, (out, err)
    assert "the records database is empty" in out and "files no record refers to (4)" in out
    assert all(p in out for p in stored), out
    assert "valgus records quarantine" in out
    assert _files(data) == before
    if database == "empty":
        assert (data / "valgus.db").read_bytes() == b""
    # Nothing stored either: still the one-line "no records" error.
    empty = tmp_path / "fresh"
    empty.mkdir()
    code, out, err = _cli(["records", "check", "--data-dir", str(empty)], capsys)
    assert code == 8 and "nothing was saved there yet" in err and out == "", (out, err)


def test_another_database_url_keeps_the_first_databases_files(
    tmp_path: Path, database_url: str | None
) -> None:
    data = tmp_path / "data"
    stored = _fill(data)  # SQLite in the folder
    with Records.open(data, url=database_url or f"sqlite:///{tmp_path / 'other.db'}") as rec:
        assert rec.list_people() == []
        assert set(rec.check().unreferenced) == set(stored)
    assert all((data / p).is_file() for p in stored)


def test_read_only_commands_take_no_write_lock_and_change_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    _fill(data)
    before = _files(data)
    holder = sqlite3.connect(data / "valgus.db", timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process is writing, for a long time
        for args in (["policy"], ["history", "RUN-1"], ["records", "check"]):
            code, _, err = _cli([*args, "--data-dir", str(data)], capsys)
            assert code == 0, (args, err)
    finally:
        holder.rollback()
        holder.close()
    assert _files(data) == before


def test_read_only_commands_work_on_a_read_only_folder(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _fill(data)
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare (util-linux) to mount the folder read-only")
    script = (f'mount --bind "{data}" "{data}" && mount -o remount,bind,ro "{data}" && '
              f'touch "{data}/probe" 2>/dev/null && exit 77; '
              f'for c in "policy" "history RUN-1" "records check"; do '
              f'"{sys.executable}" -m valgus.cli $c --data-dir "{data}" || exit $?; done')
    proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)
    if "mount:" in proc.stderr or "unshare:" in proc.stderr:
        pytest.skip(f"cannot mount read-only here: {proc.stderr.strip()}")
    assert proc.returncode != 77, "the folder was still writable"
    assert proc.returncode == 0, proc.stderr
    assert "RUN-1: 1 session;" in proc.stdout and "every stored file" in proc.stdout


def test_temporary_files_are_named_for_their_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with Database.open(data) as db, Database.open(
        data, url=f"sqlite:///{tmp_path / 'other.db'}"
    ) as other:
        assert db.tag != other.tag
        dead_pid = 2**22 + 12345  # beyond pid_max on Linux: no such process
        mine = data / "tmp" / f"{db.tag}-{HOST}-{dead_pid}-abc.mp4"
        theirs = data / "tmp" / f"{other.tag}-{HOST}-{dead_pid}-def.mp4"
        running = data / "tmp" / f"{db.tag}-{HOST}-{os.getpid()}-ghi.mp4"
        for p in (mine, theirs, running):
            p.write_bytes(b"partial")
        with Records(db) as rec:
            assert rec.check().stale_temp == (f"tmp/{mine.name}",)
            rec.quarantine()
        assert not mine.exists() and theirs.exists() and running.exists()


def test_new_data_folders_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _fill(data)
    for folder in (data, data / "clips", data / "poses", data / "tmp"):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    stored = [*(data / "clips").iterdir(), *(data / "poses").iterdir()]
    assert len(stored) == 4
    for f in stored:
        assert f.stat().st_mode & 0o077 == 0, f



def test_a_new_sqlite_database_and_its_wal_and_shm_are_private(tmp_path: Path) -> None:
    """``valgus.db`` (and ``-wal``, ``-shm``) are created 0600, whatever the umask (022 here:
    SQLite would create them 0644), by opening the records and by ``valgus records upgrade``."""
    old = os.umask(0o022)
    try:
        for data, make in ((tmp_path / "opened", lambda d: Records.open(d)),
                           (tmp_path / "upgraded", None)):
            if make is None:
                Database.upgrade(data)
            with Records.open(data) as rec:
                rec.add_person("RUN-1")  # a write: the -wal and -shm files exist now
                files = [data / "valgus.db", data / "valgus.db-wal", data / "valgus.db-shm"]
                assert all(f.is_file() for f in files), sorted(data.iterdir())
                for f in files:
                    assert f.stat().st_mode & 0o777 == 0o600, (f, oct(f.stat().st_mode))
    finally:
        os.umask(old)


# --------------------------------------------------------------------------- versions


def test_a_database_of_a_newer_valgus_is_refused_with_its_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], database_url: str | None
) -> None:
    data = tmp_path / "data"
    url = database_url or f"sqlite:///{data / 'valgus.db'}"
    with Records.open(data, url=url) as rec:
        rec.add_person("RUN-1")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0099'")
        conn.exec_driver_sql("UPDATE settings SET value = '{\"valgus_version\": \"9.9.9\"}' "
                             "WHERE name = 'schema'")
    engine.dispose()
    with pytest.raises(StorageError, match=r"made by valgus 9\.9\.9.*upgrade valgus"):
        Records.open(data, url=url)
    if database_url is None:
        for args in (["history", "RUN-1"], ["records", "upgrade"]):
            code, _, err = _cli([*args, "--data-dir", str(data)], capsys)
            assert code == 8 and "made by valgus 9.9.9" in err and "Traceback" not in err
            assert len(err.strip().splitlines()) == 1


def test_an_older_database_is_upgraded_only_on_request_and_keeps_its_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], database_url: str | None
) -> None:
    data = tmp_path / "data"
    url = database_url or f"sqlite:///{data / 'valgus.db'}"
    data.mkdir()
    engine = create_engine(url)
    with engine.begin() as conn:  # a database of the first release
        command.upgrade(alembic_config(conn), "0001")
        conn.exec_driver_sql("INSERT INTO people (code, notes, created_at) "
                             "VALUES ('OLD-1', '', '2024-01-01 10:00:00')")
    with pytest.raises(StorageError, match=r"older than this valgus.*valgus records upgrade"):
        Records.open(data, url=url)
    with engine.connect() as conn:
        assert current_revision(conn) == "0001"  # opening changed nothing
    engine.dispose()
    if database_url is None:
        code, _, err = _cli(["history", "OLD-1", "--data-dir", str(data)], capsys)
        assert code == 8 and "valgus records upgrade" in err
        code, out, _ = _cli(["records", "upgrade", "--data-dir", str(data)], capsys)
        assert code == 0 and f"from schema 0001 to {head_revision()}" in out
    else:
        Database.upgrade(data, url)
    with Records.open(data, url=url) as rec:
        assert [p.code for p in rec.list_people()] == ["OLD-1"]
    assert Database.upgrade(data, url) == (head_revision(), head_revision())
