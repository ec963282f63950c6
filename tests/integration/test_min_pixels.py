"""The minimum size of the person in pixels (issue 13: "144p: a rep's scored point and band
change; no minimum size in pixels is checked"): a whole clip downscaled until the person is just
under ``QualityConfig.min_body_height_px`` gets the blocking ``person_too_few_pixels`` with
guidance; just over it, it does not. ``bench/min_pixels.py`` measured where the limit lies."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.clip_making import DEMO_CLIP, SHORT_S, write_video
from valgus.config import QualityConfig
from valgus.core.kinematics import body_height_px
from valgus.pipeline import analyze_video
from valgus.runtime.video import iter_frames

# The demo's person (nose to feet) over its picture's height (497 px of 720, bench/min_pixels.py).
PERSON_FRACTION = 0.69


def downscaled_demo(folder: Path, person_px: float) -> Path:
    """The demo's first seconds (its first rep), the whole 540x720 picture scaled down so that
    the person is ~``person_px`` tall (even sizes; the person's share of the picture kept)."""
    h = 2 * round(person_px / PERSON_FRACTION / 2)
    small = []
    for t_s, rgb in iter_frames(DEMO_CLIP):
        if t_s >= SHORT_S:
            break
        w = 2 * round(h * rgb.shape[1] / rgb.shape[0] / 2)
        small.append(cv2.resize(rgb, (w, h), interpolation=cv2.INTER_AREA))
    return write_video(folder / f"demo_{h}p.mp4", small)


@pytest.mark.parametrize(("factor", "flagged"), [(0.85, True), (1.2, False)])
def test_too_few_pixels_below_the_limit_only(factor: float, flagged: bool,
                                             tmp_path: Path) -> None:
    limit = QualityConfig().min_body_height_px
    done = analyze_video(downscaled_demo(tmp_path, factor * limit))
    measured = float(np.nanmedian(body_height_px(done.series.xy_px.astype(np.float64))))
    # The clip is where it is meant to be, on the side of the limit under test.
    assert (measured < limit) == flagged, measured
    found = {q.code: q for q in done.result.quality}
    if flagged:
        issue = found["person_too_few_pixels"]
        assert issue.blocking
        assert f"at least {limit:.0f} px" in issue.message
        assert "720p" in issue.guidance and "2-4 m" in issue.guidance
        assert not done.result.assessable
        assert {v.verdict for v in done.result.legs.values()} == {"CANNOT ASSESS"}
    else:
        assert "person_too_few_pixels" not in found
    # The person's share of the picture is unchanged: never called too small.
    assert "person_too_small" not in found
