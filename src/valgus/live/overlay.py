"""What the live page draws on each webcam frame: the skeleton, the stance knee's FPPA, the rep
counters, and the setup checklist or the last rep's feedback."""

from __future__ import annotations

import numpy as np

from valgus.config import AnalysisConfig, LiveConfig
from valgus.landmarks import SIDES, Side
from valgus.live.session import LiveStatus
from valgus.present.draw import draw_corner_panel, draw_feedback, draw_knee_angle, draw_skeleton
from valgus.present.style import (
    BAND_RGB,
    BAND_RGB_ON_DARK,
    FREE_LEG,
    NEUTRAL,
    RGB,
    fmt_deg,
    live_band,
)

# The setup checks (``session.SetupItem.key``) as short checklist lines.
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
        rgb: (H, W, 3) uint8 frame.
        xy_px: (33, 2) raw landmarks of this frame in its pixels, or None.
        status: the ``LiveSession`` status after this frame.
    """
    out = rgb.copy()
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
        draw_corner_panel(out, lines)
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
    draw_corner_panel(out, lines)
    recent = [
        r for r in status.reps if status.recorded_s - r.end_s <= live_cfg.rep_feedback_s
    ]
    if recent:
        draw_feedback(out, status.reps, recent[-1])
    return out
