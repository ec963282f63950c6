"""How far a split (``--threads 2``) moves the reps' FPPA from one pass, per way of reading
"the FPPA at the bottom" of a rep.

Splits are emulated at N points through the clip: frames before the point come from one pass,
frames from the point on from a pass whose tracker started 1 s (the warm-up) earlier; that is
what ``estimate_poses`` with two estimators does at its one split point. Each variant is then
analysed like a clip, and per split the largest difference of any rep's FPPA from the single
pass is printed for:

* ``scored``: the value scored today, FPPA at the deepest frame (or, for squats too deep to
  measure there, at 60 deg of flexion on the way down);
and, for reps scored at the deepest frame only:

* ``plateauD``: median FPPA over the rep's frames with knee flexion within D deg of its deepest;
* ``winH``: mean FPPA over the deepest frame +/- H frames.

Usage::

    .venv/bin/python bench/split_agreement.py [VIDEO] [--splits 12]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from valgus.core.kinematics import Kinematics
from valgus.core.pose import PoseSeries
from valgus.core.result import AnalysisResult
from valgus.landmarks import NUM_LANDMARKS
from valgus.pipeline import analyze_series
from valgus.runtime.estimator import MediaPipePoseEstimator, native_logs_silenced
from valgus.runtime.video import iter_frames

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "demo_single_leg_squats.mp4"
Track = tuple[np.ndarray, np.ndarray, np.ndarray]


def track_from(frames: list[tuple[float, np.ndarray]], start: int) -> Track:
    """One tracker over ``frames[start:]`` (earlier frames: no pose)."""
    n = len(frames)
    xy = np.full((n, NUM_LANDMARKS, 2), np.nan, np.float32)
    world = np.full((n, NUM_LANDMARKS, 3), np.nan, np.float32)
    vis = np.zeros((n, NUM_LANDMARKS), np.float32)
    with MediaPipePoseEstimator(count_people_every_n=0) as est:
        for i in range(start, n):
            t_s, rgb = frames[i]
            pose = est.estimate(rgb, t_s)
            if pose is not None:
                xy[i], world[i], vis[i] = pose.xy_px, pose.world_m, pose.visibility
    return xy, world, vis


def bottom_readings(result: AnalysisResult, kin: Kinematics) -> list[dict[str, float] | None]:
    out: list[dict[str, float] | None] = []
    for rep in result.reps:
        if rep.scored_fppa_deg is None:
            out.append(None)
            continue
        if rep.scored_at != "bottom":  # deep squat, scored at 60 deg of flexion on the way down
            out.append({"scored": rep.scored_fppa_deg})
            continue
        leg, b = kin.leg(rep.leg), rep.bottom_index
        i0 = int(np.searchsorted(kin.t_s, rep.start_s))
        i1 = int(np.searchsorted(kin.t_s, rep.end_s))
        flexion, fppa = leg.flexion_deg[i0 : i1 + 1], leg.fppa_deg[i0 : i1 + 1]
        deepest = np.nanmax(flexion)
        reading = {"scored": rep.fppa_bottom_deg}
        for band_deg in (2.0, 5.0):
            near = (flexion >= deepest - band_deg) & np.isfinite(fppa)
            reading[f"plateau{band_deg:.0f}"] = float(np.median(fppa[near]))
        for half in (2, 5):
            reading[f"win{half}"] = float(np.nanmean(leg.fppa_deg[max(0, b - half) : b + half + 1]))
        out.append(reading)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", type=Path, default=SAMPLE)
    parser.add_argument("--splits", type=int, default=12)
    args = parser.parse_args()
    with native_logs_silenced():
        frames = list(iter_frames(args.video, max_side_px=1280))
        n = len(frames)
        t_s = np.array([t for t, _ in frames])
        height, width = frames[0][1].shape[:2]
        fps = (n - 1) / (t_s[-1] - t_s[0])
        warmup = round(fps)  # 1 s, as SEGMENT_WARMUP_S

        def series(track: Track) -> PoseSeries:
            return PoseSeries(t_s=t_s, xy_px=track[0], world_m=track[1], visibility=track[2],
                              image_size=(width, height), n_people=np.ones(n, np.int16))

        one = track_from(frames, 0)
        ref_result, ref_kin = analyze_series(series(one))
        ref = bottom_readings(ref_result, ref_kin)
        print(f"{args.video.name}: {n} frames, reps "
              + ", ".join(f"{r.leg} {r.band}" for r in ref_result.reps))
        worst: dict[str, list[float]] = {}
        for split in np.linspace(warmup + 10, n - 60, args.splits).astype(int):
            late = track_from(frames, int(split) - warmup)
            mixed = tuple(np.concatenate([a[:split], b[split:]]) for a, b in zip(one, late,
                                                                                  strict=True))
            result, kin = analyze_series(series(mixed))  # type: ignore[arg-type]
            if [(r.leg, r.band) for r in result.reps] != [(r.leg, r.band) for r in
                                                          ref_result.reps]:
                print(f"split at frame {split}: reps differ: "
                      + ", ".join(f"{r.leg} {r.band}" for r in result.reps))
                continue
            other = bottom_readings(result, kin)
            parts = []
            keys = dict.fromkeys(k for r in ref if r for k in r)
            for key in keys:
                diffs = [abs(a[key] - b[key]) for a, b in zip(ref, other, strict=True)
                         if a and b and key in a and key in b]
                worst.setdefault(key, []).append(max(diffs, default=0.0))
                parts.append(f"{key} {worst[key][-1]:.2f}")
            print(f"split at frame {split}: largest rep FPPA change (deg): " + " | ".join(parts),
                  flush=True)
        for key, values in worst.items():
            print(f"{key:9}: over {len(values)} splits the largest change was {max(values):.2f} "
                  f"deg (median {np.median(values):.2f})")


if __name__ == "__main__":
    main()
