"""Speed benchmark: the valgus pipeline against the pose model's own limit on this machine.

Every figure is reported with a ratio to a baseline measured in the same run, because these
machines are noisy. For a 720p and a 1080p clip (made from the bundled sample clip), every
variant giving the model the same frames (at most 1280 px, as ``valgus analyze`` does):

  (a) model inference alone on frames decoded beforehand (tracker + people counter, one pass):
      the limit of one pass on this machine;
  (b) naive baseline: decode a frame, infer, repeat, in one thread (tracker only);
  (c) the full pipeline in one pass (decode + inference + kinematics + reps + scoring),
      ``valgus analyze --threads 1`` (``pipeline.analyze_video``);
  (d) the full pipeline with two landmarkers on two overlapping segments of the clip at once,
      handed over where the person stands (``valgus analyze --threads 2``);
  (e) ``valgus analyze`` with its default segments (``analyze_video`` without ``threads``).

Then: downscaling before inference (the 1080p clip at 1280, 960 and 640 px: time, landmark
shift in full-frame px and rep FPPA against the default 1280 px, next to the tracker's own path
spread); batch throughput (``valgus batch`` on 4 clips, 1 worker vs 2); peak memory of one pass
(fresh process, VmHWM) on a 10 s and a 60 s clip; the live path's per-frame time at 640x480
(median and 95th percentile), and on a machine made too slow for the camera (busy processes on
the cores): analysing the newest frame and dropping the rest against analysing every frame.

Usage::

    .venv/bin/python bench/speed.py            # ~13 min on 2 cores
    .venv/bin/python bench/speed.py --quick    # shorter clips, one repeat
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

from valgus.batch.jobs import BatchOptions
from valgus.batch.runner import run_batch
from valgus.config import InputLimits
from valgus.core.pose import PoseSeries
from valgus.core.result import AnalysisResult
from valgus.landmarks import SIDES, ankle, hip, knee
from valgus.pipeline import analyze_series, analyze_video
from valgus.runtime.estimator import MediaPipePoseEstimator, native_logs_silenced
from valgus.runtime.video import iter_frames, probe_video

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_videos" / "demo_single_leg_squats.mp4"
CACHE = ROOT / "bench" / ".cache"
# As ``valgus analyze`` runs: frames over 1280 px are downscaled (in the decoding thread) before
# the model sees them. Every variant below gives the model the same frames.
LIMITS = InputLimits()
LEG_LANDMARKS = [f(s) for s in SIDES for f in (hip, knee, ankle)]


class OtherLoad:
    """How much of the machine's CPUs other processes used while a section ran, in percent
    (from /proc/stat, less this process and its children): figures taken while others were busy
    are not this machine's. None where /proc/stat is missing."""

    def __enter__(self) -> OtherLoad:
        self._start = (_machine_busy_s(), _own_cpu_s(), time.monotonic())
        self.percent: float | None = None
        return self

    def __exit__(self, *exc: object) -> None:
        busy0, own0, t0 = self._start
        busy1 = _machine_busy_s()
        if busy0 is None or busy1 is None:
            return
        elapsed = time.monotonic() - t0
        others = (busy1 - busy0) - (_own_cpu_s() - own0)
        self.percent = max(0.0, 100.0 * others / (elapsed * (os.cpu_count() or 1)))

    def note(self) -> str:
        return "" if self.percent is None else f"  [other processes: {self.percent:.0f}% of CPUs]"


def _machine_busy_s() -> float | None:
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


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
        for t_s, rgb in iter_frames(video, max_side_px=LIMITS.max_side_px):
            est.estimate(rgb, t_s)
    return time.perf_counter() - start


def pipeline(video: Path, threads: int | None = None) -> float:
    """``valgus analyze``'s work (``pipeline.analyze_video``); ``threads`` None = its default."""
    start = time.perf_counter()
    if threads is None:
        analyze_video(video, limits=LIMITS)
    else:
        analyze_video(video, limits=LIMITS, threads=threads)
    return time.perf_counter() - start


