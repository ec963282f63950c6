"""One clip, the three ways valgus analyses it, one verdict (issue 12 item 7).

The bundled demo clip (``sample_videos/demo_single_leg_squats.mp4``: rendered, three reps per leg,
the left knee built at 2 deg of valgus, the right at 18 deg) through:

- the upload (``app.clip_report.build_report``, as the app and a kept self-test clip run it);
- the live page (``live.processor.LiveProcessor``: its own pose model frame by frame, feeding
  ``live.session.LiveSession``, the legs judged by ``scoring.all_leg_verdicts`` on its reps);
- ``pipeline.analyze_video(..., threads=2)`` (``valgus analyze --threads 2``).

The right knee's reps read within the measurement error of the 11.3 deg threshold on every
path (13.2-14.8 deg were seen): its verdict must be the same on all three and never PASS, and a
session of 21 such reps per leg is never CLEARED. The readings are bounded on both sides
against the clip's truth, so that a shift of 10 deg either way fails here. Real pose model:
about a minute per path on these machines.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
from pathlib import Path

import pytest

from valgus.config import AnalysisConfig, ClearanceConfig, Sex
from valgus.core.clearance import ClearanceInputs, decide, squat_results
from valgus.core.pose import PoseSeries
from valgus.core.result import AnalysisResult
from valgus.core.scoring import LegVerdict, RepScore, all_leg_verdicts
from valgus.landmarks import SIDES, Side

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "sample_videos" / "demo_single_leg_squats.mp4"
TRUTH = SAMPLE.with_suffix(".truth.json")
# The setting: 3 reps per leg needed, so that the demo's 3 reps per leg can pass.
CFG = AnalysisConfig(clearance=ClearanceConfig(required_reps=3))
# Leg mean of the scored FPPA minus the rig's joint-centre FPPA at the bottom (deg), for the
# keypoint definition (``ValgusThresholds.definition``, no sex given). Measured: left -5.4
# to -6.3, right -4.0 to -4.8 (README "Accuracy": bias -4.8, worst single rep -7.7 on the
# square-on rendered set). A mapping to another definition moves these: re-measure then.
BIAS_BOUNDS_DEG = {"keypoint": (-8.0, 2.0)}
# The legs' means on the three paths agree within this (deg): the pose model's own path-to-path
# spread (README "Speed": up to ~0.9 deg per rep; 13.2-14.8 seen live), well inside the 3.35
# deg measurement error, so the verdict cannot depend on the path.
PATH_SPREAD_DEG = 2.0
GOOD = ClearanceInputs(
    squat_pain_left=0, squat_pain_right=0, stair_descent_pain=False, run_minutes=25,
    run_pain_during=0, run_pain_next_morning=0, strength_left=95.0, strength_right=100.0,
    involved_side="left",
)


def _live_reps(clip_dir: Path) -> tuple[RepScore, ...]:
    from valgus.live.processor import LiveProcessor
    from valgus.runtime.estimator import MediaPipePoseEstimator
    from valgus.runtime.video import iter_frames

    processor = LiveProcessor(MediaPipePoseEstimator, clip_dir, CFG, draw=False,
                              require_setup=False)
    for t_s, rgb in iter_frames(SAMPLE):
        processor.process(rgb, t_s)
    outcome = processor.stop()
    assert outcome.error is None, outcome.error
    return outcome.reps


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[RepScore, ...]]:
    """The demo clip's reps on each path."""
    if not SAMPLE.is_file():
        pytest.fail(f"bundled sample clip missing: {SAMPLE}")
    from valgus.app.clip_report import build_report
    from valgus.pipeline import analyze_video

    tmp = tmp_path_factory.mktemp("paths")
    upload = build_report(SAMPLE, CFG, tmp / "upload")
    _UPLOAD_SERIES.append(upload.series)
    threads = analyze_video(SAMPLE, CFG, threads=2).result
    return {"upload": upload.result.reps, "live": _live_reps(tmp / "live"),
            "threads=2": threads.reps}


_UPLOAD_SERIES: list[PoseSeries] = []  # the upload path's poses, kept by ``paths``


