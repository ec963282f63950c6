"""The field cases of issue 13 (../shared/cases, see its README): each clip of ordinary footage
valgus got wrong, with the README's right behaviour as the assertion, against its control.
Skipped where ../shared is absent (a fresh clone); each run uses the real pose model."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from valgus.pipeline import analyze_video

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT.parent / "shared" / "cases"
DEMO = ROOT / "sample_videos" / "demo_single_leg_squats.mp4"


def case(name: str) -> Path:
    path = CASES / name
    if not path.is_file():
        pytest.skip(f"field case {name} not available ({CASES} is absent in a fresh clone)")
    return path


def reps(path: Path) -> tuple[list[tuple[str, str]], list[str], float, Any]:
    """(leg, band) of the complete reps, the quality codes, the wall time (s), the result."""
    start = time.monotonic()
    result = analyze_video(path).result
    seconds = time.monotonic() - start
    legs = [(r.leg, r.band) for r in result.reps if r.complete and not r.not_a_rep]
    return legs, [q.code for q in result.quality], seconds, result


def test_letterbox_in_portrait_reads_as_its_control() -> None:
    boxed, boxed_codes, _, result = reps(case("letterbox_in_portrait.mp4"))
    control, control_codes, _, _ = reps(case("base_hyva7.mp4"))
    # LEFT borderline in both since issue 16 (scored at the bottom, not at 60 deg).
    assert boxed == control == [("right", "fine"), ("left", "borderline")]
    assert boxed_codes == [*control_codes, "picture_cropped"]
    assert result.quality[-1].values["height_px"] < 0.4 * 1280  # the picture between the bars


def test_frame_size_change_midstream_is_fitted_not_stretched() -> None:
    changed, codes, _, _ = reps(case("demo_res_change_midstream.ts"))
    control, _, _, _ = reps(DEMO)
    assert [leg for leg, _ in changed] == [leg for leg, _ in control]
    assert "excessive" not in {band for _, band in changed}
    assert codes == []


def test_240_fps_gives_the_control_result_about_as_fast() -> None:
    fast, fast_codes, fast_s, _ = reps(case("hfr240_dup.mp4"))
    control, control_codes, control_s, _ = reps(case("hfr_control_25.mp4"))
    assert fast == control and fast_codes == control_codes
    assert fast_s < 3.0 * control_s  # was 7x: 30 fps analysed against 25


def test_bystander_is_never_measured_and_the_switch_is_said() -> None:
    """The person walks out at 7.2 s and is back at 13.4 s; a person half their size keeps
    squatting further back. Was: the tracker stayed on the bystander, no message."""
    _, codes, _, result = reps(case("demo_bystander_subject_leaves.mp4"))
    assert {"several_people", "person_switch"} <= set(codes)
    switch = next(q for q in result.quality if q.code == "person_switch")
    assert 5.0 < switch.values["seconds"] < 7.0 and 7.0 < switch.values["first_s"] < 7.5
    # Every rep is the person's own: before they leave or after they are back.
    assert all(r.end_s < 7.3 or r.start_s > 13.3 for r in result.reps)
    # ...and the person is found again: their left rep after coming back is listed. (It is
    # not measured, knee_hidden, and rightly: the composite keyed out the floor colour, which
    # erased the person's shins below the floor line; the segmentation sees no leg there.)
    assert any(r.start_s > 13.3 and r.complete for r in result.reps)
    # A rep under way when the person is found again was cut by the gap in following them,
    # not by the clip (was: "clip_start", "rep already under way when the clip starts"); the
    # bend under way when they walk out is cut by that gap too. Only reps really cut by the
    # clip's start or end say so.
    said = [(r.start_s, r.end_s, {str(i.code) for i in r.issues}) for r in result.reps]
    assert any(start > 13.3 and "found_mid_rep" in c for start, _, c in said)
    assert any(7.0 < end < 7.3 and "tracking_lost" in c for _, end, c in said)
    assert all(r.start_s < 1.0 for r in result.reps
               if any(i.code == "clip_start" for i in r.issues))
    assert all(r.end_s > result.duration_s - 0.5 for r in result.reps
               if any(i.code == "clip_end" for i in r.issues))


def test_a_hidden_knee_is_not_measured() -> None:
    """A box hides the right knee (was: scored +5.3 deg from invented landmarks, no issue)."""
    _, _, _, result = reps(case("occluded_one_knee.mp4"))
    right = [r for r in result.reps if r.leg == "right" and r.complete and not r.not_a_rep]
    assert right and all(
        not r.valid and [i.code for i in r.issues] == ["knee_hidden"] for r in right)
    _, _, _, control = reps(case("base_hyva7.mp4"))
    assert all("knee_hidden" not in [i.code for i in r.issues] for r in control.reps)


def test_visible_knees_are_never_called_hidden() -> None:
    """Problem (a) of the hidden-joint check: a false knee_hidden would leave good reps
    unscored. On the real clip whose legs read lowest (hyva3, 0.92) and on the rendered demo
    (the female body's right leg, 0.81) no stance leg comes near ``min_leg_seen`` in any rep,
    nor its picture near standing still while it moves (``leg_still``: hyva3's left rep, the
    lowest of every clip at hand, reads 0.26 against ``max_leg_still_ratio`` 0.15)."""
    import numpy as np

    from valgus.config import QualityConfig
    from valgus.landmarks import SIDES

    videos = ROOT.parent / "shared" / "videos"
    clips = [DEMO, videos / "tuxotiikeri__squatdetection__hyva3.mp4"]
    if not clips[1].is_file():
        pytest.skip(f"real clips not available ({videos} is absent in a fresh clone)")
    floor, still_ceiling = QualityConfig().min_leg_seen, QualityConfig().max_leg_still_ratio
    for clip in clips:
        done = analyze_video(clip)
        t, seen, still = done.series.t_s, done.series.leg_seen, done.series.leg_still
        reps = [r for r in done.result.reps if not r.not_a_rep]
        assert reps
        # ...and a frontal clip is never taken for a view from behind (issue 13 item 6).
        assert "filmed_from_behind" not in [q.code for q in done.result.quality]
        for r in reps:
            assert "knee_hidden" not in [i.code for i in r.issues]
            during = (t >= r.start_s) & (t <= r.end_s)
            assert np.nanmin(seen[during, SIDES.index(r.leg)]) > floor + 0.1
            moved = still[during, SIDES.index(r.leg)]
            assert np.isfinite(moved).any()
            assert np.nanmin(moved) > still_ceiling + 0.08, (clip.name, r.leg, r.bottom_s)