def speed_rows(short_s: float, repeat: int, report: dict[str, object]) -> None:
    for name, (w, h) in {"720p": (1280, 720), "1080p": (1920, 1080)}.items():
        clip = make_clip(CACHE / f"sample_{name}_{short_s:.0f}s.mp4", w, h, short_s)
        frames = list(iter_frames(clip, max_side_px=LIMITS.max_side_px))
        n = len(frames)
        times: dict[str, list[float]] = {"a": [], "b": [], "c": [], "d": [], "e": []}
        with OtherLoad() as load:
            for _ in range(repeat):  # interleaved, so that a slow spell hits every variant alike
                times["a"].append(inference_only(frames))
                times["b"].append(naive(clip))
                times["c"].append(pipeline(clip, threads=1))
                times["d"].append(pipeline(clip, threads=2))
                times["e"].append(pipeline(clip))
        del frames
        a, b, c, d, e = (statistics.median(times[k]) for k in "abcde")
        row = {
            "frames": n,
            "inference_ms_per_frame": 1000 * a / n,
            "naive_ms_per_frame": 1000 * b / n,
            "pipeline_ms_per_frame": 1000 * c / n,
            "pipeline_2_ms_per_frame": 1000 * d / n,
            "pipeline_speedup_vs_naive": b / c,
            "pipeline_2_speedup_vs_naive": b / d,
            "default_ms_per_frame": 1000 * e / n,
            "default_speedup_vs_naive": b / e,
            "pipeline_overhead_vs_inference_pct": 100 * (c - a) / a,
            "other_processes_cpu_pct": load.percent,
        }
        report[name] = row
        print(
            f"{name:5}: inference {row['inference_ms_per_frame']:.1f} ms/frame | naive "
            f"{row['naive_ms_per_frame']:.1f} | pipeline {row['pipeline_ms_per_frame']:.1f}"
            f" ({row['pipeline_speedup_vs_naive']:.2f}x naive, "
            f"{row['pipeline_overhead_vs_inference_pct']:+.0f}% vs inference alone) | "
            f"--threads 2: {row['pipeline_2_ms_per_frame']:.1f} "
            f"({row['pipeline_2_speedup_vs_naive']:.2f}x naive) | default: "
            f"{row['default_ms_per_frame']:.1f} ({row['default_speedup_vs_naive']:.2f}x naive)"
            f"{load.note()}",
            flush=True,
        )


def one_pass(video: Path, side_px: int, skip_frames: int = 0) -> tuple[PoseSeries, float]:
    """One pass at ``side_px`` (landmarks scaled back to full-frame px), and its s per frame.
    ``skip_frames``: the tracker starts that many frames late (the earlier ones are copied from
    nowhere: NaN), to show how much where tracking starts moves the results."""
    frames = list(iter_frames(video, max_side_px=side_px))
    full_w = probe_video(video).width
    xy, world, vis = [], [], []
    start = time.perf_counter()
    with MediaPipePoseEstimator() as est:
        for i, (t_s, rgb) in enumerate(frames):
            pose = est.estimate(rgb, t_s) if i >= skip_frames else None
            xy.append(pose.xy_px if pose else np.full((33, 2), np.nan, np.float32))
            world.append(pose.world_m if pose else np.full((33, 3), np.nan, np.float32))
            vis.append(pose.visibility if pose else np.zeros(33, np.float32))
    per_frame = (time.perf_counter() - start) / len(frames)
    scale = full_w / frames[0][1].shape[1]
    h, w = frames[0][1].shape[:2]
    series = PoseSeries(
        t_s=np.array([t for t, _ in frames]),
        xy_px=np.stack(xy) * scale,
        world_m=np.stack(world),
        visibility=np.stack(vis),
        image_size=(round(w * scale), round(h * scale)),
    )
    return series, per_frame


def rep_fppa(result: AnalysisResult) -> list[float | None]:
    return [r.scored_fppa_deg for r in result.reps]


def compare(ref: PoseSeries, other: PoseSeries) -> tuple[float, float, float]:
    """Median and 95th percentile landmark shift (hips, knees, ankles; full-frame px) and the
    largest rep FPPA difference (deg; inf where reps, legs or bands differ)."""
    d = np.linalg.norm(other.xy_px[:, LEG_LANDMARKS] - ref.xy_px[:, LEG_LANDMARKS], axis=-1)
    d = d[np.isfinite(d)]
    ra, rb = analyze_series(ref)[0], analyze_series(other)[0]
    same = [(r.leg, r.band) for r in ra.reps] == [(r.leg, r.band) for r in rb.reps]
    diffs = [
        abs(x - y) for x, y in zip(rep_fppa(ra), rep_fppa(rb), strict=False)
        if x is not None and y is not None
    ]
    worst = max(diffs, default=0.0) if same else float("inf")
    return float(np.median(d)), float(np.percentile(d, 95)), worst


