"""Correcting a point on the Review page (issue 15 item 2), AppTest: the rep's scored frame
with its points, a point picked and placed (the click itself is the browser test's,
test_app_browser; here the position it hands over is set), the FPPA previewed, a reason
required, saved; the tool's and the corrected value side by side with who, when and why; the
rep table shows both; undo with a reason; an assistant cannot correct."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.integration.test_review_page import (
    ASSISTANT,
    CLINICIAN,
    DAY,
    button,
    data_dir,  # noqa: F401  (fixture)
    elements_in,
    review_app,
    table_in,
    texts,
)
from tests.records_data import squats, write_clip
from valgus.core.correction import remeasure
from valgus.store.service import Records


def _saved(path: Path, tmp_path: Path) -> int:
    result, series = squats("left", 4.0, 3)
    with Records.open(path) as rec:
        rec.add_person("RUN-091", "female")
        sid = rec.create_session("RUN-091", DAY).id
        saved = rec.save_analysis(sid, write_clip(tmp_path / "c.mp4", n_frames=len(series)),
                                  result, series)
    return saved.id


def _metrics(at: Any, aid: int) -> dict[str, str]:
    return {m.label: m.value for m in elements_in(at, f"rv_fix_{aid}", "metric")}


def test_a_reviewer_moves_the_knee_point_previews_saves_and_undoes(
    data_dir: Path, tmp_path: Path  # noqa: F811
) -> None:
    aid = _saved(data_dir, tmp_path)
    with Records.open(data_dir) as rec:
        scored = rec.scored_points(rec.get_analysis(aid), 2)
        tool = rec.get_analysis(aid).result.reps[1].scored_fppa_deg
    hip, knee, other = scored.points.hip, scored.points.knee, scored.points.other_hip
    target = (knee[0] + (20.0 if other[0] > hip[0] else -20.0), knee[1])
    expected = remeasure(scored.points, {"knee": target})
    at = review_app()
    at.selectbox(key=f"rv_watch_rep_{aid}").set_value(2).run()
    assert not at.exception, at.exception
    assert "Correct a point of rep 2 (left leg)" in texts(at)
    # The picture to click on is there (the component), with the point to move.
    radio = at.radio(key=f"rv_fix_point_{aid}_2")
    assert list(radio.options) == ["hip", "knee", "ankle"]
    radio.set_value("knee").run()
    assert _metrics(at, aid) == {"FPPA measured by the tool": f"{tool:.1f} deg"}
    # A click hands over the position (pose image pixels); the FPPA is measured again.
    at.session_state[f"rv_fix_xy_{aid}_2"] = ("knee", target)
    at.run()
    assert not at.exception, at.exception
    assert _metrics(at, aid)["FPPA with this correction"] == f"{expected:.1f} deg"
    assert "Band: " in texts(at).replace("\\", "") and "unchanged" in texts(at)
    # A reason is required.
    button(at, f"rv_fix_save_{aid}_2").click().run()
    assert "Give the reason for the correction." in texts(at)
    with Records.open(data_dir) as rec:
        assert rec.correction_history(aid) == []
    at.text_input(key=f"rv_fix_reason_{aid}_2").set_value("knee point on the patella").run()
    button(at, f"rv_fix_save_{aid}_2").click().run()
    assert not at.exception, at.exception
    assert (f"Saved: rep 2's knee point corrected, FPPA {expected:.1f} deg (tool {tool:.1f} "
            "deg)") in texts(at)
    with Records.open(data_dir) as rec:
        ((fix, how),) = rec.correction_history(aid)
    assert how is None and fix.by == CLINICIAN and fix.reason == "knee point on the patella"
    # Side by side, with who, when and why; the rep table shows both values.
    metrics = _metrics(at, aid)
    assert metrics["FPPA measured by the tool"] == f"{tool:.1f} deg"
    assert metrics["FPPA from the corrected points"] == f"{expected:.1f} deg"
    assert f"newest by {CLINICIAN} on {fix.at:%Y-%m-%d}" in texts(at).replace("\\", "")
    table = table_in(at, f"rv_clip_{aid}")
    row = table[table["#"] == 2].iloc[0]
    assert row["FPPA (deg)"] == f"{expected:.1f}" and row["tool FPPA (deg)"] == f"{tool:.1f}"
    assert row["point correction"] == fix.text()
    # Undo needs a reason; then the tool's value is back and the record is kept.
    button(at, f"rv_fix_undo_{fix.id}").click().run()
    assert "Not undone: give the reason for undoing the correction" in texts(at)
    at.text_input(key=f"rv_fix_undo_reason_{fix.id}").set_value("wrong rep").run()
    button(at, f"rv_fix_undo_{fix.id}").click().run()
    assert not at.exception, at.exception
    assert "undone (kept on record)" in texts(at)
    table = table_in(at, f"rv_clip_{aid}")
    assert table[table["#"] == 2].iloc[0]["FPPA (deg)"] == f"{tool:.1f}"
    with Records.open(data_dir) as rec:
        ((_, how),) = rec.correction_history(aid)
    assert how is not None and how.endswith(": wrong rep")


def test_an_assistant_sees_the_panel_but_cannot_correct(
    data_dir: Path, tmp_path: Path  # noqa: F811
) -> None:
    aid = _saved(data_dir, tmp_path)
    at = review_app(ASSISTANT)
    at.selectbox(key=f"rv_watch_rep_{aid}").set_value(2).run()
    assert not at.exception, at.exception
    assert "A clinician can correct the hip, knee or ankle point here." in texts(at)
    assert not [r for r in at.radio if str(r.key or "").startswith("rv_fix_point_")]


def test_sign_off_lists_the_corrections_and_then_they_are_read_only(
    data_dir: Path, tmp_path: Path  # noqa: F811
) -> None:
    aid = _saved(data_dir, tmp_path)
    with Records.open(data_dir) as rec:
        scored = rec.scored_points(rec.get_analysis(aid), 2)
        fix = rec.save_correction(aid, 2, "knee", (scored.points.knee[0] + 15.0,
                                                   scored.points.knee[1]),
                                  "knee point on the patella", CLINICIAN)
    at = review_app()
    button(at, "rv_sign_").click().run()
    (shown,) = [str(e.value) for e in elements_in(at, "rv_sign_summary", "text")]
    assert f"Point corrections: 1\n  - c.mp4 (analysis {aid}) rep 2: {fix.text()}" in shown
    button(at, "rv_sign_confirm_").click().run()
    assert not at.exception, at.exception
    at.selectbox(key=f"rv_watch_rep_{aid}").set_value(2).run()
    assert "The session is signed: corrections are closed here" in texts(at)
    assert _metrics(at, aid)["FPPA from the corrected points"] == f"{fix.fppa_deg:.1f} deg"
    assert not [b for b in at.button if str(b.key or "").startswith("rv_fix_")]
