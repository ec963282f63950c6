"""OpenCV drawing on frames: text (with a drawn '°'), labels, translucent panels, the skeleton,
a knee's FPPA angle, a message box and a rep's feedback bar.

Every function works in place (or on a copy, where it says so) on (H, W, 3) uint8 RGB arrays;
landmarks are (33, 2) pixel coordinates of that array, NaN where unknown.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from valgus import landmarks as lm
from valgus.core.scoring import RepScore
from valgus.landmarks import SIDES, Side
from valgus.present.style import (
    BAND_RGB,
    NEUTRAL,
    RGB,
    SHADOW,
    WHITE,
    feedback_text,
    leg_rep_number,
)

_FONT = cv2.FONT_HERSHEY_DUPLEX


def drawing_scale(img: np.ndarray) -> float:
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
    """A translucent dark panel of text lines (each with its colour) from ``corner`` (top-left).

    Returns the panel's box (x0, y0, x1, y1).
    """
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


def draw_corner_panel(img: np.ndarray, lines: list[tuple[str, RGB]]) -> None:
    """``draw_panel`` in the top-left corner, at the frame's drawing scale."""
    s = drawing_scale(img)
    draw_panel(img, lines, (round(8 * s), round(8 * s)), s)


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
    s = drawing_scale(img)
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
    arc between them, and the value (degrees, or ``label``) in a box beside the knee (on the side
    away from the body). Nothing is drawn when hip, knee or ankle is unknown.
    """
    hip, knee, ankle = xy_px[lm.hip(side)], xy_px[lm.knee(side)], xy_px[lm.ankle(side)]
    if not (np.all(np.isfinite(hip)) and np.all(np.isfinite(knee)) and np.all(np.isfinite(ankle))):
        return
    s = drawing_scale(img)
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
            cv2.line(img, _pt(a), _pt(b), WHITE, max(1, round(2 * s)), cv2.LINE_AA)
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
    draw_label(img, text, (round(x), round(knee[1] - h)), 0.8 * s, WHITE, color,
               max(1, round(2 * s)))


def draw_message(rgb: np.ndarray, message: str | None) -> np.ndarray:
    """A copy of the frame with a message box at the top (e.g. the model failed to load)."""
    out = rgb.copy()
    if message:
        s = drawing_scale(out)
        words, lines, cur = message.split(), [], ""
        for w in words:
            if text_size(cur + " " + w, 0.7 * s, 1)[0] > out.shape[1] - 40 * s and cur:
                lines.append((cur, WHITE))
                cur = w
            else:
                cur = (cur + " " + w).strip()
        lines.append((cur, WHITE))
        draw_corner_panel(out, lines)
    return out


def draw_feedback(img: np.ndarray, reps: Sequence[RepScore], rep: RepScore) -> None:
    """A finished rep's result (``style.feedback_text``) in its band colour, centred near the
    bottom of the frame, in place. ``reps``: every rep so far, for its number on its leg."""
    s = drawing_scale(img)
    text = feedback_text(rep, leg_rep_number(reps, rep))
    w, h = text_size(text, 0.85 * s, max(1, round(2 * s)))
    x = (img.shape[1] - w) // 2 - 10
    y = img.shape[0] - h - round(40 * s)
    draw_label(img, text, (x, y), 0.85 * s, WHITE, BAND_RGB[rep.band],
               max(1, round(2 * s)), pad=round(10 * s))


def landmark_of(leg: Side, point: str) -> int:
    """The landmark index of a leg's "hip", "knee" or "ankle"."""
    return {"hip": lm.hip, "knee": lm.knee, "ankle": lm.ankle}[point](leg)


def draw_moved_points(
    img: np.ndarray, moves: Sequence[tuple[np.ndarray, np.ndarray]], color: RGB
) -> None:
    """Points a reviewer moved, in place: each original position faint (a thin white ring with
    a dark edge and a thin line to where it went, blended at 60 %), each corrected one a dot in
    ``color`` with a white ring. ``moves``: (original, corrected) pixel positions in ``img``."""
    if not moves:
        return
    # Sized by the picture's height, so that they stay visible in a small report picture.
    r = max(4, round(img.shape[0] / 80))
    faint = img.copy()
    thin = max(1, round(img.shape[0] / 400))
    for original, corrected in moves:
        if np.all(np.isfinite(original)) and np.all(np.isfinite(corrected)):
            cv2.line(faint, _pt(original), _pt(corrected), SHADOW, thin + 2, cv2.LINE_AA)
            cv2.line(faint, _pt(original), _pt(corrected), WHITE, thin, cv2.LINE_AA)
        if np.all(np.isfinite(original)):
            cv2.circle(faint, _pt(original), r, SHADOW, thin + 2, cv2.LINE_AA)
            cv2.circle(faint, _pt(original), r, WHITE, thin, cv2.LINE_AA)
    cv2.addWeighted(faint, 0.6, img, 0.4, 0.0, dst=img)
    for _, corrected in moves:
        if np.all(np.isfinite(corrected)):
            cv2.circle(img, _pt(corrected), r + 2, SHADOW, -1, cv2.LINE_AA)
            cv2.circle(img, _pt(corrected), r + 1, WHITE, -1, cv2.LINE_AA)
            cv2.circle(img, _pt(corrected), r - 1, color, -1, cv2.LINE_AA)
