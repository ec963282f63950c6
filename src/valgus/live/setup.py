"""The live self-test's setup check: is the camera placed so that the test can be measured
(whole body in the picture, facing the camera, large enough)? Pure numpy."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from valgus import landmarks as lm
from valgus.config import LiveConfig
from valgus.core.checks import FILMING_GUIDANCE

# Landmarks that must be inside the picture for the test: head, trunk, legs and both feet.
SETUP_LANDMARKS: tuple[int, ...] = (
    lm.NOSE,
    lm.LEFT_SHOULDER, lm.RIGHT_SHOULDER,
    lm.LEFT_HIP, lm.RIGHT_HIP,
    lm.LEFT_KNEE, lm.RIGHT_KNEE,
    lm.LEFT_ANKLE, lm.RIGHT_ANKLE,
    lm.LEFT_HEEL, lm.RIGHT_HEEL,
    lm.LEFT_FOOT_INDEX, lm.RIGHT_FOOT_INDEX,
)
FEET: tuple[int, ...] = (
    lm.LEFT_ANKLE, lm.RIGHT_ANKLE, lm.LEFT_HEEL, lm.RIGHT_HEEL,
    lm.LEFT_FOOT_INDEX, lm.RIGHT_FOOT_INDEX,
)

# Where the camera goes: the one filming advice of every page and message (core.checks).
CAMERA_PLACEMENT = FILMING_GUIDANCE


@dataclass(frozen=True)
class SetupItem:
    """One setup check: ``key`` names it, ``message`` says what is right or what to do."""

    key: Literal["person", "whole_body", "square", "size"]
    ok: bool
    message: str


@dataclass(frozen=True)
class SetupStatus:
    items: tuple[SetupItem, ...]

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.items)


def check_setup(
    xy_px: np.ndarray | None,
    image_size: tuple[int, int],
    yaw_deg: float,
    cfg: LiveConfig,
) -> SetupStatus:
    """Is the camera placed so that the test can be measured?

    Args:
        xy_px: (33, 2) image landmarks of the person in pixels, or None when nobody is seen.
        image_size: (width_px, height_px) of the frame.
        yaw_deg: recent body turn from the camera (see ``kinematics.body_yaw_deg``), NaN if
            unknown.
        cfg: the setup limits.
    Returns:
        One item per check, in the order a person would fix them.
    """
    if xy_px is None or not np.all(np.isfinite(xy_px[list(SETUP_LANDMARKS)])):
        missing = SetupItem("person", False, "Step into the picture. " + CAMERA_PLACEMENT)
        return SetupStatus((missing,))
    w, h = image_size
    pts = xy_px[list(SETUP_LANDMARKS)]
    mx, my = cfg.setup_edge_margin_fraction * w, cfg.setup_edge_margin_fraction * h
    out: list[str] = []
    if xy_px[lm.NOSE, 1] < my:
        out.append("your head")
    feet = xy_px[list(FEET)]
    if np.any(feet[:, 1] > h - my):
        out.append("your feet")
    if np.any(pts[:, 0] < mx) or np.any(pts[:, 0] > w - mx):
        out.append("one side of your body")
    if out:
        whole = SetupItem(
            "whole_body", False,
            f"{' and '.join(out).capitalize()} {'is' if len(out) == 1 else 'are'} out of the "
            "picture: move the camera further away, or tilt it so that head and feet show.",
        )
    else:
        whole = SetupItem("whole_body", True, "Whole body in the picture, head to feet.")
    if not math.isfinite(yaw_deg):
        square = SetupItem("square", False, "Face the camera squarely.")
    elif abs(yaw_deg) > cfg.setup_max_yaw_deg:
        square = SetupItem(
            "square", False,
            f"Turn to face the camera squarely: you are turned about {abs(yaw_deg):.0f} deg "
            f"(at most {cfg.setup_max_yaw_deg:.0f}).",
        )
    else:
        square = SetupItem("square", True, f"Facing the camera (turned {abs(yaw_deg):.0f} deg).")
    top = min(float(xy_px[lm.NOSE, 1]), float(np.min(pts[:, 1])))
    height_frac = (float(np.max(feet[:, 1])) - top) / h
    if height_frac < cfg.setup_min_body_height_fraction:
        size = SetupItem(
            "size", False,
            f"Come closer to the camera: you fill {100 * height_frac:.0f}% of the picture height "
            f"(at least {100 * cfg.setup_min_body_height_fraction:.0f}%).",
        )
    else:
        size = SetupItem("size", True, f"Large enough ({100 * height_frac:.0f}% of the height).")
    return SetupStatus((SetupItem("person", True, "Person found."), whole, square, size))
