"""The annotated clip: every frame with the skeleton, the stance knee's FPPA and the rep
counters, written as browser-playable H.264 (``runtime.encode``), and the deepest frame of each
rep as a cropped picture (the app's gallery and the session report).

Frames are read through ``runtime.video.iter_frames``; drawing is ``present.draw``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from valgus import landmarks as lm
from valgus.core.kinematics import Kinematics, smooth_landmarks
from valgus.core.pose import PoseSeries
from valgus.core.result import AnalysisResult
from valgus.core.scoring import RepScore
from valgus.landmarks import SIDES, Side
from valgus.present.draw import (
    draw_corner_panel,
    draw_feedback,
    draw_knee_angle,
    draw_label,
    draw_skeleton,
    drawing_scale,
)
from valgus.present.style import BAND_RGB, BAND_TEXT, FREE_LEG, NEUTRAL, RGB, WHITE, fmt_deg
from valgus.runtime.encode import H264Writer
from valgus.runtime.video import iter_frames

# How long a finished rep's result stays on the annotated video, seconds.
FEEDBACK_SHOWN_S = 1.5

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class RenderedVideo:
    """The annotated clip, its frame size (width_px, height_px), and the deepest frame of every
    rep (key: index into ``result.reps``) with the skeleton and the knee angle drawn, as
    (H, W, 3) uint8 RGB."""

    path: Path
    bottom_frames: dict[int, np.ndarray]
    size: tuple[int, int]


def annotate_frame(
    rgb: np.ndarray,
    xy_px: np.ndarray,
    i: int,
    t_s: float,
    result: AnalysisResult,
    kin: Kinematics,
) -> np.ndarray:
    """One frame of the annotated video (a copy): skeleton, the stance knee's FPPA during a rep
    (in the rep's band colour), rep counters, and the finished rep's result for a moment after.

    Args:
        rgb: (H, W, 3) uint8 frame. xy_px: (33, 2) smoothed landmarks already scaled to ``rgb``'s
            pixels. i: frame index into ``kin``. t_s: the frame's time, seconds.
    """
    out = rgb.copy()
    need = result.config.clearance.required_reps
    # The reps of a leg (a free leg's bend, listed in the result, is no rep to draw).
    reps = [r for r in result.reps if not r.not_a_rep]
    active = [r for r in reps if r.start_s <= t_s <= r.end_s]
    colors: dict[Side, RGB] = {}
    thick: Side | None = None
    if active:
        rep = active[0]
        thick = rep.leg
        colors = {rep.leg: BAND_RGB[rep.band], lm.other(rep.leg): FREE_LEG}
    if np.all(np.isfinite(xy_px[[lm.LEFT_HIP, lm.RIGHT_HIP]])):
        draw_skeleton(out, xy_px, colors, thick_leg=thick)
        if active and result.view.frontal:
            rep = active[0]
            draw_knee_angle(out, xy_px, rep.leg, float(kin.leg(rep.leg).fppa_deg[i]),
                            BAND_RGB[rep.band])
    done = [r for r in reps if r.end_s < t_s]
    counts = {
        leg: sum(r.leg == leg and r.test_rep for r in done)
        for leg in SIDES
    }
    lines: list[tuple[str, RGB]] = [
        (f"Left  {counts['left']:>2} / {need}", NEUTRAL),
        (f"Right {counts['right']:>2} / {need}", NEUTRAL),
    ]
    if active:
        n = result.reps.index(active[0]) + 1
        lines.append((f"Rep {n}: {active[0].leg} leg", NEUTRAL))
    draw_corner_panel(out, lines)
    recent = [r for r in done if t_s - r.end_s <= FEEDBACK_SHOWN_S]
    if recent:
        draw_feedback(out, reps, recent[-1])
    return out


def crop_to_person(
    rgb: np.ndarray, xy_px: np.ndarray, height_px: int = 540, margin: float = 0.12
) -> tuple[np.ndarray, np.ndarray]:
    """The part of the frame around the person, scaled to ``height_px`` tall.

    Args:
        rgb: (H, W, 3) uint8 frame. xy_px: (33, 2) landmarks in ``rgb``'s pixels.
        margin: added on every side, as a fraction of the person's height.
    Returns:
        The crop and the (33, 2) landmarks in its pixels. The whole frame when fewer than two
        landmarks are known.
    """
    pts = xy_px[np.all(np.isfinite(xy_px), axis=1)]
    h, w = rgb.shape[:2]
    if pts.shape[0] < 2:
        x0, y0, x1, y1 = 0, 0, w, h
    else:
        pad = margin * float(np.ptp(pts[:, 1]) or h)
        x0 = int(max(0, np.min(pts[:, 0]) - pad))
        x1 = int(min(w, np.max(pts[:, 0]) + pad))
        y0 = int(max(0, np.min(pts[:, 1]) - 1.5 * pad))  # the nose is below the top of the head
        y1 = int(min(h, np.max(pts[:, 1]) + pad))
        if x1 - x0 < 2 or y1 - y0 < 2:
            x0, y0, x1, y1 = 0, 0, w, h
    scale = height_px / (y1 - y0)
    size = (max(2, round((x1 - x0) * scale)), height_px)
    crop = cv2.resize(np.ascontiguousarray(rgb[y0:y1, x0:x1]), size,
                      interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    return crop, (xy_px - np.array([x0, y0])) * scale


def bottom_frame_picture(
    rgb: np.ndarray, xy_px: np.ndarray, rep: RepScore, number: int, frontal: bool
) -> np.ndarray:
    """The scored frame of a rep (``RepScore.picture_index``: at its deepest point), cropped to
    the person: skeleton, the stance leg in the band colour, the FPPA angle drawn at the knee
    (only for a ``frontal`` view) and a caption bar with the frame's number.

    Args:
        rgb: (H, W, 3) uint8 frame. xy_px: (33, 2) landmarks in its pixels. number: the rep's
            1-based number in the clip.
    """
    out, xy = crop_to_person(rgb, xy_px)
    s = drawing_scale(out)
    color = BAND_RGB[rep.band]
    draw_skeleton(out, xy, {rep.leg: color, lm.other(rep.leg): FREE_LEG}, thick_leg=rep.leg)
    value = rep.scored_fppa_deg
    if frontal:
        draw_knee_angle(out, xy, rep.leg, value, color,
                        label=None if value is not None else "FPPA -")
    caption = f"Rep {number} {rep.leg}: {BAND_TEXT[rep.band]}"
    if value is not None:
        caption += f" {fmt_deg(value)}"
    caption += f", frame {rep.picture_index}"
    draw_label(out, caption, (0, out.shape[0]), 0.7 * s, WHITE, color,
               max(1, round(1.5 * s)), pad=round(8 * s))
    return out


def render_analysis_video(
    video_path: str | Path,
    series: PoseSeries,
    kin: Kinematics,
    result: AnalysisResult,
    out_path: str | Path,
    max_side_px: int = 960,
    progress: ProgressFn | None = None,
) -> RenderedVideo:
    """Decode ``video_path`` again and write the annotated H.264 clip to ``out_path``.

    ``series`` must come from the same clip (frame i of the decode = sample i of the series).
    Landmarks are drawn smoothed (as the numbers are computed). Frames are scaled down to at
    most ``max_side_px`` on their longer side. ``progress(done, total)`` is called every few
    frames.

    Raises:
        VideoError: the clip cannot be decoded (``runtime.video.iter_frames``).
    """
    xy_smooth, _ = smooth_landmarks(series, result.config.smoothing)
    n = len(series)
    bottoms: dict[int, list[int]] = {}
    for k, rep in enumerate(result.reps):
        if not rep.not_a_rep:  # a free leg's bend is listed in the table, not pictured
            bottoms.setdefault(rep.picture_index, []).append(k)
    pictures: dict[int, np.ndarray] = {}
    writer: H264Writer | None = None
    size = (0, 0)
    try:
        for i, (t_s, rgb) in enumerate(iter_frames(video_path, max_side_px=max_side_px)):
            if i >= n:
                break
            if writer is None:
                size = (rgb.shape[1], rgb.shape[0])
                writer = H264Writer(out_path, rgb.shape[1], rgb.shape[0])
            scale = rgb.shape[1] / series.image_size[0]
            xy = xy_smooth[i] * scale
            frame_t = float(series.t_s[i])
            writer.write(annotate_frame(rgb, xy, i, frame_t, result, kin), t_s)
            for k in bottoms.get(i, []):
                pictures[k] = bottom_frame_picture(
                    rgb, xy, result.reps[k], k + 1, result.view.frontal
                )
            if progress is not None and i % 10 == 0:
                progress(i, n)
    finally:
        if writer is not None:
            writer.close()
    if progress is not None:
        progress(n, n)
    return RenderedVideo(Path(out_path), pictures, size)
