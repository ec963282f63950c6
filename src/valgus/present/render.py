"""Pictures of the results: skeleton and knee angle drawn on frames, the annotated H.264 video,
the live overlay, and the FPPA / knee flexion chart.

Drawing works on (H, W, 3) uint8 RGB arrays with OpenCV (installed with mediapipe); video is
written with PyAV's libx264 as yuv420p with the index at the front (+faststart), which every
browser plays. Plotly is imported only by ``timeline_figure`` (the ``app`` extra).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import cv2
import numpy as np

from valgus import landmarks as lm
from valgus.config import AnalysisConfig, LiveConfig
from valgus.core.scoring import Band, RepScore, band_for
from valgus.landmarks import SIDES, Side
from valgus.runtime.video import iter_frames

if TYPE_CHECKING:
    from valgus.core.kinematics import Kinematics
    from valgus.core.pose import PoseSeries
    from valgus.core.result import AnalysisResult
    from valgus.live.session import LiveStatus

RGB = tuple[int, int, int]

# Traffic-light colours, darkened so white text on them stays readable; every coloured mark also
# carries the band in words, so colour is never the only cue.
BAND_RGB: dict[str, RGB] = {
    "fine": (46, 125, 50),
    "borderline": (217, 119, 6),
    "excessive": (198, 40, 40),
    "not_measurable": (97, 97, 97),
}
BAND_HEX: dict[str, str] = {k: "#{:02x}{:02x}{:02x}".format(*v) for k, v in BAND_RGB.items()}
BAND_TEXT: dict[str, str] = {
    "fine": "fine",
    "borderline": "borderline",
    "excessive": "excessive",
    "not_measurable": "not measurable",
}
# Lighter versions for text on the dark panels (the darker ones lack contrast there).
BAND_RGB_ON_DARK: dict[str, RGB] = {
    "fine": (129, 199, 132),
    "borderline": (255, 183, 77),
    "excessive": (239, 118, 118),
    "not_measurable": (189, 189, 189),
}
NEUTRAL: RGB = (235, 235, 235)
FREE_LEG: RGB = (150, 150, 150)
SHADOW: RGB = (20, 20, 20)
SIDE_SHORT = {"left": "L", "right": "R"}

_FONT = cv2.FONT_HERSHEY_DUPLEX


def live_band(fppa_deg: float, cfg: AnalysisConfig) -> Band:
    """Band of a single FPPA value under ``cfg``'s threshold; not measurable if NaN."""
    if not math.isfinite(fppa_deg):
        return "not_measurable"
    v = cfg.valgus
    return band_for(fppa_deg, v.threshold_deg(cfg.sex), v.borderline_margin_deg)


def fmt_num(value: float | None, digits: int = 1) -> str:
    """'12.3', or '-' where the value is missing (None or NaN): a table cell."""
    return "-" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def fmt_deg(value: float | None, digits: int = 1) -> str:
    """'12.3°' or '-' for missing values."""
    text = fmt_num(value, digits)
    return text if text == "-" else f"{text}°"


# --------------------------------------------------------------------------- drawing primitives


def _scale(img: np.ndarray) -> float:
    """Drawing scale: 1.0 for a 720 px tall (or wide, if larger) frame."""
    return max(min(img.shape[0], img.shape[1]), 360) / 720.0


def _pt(p: np.ndarray) -> tuple[int, int]:
    return round(float(p[0])), round(float(p[1]))


def text_size(text: str, scale: float, thickness: int) -> tuple[int, int]:
    """(width, height) in px of ``text`` as ``put_text`` draws it ('°' included)."""
    parts = text.split("°")
    w = sum(cv2.getTextSize(p, _FONT, scale, thickness)[0][0] for p in parts)
    h = cv2.getTextSize("Ag", _FONT, scale, thickness)[0][1]
    return w + round((len(parts) - 1) * 9 * scale), h