@pytest.mark.parametrize("sex", ["female", "male"])
def test_with_the_sex_given_the_18_deg_knee_is_still_never_a_pass(
    paths: dict[str, tuple[RepScore, ...]], sex: Sex
) -> None:
    """Sex given: the reps are mapped to the skin-marker definition the women's and men's
    thresholds were set on (issue 12). The demo's reps lie inside the map's fitted range; the
    right knee (18 deg at the joint centres) is clearly excessive against both thresholds, the
    left (2 deg) reads 6.1-6.6 deg: PASS against the women's 12 deg, within the error of the
    men's 9. Each rep keeps its keypoint value and the ratio the map used. On the keypoint
    definition the right knee is still never PASS."""
    from valgus.pipeline import analyze_series

    cfg = dataclasses.replace(CFG, sex=sex)
    v = cfg.valgus
    mapped, _ = analyze_series(_UPLOAD_SERIES[0], cfg)
    legs = all_leg_verdicts(mapped.reps, cfg)
    assert legs["right"].verdict == "NOT YET", legs["right"]
    assert legs["left"].verdict == {"female": "PASS", "male": "UNCERTAIN"}[sex], legs["left"]
    counted = [r for r in mapped.reps if r.counts_towards_test]
    assert len(counted) == 6
    for r in counted:
        assert r.fppa_keypoint_deg is not None and r.hip_width_ratio is not None
        assert r.scored_fppa_deg == pytest.approx(
            v.thigh_marker_offset_deg + v.thigh_marker_slope * r.fppa_keypoint_deg
            + v.thigh_marker_ratio_deg * r.hip_width_ratio)
    keypoint = dataclasses.replace(cfg, valgus=dataclasses.replace(
        v, female_definition="keypoint", male_definition="keypoint"))
    result, _ = analyze_series(_UPLOAD_SERIES[0], keypoint)
    unmapped = all_leg_verdicts(result.reps, keypoint)
    assert unmapped["right"].verdict in ("UNCERTAIN", "NOT YET"), unmapped["right"]
    assert unmapped["left"].verdict == "PASS", unmapped["left"]
    assert result.to_dict()["thresholds"]["fppa_definition"] == "keypoint"
    assert mapped.to_dict()["thresholds"]["fppa_definition"] == "thigh_marker"


def _legs(reps: tuple[RepScore, ...]) -> dict[Side, LegVerdict]:
    return all_leg_verdicts(reps, CFG)


def _truth_deg() -> dict[Side, float]:
    reps = json.loads(TRUTH.read_text())["reps"]
    return {s: statistics.fmean(r["fppa_at_bottom_deg"] for r in reps if r["stance"] == s)
            for s in SIDES}


def test_every_path_finds_the_six_reps_on_the_right_legs(
    paths: dict[str, tuple[RepScore, ...]],
) -> None:
    expected = [r["stance"] for r in json.loads(TRUTH.read_text())["reps"]]
    for name, reps in paths.items():
        assert [r.leg for r in reps if r.counts_towards_test] == expected, name


def test_one_verdict_on_all_three_paths_and_the_18_deg_knee_never_passes(
    paths: dict[str, tuple[RepScore, ...]],
) -> None:
    verdicts = {name: {s: v.verdict for s, v in _legs(reps).items()}
                for name, reps in paths.items()}
    assert len({tuple(v.items()) for v in verdicts.values()}) == 1, verdicts
    for name, legs in verdicts.items():
        assert legs["right"] in ("UNCERTAIN", "NOT YET"), (name, legs)
        assert legs["left"] == "PASS", (name, legs)


def test_readings_bounded_on_both_sides_and_close_across_paths(
    paths: dict[str, tuple[RepScore, ...]],
) -> None:
    definition = CFG.valgus.definition(CFG.sex)
    if definition not in BIAS_BOUNDS_DEG:
        pytest.fail(f"no measured bias bounds for the {definition!r} FPPA definition")
    low, high = BIAS_BOUNDS_DEG[definition]
    truth = _truth_deg()
    means: dict[Side, list[float]] = {s: [] for s in SIDES}
    for name, reps in paths.items():
        for side, leg in _legs(reps).items():
            assert leg.mean_fppa_deg is not None and leg.measured_reps == 3, (name, side)
            bias = leg.mean_fppa_deg - truth[side]
            assert low <= bias <= high, (name, side, leg.mean_fppa_deg, truth[side])
            means[side].append(leg.mean_fppa_deg)
    for side, values in means.items():
        assert max(values) - min(values) <= PATH_SPREAD_DEG, (side, values)


def test_twenty_one_such_reps_per_leg_are_never_cleared(
    paths: dict[str, tuple[RepScore, ...]],
) -> None:
    """Each path's reps repeated to 21 per leg (7 x 3), through the clearance decision."""
    from valgus.core.checks import ViewAssessment

    for name, reps in paths.items():
        counted = [r for r in reps if r.counts_towards_test]
        result = AnalysisResult(
            source=name, duration_s=120.0, n_frames=3600, detection_fraction=1.0,
            view=ViewAssessment(True, 0.0, 1.0, ()), quality=(), exercise="single_leg",
            reps=tuple(counted * 7), legs={}, symmetry=None, config=AnalysisConfig(),
        )
        squat, _ = squat_results({1: result})
        assert squat["right"].valid_reps == 21 and squat["right"].verdict != "PASS", name
        decision = decide(squat, GOOD)
        assert decision.status == "NOT YET", name
        assert any(r.startswith(f"right leg squat: {squat['right'].verdict}")
                   for r in decision.criteria[0].reasons), name
