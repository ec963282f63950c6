"""Signing deliberately (issue 15 item 3): "Sign off" on the Review page opens a confirmation
showing what will be signed (decision, reps counted per leg, overrides, policy, entered values)
under the logged-in account, with Confirm and Cancel; a record changed after the confirmation
was shown is not signed unseen (AppTest, and the store's digest check)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_review_page import (
    ASSISTANT,
    CLINICIAN,
    DAY,
    button,
    data_dir,  # noqa: F401  (fixture)
    elements_in,
    review_app,
    texts,
)
from tests.records_data import squats, write_clip
from valgus.core.clearance import ClearanceInputs, Override
from valgus.store.errors import RecordError
from valgus.store.service import Records
from valgus.store.signing import signing_digest


def _session(path: Path, tmp_path: Path) -> tuple[int, int]:
    with Records.open(path) as rec:
        rec.add_person("RUN-070", "female")
        visit = rec.create_session("RUN-070", DAY)
        result, series = squats("left", 4.0, 3)
        saved = rec.save_analysis(visit.id, write_clip(tmp_path / "c.mp4", n_frames=40),
                                  result, series, original_name="left *bold*.mp4")
        rec.save_review(visit.id, CLINICIAN, "watch the left knee",
                        [Override(saved.id, 2, "excessive", "knee caves in")])
        rec.save_clearance(visit.id, ClearanceInputs(squat_pain_left=0, run_minutes=25.0,
                                                     strength_left=90.0, strength_right=100.0,
                                                     strength_unit="Nm"), CLINICIAN)
        return visit.id, saved.id


def test_sign_off_shows_what_is_signed_and_can_be_cancelled(
    data_dir: Path, tmp_path: Path  # noqa: F811
) -> None:
    sid, aid = _session(data_dir, tmp_path)
    at = review_app()
    assert not [b for b in at.button if str(b.key or "").startswith("rv_sign_confirm_")]
    button(at, "rv_sign_").click().run()
    assert not at.exception, at.exception
    page = texts(at)
    assert "You are about to sign as dr.vega (clinician)" in page
    (shown,) = [str(e.value) for e in elements_in(at, "rv_sign_summary", "text")]
    assert "Decision: NOT YET" in shown
    assert "Squat, left leg: NOT YET; 3 of 20 reps counted, 1 excessive" in shown
    assert "1 re-banded" in shown
    assert "Squat, right leg: CANNOT ASSESS; 0 of 20 reps counted, 0 excessive, no FPPA " \
           "measured" in shown
    assert f"left *bold*.mp4 (analysis {aid}) rep 2: excessive (knee caves in)" in shown
    assert "Notes: watch the left knee" in shown
    assert "Policy: pain up to 0/10 counts as none; strength LSI at least 90 %" in shown
    assert "squat pain, left 0; squat pain, right not recorded" in shown
    assert "easy run 25.0 min" in shown and "strength left 90.0, right 100.0 Nm" in shown
    assert not elements_in(at, "rv_signoff", "text_input")  # no name is typed
    # Cancel: nothing signed, the Sign off button is back.
    button(at, "rv_sign_cancel_").click().run()
    assert "You are about to sign" not in texts(at)
    with Records.open(data_dir) as rec:
        assert not rec.session_summary(sid).final
    # Confirm: signed under the account.
    button(at, "rv_sign_").click().run()
    button(at, "rv_sign_confirm_").click().run()
    assert not at.exception, at.exception
    assert "Signed by dr.vega" in texts(at)
    with Records.open(data_dir) as rec:
        summary = rec.session_summary(sid)
        assert summary.final and summary.clearance is not None
        assert summary.clearance.signed_by == CLINICIAN


def test_a_change_after_the_confirmation_is_not_signed_unseen(
    data_dir: Path, tmp_path: Path  # noqa: F811
) -> None:
    sid, _ = _session(data_dir, tmp_path)
    at = review_app()
    button(at, "rv_sign_").click().run()
    with Records.open(data_dir) as rec:  # someone else enters new values meanwhile
        rec.save_clearance(sid, ClearanceInputs(squat_pain_left=3), ASSISTANT)
    button(at, "rv_sign_confirm_").click().run()
    assert not at.exception, at.exception
    assert "The record changed since you pressed Sign off" in texts(at)
    (shown,) = [str(e.value) for e in elements_in(at, "rv_sign_summary", "text")]
    assert "squat pain, left 3" in shown  # what is shown now
    with Records.open(data_dir) as rec:
        assert not rec.session_summary(sid).final
    button(at, "rv_sign_confirm_").click().run()  # confirmed again, after seeing it
    assert "Signed by dr.vega" in texts(at)


def test_an_assistant_is_refused_before_any_confirmation(
    data_dir: Path, tmp_path: Path  # noqa: F811
) -> None:
    _session(data_dir, tmp_path)
    at = review_app(ASSISTANT)
    button(at, "rv_sign_").click().run()
    assert "only a clinician may sign" in texts(at)
    assert "You are about to sign" not in texts(at)


def test_the_store_refuses_a_signature_over_a_stale_digest(
    data_dir: Path, tmp_path: Path  # noqa: F811
) -> None:
    sid, _ = _session(data_dir, tmp_path)
    with Records.open(data_dir) as rec:
        digest = signing_digest(rec.session_summary(sid))
        rec.save_clearance(sid, ClearanceInputs(squat_pain_left=2), CLINICIAN)
        with pytest.raises(RecordError, match="changed since the confirmation"):
            rec.sign_clearance(sid, CLINICIAN, expected=digest)
        assert not rec.session_summary(sid).final
        rec.sign_clearance(sid, CLINICIAN, expected=signing_digest(rec.session_summary(sid)))
        assert rec.session_summary(sid).final
