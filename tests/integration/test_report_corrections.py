"""The session report of a rep whose knee point a reviewer corrected (issue 15 item 2): the
per-rep table shows the corrected FPPA and the tool's, who corrected which point, when and
why; the rep's picture shows the corrected points and the original faintly; the PDF is
rendered for real and read back with pdftotext / pdftoppm (poppler-utils)."""

from __future__ import annotations

import base64
import dataclasses
import io
import re
import shutil
from datetime import date
from pathlib import Path

import numpy as np
from PIL import Image

from tests.integration.test_report import ARTIFACTS, GOOD, pdf_pages_png, pdf_text
from tests.records_data import squats, write_clip
from valgus.report import build_session_report
from valgus.report.frames import bottom_frames
from valgus.store.service import Records


def _picture(uri: str) -> np.ndarray:
    raw = base64.b64decode(uri.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(raw)).convert("RGB")).astype(int)


def test_report_shows_both_values_and_the_corrected_points(tmp_path: Path) -> None:
    n_frames = squats("left", 5.0)[0].n_frames
    with Records.open(tmp_path / "data") as rec:
        rec.ensure_person("RUN-7", "female")
        sid = rec.create_session("RUN-7", date(2025, 5, 6)).id
        for k, leg in enumerate(("left", "right")):
            result, series = squats(leg, 5.0)  # type: ignore[arg-type]
            clip = write_clip(tmp_path / f"{leg}.mp4", n_frames=n_frames, seed=k)
            rec.save_analysis(sid, clip, result, series, original_name=f"{leg}.mp4")
        a = rec.list_analyses(sid)[0]
        scored = rec.scored_points(a, 3)
        hip, knee, other = scored.points.hip, scored.points.knee, scored.points.other_hip
        step = 12.0 if other[0] > hip[0] else -12.0
        fix = rec.save_correction(a.id, 3, "knee", (knee[0] + step, knee[1]),
                                  "knee marker on the patella", "Dr Vega")
        rec.save_clearance(sid, GOOD, "Dr Vega")
        rec.sign_clearance(sid, "Dr Vega")
        report = build_session_report(rec, sid)
        rep = next(r for r in report.summary.reps if r.analysis_id == a.id and r.index == 3)
        assert rep.correction == fix
        pictures, _ = bottom_frames(a, [rep])
        plain, _ = bottom_frames(a, [dataclasses.replace(rep, correction=None)])
    expected = (f"FPPA {fix.fppa_deg:.1f} deg (tool {fix.tool_fppa_deg:.1f} deg, knee point "
                f"corrected by Dr Vega on {fix.at:%Y-%m-%d}: knee marker on the patella)")
    assert expected in report.html
    pdf = tmp_path / "corrected.pdf"
    pdf.write_bytes(report.pdf())
    flat = pdf_text(pdf, layout=False)
    assert expected in flat
    # The picture's caption (wrapped in its grid cell, so read in two parts).
    assert f"rep 3: {fix.fppa_deg:.1f} deg (tool" in flat
    assert f"{fix.tool_fppa_deg:.1f})," in flat and "points corrected" in flat
    assert "the tool's points are shown faint" in flat
    # The picture: the corrected one differs from the tool's drawing, and only around the
    # stance leg (the trunk, the head and the other leg are drawn the same).
    drawn, before = _picture(pictures[0].data_uri), _picture(plain[0].data_uri)
    changed = np.abs(drawn - before).sum(axis=-1) > 60
    assert changed.sum() > 30
    ys, _ = np.nonzero(changed)
    assert ys.min() > drawn.shape[0] * 0.25  # nothing changed in the top quarter (head)
    pages = pdf_pages_png(pdf, tmp_path / "page")
    assert len(pages) >= 2
    ARTIFACTS.mkdir(parents=True, exist_ok=True)  # for a person to look at (git-ignored)
    shutil.copy(pdf, ARTIFACTS / "corrected.pdf")
    Image.fromarray(drawn.astype(np.uint8)).save(ARTIFACTS / "corrected_rep.png")


def test_free_leg_bends_are_listed_not_pictured(tmp_path: Path) -> None:
    """A knee bend that was not a rep of its leg (the free leg's bend) is in the per-rep table but
    not among the pictures of scored frames, and the report says so (issue 16: it has no scored
    frame; picturing it as "rep 1: - deg" read as a failed rep)."""
    from valgus.core.reasons import RepIssue, RepIssueCode

    n_frames = squats("left", 5.0)[0].n_frames
    with Records.open(tmp_path / "data") as rec:
        rec.ensure_person("RUN-8", "female")
        sid = rec.create_session("RUN-8", date(2025, 5, 6)).id
        result, series = squats("left", 5.0)
        bend = dataclasses.replace(
            result.reps[0], band="not_measurable",
            issues=(RepIssue(RepIssueCode.FREE_LEG_PHASE),),
            fppa_bottom_deg=None, fppa_ref_deg=None,
        )
        result = dataclasses.replace(result, reps=(bend, *result.reps[1:]))
        clip = write_clip(tmp_path / "left.mp4", n_frames=n_frames, seed=1)
        rec.save_analysis(sid, clip, result, series, original_name="left.mp4")
        report = build_session_report(rec, sid)
        n_reps = len(result.reps)
        pdf = tmp_path / "bends.pdf"
        pdf.write_bytes(report.pdf())
    flat = " ".join(pdf_text(pdf, layout=False).split())
    assert f"All {n_reps - 1} reps are shown" in flat
    assert "the 1 knee bend that was not a rep of its leg" in flat
    assert "not pictured" in flat
    # One caption per picture ("rep 2: 11.9 deg, ..."), none for the bend (rep 1).
    captions = re.findall(r"rep (\d+): ", flat)
    assert len(captions) == n_reps - 1 and "1" not in captions
