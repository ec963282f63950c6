"""Clips with a known camera motion for the camera-motion tests (issue 16 item 4), made with
OpenCV from a textured background and, for the ones with a person, a committed rendered clip.

The rendered clips stand in front of a plain wall and floor, which give the background
estimator nothing to follow (it answers "unknown" there, as it should). Here the rendered
person is cut out of each frame (every pixel that is neither the wall's nor the floor's flat
colour) and pasted over a textured background moved exactly as the clip's own camera moved
(its truth: the content's shift at the picture centre and its zoom), so that the background's
motion is known and the person moves over it as filmed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from valgus.runtime.encode import H264Writer
from valgus.runtime.video import iter_frames


def texture(width: int, height: int, seed: int = 0) -> np.ndarray:
    """(height, width, 3) uint8 RGB: a room-like texture (blotches and edges at several
    scales, as shelves, posters and furniture give), different everywhere so that it has
    corners to follow."""
    rng = np.random.default_rng(seed)
    img = np.zeros((height, width, 3), np.float32)
    for cell, weight in ((64, 0.5), (16, 0.3), (4, 0.2)):
        small = rng.random((height // cell + 2, width // cell + 2, 3)).astype(np.float32)
        img += weight * cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    for _ in range(width * height // 4000):  # boxes: sharp corners
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = int(rng.integers(6, 40)), int(rng.integers(6, 40))
        colour = rng.random(3).astype(np.float32)
        cv2.rectangle(img, (x, y), (x + w, y + h), colour.tolist(), -1)
    # Muted, as a room is: a third of the full contrast around a light grey.
    return np.clip(255 * (0.55 + 0.35 * (img - 0.5)), 0, 255).astype(np.uint8)


def similarity(width: int, height: int, dx_px: float, dy_px: float, zoom: float = 1.0,
               roll_deg: float = 0.0) -> np.ndarray:
    """2x3 matrix that zooms by ``zoom`` and turns by ``roll_deg`` (clockwise on screen) about
    the picture centre, then moves the content by (dx_px, dy_px)."""
    c, s = zoom * math.cos(math.radians(roll_deg)), zoom * math.sin(math.radians(roll_deg))
    cx, cy = width / 2, height / 2
    return np.array([[c, -s, cx - c * cx + s * cy + dx_px],
                     [s, c, cy - s * cx - c * cy + dy_px]])


def person_mask(rgb: np.ndarray, tolerance: float = 7.0, edge_px: int = 20) -> np.ndarray:
    """(H, W) bool: pixels of the rendered person. The wall and floor are flat colours that
    change only from row to row (a level camera; the light's gentle gradient), so each row's
    background is read from the picture's left and right ``edge_px`` columns, which the person
    never reaches; a pixel further than ``tolerance`` from its row's background (max over RGB)
    is the person or their shadow."""
    img = rgb.astype(np.int16)
    edges = np.concatenate([img[:, :edge_px], img[:, -edge_px:]], axis=1)
    plate = np.median(edges, axis=1).astype(np.int16)[:, None, :]
    mask = (np.abs(img - plate).max(axis=2) > tolerance).astype(np.uint8)
    # Specks, and the wall-floor edge (a line 1-3 px high that the row model misses where it
    # slopes), are opened away.
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 2), np.uint8))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    return mask.astype(bool)


def over_texture(
    clip: Path, content_motion: np.ndarray, seed: int = 0
) -> Iterator[tuple[float, np.ndarray]]:
    """``(t_s, rgb)`` of the rendered ``clip`` with its person over a textured background moved
    by ``content_motion`` (T, 3): the content's shift at the picture centre (dx, dy px) and its
    zoom, per frame (the clip's truth, ``frames.camera_motion``)."""
    base: np.ndarray | None = None
    for k, (t_s, rgb) in enumerate(iter_frames(clip)):
        h, w = rgb.shape[:2]
        if base is None:
            base = texture(w, h, seed)
        dx, dy, zoom = content_motion[k]
        moved = cv2.warpAffine(base, similarity(w, h, dx, dy, zoom), (w, h),
                               borderMode=cv2.BORDER_REFLECT)
        mask = person_mask(rgb)
        yield t_s, np.where(mask[..., None], rgb, moved)


def shaken(
    frames: Iterator[tuple[float, np.ndarray]], amplitude: float, period_s: float
) -> Iterator[tuple[float, np.ndarray]]:
    """The frames filmed by a shaking hand: the whole picture moved by ``amplitude`` x its
    width across and half that up and down (sinusoids of ``period_s`` and 0.7 x it)."""
    for t_s, rgb in frames:
        h, w = rgb.shape[:2]
        dx = amplitude * w * math.sin(2 * math.pi * t_s / period_s)
        dy = 0.5 * amplitude * w * math.sin(2 * math.pi * t_s / (0.7 * period_s) + 0.5)
        yield t_s, cv2.warpAffine(rgb, similarity(w, h, dx, dy), (w, h),
                                  borderMode=cv2.BORDER_REFLECT)


def write_clip(frames: Iterator[tuple[float, np.ndarray]], path: Path) -> Path:
    """The frames encoded as the project encodes its clips (H.264, near-lossless)."""
    writer: H264Writer | None = None
    try:
        for t_s, rgb in frames:
            if writer is None:
                writer = H264Writer(path, rgb.shape[1], rgb.shape[0], crf=12)
            writer.write(rgb, t_s)
    finally:
        if writer is not None:
            writer.close()
    return path
