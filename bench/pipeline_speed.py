"""Time per frame of the full valgus pipeline next to the pose model's inference alone.

Both are measured in the same run on the same clip, so the ratio is meaningful on a noisy
machine. Usage::

    .venv/bin/python bench/pipeline_speed.py [VIDEO] [--frames N] [--repeat R]

Default clip: ../shared/videos/tuxotiikeri__squatdetection__hyva7.mp4 (1280x720) when present,
else the bundled sample clip.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from valgus.pipeline import analyze_series
from valgus.runtime.estimator import MediaPipePoseEstimator, native_logs_silenced
from valgus.runtime.tracking import estimate_poses
from valgus.runtime.video import iter_frames, probe_video

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CLIPS = (
    ROOT.parent / "shared" / "videos" / "tuxotiikeri__squatdetection__hyva7.mp4",
    ROOT / "sample_videos" / "demo_single_leg_squats.mp4",
)


def inference_only_ms(frames: list[tuple[float, object]]) -> float:
    """Model inference alone on frames decoded beforehand (the limit on this machine)."""
    with MediaPipePoseEstimator() as est:
        start = time.perf_counter()
        for t_s, rgb in frames:
            est.estimate(rgb, t_s)  # type: ignore[arg-type]
        return 1000.0 * (time.perf_counter() - start) / len(frames)


def pipeline_ms(video: Path, n_frames: int) -> float:
    """Decode + inference + kinematics + reps + scoring, per frame."""
    start = time.perf_counter()
    series = estimate_poses(video, MediaPipePoseEstimator())
    analyze_series(series)
    return 1000.0 * (time.perf_counter() - start) / n_frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("video", nargs="?", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    video = args.video or next((p for p in DEFAULT_CLIPS if p.is_file()), None)
    if video is None:
        raise SystemExit("no clip found; pass one")
    info = probe_video(video)
    frames = list(iter_frames(video))
    print(f"clip: {video.name} {info.width}x{info.height}, {len(frames)} frames")
    inference, pipeline = [], []
    with native_logs_silenced():
        for _ in range(args.repeat):
            inference.append(inference_only_ms(frames))
            pipeline.append(pipeline_ms(video, len(frames)))
    inf, pipe = statistics.median(inference), statistics.median(pipeline)
    print(f"model inference alone : {inf:6.1f} ms/frame (median of {args.repeat})")
    print(f"full valgus pipeline  : {pipe:6.1f} ms/frame (median of {args.repeat})")
    print(f"pipeline / inference  : {pipe / inf:6.2f}x")


if __name__ == "__main__":
    main()
