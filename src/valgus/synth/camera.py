"""Pinhole camera and the truth geometry (pure numpy, no torch).

World frame of the synthetic scene: metres, z up, floor at z = 0, x towards the person's left,
and the person faces -y (so a camera in front of them sits at negative y).

Image pixels: x right, y down, (0, 0) the top-left corner of the top-left pixel (so the centre of
pixel (i, j) is (i + 0.5, j + 0.5)), the convention MediaPipe's normalized landmarks times the
image size follow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class CameraConfig:
    """Where the camera stands. Angles in degrees, lengths in metres.

    ``yaw_deg``: the camera moved around the person's vertical axis, + = towards the person's
    left. ``pitch_deg``: the optical axis tilted down from horizontal (+ = looking down).
    ``fov_deg``: vertical field of view; ``None`` = fit the floor to ``fit_top_m`` at the person
    (the generator sets it to the body's height plus a margin)."""

    distance_m: float = 3.0
    height_m: float = 0.75
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    fov_deg: float | None = None
    width: int = 540
    height: int = 720
    # The vertical axis the camera turns around (yaw) and looks at: (x, y) on the floor.
    target_xy_m: tuple[float, float] = (0.0, 0.0)
    fit_top_m: float = 1.95

    def yfov_rad(self) -> float:
        if self.fov_deg is not None:
            return math.radians(self.fov_deg)
        # A level camera that sees from just below the floor to 1.95 m at the person.
        half = max(self.fit_top_m - self.height_m, self.height_m + 0.12)
        return 2.0 * math.atan(half / self.distance_m) + abs(math.radians(self.pitch_deg))


@dataclass(frozen=True)
class Camera:
    position: np.ndarray  # (3,) world
    rotation: np.ndarray  # (3, 3) columns: camera right, up, backward (OpenGL), in world
    yfov: float
    width: int
    height: int

    @property
    def focal_px(self) -> float:
        return 0.5 * self.height / math.tan(0.5 * self.yfov)

    def pose_matrix(self) -> np.ndarray:
        """4x4 camera-to-world matrix (OpenGL camera: looks along its -z, y up)."""
        m = np.eye(4)
        m[:3, :3] = self.rotation
        m[:3, 3] = self.position
        return m

    def project(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) world points -> (..., 2) image pixels (x right, y down)."""
        rel = points - self.position
        right, up, back = self.rotation[:, 0], self.rotation[:, 1], self.rotation[:, 2]
        xc = rel @ right
        yc = rel @ up
        depth = -(rel @ back)
        f = self.focal_px
        u = 0.5 * self.width + f * xc / depth
        v = 0.5 * self.height - f * yc / depth
        return np.stack([u, v], axis=-1)

    def to_dict(self) -> dict:
        f = self.focal_px
        return {
            "position_m": [round(float(x), 4) for x in self.position],
            "camera_to_world_rotation": [[round(float(x), 6) for x in r] for r in self.rotation],
            "yfov_deg": round(math.degrees(self.yfov), 4),
            "intrinsics_px": {"fx": f, "fy": f, "cx": self.width / 2, "cy": self.height / 2},
            "width": self.width,
            "height": self.height,
        }


def make_camera(cfg: CameraConfig) -> Camera:
    yaw = math.radians(cfg.yaw_deg)
    tx, ty = cfg.target_xy_m
    pos = np.array(
        [tx + cfg.distance_m * math.sin(yaw), ty - cfg.distance_m * math.cos(yaw), cfg.height_m]
    )
    pitch = math.radians(cfg.pitch_deg)
    fwd = np.array(
        [-math.sin(yaw) * math.cos(pitch), math.cos(yaw) * math.cos(pitch), -math.sin(pitch)]
    )
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, fwd)
    rot = np.stack([right, up, -fwd], axis=1)
    return Camera(pos, rot, cfg.yfov_rad(), cfg.width, cfg.height)


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def fppa_deg(
    hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray, other_hip: np.ndarray
) -> np.ndarray:
    """Signed 2D frontal plane projection angle, + = knee medial of the hip-ankle line.

    Angle between the projected thigh (hip -> knee) and shank (knee -> ankle); medial = the side
    of the hip-ankle line where the other hip lies. Inputs (..., 2) image points.
    """
    thigh, shank = knee - hip, ankle - knee
    cos = np.sum(_unit(thigh) * _unit(shank), axis=-1)
    mag = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    line = _unit(ankle - hip)
    rel = knee - hip
    off = rel - np.sum(rel * line, axis=-1, keepdims=True) * line
    side = np.sign(np.sum(off * (other_hip - hip), axis=-1))
    return mag * side


def flexion_deg(hip: np.ndarray, knee: np.ndarray, ankle: np.ndarray) -> np.ndarray:
    """3D knee flexion, 0 = straight: the angle between thigh and shank directions."""
    cos = np.sum(_unit(knee - hip) * _unit(ankle - knee), axis=-1)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def pelvic_drop_deg(stance_hip: np.ndarray, free_hip: np.ndarray) -> np.ndarray:
    """Tilt of the projected hip-joint line from image horizontal, + = free-side hip lower.

    Inputs (..., 2) image points, y down. The same rule as ``valgus.kinematics.pelvic_drop_deg``
    (written again here so the truth does not come from the code it checks): the horizontal run
    is taken as a magnitude, so the sign says only which hip is lower, whatever side of the image
    the stance leg is on.
    """
    d = free_hip - stance_hip
    return np.degrees(np.arctan2(d[..., 1], np.abs(d[..., 0])))


# ----------------------------------------------------------------------------------------------
# A moving camera: hand-held sway, slow pan, slow zoom

CAMERA_MOTIONS: tuple[str, ...] = ("static", "sway", "pan", "zoom")
# Default amplitude per kind: sway and pan as a fraction of the picture (width for x, height for
# y), zoom as the focal length's largest relative change.
DEFAULT_AMPLITUDE = {"static": 0.0, "sway": 0.015, "pan": 0.06, "zoom": 0.10}
# Sway periods (s) of the horizontal and vertical oscillations; incommensurate so the path does
# not repeat within a clip, as a hand-held phone's does not.
SWAY_PERIODS_S = (1.9, 2.7)


@dataclass(frozen=True)
class CameraMotion:
    """How the camera moves during the clip.

    ``kind``:
    * ``static``: it does not;
    * ``sway``: hand-held: the picture content oscillates by ``amplitude`` x the picture width
      horizontally and x the picture height vertically (peak; sinusoids of periods
      ``SWAY_PERIODS_S``, or ``period_s`` and 1.42 x ``period_s``);
    * ``pan``: a slow pan across the clip: the content drifts from ``-amplitude`` to
      ``+amplitude`` x the width (cosine ease), or back and forth with ``period_s``;
    * ``zoom``: a slow zoom in and out: the focal length grows to ``1 + amplitude`` at mid-clip
      and back (one cosine cycle over the clip, or over ``period_s``).
    Sway and pan turn the camera about its own centre (so the shift is exact for the point at the
    picture centre and nearly so elsewhere); zoom changes the field of view. The truth projects
    the joints with each frame's own camera, so it is exact in the moved frame's pixels."""

    kind: str = "static"
    amplitude: float | None = None
    period_s: float | None = None

    def amp(self) -> float:
        if self.kind not in CAMERA_MOTIONS:
            raise ValueError(f"camera motion must be one of {CAMERA_MOTIONS}, got {self.kind!r}")
        return DEFAULT_AMPLITUDE[self.kind] if self.amplitude is None else float(self.amplitude)

    def at(
        self, t_s: np.ndarray, duration_s: float, width: int, height: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Content shift (dx, dy) in pixels (x right, y down) and zoom factor, each (T,)."""
        t = np.asarray(t_s, float)
        a = self.amp()
        zero = np.zeros_like(t)
        if self.kind == "sway":
            px, py = (
                SWAY_PERIODS_S if self.period_s is None else (self.period_s, 1.42 * self.period_s)
            )
            dx = a * width * np.sin(2 * math.pi * t / px)
            dy = a * height * np.sin(2 * math.pi * t / py + 0.9)
            return dx, dy, np.ones_like(t)
        if self.kind == "pan":
            period = 2.0 * duration_s if self.period_s is None else self.period_s
            return -a * width * np.cos(2 * math.pi * t / period), zero, np.ones_like(t)
        if self.kind == "zoom":
            period = duration_s if self.period_s is None else self.period_s
            return zero, zero, 1.0 + a * 0.5 * (1.0 - np.cos(2 * math.pi * t / period))
        return zero, zero, np.ones_like(t)


def moved_camera(cam: Camera, dx_px: float, dy_px: float, zoom: float) -> Camera:
    """The camera turned about its centre so that the picture centre's content moves by
    (dx_px, dy_px) pixels (x right, y down), with its focal length times ``zoom``."""
    f = cam.focal_px
    # In the moved camera's frame (x right, y up, z backward) the old optical axis must point
    # through pixel (centre + (dx, dy)): direction v. The smallest turn taking v to the optical
    # axis e gives the moved camera (no roll).
    v = np.array([dx_px, -dy_px, -f]) / math.sqrt(dx_px * dx_px + dy_px * dy_px + f * f)
    e = np.array([0.0, 0.0, -1.0])
    axis = np.cross(v, e)
    s, c = float(np.linalg.norm(axis)), float(np.dot(v, e))
    turn = np.eye(3)
    if s > 1e-12:
        k = axis / s
        kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
        turn = np.eye(3) + s * kx + (1 - c) * (kx @ kx)
    rot = cam.rotation @ turn
    yfov = 2.0 * math.atan(math.tan(0.5 * cam.yfov) / zoom)
    return Camera(cam.position.copy(), rot, yfov, cam.width, cam.height)


def camera_path(
    cam: Camera, motion: CameraMotion, t_s: np.ndarray, duration_s: float
) -> tuple[list[Camera], np.ndarray]:
    """Per-frame cameras and their (T, 3) motion (dx px, dy px, zoom) for a clip."""
    dx, dy, zoom = motion.at(t_s, duration_s, cam.width, cam.height)
    cams = [
        moved_camera(cam, float(a), float(b), float(z))
        for a, b, z in zip(dx, dy, zoom, strict=True)
    ]
    return cams, np.stack([dx, dy, zoom], axis=1)


def project_frames(cams: list[Camera], points: np.ndarray) -> np.ndarray:
    """(T, 3) world points, one per frame, -> (T, 2) pixels, each by its frame's camera."""
    return np.stack([c.project(p) for c, p in zip(cams, points, strict=True)])
