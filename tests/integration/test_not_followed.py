"""A rep the person is lost in and found again in is cut by that gap, never by the clip: the
demo's first two reps (tests/bad_inputs.py frames) with the person blanked out mid-rep."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests import bad_inputs
from valgus.pipeline import analyze_video


def person_gone(folder: Path, gone_s: tuple[float, float]) -> Path:
    """The demo's first 7 s with the person replaced by the wall from ``gone_s[0]`` to
    ``gone_s[1]`` (the picture and the clip run on; nobody is in it)."""
    fps = bad_inputs.FPS
    frames = bad_inputs.demo_frames(bad_inputs.TWO_REPS_S)
    wall = bad_inputs.wall_colour()

    def frame(i: int, rgb: np.ndarray) -> np.ndarray:
        if gone_s[0] <= i / fps < gone_s[1]:
            out = np.empty_like(rgb)
            out[:] = wall
            return out
        return rgb

    return bad_inputs.write_video(folder / "person_gone.mp4",
                                  (frame(i, f) for i, f in enumerate(frames)))


def test_a_rep_broken_by_the_person_leaving_is_cut_by_the_gap_not_the_clip(
    tmp_path: Path,
) -> None:
    """Gone 5.0-5.8 s, through the bottom of the right rep (4.8-6.3 s, bottom 5.4 s): its
    descent is cut by losing the person (tracking_lost) and its ascent by finding them again
    (found_mid_rep; was clip_start, though the clip started 5.8 s earlier)."""
    result = analyze_video(person_gone(tmp_path, (5.0, 5.8))).result
    said = [(r.leg, r.start_s, r.end_s, r.not_a_rep, [str(i.code) for i in r.issues])
            for r in result.reps]
    right = [(start, end, codes) for leg, start, end, free, codes in said
             if leg == "right" and not free and start > 4.0]
    assert [codes[0] for _, _, codes in right] == ["tracking_lost", "found_mid_rep"]
    assert right[0][1] <= 5.0 and right[1][0] >= 5.8
    # The first (left) rep is untouched, and no rep says the clip cut it.
    assert any(leg == "left" and not free and not codes and end < 4.0
               for leg, _, end, free, codes in said)
    assert not any({"clip_start", "clip_end"} & set(codes) for *_, codes in said)