def downscaling(short_s: float, report: dict[str, object]) -> None:
    clip = make_clip(CACHE / f"sample_1080p_{short_s:.0f}s.mp4", 1920, 1080, short_s)
    load = OtherLoad().__enter__()
    ref, ref_s = one_pass(clip, 1280)
    rows = {}
    # The tracker's own spread: the same 1280 px pass with tracking started one frame late.
    late, _ = one_pass(clip, 1280, skip_frames=1)
    med, p95, worst = compare(ref, late)
    rows["1280, tracking 1 frame late"] = (med, p95, worst, ref_s)
    print(f"downscaling, 1080p clip, against one pass at 1280 px ({1000 * ref_s:.1f} ms/frame):")
    print(f"  1280 px, tracking one frame late: landmarks {med:.2f} px median, {p95:.2f} p95; "
          f"rep FPPA within {worst:.2f} deg  (the tracker's own spread)")
    for side in (1920, 960, 640):
        series, per_frame = one_pass(clip, side)
        med, p95, worst = compare(ref, series)
        rows[str(side)] = (med, p95, worst, per_frame)
        print(f"  {side:4d} px: {1000 * per_frame:.1f} ms/frame ({ref_s / per_frame:.2f}x 1280); "
              f"landmarks {med:.2f} px median, {p95:.2f} p95; rep FPPA within {worst:.2f} deg",
              flush=True)
    load.__exit__()
    print(f"  {load.note().strip()}")
    report["downscaling_1080p"] = {
        k: {"landmark_px_median": v[0], "landmark_px_p95": v[1], "rep_fppa_max_deg": v[2],
            "ms_per_frame": 1000 * v[3]}
        for k, v in rows.items()
    }


def batch_throughput(short_s: float, report: dict[str, object]) -> None:
    """``valgus batch`` on 4 clips with 1 worker, then 2 (fresh output folders)."""
    clip = make_clip(CACHE / f"sample_720p_{short_s:.0f}s.mp4", 1280, 720, short_s)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "clips"
        folder.mkdir()
        for i in range(4):
            shutil.copy(clip, folder / f"clip{i}.mp4")
        seconds = {}
        with OtherLoad() as load:
            for workers in (1, 2):
                start = time.perf_counter()
                run_batch(folder, Path(tmp) / f"out{workers}", BatchOptions(), workers=workers,
                          stream=io.StringIO())
                seconds[workers] = time.perf_counter() - start
    report["batch_4_clips_s"] = seconds
    print(f"batch, 4 x {short_s:.0f} s 720p clips: 1 worker {seconds[1]:.1f} s, 2 workers "
          f"{seconds[2]:.1f} s -> {seconds[1] / seconds[2]:.2f}x{load.note()}", flush=True)


