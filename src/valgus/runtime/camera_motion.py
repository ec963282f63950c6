"""How the camera moved between consecutive frames, from the background (issue 16 item 4).

Per kept frame, the similarity transform (shift, zoom, roll) that carries the previous frame's
background onto this one: corners (``cv2.goodFeaturesToTrack``) found on the previous frame
outside the person, followed into this frame with pyramidal Lucas-Kanade optical flow, and
``cv2.estimateAffinePartial2D`` fitted to them with RANSAC, so that the person's own movement,
anyone walking past and mismatched points are left out. Everything runs on the luma downscaled
to ``MOTION_SIDE_PX`` on its longer side.

Each frame's step is what the picture's content did, about the centre of the picture
(``MOTION_COLUMNS``): a camera turned to the left moves the content to the right (+dx). A frame
whose background gives too few corners or too few consistent ones (a plain wall, heavy blur, the
person filling the picture) gets NaN: unknown, never zero. ``core.camera`` adds the steps up to
a path and judges it.

Cost per frame (the downscale to 320 px and the step; ``python -m valgus.runtime.camera_motion
CLIP`` prints it without a person mask), measured on this project's 2-core machine: on the real
hand-held clip (hyva7_sway_horizontal, 1216x720) 1.3 ms (0.34 ms downscale + 0.96 ms step, mean
of 100 frames) in a first measurement, median 1.2 ms (mean 1.9-2.6) under a load average of 6-7
from other work; on the rendered clips pasted over a texture with a corner every few pixels
(480x270, and 540x720 portrait shaken) median 1.8-2.4 ms under that load. The pose model takes
25-35 ms a frame, so the camera adds about 4-8% to an analysis.
"""

from __future__ import annotations

import math
import sys
import time

import cv2
import numpy as np

# The luma is downscaled to this many px on its longer side (320 px wide for a landscape clip,
# 240 for a portrait one) before corners are found and followed: a shift of 1% of the width is
# still 2.4-3.2 px there, far above Lucas-Kanade's ~0.1 px precision, and the cost stays near
# 1 ms a frame whichever way the phone was held.
MOTION_SIDE_PX = 320
# (dx, dy, log_scale, roll_deg) of one step: dx, dy the content's shift at the picture centre as
# a fraction of the picture width (x right, y down); log_scale the natural log of the content's
# scale change (+ = zoom in); roll_deg the content's turn (+ = clockwise on screen).
MOTION_COLUMNS = ("dx", "dy", "log_scale", "roll_deg")
UNKNOWN_STEP = np.full(4, np.nan, np.float32)
# Corners kept per frame, and their least spacing (px at MOTION_SIDE_PX): enough spread-out
# points that a RANSAC fit survives half of them being wrong or on a passer-by.
MAX_CORNERS = 120
MIN_CORNER_DISTANCE_PX = 8
# Corners weaker than this fraction of the frame's strongest are dropped (OpenCV's qualityLevel):
# low, so that a room's faint texture counts; RANSAC rejects what does not move together.
CORNER_QUALITY = 0.01
# RANSAC inlier distance (px at MOTION_SIDE_PX): the Lucas-Kanade error on a sharp frame is
# ~0.1 px, on a blurred or compressed one up to ~0.5 px.
RANSAC_THRESHOLD_PX = 1.0
# A step rests on at least this many inlier corners, else it is unknown: a similarity has 4
# unknowns, and fewer than a dozen points that agree can be a single object (a poster) moving.
MIN_INLIERS = 12
# The person's box (landmarks' bounding box) is widened by this fraction of its height on every
# side before it is masked out: arms, hair, loose clothes and the shadow lie outside the
# landmarks, and the person moves between the frame the box is from and the next.
PERSON_MARGIN = 0.25
# A frame without landmarks keeps the last box for this many frames (about half a second): the
# model loses a person who is still there (turning, a fast move) before one who walked out.
KEEP_BOX_FRAMES = 15

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the frame's size


def small_gray(rgb: np.ndarray, side_px: int = MOTION_SIDE_PX) -> np.ndarray:
    """(h, w) uint8 luma of an (H, W, 3) uint8 RGB frame, its longer side ``side_px``, aspect
    kept."""
    h, w = rgb.shape[:2]
    scale = side_px / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    # Bilinear, not area averaging: 0.3 ms instead of 3.5 ms for a 1216x720 frame; the aliasing
    # it lets through is fine texture, which the pyramid of the optical flow smooths anyway.
    return cv2.cvtColor(cv2.resize(rgb, size, interpolation=cv2.INTER_LINEAR),
                        cv2.COLOR_RGB2GRAY)


def person_box(
    xy_px: np.ndarray | None, size: tuple[int, int], margin: float = PERSON_MARGIN
) -> Box | None:
    """The area to mask out around a person: the bounding box of the finite (33, 2) landmarks
    ``xy_px`` (px of a frame of ``size`` = (width, height)), widened by ``margin`` x its height
    on every side, as fractions of the frame. None when there are no landmarks."""
    if xy_px is None:
        return None
    pts = np.asarray(xy_px, np.float64)
    pts = pts[np.isfinite(pts).all(axis=1)]
    if len(pts) < 2:
        return None
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    pad = margin * max(y1 - y0, x1 - x0)
    w, h = size
    return ((x0 - pad) / w, (y0 - pad) / h, (x1 + pad) / w, (y1 + pad) / h)


