"""The flexion reference under a zoom (core/flexion.py): synthetic stick figure, known flexion."""

from __future__ import annotations

import dataclasses

import numpy as np

from tests.synthetic import evenly_spaced_reps, person_series, squat_curve, time_base
from valgus.config import KinematicsConfig, SmoothingConfig
from valgus.core.kinematics import compute_kinematics
from valgus.core.pose import PoseSeries


def zoomed_series(zoom: float) -> tuple[np.ndarray, PoseSeries]:
    """Left-leg reps (standing 5, bottom 80 deg), the camera zooming in by ``zoom`` (fraction)
    linearly over the clip about the image centre."""
    t = time_base(14.0, 30.0)
    flex = squat_curve(t, evenly_spaced_reps(3, 1.0, 3.0, 1.5, 80.0), 5.0)
    s = person_series(t, flex, "left")
    k = (1.0 + zoom * t / t[-1])[:, None, None]
    centre = np.array([360.0, 640.0])
    xy = ((s.xy_px - centre) * k + centre).astype(np.float32)
    return flex, dataclasses.replace(s, xy_px=xy)


def test_trunk_scale_follows_a_zoom_that_biases_the_pixel_reference() -> None:
    flex, series = zoomed_series(0.12)
    standing = flex < 6.0
    reads = {}
    for scale in ("none", "trunk"):
        kin = compute_kinematics(series, SmoothingConfig(), kin_cfg=KinematicsConfig(
            body_scale=scale))
        reads[scale] = kin.left.flexion_deg
    # Pixels: early standing frames are measured against the zoomed-in end of the window.
    assert np.nanmedian(reads["none"][standing][:20]) > 20.0
    assert np.nanmedian(np.abs(reads["trunk"][standing] - flex[standing])) < 5.0
    bottoms = flex > 79.0
    assert np.nanmax(np.abs(reads["trunk"][bottoms] - flex[bottoms])) < 4.0


def test_trunk_scale_is_not_applied_without_a_zoom() -> None:
    _flex, series = zoomed_series(0.0)
    a = compute_kinematics(series, SmoothingConfig(), kin_cfg=KinematicsConfig(body_scale="none"))
    b = compute_kinematics(series, SmoothingConfig(), kin_cfg=KinematicsConfig(body_scale="trunk"))
    np.testing.assert_array_equal(a.left.flexion_deg, b.left.flexion_deg)
