"""Speed benchmark: the valgus pipeline against the pose model's own limit on this machine.

Every figure is reported with a ratio to a baseline measured in the same run, because these
machines are noisy. For a 720p and a 1080p clip (made from the bundled sample clip):

  (a) model inference alone on frames decoded beforehand: the limit on this machine;
  (b) naive baseline: decode a frame, infer, repeat, in one thread;
  (c) the full valgus pipeline (decode + inference + kinematics + reps + scoring).

Then peak memory of the full pipeline (in a fresh process) on a 10 s and a 60 s clip, and the
live path's per-frame processing time at 640x480 (median and 95th percentile).

Usage::

    .venv/bin/python bench/speed.py            # ~5-10 min on 2 cores
    .venv/bin/python bench/speed.py --quick    # shorter clips, one repeat
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import av
import cv2
import numpy as np

from valgus.analysis import analyze_series, estimate_poses
from valgus.cli import native_logs_silenced
from valgus.config import InputLimits
from valgus.estimator import MediaPipePoseEstimator
from valgus.video import iter_frames

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "demo_single_leg_squats.mp4"
CACHE = ROOT / "bench" / ".cache"
NO_LIMITS = InputLimits(max_side_px=4096)


def make_clip(path: Path, width: int, height: int, duration_s: float) -> Path:
    """The sample clip (looped) letterboxed into a ``width`` x ``height`` H.264 clip."""
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    frames = list(iter_frames(SAMPLE))
    fps = 25
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "23", "preset": "veryfast"}
        for i in range(int(duration_s * fps)):
            rgb = frames[i % len(frames)][1]
            scale = height / rgb.shape[0]
            person = cv2.resize(rgb, (round(rgb.shape[1] * scale), height))
            canvas = np.full((height, width, 3), 200, np.uint8)
            x0 = (width - person.shape[1]) // 2
            canvas[:, x0 : x0 + person.shape[1]] = person
            out.mux(stream.encode(av.VideoFrame.from_ndarray(canvas, format="rgb24")))
        out.mux(stream.encode())
    return path


def inference_only(frames: list[tuple[float, np.ndarray]]) -> float:
    with MediaPipePoseEstimator() as est:
        start = time.perf_counter()
        for t_s, rgb in frames:
            est.estimate(rgb, t_s)
        return time.perf_counter() - start


def naive(video: Path) -> float:
    start = time.perf_counter()
    with MediaPipePoseEstimator(count_people_every_n=0) as est:
        for t_s, rgb in iter_frames(video):
            est.estimate(rgb, t_s)
    return time.perf_counter() - start


def pipeline(video: Path) -> float:
    start = time.perf_counter()
    series = estimate_poses(video, MediaPipePoseEstimator(), limits=NO_LIMITS)
    analyze_series(series)
    return time.perf_counter() - start


def peak_rss_mb(video: Path) -> float:
    """Peak resident memory of the full pipeline in a fresh process, MB."""
    code = (
        "import resource, sys\n"
        "from valgus.analysis import analyze_series, estimate_poses\n"
        "from valgus.config import InputLimits\n"
        "from valgus.estimator import MediaPipePoseEstimator\n"
        "s = estimate_poses(sys.argv[1], MediaPipePoseEstimator(),"
        " limits=InputLimits(max_side_px=4096))\n"
        "analyze_series(s)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(video)], capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def live_frame_ms(video: Path) -> tuple[float, float]:
    """Median and 95th percentile of the live page's whole per-frame work at 640x480:
    ``LiveProcessor.process`` (pose, counting, overlay drawing, writing the kept clip)."""
    import tempfile

    from valgus.live import LiveProcessor

    frames = list(iter_frames(video))
    times: list[float] = []
    with tempfile.TemporaryDirectory() as clip_dir:
        live = LiveProcessor(MediaPipePoseEstimator, Path(clip_dir), require_setup=False)
        for t_s, rgb in frames:
            start = time.perf_counter()
            live.process(rgb, t_s)
            times.append(1000.0 * (time.perf_counter() - start))
        live.stop()
    return float(np.median(times)), float(np.percentile(times, 95))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    short_s = 6.0 if args.quick else 10.0
    long_s = 20.0 if args.quick else 60.0
    repeat = 1 if args.quick else 3
    report: dict[str, object] = {}
    with native_logs_silenced():
        for name, (w, h) in {"720p": (1280, 720), "1080p": (1920, 1080)}.items():
            clip = make_clip(CACHE / f"sample_{name}_{short_s:.0f}s.mp4", w, h, short_s)
            frames = list(iter_frames(clip, max_side_px=4096))
            n = len(frames)
            a = statistics.median(inference_only(frames) for _ in range(repeat))
            b = statistics.median(naive(clip) for _ in range(repeat))
            c = statistics.median(pipeline(clip) for _ in range(repeat))
            del frames
            row = {
                "frames": n,
                "inference_ms_per_frame": 1000 * a / n,
                "naive_ms_per_frame": 1000 * b / n,
                "pipeline_ms_per_frame": 1000 * c / n,
                "pipeline_speedup_vs_naive": b / c,
                "pipeline_overhead_vs_inference_pct": 100 * (c - a) / a,
            }
            report[name] = row
            print(
                f"{name:5}: inference {row['inference_ms_per_frame']:.1f} ms/frame | naive "
                f"{row['naive_ms_per_frame']:.1f} | pipeline {row['pipeline_ms_per_frame']:.1f}"
                f"  -> pipeline {row['pipeline_speedup_vs_naive']:.2f}x naive, "
                f"{row['pipeline_overhead_vs_inference_pct']:+.0f}% vs inference alone",
                flush=True,
            )
        mem = {}
        for seconds in (short_s, long_s):
            clip = make_clip(CACHE / f"sample_720p_{seconds:.0f}s.mp4", 1280, 720, seconds)
            mem[f"{seconds:.0f}s"] = peak_rss_mb(clip)
        ratio = mem[f"{long_s:.0f}s"] / mem[f"{short_s:.0f}s"]
        report["peak_rss_mb"] = mem
        print(f"peak memory: {mem} MB -> {long_s:.0f}s / {short_s:.0f}s = {ratio:.2f}x", flush=True)
        vga = make_clip(CACHE / f"sample_480p_{short_s:.0f}s.mp4", 640, 480, short_s)
        live = live_frame_ms(vga)
        report["live_640x480_ms"] = {"median": live[0], "p95": live[1]}
        print(f"live 640x480: median {live[0]:.1f} ms/frame, p95 {live[1]:.1f} ms/frame")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
