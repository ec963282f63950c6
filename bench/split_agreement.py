"""How far a split into two tracked segments moves the reps from one pass, per overlap length.

``estimate_poses`` with two estimators gives the clip to two trackers: the first tracks from the
start to half an overlap past the boundary, the second from a warm-up before half an overlap
ahead of it to the end, and the clip is handed over inside the overlap where the person stands
and the trackers agree (``runtime.tracking.join_tracks``). This bench emulates that at N
boundaries through the clip (the first one is where ``plan_segments`` puts it), for several
overlap lengths (0 s = the old hand-over at the boundary itself, after the warm-up), and prints
per boundary and overlap:

* whether the reps (leg, complete, band) and verdicts equal one pass's, and the largest
  difference of any rep's scored FPPA from one pass (deg);
* the hand-over: its time and the knee flexion there (one pass, deeper leg; standing ~ < 15
  deg), and the median difference of the two trackers' hip/knee/ankle landmarks after it (px).

Deterministic; one pass plus one tracker per boundary (from the earliest start) over the rest of
the clip.

Usage::

    .venv/bin/python bench/split_agreement.py [VIDEO ...] [--splits 12] [--overlaps 0 2 4 6]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from valgus.config import InputLimits
from valgus.core.kinematics import LEG_JOINTS
from valgus.core.pose import PoseSeries
from valgus.core.result import AnalysisResult
from valgus.landmarks import NUM_LANDMARKS, SIDES
from valgus.pipeline import analyze_series
from valgus.runtime.estimator import MediaPipePoseEstimator, native_logs_silenced
from valgus.runtime.tracking import (
    SEGMENT_OVERLAP_S,
    SEGMENT_WARMUP_S,
    handover_index,
    join_tracks,
    plan_segments,
)
from valgus.runtime.video import iter_frames, probe_video

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "demo_single_leg_squats.mp4"
SIDE_PX = InputLimits().max_side_px


def track(video: Path, start_s: float) -> PoseSeries:
    """One tracker (no people counter) over the clip's frames from ``start_s``."""
    t_s, xy, world, vis = [], [], [], []
    size = (0, 0)
    with MediaPipePoseEstimator(count_people_every_n=0) as est:
        for t, rgb in iter_frames(video, max_side_px=SIDE_PX, start_s=max(0.0, start_s)):
            pose = est.estimate(rgb, t)
            size = (rgb.shape[1], rgb.shape[0])
            t_s.append(t)
            xy.append(pose.xy_px if pose else np.full((NUM_LANDMARKS, 2), np.nan, np.float32))
            world.append(pose.world_m if pose else np.full((NUM_LANDMARKS, 3), np.nan, np.float32))
            vis.append(pose.visibility if pose else np.zeros(NUM_LANDMARKS, np.float32))
    return PoseSeries(t_s=np.asarray(t_s), xy_px=np.stack(xy), world_m=np.stack(world),
                      visibility=np.stack(vis), image_size=size, source=video.name,
                      n_people=np.ones(len(t_s), np.int16))


def reps_of(result: AnalysisResult) -> list[tuple[str, bool, str]]:
    return [(r.leg, r.complete, r.band) for r in result.reps]


def verdicts(result: AnalysisResult) -> dict[str, str]:
    return {s: v.verdict for s, v in result.legs.items()}


def worst_fppa(a: AnalysisResult, b: AnalysisResult) -> float:
    diffs = [abs(x.scored_fppa_deg - y.scored_fppa_deg) for x, y in zip(a.reps, b.reps,
                                                                         strict=True)
             if x.scored_fppa_deg is not None and y.scored_fppa_deg is not None]
    return max(diffs, default=0.0)


def measure(video: Path, splits: int, overlaps: list[float]) -> list[dict[str, float]]:
    """One row per boundary and overlap (see the module docstring)."""
    one = track(video, 0.0)
    ref, ref_kin = analyze_series(one)
    flexion = np.nanmax([ref_kin.leg(s).flexion_deg for s in SIDES], axis=0)
    duration = float(one.t_s[-1] - one.t_s[0]) + float(np.median(np.diff(one.t_s)))
    # Where estimate_poses puts the boundary of two segments (whatever the clip's length).
    first = plan_segments(duration, 2, min_segment_s=0.5)[1].start_s + SEGMENT_OVERLAP_S / 2
    joints = list(LEG_JOINTS)
    span = max(overlaps) / 2 + SEGMENT_WARMUP_S
    others = np.linspace(span + 0.2, duration - max(overlaps) / 2 - 0.5, max(0, splits - 1))
    print(f"{video.name}: {len(one)} frames, {duration:.1f} s, reps "
          + ", ".join(f"{r.leg} {r.band} {r.scored_fppa_deg or float('nan'):.1f}"
                      for r in ref.reps), flush=True)
    rows = []
    for boundary in [first, *others]:
        late = track(video, boundary - span)
        parts = []
        for overlap in overlaps:
            earlier = one.between(0.0, boundary + overlap / 2)
            later = late.between(boundary - overlap / 2)
            k = handover_index(earlier, later)
            joined = join_tracks([earlier, later])
            result = analyze_series(joined)[0]
            t_hand = float(later.t_s[k])
            i = int(np.searchsorted(one.t_s, t_hand))
            after = later.between(t_hand)
            d = np.linalg.norm(after.xy_px[:, joints] - one.xy_px[i:, joints], axis=-1)
            same = reps_of(result) == reps_of(ref) and verdicts(result) == verdicts(ref)
            row = {"boundary_s": boundary, "overlap_s": overlap, "same_reps": float(same),
                   "worst_fppa_deg": worst_fppa(ref, result) if same else float("inf"),
                   "handover_s": t_hand, "handover_flexion_deg": float(flexion[i]),
                   "after_px_median": float(np.nanmedian(d))}
            rows.append(row)
            parts.append(f"{overlap:.0f}s: {'same' if same else 'REPS DIFFER'} "
                         f"{row['worst_fppa_deg']:.2f} deg @ {t_hand:.1f}s "
                         f"flex {row['handover_flexion_deg']:.0f}")
        print(f"  boundary {boundary:5.1f} s | " + " | ".join(parts), flush=True)
    for overlap in overlaps:
        mine = [r for r in rows if r["overlap_s"] == overlap]
        worst = [r["worst_fppa_deg"] for r in mine]
        print(f"  overlap {overlap:.0f} s: reps same at {sum(r['same_reps'] for r in mine):.0f}/"
              f"{len(mine)} boundaries; worst rep FPPA change {max(worst):.2f} deg (median "
              f"{np.median(worst):.2f}, planned boundary {worst[0]:.2f}); hand-over flexion "
              f"max {max(r['handover_flexion_deg'] for r in mine):.0f} deg", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="*", type=Path, default=[SAMPLE])
    parser.add_argument("--splits", type=int, default=12)
    parser.add_argument("--overlaps", type=float, nargs="+", default=[0.0, 2.0, 4.0, 6.0])
    args = parser.parse_args()
    with native_logs_silenced():
        for video in args.video:
            probe_video(video)
            measure(video, args.splits, args.overlaps)


if __name__ == "__main__":
    main()
