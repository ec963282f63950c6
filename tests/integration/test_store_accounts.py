"""Accounts and roles (issue 14, point 7): argon2 hashes, back-off after wrong passwords,
disabled accounts, ``valgus user ...``, and names bound to accounts once accounts exist
(clinician: review, sign, policy; assistant: record). On SQLite and PostgreSQL."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.records_data import clip_variant, squats, write_clip
from valgus.cli.main import main
from valgus.core.clearance import ClearanceInputs, ClearancePolicy
from valgus.store import accounts
from valgus.store.accounts import LoginError
from valgus.store.errors import RecordError
from valgus.store.service import Records

PASSWORD = "correct horse battery"


@pytest.fixture
def records(tmp_path: Path, database_url: str | None) -> Iterator[Records]:
    with Records.open(tmp_path / "data", url=database_url) as rec:
        yield rec


def _session(rec: Records, tmp: Path) -> int:
    rec.ensure_person("RUN-1")
    sid = rec.create_session("RUN-1", date(2025, 3, 4)).id
    clip = write_clip(tmp / "c.mp4")
    for k, leg in enumerate(("left", "right")):
        rec.save_analysis(sid, clip_variant(clip, k), squats(leg, 5.0, 3)[0])  # type: ignore[arg-type]
    return sid


def test_passwords_are_argon2_hashes_and_logins_back_off(
    records: Records, database_url: str | None, tmp_path: Path
) -> None:
    with pytest.raises(RecordError, match="at least 12"):
        records.add_user("dr.vega", "clinician", "short")
    with pytest.raises(RecordError, match="user name"):
        records.add_user("Dr Vega\u200b", "clinician", PASSWORD)
    user = records.add_user("Dr.Vega", "clinician", PASSWORD)  # stored in lower case
    assert user.username == "dr.vega" and user.may("sign")
    with pytest.raises(RecordError, match="exists already"):
        records.add_user("dr.vega", "assistant", PASSWORD)
    url = database_url or f"sqlite:///{tmp_path / 'data' / 'valgus.db'}"
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users")).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert records.authenticate("DR.VEGA", PASSWORD).last_login_at is not None
    for _ in range(accounts.FREE_FAILURES):
        with pytest.raises(LoginError, match="wrong user name or password"):
            records.authenticate("dr.vega", "not the password")
    with pytest.raises(LoginError, match="try again in"):
        records.authenticate("dr.vega", "not the password")
    with pytest.raises(LoginError, match="try again in"):  # even the right one, meanwhile
        records.authenticate("dr.vega", PASSWORD)
    with engine.begin() as conn:  # the back-off is over
        conn.execute(text("UPDATE users SET locked_until = :t"),
                     {"t": accounts.now() - timedelta(seconds=1)})
    engine.dispose()
    assert records.authenticate("dr.vega", PASSWORD).username == "dr.vega"
    with pytest.raises(LoginError, match="wrong user name or password"):
        records.authenticate("nobody", PASSWORD)  # same words as a wrong password
    records.set_disabled("dr.vega")
    with pytest.raises(LoginError, match="wrong user name or password"):
        records.authenticate("dr.vega", PASSWORD)


def test_names_are_accounts_and_roles_decide(records: Records, tmp_path: Path) -> None:
    sid = _session(records, tmp_path)
    records.save_clearance(sid, ClearanceInputs(squat_pain_left=0), "Anyone")  # no accounts yet
    records.add_user("dr.vega", "clinician", PASSWORD)
    records.add_user("sam", "assistant", PASSWORD)
    with pytest.raises(RecordError, match="not an active valgus account"):
        records.save_clearance(sid, ClearanceInputs(squat_pain_left=1), "Anyone")
    assert records.save_clearance(sid, ClearanceInputs(squat_pain_left=1), "sam").updated_by \
        == "sam"
    for action in (lambda: records.save_review(sid, "sam", "notes"),
                   lambda: records.sign_clearance(sid, "sam"),
                   lambda: records.save_policy(ClearancePolicy(), "sam")):
        with pytest.raises(RecordError, match="only a clinician may"):
            action()
    records.set_disabled("dr.vega")
    with pytest.raises(RecordError, match="not an active valgus account"):
        records.sign_clearance(sid, "dr.vega")
    records.set_disabled("dr.vega", False)
    signed = records.sign_clearance(sid, "dr.vega")
    assert signed.clearance is not None and signed.clearance.signed_by == "dr.vega"


def test_user_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["user", "add", "dr.vega", "--role", "clinician", "--password-stdin", *data]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "add", "sam", "--role", "assistant", "--password-stdin", *data]) == 7
    assert "at least 12" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("another long password\n"))
    assert main(["user", "passwd", "dr.vega", "--password-stdin", *data]) == 0
    assert main(["user", "disable", "dr.vega", *data]) == 0
    assert main(["user", "list", *data]) == 0
    out = capsys.readouterr().out
    assert "dr.vega" in out and "DISABLED" in out and PASSWORD not in out
    assert main(["user", "enable", "dr.vega", *data]) == 0
    with Records.open(tmp_path / "data") as rec:
        assert rec.authenticate("dr.vega", "another long password").username == "dr.vega"
        sid = _session(rec, tmp_path)
    # The CLI acts as the account it names.
    assert main(["clearance", str(sid), "--by", "Dr Vega", "--sign", *data]) == 7
    assert "not a valgus account" in capsys.readouterr().err
    assert main(["clearance", str(sid), "--by", "dr.vega", "--sign", *data]) == 0
    assert "signed by dr.vega" in capsys.readouterr().out
