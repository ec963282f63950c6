"""What a synthetic clip shows: the body's look, the lights, and the whole clip's configuration
(motion, camera, camera motion, look, lights, encoding). Plain data; no torch, no renderer."""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field

import numpy as np

from valgus.synth.camera import CameraConfig, CameraMotion
from valgus.synth.motion import MotionConfig

# ----------------------------------------------------------------------------------------------
# Appearance


def _rgb(text: str) -> tuple[float, float, float]:
    t = text.lstrip("#")
    if len(t) != 6:
        raise argparse.ArgumentTypeError(f"colour must be #RRGGBB, got {text!r}")
    return tuple(int(t[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]


@dataclass(frozen=True)
class Look:
    """Body shape (anny phenotypes, 0..1) and colours (#RRGGBB)."""

    gender: float = 0.85  # anny: 0 = male, 1 = female
    age: float = 0.72  # anny: 2/3 = young adult, 1 = old
    muscle: float = 0.5
    weight: float = 0.5
    height: float = 0.5
    proportions: float = 0.5
    skin: str = "#c99a7b"
    hair: str = "#3a2618"
    shirt: str = "#2f5d9e"
    shorts: str = "#26262b"
    shoes: str = "#e8e8e8"
    floor: str = "#8c8275"
    wall: str = "#d9d6cf"

    def phenotypes(self) -> dict[str, float]:
        return {
            "gender": self.gender,
            "age": self.age,
            "muscle": self.muscle,
            "weight": self.weight,
            "height": self.height,
            "proportions": self.proportions,
        }


BODY_PRESETS: dict[str, dict[str, float]] = {
    "female": {"gender": 0.9, "age": 0.72, "muscle": 0.5, "weight": 0.45, "height": 0.45},
    "male": {"gender": 0.1, "age": 0.75, "muscle": 0.6, "weight": 0.55, "height": 0.42},
    "heavy": {"gender": 0.5, "age": 0.85, "muscle": 0.4, "weight": 0.85, "height": 0.5},
    "slim": {"gender": 0.8, "age": 0.7, "muscle": 0.45, "weight": 0.2, "height": 0.4},
}


# The key light's direction before it could be set: it shines along (0.6, 1.0, -0.9), i.e. it
# comes from the camera side, from the person's right and from above. The defaults below are that
# direction in azimuth and elevation, so clips made without the light options render as before.
_KEY_DIR = (0.6, 1.0, -0.9)
KEY_AZIMUTH_DEG = math.degrees(math.atan2(-_KEY_DIR[0], _KEY_DIR[1]))  # -31.0
KEY_ELEVATION_DEG = math.degrees(math.atan2(-_KEY_DIR[2], math.hypot(_KEY_DIR[0], _KEY_DIR[1])))


@dataclass(frozen=True)
class Lighting:
    """Scene lights: a directional key light, a fixed directional fill from the person's left,
    and uniform ambient light.

    ``key_azimuth_deg``: where the key light comes from around the vertical axis, measured like
    the camera yaw: 0 = from straight in front of the person (where a yaw-0 camera stands),
    + = towards the person's left, 90 = from the left side, 180 = from behind.
    ``key_elevation_deg``: how high above the horizon the key light comes from.
    ``intensity``: scale of the key and fill lights (1 = the lighting of the committed clips).
    ``ambient``: ambient light level (0.42 in the committed clips); not scaled by ``intensity``,
    so a dim clip keeps some light in the shadows unless this is lowered too.
    """

    intensity: float = 1.0
    key_azimuth_deg: float = KEY_AZIMUTH_DEG
    key_elevation_deg: float = KEY_ELEVATION_DEG
    ambient: float = 0.42

    def key_direction(self) -> np.ndarray:
        """Unit vector the key light shines along (world frame)."""
        az, el = math.radians(self.key_azimuth_deg), math.radians(self.key_elevation_deg)
        # The light sits at (sin az, -cos az) horizontally, like the camera, and shines back.
        return np.array([-math.sin(az) * math.cos(el), math.cos(az) * math.cos(el), -math.sin(el)])


@dataclass
class ClipConfig:
    motion: MotionConfig = field(default_factory=MotionConfig)
    camera: CameraConfig = field(default_factory=CameraConfig)
    look: Look = field(default_factory=Look)
    light: Lighting = field(default_factory=Lighting)
    camera_motion: CameraMotion = field(default_factory=CameraMotion)
    fps: float = 25.0
    crf: int = 28
    batch: int = 16
    shadows: bool = False
