"""Reps cut by a gap in following the person (no pose, out of the picture, someone else set
aside) are told apart from reps cut by the clip's own start and end (``core.cycles``)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.synthetic import RepInputs, evenly_spaced_reps, rep_inputs, squat_curve, time_base
from valgus.config import RepConfig, StanceConfig
from valgus.core.reasons import RepIssueCode, cycle_label, describe, incomplete_issue
from valgus.core.reps import RepCandidate, detect_reps
from valgus.landmarks import SIDES

FPS = 30.0
# Three 3 s reps with 1 s of standing between: 1-4 s, 5-8 s (bottom 6.5 s), 9-12 s.
TRUTH = evenly_spaced_reps(3, 1.0, 3.0, 1.0, 80.0)


def run(inp: RepInputs) -> list[RepCandidate]:
    return detect_reps(
        inp.t_s, inp.flexion_deg, inp.foot_xy_px, inp.hip_y_px, RepConfig(), StanceConfig(),
        max_gap_s=0.5,
    )


def unseen(inp: RepInputs, mask: np.ndarray) -> RepInputs:
    """The person not followed in ``mask``'s frames: no joint of theirs is known there."""
    for side in SIDES:
        inp.flexion_deg[side][mask] = np.nan
        inp.foot_xy_px[side][mask] = np.nan
    inp.hip_y_px[mask] = np.nan
    return inp


def squats(duration_s: float) -> tuple[np.ndarray, RepInputs]:
    t = time_base(duration_s, FPS)
    return t, rep_inputs(t, squat_curve(t, TRUTH, 20.0), "left")


def cut(reps: list[RepCandidate]) -> list[str]:
    return [r.cycle.incomplete for r in reps]


def test_a_short_unseen_start_is_still_the_clip_start() -> None:
    """The clip opens during a rep's ascent and the first 0.3 s have no pose (within the gap
    the detector bridges): that rep is cut by the clip's start."""
    t = time_base(9.0, FPS)
    truth = [*evenly_spaced_reps(1, -1.5, 3.0, 1.0, 80.0), *TRUTH[1:2]]
    inp = unseen(rep_inputs(t, squat_curve(t, truth, 20.0), "left"), t < 0.3)
    assert cut(run(inp)) == ["clip_start", ""]


@pytest.mark.parametrize(
    "back_s",
    [
        5.5,  # 15 deg into the descent (the first cycle held back against the settled level)
        6.2,  # near the bottom, still going down
        6.9,  # after the bottom: flexion falling first
    ],
)
def test_a_rep_under_way_when_the_person_is_found_again_is_not_cut_by_the_clip(
    back_s: float,
) -> None:
    """The person is not followed from 4.5 s (standing) until part-way through the second rep;
    the clip started long before, so that rep was cut by the gap, not by the clip's start."""
    t, inp = squats(13.0)
    reps = run(unseen(inp, (t > 4.5) & (t < back_s)))
    assert cut(reps) == ["", "found_mid_rep", ""]
    assert t[reps[1].cycle.start_i] >= back_s
    assert all(r.leg == "left" for r in reps)


def test_a_person_first_found_seconds_into_the_clip_is_found_mid_rep() -> None:
    """No pose for the first 2 s (the person walks in), then they are seen mid-rep."""
    t = time_base(9.0, FPS)
    truth = evenly_spaced_reps(2, 0.5, 3.0, 1.0, 80.0)  # 0.5-3.5 s (bottom 2 s), 4.5-7.5 s
    inp = unseen(rep_inputs(t, squat_curve(t, truth, 20.0), "left"), t < 2.3)
    assert cut(run(inp)) == ["found_mid_rep", ""]


def test_a_rep_the_person_is_lost_in_is_not_cut_by_the_clip_end() -> None:
    """The person leaves at 10.2 s, mid-descent of the third rep, and is never seen again
    though the clip runs on: that rep is cut by the gap (tracking_lost), not by the clip's
    end; a rep still going when the clip really ends stays clip_end."""
    t, inp = squats(13.0)
    assert cut(run(unseen(inp, t > 10.2))) == ["", "", "tracking_lost"]
    t, inp = squats(10.2)
    assert cut(run(inp)) == ["", "", "clip_end"]


def test_a_gap_across_a_bottom_cuts_the_rep_on_both_sides_of_it() -> None:
    """Not followed from 6.0 to 7.2 s, across the second rep's bottom: the part before the gap
    is tracking_lost, the part after is found_mid_rep; neither is a clip cut."""
    t, inp = squats(13.0)
    reps = run(unseen(inp, (t > 6.0) & (t < 7.2)))
    assert cut(reps) == ["", "tracking_lost", "found_mid_rep", ""]


def test_gap_cuts_are_worded_as_not_followed_never_as_the_clip() -> None:
    for why, words, label in (
        ("found_mid_rep", "not followed from the start of this rep", "not followed from its start"),
        ("tracking_lost", "not followed to the end of this rep", "not followed to its end"),
    ):
        issue = incomplete_issue(why)
        assert issue.code == RepIssueCode(why)
        assert words in describe(issue) and "clip" not in describe(issue)
        assert "someone else in view" in describe(issue)
        assert cycle_label(issue.code) == label
    assert incomplete_issue("clip_start").code is RepIssueCode.CLIP_START
