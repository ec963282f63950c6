"""Analyses for the records and report tests: synthetic single-leg squats (tests/synthetic.py)
run through the real ``analyze_series`` (no video, no model; ~0.2 s each), and a small real
video file to stand in for the clip."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import av
import numpy as np

from tests.synthetic import (
    evenly_spaced_reps,
    person_series,
    squat_curve,
    time_base,
    valgus_turn_for_fppa_deg,
)
from valgus.core.pose import PoseSeries
from valgus.core.result import AnalysisResult
from valgus.landmarks import Side
from valgus.pipeline import analyze_series

FPS = 30.0
BOTTOM_DEG = 70.0


@lru_cache(maxsize=16)
def squats(stance: Side, fppa_deg: float, n_reps: int = 20) -> tuple[AnalysisResult, PoseSeries]:
    """``n_reps`` single-leg squats on ``stance`` with FPPA ``fppa_deg`` at the bottom."""
    truth = evenly_spaced_reps(n_reps, 1.0, 2.0, 0.5, BOTTOM_DEG)
    t = time_base(truth[-1].end_s + 1.0, FPS)
    series = person_series(
        t, squat_curve(t, truth, 15.0), stance,
        valgus_turn_deg=valgus_turn_for_fppa_deg(fppa_deg, BOTTOM_DEG),
    )
    result, _ = analyze_series(series)
    return result, series


def write_clip(path: Path, n_frames: int = 30, size: tuple[int, int] = (180, 320),
               seed: int = 0) -> Path:
    """A short real H.264 clip (``size`` = width, height); frame k is filled with gray level
    4k so each frame can be told apart. ``seed`` changes the bytes (different sha256)."""
    width, height = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": "10"}
        for k in range(n_frames):
            rgb = np.full((height, width, 3), (4 * k + seed) % 256, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(rgb, "rgb24")))
        container.mux(stream.encode())
    return path


def clip_variant(clip: Path, k: int) -> Path:
    """A copy of ``clip`` with ``k`` appended after its end: other bytes (another sha256, so a
    session stores it as another clip), the same video for a decoder. Next to ``clip``."""
    out = clip.with_name(f"{clip.stem}-{k}{clip.suffix}")
    if not out.exists():  # written whole, then renamed: two processes may ask at once
        temp = out.with_name(f".{out.name}.{os.getpid()}")
        temp.write_bytes(clip.read_bytes() + f"\nvariant {k}\n".encode())
        os.replace(temp, out)
    return out