def put_text(
    img: np.ndarray, text: str, org: tuple[int, int], scale: float, color: RGB, thickness: int = 1
) -> None:
    """Anti-aliased text, baseline-left at ``org``. Hershey fonts have no '°': it is drawn."""
    x, y = org
    parts = text.split("°")
    for n, part in enumerate(parts):
        if part:
            cv2.putText(img, part, (x, y), _FONT, scale, color, thickness, cv2.LINE_AA)
            x += cv2.getTextSize(part, _FONT, scale, thickness)[0][0]
        if n < len(parts) - 1:
            r = max(2, round(3 * scale))
            h = cv2.getTextSize("0", _FONT, scale, thickness)[0][1]
            ring = max(1, thickness // 2 + 1)
            cv2.circle(img, (x + r + 1, y - h + r), r, color, ring, cv2.LINE_AA)
            x += round(9 * scale)


def draw_label(
    img: np.ndarray,
    text: str,
    org: tuple[int, int],
    scale: float,
    fg: RGB,
    bg: RGB,
    thickness: int = 1,
    pad: int = 6,
) -> tuple[int, int, int, int]:
    """Text on a filled box whose top-left corner is ``org`` (clipped into the image).

    Returns the box (x0, y0, x1, y1).
    """
    w, h = text_size(text, scale, thickness)
    x0 = int(np.clip(org[0], 0, max(0, img.shape[1] - w - 2 * pad)))
    y0 = int(np.clip(org[1], 0, max(0, img.shape[0] - h - 2 * pad)))
    x1, y1 = x0 + w + 2 * pad, y0 + h + 2 * pad
    cv2.rectangle(img, (x0, y0), (x1, y1), bg, -1)
    put_text(img, text, (x0 + pad, y1 - pad), scale, fg, thickness)
    return x0, y0, x1, y1


def draw_panel(
    img: np.ndarray, lines: list[tuple[str, RGB]], corner: tuple[int, int], scale: float
) -> tuple[int, int, int, int]:
    """A translucent dark panel of text lines (each with its colour) from ``corner`` (top-left)."""
    if not lines:
        return corner[0], corner[1], corner[0], corner[1]
    thick = max(1, round(1.5 * scale))
    pad = round(10 * scale)
    sizes = [text_size(t, 0.7 * scale, thick) for t, _ in lines]
    line_h = max(h for _, h in sizes) + round(10 * scale)
    w = max(sw for sw, _ in sizes) + 2 * pad
    h = line_h * len(lines) + pad
    x0, y0 = corner
    x1, y1 = min(img.shape[1], x0 + w), min(img.shape[0], y0 + h)
    roi = img[y0:y1, x0:x1]
    roi[:] = (0.35 * roi + 0.65 * np.array(SHADOW)).astype(np.uint8)
    for n, (text, color) in enumerate(lines):
        put_text(img, text, (x0 + pad, y0 + pad + (n + 1) * line_h - round(10 * scale)),
                 0.7 * scale, color, thick)
    return x0, y0, x1, y1


def _line(img: np.ndarray, a: np.ndarray, b: np.ndarray, color: RGB, width: int) -> None:
    if np.all(np.isfinite(a)) and np.all(np.isfinite(b)):
        cv2.line(img, _pt(a), _pt(b), SHADOW, width + 2, cv2.LINE_AA)
        cv2.line(img, _pt(a), _pt(b), color, width, cv2.LINE_AA)


def draw_skeleton(
    img: np.ndarray,
    xy_px: np.ndarray,
    leg_colors: dict[Side, RGB] | None = None,
    thick_leg: Side | None = None,
) -> None:
    """Draw the body in place: trunk and feet neutral, each leg (hip-knee-ankle) in its colour.

    Args:
        xy_px: (33, 2) landmarks in the pixel coordinates of ``img``; NaN points are skipped.
        leg_colors: colour per leg (default neutral); ``thick_leg`` is drawn thicker.
    """
    s = _scale(img)
    colors = leg_colors or {}
    base = max(2, round(3 * s))
    for a, b in lm.SKELETON_EDGES:
        side: Side | None = None
        for leg in SIDES:
            if {a, b} <= {lm.hip(leg), lm.knee(leg), lm.ankle(leg)} and a != b:
                side = leg
        color = colors.get(side, NEUTRAL) if side else NEUTRAL
        width = base * 2 if side is not None and side == thick_leg else base
        _line(img, xy_px[a], xy_px[b], color, width)
    for i in (lm.NOSE, *[j for s_ in SIDES for j in (lm.hip(s_), lm.knee(s_), lm.ankle(s_))]):
        if np.all(np.isfinite(xy_px[i])):
            cv2.circle(img, _pt(xy_px[i]), base + 2, SHADOW, -1, cv2.LINE_AA)
            cv2.circle(img, _pt(xy_px[i]), base + 1, NEUTRAL, -1, cv2.LINE_AA)


def draw_knee_angle(
    img: np.ndarray,
    xy_px: np.ndarray,
    side: Side,
    fppa_deg: float | None,
    color: RGB,
    label: str | None = None,
) -> None:
    """Show the FPPA of one knee: the thigh line carried on past the knee (dashed), the shank, the
    arc between them, and the value in a box beside the knee (on the side away from the body).
    """
    hip, knee, ankle = xy_px[lm.hip(side)], xy_px[lm.knee(side)], xy_px[lm.ankle(side)]
    if not (np.all(np.isfinite(hip)) and np.all(np.isfinite(knee)) and np.all(np.isfinite(ankle))):
        return
    s = _scale(img)
    thigh = knee - hip
    shank = ankle - knee
    shank_len = float(np.linalg.norm(shank))
    if float(np.linalg.norm(thigh)) < 1 or shank_len < 1:
        return
    ext = knee + thigh / np.linalg.norm(thigh) * 0.8 * shank_len
    n_dash = 8
    for k in range(n_dash):
        if k % 2 == 0:
            a = knee + (ext - knee) * k / n_dash
            b = knee + (ext - knee) * (k + 1) / n_dash
            cv2.line(img, _pt(a), _pt(b), (255, 255, 255), max(1, round(2 * s)), cv2.LINE_AA)
    r = round(0.35 * shank_len)
    a0 = math.degrees(math.atan2(thigh[1], thigh[0]))
    a1 = math.degrees(math.atan2(shank[1], shank[0]))
    d = (a1 - a0 + 180) % 360 - 180
    cv2.ellipse(img, _pt(knee), (r, r), 0, a0, a0 + d, color, max(2, round(3 * s)), cv2.LINE_AA)
    if fppa_deg is None or not math.isfinite(fppa_deg):
        text = label or "FPPA -"
    else:
        text = label or f"{fppa_deg:+.1f}°"
    # Box on the lateral side: away from the other hip.
    other_hip = xy_px[lm.hip(lm.other(side))]
    lateral = 1.0 if not np.all(np.isfinite(other_hip)) or other_hip[0] < hip[0] else -1.0
    w, h = text_size(text, 0.8 * s, max(1, round(2 * s)))
    x = knee[0] + lateral * 22 * s - (w + 12 if lateral < 0 else 0)
    draw_label(img, text, (round(x), round(knee[1] - h)), 0.8 * s, (255, 255, 255), color,
               max(1, round(2 * s)))


def draw_message(rgb: np.ndarray, message: str | None) -> np.ndarray:
    """A copy of the frame with a message box at the top (e.g. the model failed to load)."""
    out = rgb.copy()
    if message:
        s = _scale(out)
        words, lines, cur = message.split(), [], ""
        for w in words:
            if text_size(cur + " " + w, 0.7 * s, 1)[0] > out.shape[1] - 40 * s and cur:
                lines.append((cur, (255, 255, 255)))
                cur = w
            else:
                cur = (cur + " " + w).strip()
        lines.append((cur, (255, 255, 255)))
        draw_panel(out, lines, (round(8 * s), round(8 * s)), s)
    return out


def leg_rep_number(reps: tuple[RepScore, ...] | list[RepScore], rep: RepScore) -> int:
    """Which of its leg's complete single-leg reps ``rep`` is (1-based; the count towards 20),
    or 0 for a rep that does not count (cut off, or a double-leg squat)."""
    n = 0
    for r in reps:
        counts = r.complete and r.exercise == "single_leg"
        if r.leg == rep.leg and counts:
            n += 1
        if r is rep:
            return n if counts else 0
    return 0


def feedback_text(rep: RepScore, number: int) -> str:
    """'Left rep 3: FPPA 12.0° borderline', numbered per leg as the counters count."""
    if number == 0:
        return f"{rep.leg.capitalize()}: rep not counted ({'; '.join(rep.issues[:1]) or 'cut off'})"
    head = f"{rep.leg.capitalize()} rep {number}"
    if rep.band == "not_measurable":
        return f"{head}: not measurable"
    return f"{head}: FPPA {fmt_deg(rep.scored_fppa_deg)} {BAND_TEXT[rep.band]}"


def _draw_feedback(img: np.ndarray, reps: tuple[RepScore, ...], rep: RepScore) -> None:
    s = _scale(img)
    text = feedback_text(rep, leg_rep_number(reps, rep))
    w, h = text_size(text, 0.85 * s, max(1, round(2 * s)))
    x = (img.shape[1] - w) // 2 - 10
    y = img.shape[0] - h - round(40 * s)
    draw_label(img, text, (x, y), 0.85 * s, (255, 255, 255), BAND_RGB[rep.band],
               max(1, round(2 * s)), pad=round(10 * s))


# --------------------------------------------------------------------------- live overlay

SETUP_SHORT = {
    "person": "Person in the picture",
    "whole_body": "Whole body, head to feet",
    "square": "Facing the camera",
    "size": "Close enough",
}


def draw_live_overlay(
    rgb: np.ndarray,
    xy_px: np.ndarray | None,
    status: LiveStatus,
    cfg: AnalysisConfig,
    live_cfg: LiveConfig,
) -> np.ndarray:
    """A copy of a webcam frame with the skeleton, the stance knee's FPPA, the rep counters and
    the setup checklist or the last rep's feedback.

    Args:
        xy_px: (33, 2) raw landmarks of this frame in its pixels, or None.
        status: the ``LiveSession`` status after this frame.
    """
    out = rgb.copy()
    s = _scale(out)
    need = cfg.clearance.required_reps
    if xy_px is not None:
        stance = status.stance
        colors: dict[Side, RGB] = {}
        for leg in SIDES if status.phase != "setup" else ():  # nothing is measured in setup
            band = live_band(status.fppa_deg[leg], cfg)
            colors[leg] = BAND_RGB[band] if (stance is None or leg == stance) else FREE_LEG
        draw_skeleton(out, xy_px, colors, thick_leg=stance)
        if status.phase != "setup":
            for leg in SIDES if stance is None else (stance,):
                draw_knee_angle(out, xy_px, leg, status.fppa_deg[leg], colors[leg])
    if status.phase == "setup":
        lines: list[tuple[str, RGB]] = [("SETUP: stand on both feet, face the camera", NEUTRAL)]
        for item in status.setup.items:
            mark = "OK " if item.ok else "-> "
            color = BAND_RGB_ON_DARK["fine"] if item.ok else BAND_RGB_ON_DARK["borderline"]
            lines.append((mark + SETUP_SHORT[item.key], color))
        if status.setup.ok:
            left = max(0.0, live_cfg.setup_hold_s - status.setup_held_s)
            lines.append((f"Hold still... {left:.1f} s", BAND_RGB_ON_DARK["fine"]))
        draw_panel(out, lines, (round(8 * s), round(8 * s)), s)
        return out
    lines = [
        (f"Left  {status.counts['left']:>2} / {need}", NEUTRAL),
        (f"Right {status.counts['right']:>2} / {need}", NEUTRAL),
    ]
    if status.stance is not None:
        fppa = status.fppa_deg[status.stance]
        lines.append((f"{status.stance.capitalize()} knee FPPA {fmt_deg(fppa, 0)}",
                      BAND_RGB_ON_DARK[live_band(fppa, cfg)]))
    missing = [i for i in status.setup.items if not i.ok]
    if missing:
        lines.append(("! " + SETUP_SHORT[missing[0].key], BAND_RGB_ON_DARK["borderline"]))
    draw_panel(out, lines, (round(8 * s), round(8 * s)), s)
    recent = [
        r for r in status.reps if status.recorded_s - r.end_s <= live_cfg.rep_feedback_s
    ]
    if recent:
        rep = recent[-1]
        _draw_feedback(out, status.reps, rep)
    return out


# --------------------------------------------------------------------------- H.264 writer


class H264Writer:
    """Write RGB frames to an H.264 mp4 that browsers play: libx264, yuv420p, +faststart.

    Frames carry their own timestamps (variable frame rate is kept, millisecond resolution). Odd
    widths or heights are cropped by one pixel (yuv420p needs even sizes).

    Args:
        path: output .mp4. width_px, height_px: frame size. crf: x264 quality (lower = better;
        23 is x264's default). preset: x264 speed/size trade-off.
    """

    def __init__(
        self,
        path: str | Path,
        width_px: int,
        height_px: int,
        crf: int = 23,
        preset: str = "veryfast",
    ) -> None:
        self.path = Path(path)
        self._w, self._h = width_px - width_px % 2, height_px - height_px % 2
        if self._w < 2 or self._h < 2:
            raise ValueError(f"frame size {width_px}x{height_px} is too small to encode")
        self._container = av.open(str(self.path), mode="w", format="mp4",
                                  options={"movflags": "+faststart"})
        self._stream = self._container.add_stream("libx264", rate=30)
        self._stream.width, self._stream.height = self._w, self._h
        self._stream.pix_fmt = "yuv420p"
        self._stream.codec_context.time_base = Fraction(1, 1000)
        self._stream.options = {"crf": str(crf), "preset": preset}
        self._last_pts = -1
        self.frames = 0

    def write(self, rgb: np.ndarray, t_s: float) -> None:
        """Append one (H, W, 3) uint8 RGB frame shown at ``t_s`` seconds."""
        frame = av.VideoFrame.from_ndarray(
            np.ascontiguousarray(rgb[: self._h, : self._w]), format="rgb24"
        )
        pts = max(self._last_pts + 1, round(t_s * 1000))
        frame.pts, frame.time_base = pts, Fraction(1, 1000)
        self._last_pts = pts
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --------------------------------------------------------------------------- annotated video


@dataclass(frozen=True)
class RenderedVideo:
    """The annotated clip and the deepest frame of every rep (index into ``result.reps``) with the
    skeleton and the knee angle drawn, as (H, W, 3) uint8 RGB."""

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
    """One frame of the annotated video: skeleton, the stance knee's FPPA during a rep (in the
    rep's band colour), rep counters, and the finished rep's result for a moment after it.

    Args:
        xy_px: (33, 2) smoothed landmarks already scaled to ``rgb``'s pixels. i: frame index.
    """
    out = rgb.copy()
    s = _scale(out)
    cfg = result.config
    need = cfg.clearance.required_reps
    active = [r for r in result.reps if r.start_s <= t_s <= r.end_s]
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
    done = [r for r in result.reps if r.end_s < t_s]
    counts = {
        leg: sum(r.leg == leg and r.complete and r.exercise == "single_leg" for r in done)
        for leg in SIDES
    }
    lines: list[tuple[str, RGB]] = [
        (f"Left  {counts['left']:>2} / {need}", NEUTRAL),
        (f"Right {counts['right']:>2} / {need}", NEUTRAL),
    ]
    if active:
        n = result.reps.index(active[0]) + 1
        lines.append((f"Rep {n}: {active[0].leg} leg", NEUTRAL))
    draw_panel(out, lines, (round(8 * s), round(8 * s)), s)
    recent = [r for r in done if t_s - r.end_s <= 1.5]
    if recent:
        rep = recent[-1]
        _draw_feedback(out, result.reps, rep)
    return out


def crop_to_person(
    rgb: np.ndarray, xy_px: np.ndarray, height_px: int = 540, margin: float = 0.12
) -> tuple[np.ndarray, np.ndarray]:
    """The part of the frame around the person, scaled to ``height_px`` tall.

    Args:
        xy_px: (33, 2) landmarks in ``rgb``'s pixels.
        margin: added on every side, as a fraction of the person's height.
    Returns:
        The crop and the landmarks in its pixels. The whole frame when no landmark is known.
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
    """The deepest frame of a rep, cropped to the person: skeleton, the stance leg in the band
    colour, the FPPA angle drawn at the knee and a caption bar."""
    out, xy = crop_to_person(rgb, xy_px)
    s = _scale(out)
    color = BAND_RGB[rep.band]
    draw_skeleton(out, xy, {rep.leg: color, lm.other(rep.leg): FREE_LEG}, thick_leg=rep.leg)
    value = rep.fppa_bottom_deg if rep.scored_at != "reference_flexion" else rep.fppa_ref_deg
    if frontal:
        draw_knee_angle(out, xy, rep.leg, value, color,
                        label=None if value is not None else "FPPA -")
    caption = f"Rep {number} {rep.leg}: {BAND_TEXT[rep.band]}"
    if value is not None:
        caption += f" {fmt_deg(value)}"
    draw_label(out, caption, (0, out.shape[0]), 0.7 * s, (255, 255, 255), color,
               max(1, round(1.5 * s)), pad=round(8 * s))
    return out


ProgressFn = Callable[[int, int], None]


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
    Landmarks are drawn smoothed (as the numbers are computed). ``progress(done, total)`` is
    called every few frames.
    """
    from valgus.core.kinematics import smooth_landmarks

    xy_smooth, _ = smooth_landmarks(series, result.config.smoothing)
    n = len(series)
    bottoms: dict[int, list[int]] = {}
    for k, rep in enumerate(result.reps):
        bottoms.setdefault(rep.bottom_index, []).append(k)
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


# --------------------------------------------------------------------------- chart


def timeline_figure(kin: Kinematics, result: AnalysisResult) -> Any:
    """Plotly figure: FPPA (top) and knee flexion (bottom) of both legs over time, each rep
    shaded in its band colour and labelled, the valgus threshold and its borderline band drawn.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    cfg = result.config
    thr = cfg.valgus.threshold_deg(cfg.sex)
    margin = cfg.valgus.borderline_margin_deg
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
        subplot_titles=("FPPA (deg, + = knee medial / valgus)", "Knee flexion (deg)"),
    )
    dash = {"left": "solid", "right": "dot"}
    leg_color = {"left": "#1f4e8c", "right": "#7b3294"}
    t = kin.t_s
    in_stance: list[np.ndarray] = []
    for leg in SIDES:
        series = kin.leg(leg)
        fppa = series.fppa_deg if result.view.frontal else np.full_like(t, np.nan)
        # FPPA means something only for the leg standing in a rep; the free leg, bent behind,
        # reads anything up to +/-100 deg. Its own reps are drawn bold, the rest faint.
        own = np.zeros(t.shape, bool)
        for rep in result.reps:
            if rep.leg == leg:
                own |= (t >= rep.start_s) & (t <= rep.end_s)
        in_stance.append(fppa[own & np.isfinite(fppa)])
        fig.add_trace(go.Scatter(
            x=t, y=np.where(np.isfinite(fppa), fppa, None), name=f"{leg} FPPA, any time",
            line={"color": leg_color[leg], "dash": dash[leg], "width": 1}, opacity=0.3,
            legendgroup=leg, showlegend=False, hoverinfo="skip",
        ), row=1, col=1)
        fig.add_trace(go.Scatter(
            x=t, y=np.where(own & np.isfinite(fppa), fppa, None), name=f"{leg} FPPA",
            line={"color": leg_color[leg], "dash": dash[leg], "width": 2.5}, legendgroup=leg,
            hovertemplate="%{x:.2f} s: %{y:.1f} deg",
        ), row=1, col=1)
        flex = series.flexion_deg
        fig.add_trace(go.Scatter(
            x=t, y=np.where(np.isfinite(flex), flex, None), name=f"{leg} knee flexion",
            line={"color": leg_color[leg], "dash": dash[leg], "width": 2}, legendgroup=leg,
            hovertemplate="%{x:.2f} s: %{y:.0f} deg",
        ), row=2, col=1)
    values = np.concatenate(in_stance)
    if values.size == 0:
        everything = np.concatenate([kin.leg(s).fppa_deg for s in SIDES])
        values = everything[np.isfinite(everything)]
        values = np.percentile(values, [5, 95]) if values.size else np.zeros(1)
    low = min(float(np.min(values)), thr - margin, 0.0) - 5.0
    high = max(float(np.max(values)), thr + margin) + 5.0
    fig.update_yaxes(range=[max(low, -60.0), min(high, 60.0)], row=1, col=1)
    fig.add_hrect(y0=thr - margin, y1=thr + margin, fillcolor=BAND_HEX["borderline"],
                  opacity=0.12, line_width=0, row=1, col=1)
    fig.add_hline(y=thr, line={"color": BAND_HEX["excessive"], "dash": "dash", "width": 2},
                  annotation_text=f"threshold {thr:.1f} deg ({cfg.sex})",
                  annotation_position="top left", row=1, col=1)
    for k, rep in enumerate(result.reps, start=1):
        for row in (1, 2):
            fig.add_vrect(x0=rep.start_s, x1=rep.end_s, fillcolor=BAND_HEX[rep.band],
                          opacity=0.15, line_width=0, row=row, col=1)
        fig.add_annotation(
            x=rep.bottom_s, y=1.0, yref="y domain", xref="x", showarrow=False,
            text=f"{k} {SIDE_SHORT[rep.leg]}", font={"color": BAND_HEX[rep.band], "size": 12},
            row=1, col=1,
        )
    fig.update_xaxes(title_text="time (s)", row=2, col=1)
    fig.update_layout(
        height=520, margin={"l": 50, "r": 20, "t": 40, "b": 40}, hovermode="x unified",
        legend={"orientation": "h", "y": -0.15},
    )
    return fig


# --------------------------------------------------------------------------- whole report


@dataclass(frozen=True)
class Report:
    """Everything the app shows for one clip.

    ``files``: download name -> bytes (JSON, per-frame CSV, per-rep CSV). ``video``: the annotated
    clip. ``series`` is kept so that other thresholds can be applied without the pose model.
    """

    result: AnalysisResult
    kin: Kinematics
    series: PoseSeries
    video: RenderedVideo
    files: dict[str, bytes]


StageProgress = Callable[[float, str], None]


def build_report(
    video_path: str | Path,
    cfg: AnalysisConfig,
    work_dir: str | Path,
    estimator_factory: Callable[[], Any] | None = None,
    series: PoseSeries | None = None,
    leg: str = "auto",
    name: str | None = None,
    progress: StageProgress | None = None,
    max_side_px: int = 960,
) -> Report:
    """Pose estimation (unless ``series`` is given), analysis, annotated video and exports.

    The same path serves an upload, the sample clip and a kept self-test clip, so all three are
    scored alike. ``progress(fraction 0-1, what is being done)``.

    Raises:
        ValgusError: unreadable video, no model, nobody in the picture.
    """
    from valgus.pipeline import analyze_series
    from valgus.present.export import write_frames_csv, write_json, write_reps_csv
    from valgus.runtime.tracking import estimate_poses

    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    stem = Path(name or Path(video_path).name).stem
    report = progress or (lambda _f, _t: None)
    if series is None:
        if estimator_factory is None:
            from valgus.runtime.estimator import MediaPipePoseEstimator

            estimator_factory = MediaPipePoseEstimator

        def pose_progress(done: int, total: int | None) -> None:
            frac = min(done / total, 1.0) if total else 0.0
            report(0.8 * frac, f"Finding the body in every frame ({done} frames)")

        report(0.0, "Opening the video")
        series = estimate_poses(video_path, estimator_factory(), progress=pose_progress)
        # Named after the clip, not the temporary file an upload was written to.
        series = dataclasses.replace(series, source=Path(name or video_path).name)
    result, kin = analyze_series(series, cfg, leg=leg)  # type: ignore[arg-type]

    def render_progress(done: int, total: int) -> None:
        report(0.8 + 0.2 * done / max(total, 1), "Drawing the annotated video")

    video = render_analysis_video(
        video_path, series, kin, result, work / f"{stem}.annotated.mp4", max_side_px,
        render_progress,
    )
    files = {
        f"{stem}.valgus.json": write_json(result, work / f"{stem}.valgus.json").read_bytes(),
        f"{stem}.reps.csv": write_reps_csv(result, work / f"{stem}.reps.csv").read_bytes(),
        f"{stem}.frames.csv": write_frames_csv(kin, work / f"{stem}.frames.csv").read_bytes(),
    }
    report(1.0, "Done")
    return Report(result, kin, series, video, files)

