"""Accuracy of two readings of a rep's FPPA "at the bottom" against the synthetic truth.

``bottom`` is the FPPA at the single deepest frame (what valgus scored before issue 16);
``plateau5`` is the median FPPA over the rep's frames whose knee flexion is within 5 deg of its
deepest (close to what valgus scores since issue 16, ``RepScore.fppa_bottom_deg``), which moves
less when the tracker's path changes (see ``bench/split_agreement.py``). For every rep of the
clips in sample_videos/accuracy/ and the demo clip that valgus scores at the bottom, both are
compared with the truth at the true deepest frame, and the truth's own plateau median with that
truth (what the plateau reading costs by definition).

Usage::

    .venv/bin/python bench/bottom_reading_accuracy.py     # ~3 min on 2 cores
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from valgus.pipeline import analyze_series
from valgus.runtime.estimator import MediaPipePoseEstimator, native_logs_silenced
from valgus.runtime.tracking import estimate_poses
from valgus.synth.evaluate import truth_path

ROOT = Path(__file__).resolve().parents[1]
CLIPS = [
    *sorted((ROOT / "sample_videos" / "accuracy").glob("*.mp4")),
    ROOT / "sample_videos" / "demo_single_leg_squats.mp4",
]
PLATEAU_DEG = 5.0
MATCH_S = 1.0


def plateau_median(flexion_deg: np.ndarray, fppa_deg: np.ndarray) -> float:
    near = (flexion_deg >= np.nanmax(flexion_deg) - PLATEAU_DEG) & np.isfinite(fppa_deg)
    return float(np.median(fppa_deg[near]))


def main() -> None:
    # Per rep: true FPPA at the true bottom, measured at the deepest frame, measured plateau
    # median, true plateau median.
    rows: list[tuple[float, float, float, float]] = []
    with native_logs_silenced():
        for clip in CLIPS:
            truth = json.loads(truth_path(clip).read_text())
            result, kin = analyze_series(estimate_poses(clip, MediaPipePoseEstimator()))
            frames = truth["frames"]
            for rep in truth["reps"]:
                found = [r for r in result.reps  # not the free knee's listed bend
                         if not r.not_a_rep and abs(r.bottom_s - rep["bottom_s"]) <= MATCH_S]
                if not found:
                    continue
                d = min(found, key=lambda r: abs(r.bottom_s - rep["bottom_s"]))
                if d.scored_at != "bottom" or d.fppa_bottom_deg is None:
                    continue
                leg = kin.leg(d.leg)
                deepest = float(leg.fppa_deg[d.bottom_index])
                i0 = int(np.searchsorted(kin.t_s, d.start_s))
                i1 = int(np.searchsorted(kin.t_s, d.end_s))
                side, a, b = rep["stance"], rep["squat_start_frame"], rep["squat_end_frame"]
                rows.append((
                    rep["fppa_at_bottom_deg"],
                    deepest,
                    plateau_median(leg.flexion_deg[i0 : i1 + 1], leg.fppa_deg[i0 : i1 + 1]),
                    plateau_median(np.asarray(frames["flexion_deg"][side][a : b + 1], float),
                                   np.asarray(frames["fppa_deg"][side][a : b + 1], float)),
                ))
            print(f"{clip.name}: done", flush=True)
    r = np.asarray(rows)
    for name, error in (
        ("bottom   - true bottom", r[:, 1] - r[:, 0]),
        ("plateau5 - true bottom", r[:, 2] - r[:, 0]),
        ("plateau5 - true plateau5", r[:, 2] - r[:, 3]),
        ("true plateau5 - true bottom", r[:, 3] - r[:, 0]),
    ):
        print(f"{name:28}: {len(error)} reps, MAE {np.mean(np.abs(error)):.2f} deg, bias "
              f"{np.mean(error):+.2f}, SD {np.std(error):.2f}, max {np.max(np.abs(error)):.2f}")


if __name__ == "__main__":
    main()
