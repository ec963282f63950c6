"""Hidden joints on the live page (issue 13): an object in front of one knee is seen live as it
is offline, by the same static-occluder meter (``runtime.occluder``) fed every analysed frame,
and not only through the person's segmentation (which counts a box in front of one knee as
body)."""

from __future__ import annotations

from pathlib import Path

from tests.bad_inputs import box_over_knee
from valgus.core.scoring import RepScore
from valgus.live.processor import LiveProcessor
from valgus.pipeline import analyze_video
from valgus.runtime.estimator import MediaPipePoseEstimator
from valgus.runtime.video import iter_frames


def stance_reps(reps: tuple[RepScore, ...], leg: str) -> list[tuple[str, list[str]]]:
    """(band, issue codes) of the leg's reps, its free-leg cycles left out."""
    return [(r.band, [i.code for i in r.issues]) for r in reps
            if r.leg == leg and not r.not_a_rep]


def test_a_box_over_one_knee_is_knee_hidden_live_as_offline(tmp_path: Path) -> None:
    clip = box_over_knee(tmp_path)  # the demo's first two reps, a box over the left knee
    offline = analyze_video(clip).result.reps
    assert stance_reps(offline, "left") == [("not_measurable", ["knee_hidden"])]
    processor = LiveProcessor(MediaPipePoseEstimator, tmp_path / "selftests", draw=False,
                              require_setup=False)
    for t_s, rgb in iter_frames(clip):
        processor.process(rgb, t_s)
    outcome = processor.stop()
    assert outcome.error is None
    # Without the meter the live page scored this rep from the knee guessed behind the box.
    assert stance_reps(outcome.reps, "left") == [("not_measurable", ["knee_hidden"])]
    assert "knee_hidden" not in [c for _, codes in stance_reps(outcome.reps, "right")
                                 for c in codes]
