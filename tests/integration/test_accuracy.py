"""The real pipeline (model included) on the committed synthetic clips against their rig truth.

Bounds come from bench/accuracy.py (README "Accuracy"): on the square-on clips every rep and
stance leg was right, and the FPPA error at the deepest frame was -7.7 to -2.2 deg (bias -4.8,
SD 1.5: MediaPipe places the hip medial and the knee lateral of the rig's joint centres). The
bounds below are the worst seen plus one SEM of 2D FPPA (1.3 deg, Munro 2012) on each side, with
the bias and the spread of all square-on reps bounded apart, so a real regression either way
fails while run-to-run noise does not. (No sex is given: the keypoint FPPA, unmapped.)
"""

from __future__ import annotations

import json
import statistics
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from valgus.synth.evaluate import evaluate_clip

SAMPLES = Path(__file__).resolve().parents[2] / "sample_videos"
FRONTAL = ["accuracy/acc_female_yaw0.mp4", "accuracy/acc_male_yaw0.mp4",
           "accuracy/acc_heavy_yaw0.mp4", "accuracy/acc_slim_fast.mp4",
           "accuracy/acc_female_depth65.mp4", "accuracy/acc_female_pelvicdrop8.mp4",
           "demo_single_leg_squats.mp4"]
TURNED_20 = ["accuracy/acc_female_yaw+20.mp4", "accuracy/acc_female_yaw-20.mp4"]
# Per rep, both sides (measured - true, deg): worst seen -7.8, least -2.3 (README "Accuracy");
# one SEM (1.3 deg, Munro 2012) beyond each. A rep reading above the truth was never seen.
FPPA_ERROR_RANGE_DEG = (-9.1, -0.9)
# Over all square-on reps, bias and spread apart (issue 12 item 8): measured bias -5.0, SD 1.5;
# the bias may move by 1.5 deg (run-to-run and model noise), the SD up to 2.5 deg.
FPPA_BIAS_RANGE_DEG = (-6.5, -3.5)
FPPA_MAX_SD_DEG = 2.5
MAX_FLEXION_ERROR_DEG = 13.0  # depth read from the hip-ankle shortening: +6 to +11.5 seen


@cache
def evaluated(name: str) -> dict[str, Any]:
    return evaluate_clip(SAMPLES / name)


@pytest.mark.parametrize("name", FRONTAL + TURNED_20)
def test_every_rep_found_on_the_right_leg(name: str) -> None:
    res = evaluated(name)
    truth = json.loads((SAMPLES / name).with_suffix(".truth.json").read_text())
    assert res["detection_fraction"] > 0.98
    assert res["n_detected_reps"] == len(truth["reps"]), res["reps"]
    for rep in res["reps"]:
        assert rep["found"], rep
        assert rep["leg"] == rep["true_leg"]
        assert rep["complete"]
        assert abs(rep["depth_deg"] - rep["true_flexion_deg"]) <= MAX_FLEXION_ERROR_DEG


@pytest.mark.parametrize("name", FRONTAL)
def test_fppa_at_the_deepest_frame_is_within_the_benchmark_bound(name: str) -> None:
    reps = evaluated(name)["reps"]
    errors = [r["fppa_error_deg"] for r in reps]
    print(f"\n{name}: FPPA errors {[round(e, 1) for e in errors]}")
    assert all(e is not None for e in errors), "a square-on rep was not scored"
    low, high = FPPA_ERROR_RANGE_DEG
    assert all(low <= e <= high for e in errors), errors


def test_fppa_bias_and_spread_over_the_square_on_clips_are_bounded_apart() -> None:
    """A constant shift of every reading (either way) moves the bias out of its range even
    where each rep stays inside the per-rep range; more scatter breaks the SD bound."""
    errors = [r["fppa_error_deg"] for name in FRONTAL for r in evaluated(name)["reps"]]
    assert len(errors) == 20 and all(e is not None for e in errors)
    bias, sd = statistics.fmean(errors), statistics.stdev(errors)
    print(f"\nsquare-on FPPA error: bias {bias:+.2f}, SD {sd:.2f} deg over {len(errors)} reps")
    assert FPPA_BIAS_RANGE_DEG[0] <= bias <= FPPA_BIAS_RANGE_DEG[1]
    assert sd <= FPPA_MAX_SD_DEG


@pytest.mark.parametrize("name", TURNED_20)
def test_camera_turned_20_deg_is_flagged_not_scored(name: str) -> None:
    for rep in evaluated(name)["reps"]:
        assert rep["band"] == "not_measurable"
        assert rep["fppa_bottom_deg"] is None