def _box_px(box: Box, shape: tuple[int, ...]) -> tuple[int, int, int, int]:
    h, w = shape[:2]
    return (max(0, math.floor(box[0] * w)), max(0, math.floor(box[1] * h)),
            min(w, math.ceil(box[2] * w)), min(h, math.ceil(box[3] * h)))


def _outside(points: np.ndarray, boxes: list[Box], shape: tuple[int, ...]) -> np.ndarray:
    """(N,) bool: the (N, 2) points lie outside every box."""
    keep = np.ones(len(points), bool)
    for box in boxes:
        x0, y0, x1, y1 = _box_px(box, shape)
        keep &= ~((points[:, 0] >= x0) & (points[:, 0] < x1)
                  & (points[:, 1] >= y0) & (points[:, 1] < y1))
    return keep


class CameraMotionTracker:
    """Frame-to-frame camera motion of one clip, fed frame by frame in order.

    ``step(gray, box)`` takes the next frame's ``small_gray`` and the person's box in it (or
    None) and returns the (4,) float32 step from the previous frame (``MOTION_COLUMNS``), NaN
    when unknown (the first frame, too few background corners, a change of picture size). A
    frame without a box keeps the last one for ``KEEP_BOX_FRAMES`` frames.
    """

    def __init__(self) -> None:
        self._gray: np.ndarray | None = None
        self._corners: np.ndarray | None = None  # (N, 1, 2) float32 on the previous frame
        self._box: Box | None = None
        self._boxless = 0  # frames since the last box

    def step(self, gray: np.ndarray, box: Box | None = None) -> np.ndarray:
        result = UNKNOWN_STEP
        if box is None and self._box is not None and self._boxless < KEEP_BOX_FRAMES:
            box = self._box
            self._boxless += 1
        elif box is not None:
            self._boxless = 0
        prev, corners = self._gray, self._corners
        boxes = [b for b in (box, self._box) if b is not None]
        if prev is not None and corners is not None and prev.shape == gray.shape:
            result = self._fit(prev, gray, corners, boxes)
        # Corners for the next step, outside the person here (the next frame's box also
        # drops those the person walks onto).
        mask = None
        if boxes:
            mask = np.full(gray.shape, 255, np.uint8)
            for b in boxes:
                x0, y0, x1, y1 = _box_px(b, gray.shape)
                mask[y0:y1, x0:x1] = 0
        self._corners = cv2.goodFeaturesToTrack(
            gray, MAX_CORNERS, CORNER_QUALITY, MIN_CORNER_DISTANCE_PX, mask=mask
        )
        self._gray, self._box = gray, box
        return result

    @staticmethod
    def _fit(
        prev: np.ndarray, gray: np.ndarray, corners: np.ndarray, boxes: list[Box]
    ) -> np.ndarray:
        if len(corners) < MIN_INLIERS:
            return UNKNOWN_STEP
        moved, status, _ = cv2.calcOpticalFlowPyrLK(
            prev, gray, corners, None, winSize=(15, 15), maxLevel=3
        )
        ok = status.ravel() == 1
        a, b = corners.reshape(-1, 2)[ok], moved.reshape(-1, 2)[ok]
        keep = _outside(b, boxes, gray.shape)
        a, b = a[keep], b[keep]
        if len(a) < MIN_INLIERS:
            return UNKNOWN_STEP
        fit, inliers = cv2.estimateAffinePartial2D(
            a, b, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_THRESHOLD_PX, maxIters=200
        )
        if fit is None or inliers is None or int(inliers.sum()) < MIN_INLIERS:
            return UNKNOWN_STEP
        return similarity_step(fit, gray.shape[1], gray.shape[0])


def similarity_step(fit: np.ndarray, width: int, height: int) -> np.ndarray:
    """The (4,) step (``MOTION_COLUMNS``) of a 2x3 partial affine ``fit`` (p' = M p + t, px of
    a ``width`` x ``height`` picture): the shift of the picture centre as a fraction of the
    width, the log of the scale, the turn in degrees."""
    m, t = fit[:, :2], fit[:, 2]
    centre = np.array([width / 2.0, height / 2.0])
    shift = (m @ centre + t - centre) / width
    scale = math.hypot(m[0, 0], m[1, 0])
    roll = math.degrees(math.atan2(m[1, 0], m[0, 0]))
    return np.array([shift[0], shift[1], math.log(scale), roll], np.float32)


def _timing(path: str) -> None:
    """Print the tracker's cost per frame (ms) over a clip, without the pose model (no person
    mask), and how many steps were known."""
    cap = cv2.VideoCapture(path)
    tracker, spent, known, n = CameraMotionTracker(), 0.0, 0, 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)  # as decoded for the model: not timed
        start = time.perf_counter()
        step = tracker.step(small_gray(rgb))
        spent += time.perf_counter() - start
        known += int(np.isfinite(step[0]))
        n += 1
    cap.release()
    print(f"{n} frames, {1000 * spent / max(n, 1):.2f} ms/frame, {known} steps known")


if __name__ == "__main__":
    for clip in sys.argv[1:]:
        _timing(clip)