def peak_rss_mb(video: Path, threads: int = 1) -> float:
    """Peak resident memory of the full pipeline in a fresh process, MB.

    VmHWM of the child itself: ``ru_maxrss`` would report this (parent) process's resident size
    at the fork if that were larger, which is how a 2.7 GB "peak" was once measured here.
    """
    code = (
        "import sys\n"
        "from valgus.pipeline import analyze_video\n"
        "analyze_video(sys.argv[1], threads=int(sys.argv[2]))\n"
        "status = open('/proc/self/status').read()\n"
        "print(int(status.split('VmHWM:')[1].split()[0]) / 1024)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(video), str(threads)], capture_output=True, text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def memory(short_s: float, long_s: float, report: dict[str, object]) -> None:
    mem: dict[str, float] = {}
    for seconds in (short_s, long_s):
        clip = make_clip(CACHE / f"sample_720p_{seconds:.0f}s.mp4", 1280, 720, seconds)
        mem[f"{seconds:.0f}s"] = peak_rss_mb(clip)
    clip = make_clip(CACHE / f"sample_720p_{long_s:.0f}s.mp4", 1280, 720, long_s)
    mem[f"{long_s:.0f}s --threads 2"] = peak_rss_mb(clip, threads=2)
    ratio = mem[f"{long_s:.0f}s"] / mem[f"{short_s:.0f}s"]
    report["peak_rss_mb"] = mem
    shown = ", ".join(f"{k}: {v:.0f} MB" for k, v in mem.items())
    print(f"peak memory (720p): {shown} -> {long_s:.0f}s / {short_s:.0f}s = {ratio:.2f}x",
          flush=True)


def live_frame_ms(video: Path) -> tuple[float, float]:
    """Median and 95th percentile of the live page's whole per-frame work at 640x480:
    ``LiveProcessor.process`` (pose, counting, overlay drawing, writing the kept clip)."""
    from valgus.live.processor import LiveProcessor

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


def live_on_a_slower_machine(video: Path, busy_processes: int = 4) -> dict[str, dict[str, float]]:
    """The live path on a machine too slow for the camera: ``busy_processes`` busy loops share
    the cores while frames arrive in real time (at their timestamps). Two ways to keep up:
    ``newest`` analyses the newest frame that arrived and drops the others (valgus's live page:
    ``recv_queued`` in app.py), ``every`` analyses every frame in order (queueing). For each:
    share of frames analysed and latency from a frame's arrival to its result (ms)."""
    from valgus.live.processor import LiveProcessor

    frames = list(iter_frames(video))
    arrival = np.array([t for t, _ in frames]) - frames[0][0]
    n = len(frames)
    out: dict[str, dict[str, float]] = {}
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(busy_processes)]
    try:
        for policy in ("newest", "every"):
            latencies: list[float] = []
            with tempfile.TemporaryDirectory() as clip_dir:
                live = LiveProcessor(MediaPipePoseEstimator, Path(clip_dir), require_setup=False)
                live.process(frames[0][1], 0.0)  # models loaded before the camera starts
                t0 = time.perf_counter()
                last = -1
                while last < n - 1:
                    arrived = int(np.searchsorted(arrival, time.perf_counter() - t0, "right"))
                    i = arrived - 1 if policy == "newest" else last + 1
                    if i <= last or i >= arrived:
                        time.sleep(0.002)  # nothing new yet
                        continue
                    # +1 s: after the loading frame (the model wants increasing times).
                    live.process(frames[i][1], float(arrival[i]) + 1.0)
                    latencies.append(1000.0 * (time.perf_counter() - t0 - arrival[i]))
                    last = i
                live.stop()
            out[policy] = {
                "analysed_pct": 100.0 * len(latencies) / n,
                "latency_median_ms": float(np.median(latencies)),
                "latency_p95_ms": float(np.percentile(latencies, 95)),
                "latency_last_ms": latencies[-1],
            }
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    speed_s = 10.0 if args.quick else 20.0
    short_s = 10.0
    long_s = 20.0 if args.quick else 60.0
    repeat = 1 if args.quick else 3
    report: dict[str, object] = {}
    with native_logs_silenced():
        # The first landmarker of a process costs ~0.5 s more (library set-up): not in any figure.
        with MediaPipePoseEstimator() as est:
            est.estimate(np.zeros((64, 64, 3), np.uint8), 0.0)
        speed_rows(speed_s, repeat, report)
        downscaling(short_s, report)
        batch_throughput(short_s, report)
        memory(short_s, long_s, report)
        vga = make_clip(CACHE / f"sample_480p_{short_s:.0f}s.mp4", 640, 480, short_s)
        with OtherLoad() as load:
            live = live_frame_ms(vga)
        report["live_640x480_ms"] = {"median": live[0], "p95": live[1]}
        print(f"live 640x480: median {live[0]:.1f} ms/frame, p95 {live[1]:.1f} ms/frame"
              f"{load.note()}")
        slow = live_on_a_slower_machine(vga)
        report["live_640x480_slower_machine"] = slow
        print("live 640x480 with 4 busy processes on the cores, frames arriving in real time:")
        for policy, name in (("newest", "newest frame, others dropped (valgus)"),
                             ("every", "every frame in turn (queued)")):
            row = slow[policy]
            print(f"  {name:38}: {row['analysed_pct']:.0f}% of frames analysed, latency median "
                  f"{row['latency_median_ms']:.0f} ms, p95 {row['latency_p95_ms']:.0f} ms, "
                  f"last frame {row['latency_last_ms']:.0f} ms")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
