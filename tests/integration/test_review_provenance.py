"""Settings provenance on the Review page and in the report (issue 15 item 4): an analysis
saved with the runner's own threshold is flagged in words, the report says so on its first
page, and a clinician re-scores it under the clinic's settings from the stored poses (the new
analysis in force, the bands following); an assistant is not offered the button (AppTest)."""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path

from tests.integration.test_review_page import (
    ASSISTANT,
    DAY,
    button,
    data_dir,  # noqa: F401  (fixture)
    review_app,
    table_in,
    texts,
)
from tests.records_data import squats, write_clip
from valgus.config import AnalysisConfig
from valgus.pipeline import analyze_series
from valgus.report import build_session_report
from valgus.store.service import Records

FLAG = "Analysed with the runner's own settings: FPPA threshold 25.0 deg (clinic: 12.0 deg)"


def _saved_with_own_threshold(path: Path, tmp_path: Path) -> tuple[int, int]:
    """A woman's session with 3 reps of FPPA 17 deg analysed with the threshold at 25 deg
    (fine there; excessive at the clinic's 12 deg)."""
    base = AnalysisConfig()
    cfg = dataclasses.replace(base, sex="female",
                              valgus=dataclasses.replace(base.valgus, female_deg=25.0))
    _, series = squats("left", 17.0, 3)
    result, _ = analyze_series(series, cfg)
    with Records.open(path) as rec:
        rec.add_person("RUN-085", "female")
        sid = rec.create_session("RUN-085", DAY).id
        saved = rec.save_analysis(sid, write_clip(tmp_path / "c.mp4", n_frames=40), result,
                                  series, original_name="own settings.mp4")
        return sid, saved.id


def test_own_settings_are_flagged_and_rescored(
    data_dir: Path, tmp_path: Path  # noqa: F811
) -> None:
    sid, aid = _saved_with_own_threshold(data_dir, tmp_path)
    with Records.open(data_dir) as rec:  # the report says it on its first page
        page = html.unescape(build_session_report(rec, sid).html)
    assert f"Analysis {aid} (own settings.mp4): {FLAG}" in page
    at = review_app()
    assert [c for c in at.get("container") if getattr(c, "key", None) == f"rv_settings_{aid}"]
    warnings = "\n".join(str(w.value) for w in at.warning)
    assert FLAG in warnings.replace("\\", "")  # plain(): markdown characters escaped
    assert list(table_in(at, f"rv_clip_{aid}")["band"]) == ["fine"] * 3
    button(at, f"rv_rescore_{aid}").click().run()
    assert not at.exception, at.exception
    page = texts(at).replace("\\", "")
    assert "Re-scored own settings.mp4 under the clinic's settings" in page
    with Records.open(data_dir) as rec:
        (current,) = rec.list_analyses(sid)
        assert current.id != aid and current.result.threshold_deg == 12.0
        assert [a.action for a in rec.audit_log() if a.action == "rescored"] == ["rescored"]
        report = html.unescape(build_session_report(rec, sid).html)
    assert FLAG not in report
    assert list(table_in(at, f"rv_clip_{current.id}")["band"]) == ["excessive"] * 3
    assert not [c for c in at.get("container")
                if getattr(c, "key", None) == f"rv_settings_{current.id}"]
    assert "Squat, left leg: NOT YET; 3 measured reps, 3 excessive" in page


def test_an_assistant_sees_the_flag_but_no_rescore(
    data_dir: Path, tmp_path: Path  # noqa: F811
) -> None:
    _saved_with_own_threshold(data_dir, tmp_path)
    at = review_app(ASSISTANT)
    assert FLAG in texts(at).replace("\\", "")
    assert not [b for b in at.button if str(b.key or "").startswith("rv_rescore_")]
    assert "A clinician can re-score it" in texts(at)
