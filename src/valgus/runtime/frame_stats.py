"""Light and blur of a decoded frame, for the quality checks (``core.checks``)."""

from __future__ import annotations

import cv2
import numpy as np

# Light and blur are measured on every few kept frames (they change slowly; ~1 ms a frame).
IMAGE_STATS_EVERY_N = 5


def frame_image_stats(rgb: np.ndarray) -> tuple[float, float]:
    """(brightness, sharpness) of an (H, W, 3) uint8 RGB frame.

    brightness: mean luma 0-255. sharpness: variance of the Laplacian of the luma resized to
    320 px width (comparable across resolutions) and scaled to unit standard deviation
    (comparable across light levels: the raw measure falls with the square of the contrast, so
    a dim clip would read as blurred). A flat frame has sharpness 0.
    """
    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (320, max(1, round(320 * h / w))), interpolation=cv2.INTER_AREA)
    gray = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY).astype(np.float64)
    spread = float(gray.std())
    if spread < 1.0:
        return float(gray.mean()), 0.0  # a flat picture: nothing to be sharp
    return float(gray.mean()), float(cv2.Laplacian(gray / spread, cv2.CV_64F).var())
