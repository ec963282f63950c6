"""Pose time series: what the estimator produces and everything downstream consumes.

Knows nothing of MediaPipe; a series can be saved to ``.npz`` and loaded so that the analysis
re-runs (and tests run) without the model.
"""

from __future__ import annotations

import dataclasses
import itertools
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from valgus.landmarks import NUM_LANDMARKS

POSE_FILE_VERSION = 1


def check_shape(name: str, array: np.ndarray, expected: tuple[int | None, ...]) -> None:
    """Raise ValueError naming ``name``, the expected and the actual shape unless ``array``
    has ``expected`` (None = any length, shown as T: the number of frames)."""
    ok = array.ndim == len(expected) and all(
        e is None or a == e for a, e in zip(array.shape, expected, strict=True)
    )
    if not ok:
        shown = tuple("T" if e is None else e for e in expected)
        raise ValueError(f"{name} must have shape {shown}, got {array.shape}")


# The per-frame fields of a PoseSeries (first axis = frame), in the order they are declared.
FRAME_FIELDS = (
    "t_s", "xy_px", "world_m", "visibility", "n_people", "brightness", "sharpness",
    "other_person", "leg_seen", "camera_motion", "leg_still",
)


@dataclass(frozen=True)
class PoseSeries:
    """Landmarks of one person over time.

    Attributes:
        t_s: (T,) float64, seconds from the first frame, strictly increasing (container timestamps).
        xy_px: (T, 33, 2) float32 image landmarks in pixels, x right, y down; NaN where no person.
        world_m: (T, 33, 3) float32 world landmarks in metres, origin between the hips,
            y down (MediaPipe convention); NaN where no person.
        visibility: (T, 33) float32 in [0, 1]; 0 where no person.
        image_size: (width_px, height_px) of the frames the landmarks refer to.
        n_people: (T,) int16, number of people the estimator saw in each frame; -1 where it did
            not count (people are counted on a subset of frames).
        brightness: (T,) float32 mean luma 0-255 of the frame; NaN where not measured.
        sharpness: (T,) float32 variance of the Laplacian of the frame's luma at 320 px width,
            contrast-normalised (low = blurred; see ``quality.frame_image_stats``); NaN where not
            measured.
        source: free text naming the clip.
        picture_px: (x, y, width, height) px of the active picture inside ``image_size``: the
            part of the frame the camera filled, without static bars around it
            (``runtime.picture``); None = the whole frame. Checks judge size and edges on it.
        other_person: (T,) bool, the tracker was on someone else in this frame (another body
            size, or a jump across the picture: ``trust.PersonLock``) and the person under test
            was not found there; their landmarks are missing on it. All False by default.
        leg_seen: (T, 2) float32, left then right leg: how surely the person's own body is seen
            at the knee and mid-shin, the lesser of the two (the mean of the landmarker's person
            segmentation in a small disc there, 0-1; ``runtime.estimator.leg_seen``). Low where
            something in front hides the leg while the model still places it. NaN where not
            measured (no person, or a series made without masks).
        camera_motion: (T, 4) float32, how the picture's content moved since the previous
            frame: dx, dy (shift of the picture centre, fraction of the analysed picture's
            width, i.e. the active picture's; x right, y down), log of the scale change (+ =
            zoom in), roll (deg, + = clockwise), from the background with the person masked out
            (``runtime.camera_motion``). NaN where unknown (the first frame, a plain background,
            a series made without it); ``core.camera.camera_path`` adds the steps up.
        leg_still: (T, 2) float32, left then right leg: how little the picture at the knee and
            mid-shin changed while the leg moved (the change at the same spot in the picture
            since a frame in which the point was elsewhere, over the change following the
            point; the lesser of the two; ``runtime.occluder``). Near 0 where something in
            front stays put while the leg behind it moves. NaN where not measured (the leg did
            not move far enough within the last second, no person, an older series).
    """

    t_s: np.ndarray
    xy_px: np.ndarray
    world_m: np.ndarray
    visibility: np.ndarray
    image_size: tuple[int, int]
    n_people: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    source: str = ""
    brightness: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    sharpness: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    picture_px: tuple[float, float, float, float] | None = None
    other_person: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    leg_seen: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))
    camera_motion: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    leg_still: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))

    @property
    def picture(self) -> tuple[float, float, float, float]:
        """(x, y, width, height) px of the active picture (the whole frame unless cropped)."""
        if self.picture_px is None:
            return (0.0, 0.0, float(self.image_size[0]), float(self.image_size[1]))
        return self.picture_px

    def __post_init__(self) -> None:
        t = np.asarray(self.t_s, dtype=np.float64)
        n = t.shape[0] if t.ndim == 1 else -1
        check_shape("t_s", t, (None,))
        check_shape("xy_px", self.xy_px, (n, NUM_LANDMARKS, 2))
        check_shape("world_m", self.world_m, (n, NUM_LANDMARKS, 3))
        check_shape("visibility", self.visibility, (n, NUM_LANDMARKS))
        people = self.n_people
        if people.size == 0:
            people = np.isfinite(self.xy_px[:, 0, 0]).astype(np.int16)
        check_shape("n_people", people, (n,))
        stats = {}
        for name in ("brightness", "sharpness"):
            values = np.asarray(getattr(self, name), dtype=np.float32)
            if values.size == 0:
                values = np.full(n, np.nan, np.float32)
            check_shape(name, values, (n,))
            stats[name] = values
        other = np.asarray(self.other_person, dtype=bool)
        if other.size == 0:
            other = np.zeros(max(n, 0), bool)
        check_shape("other_person", other, (n,))
        object.__setattr__(self, "other_person", other)
        for name in ("leg_seen", "leg_still"):
            legs = np.asarray(getattr(self, name), dtype=np.float32)
            if legs.size == 0:
                legs = np.full((max(n, 0), 2), np.nan, np.float32)
            check_shape(name, legs, (n, 2))
            object.__setattr__(self, name, legs)
        motion = np.asarray(self.camera_motion, dtype=np.float32)
        if motion.size == 0:
            motion = np.full((max(n, 0), 4), np.nan, np.float32)
        check_shape("camera_motion", motion, (n, 4))
        object.__setattr__(self, "camera_motion", motion)
        if n > 1 and not np.all(np.diff(t) > 0):
            raise ValueError("t_s must be strictly increasing")
        object.__setattr__(self, "t_s", t)
        object.__setattr__(self, "xy_px", np.asarray(self.xy_px, dtype=np.float32))
        object.__setattr__(self, "world_m", np.asarray(self.world_m, dtype=np.float32))
        object.__setattr__(self, "visibility", np.asarray(self.visibility, dtype=np.float32))
        object.__setattr__(self, "n_people", np.asarray(people, dtype=np.int16))
        object.__setattr__(self, "image_size", (int(self.image_size[0]), int(self.image_size[1])))
        for name, values in stats.items():
            object.__setattr__(self, name, values)

    def __len__(self) -> int:
        return int(self.t_s.shape[0])

    @property
    def detected(self) -> np.ndarray:
        """(T,) bool: a person was found in the frame."""
        return np.isfinite(self.xy_px[:, 0, 0])

    def __getitem__(self, index: slice | np.ndarray) -> PoseSeries:
        """The frames ``index`` selects, as a series of the same clip.

        ``index``: a slice of frame indices (``series[i:j]``; a negative step raises ValueError,
        as times must increase), or a (T,) bool mask of the frames to keep (the others are
        dropped; see ``without`` to keep them as missing). Raises ValueError for a mask of another
        shape, TypeError for any other index (an int would not give a series).
        """
        if isinstance(index, slice):
            if index.step is not None and index.step < 1:
                raise ValueError(f"a series slice needs a positive step, got {index.step}")
            take: slice | np.ndarray = index
        elif isinstance(index, np.ndarray) and index.dtype == bool:
            take = self._mask(index)
        else:
            raise TypeError(
                f"a series is indexed by a slice or a (T,) bool mask, not {type(index).__name__}"
            )
        return self._with_frames({name: getattr(self, name)[take] for name in FRAME_FIELDS})

    def between(self, start_s: float, end_s: float | None = None) -> PoseSeries:
        """The frames with ``start_s <= t_s < end_s`` (``end_s`` None = to the end), in the
        series' own seconds; as ``runtime.tracking.Segment`` bounds. Empty if none."""
        i = int(np.searchsorted(self.t_s, start_s, side="left"))
        j = len(self) if end_s is None else int(np.searchsorted(self.t_s, end_s, side="left"))
        return self[i : max(i, j)]

    def without(self, drop: np.ndarray) -> PoseSeries:
        """The same frames with the person's landmarks missing on the ``drop`` frames: xy and
        world NaN, visibility 0, as where nobody was seen (times, people counts and image
        statistics are kept). ``drop``: (T,) bool; ValueError for another shape."""
        drop = self._mask(drop)
        if not drop.any():
            return self
        xy, world, vis = self.xy_px.copy(), self.world_m.copy(), self.visibility.copy()
        xy[drop] = np.nan
        world[drop] = np.nan
        vis[drop] = 0.0
        return dataclasses.replace(self, xy_px=xy, world_m=world, visibility=vis)

    def where(self, keep: np.ndarray) -> PoseSeries:
        """The same frames with the person's landmarks kept only where ``keep`` ((T,) bool) is
        True, missing elsewhere (``without(~keep)``)."""
        return self.without(~self._mask(keep))

    def _mask(self, mask: np.ndarray) -> np.ndarray:
        """``mask`` checked to be a (T,) bool array of this series' frames (ValueError)."""
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise ValueError(f"mask must be bool, got {mask.dtype}")
        check_shape("mask", mask, (len(self),))
        return mask

    @classmethod
    def concat(cls, parts: Sequence[PoseSeries], source: str | None = None) -> PoseSeries:
        """Consecutive series of one clip (e.g. the segments tracked by separate estimators)
        joined into one, in the order given.

        ``parts``: at least one series, all with the same ``image_size``; empty parts are
        skipped. ``source``: the result's (default: the first part's). Raises ValueError for no
        parts, different image sizes, or times not strictly increasing across the parts.
        """
        if not parts:
            raise ValueError("concat needs at least one series")
        sizes = {p.image_size for p in parts}
        if len(sizes) > 1:
            raise ValueError(f"cannot concat series of different image sizes: {sorted(sizes)}")
        kept = [p for p in parts if len(p)] or [parts[0]]
        if any(a.t_s[-1] >= b.t_s[0] for a, b in itertools.pairwise(kept)):
            raise ValueError("concat needs each series to start after the previous one ends")
        joined = {name: np.concatenate([getattr(p, name) for p in kept]) for name in FRAME_FIELDS}
        return kept[0]._with_frames(joined, parts[0].source if source is None else source)

    def _with_frames(self, frames: dict[str, np.ndarray], source: str | None = None) -> PoseSeries:
        """This series' clip (image size, source unless given) with other ``FRAME_FIELDS``."""
        return PoseSeries(
            t_s=frames["t_s"],
            xy_px=frames["xy_px"],
            world_m=frames["world_m"],
            visibility=frames["visibility"],
            image_size=self.image_size,
            n_people=frames["n_people"],
            source=self.source if source is None else source,
            brightness=frames["brightness"],
            sharpness=frames["sharpness"],
            picture_px=self.picture_px,
            other_person=frames["other_person"],
            leg_seen=frames["leg_seen"],
            camera_motion=frames["camera_motion"],
            leg_still=frames["leg_still"],
        )

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        extra: dict[str, Any] = {}
        if self.picture_px is not None:
            extra["picture_px"] = np.asarray(self.picture_px, np.float64)
        if self.other_person.any():
            extra["other_person"] = self.other_person
        if np.isfinite(self.leg_seen).any():
            extra["leg_seen"] = self.leg_seen
        if np.isfinite(self.leg_still).any():
            extra["leg_still"] = self.leg_still
        if np.isfinite(self.camera_motion).any():
            extra["camera_motion"] = self.camera_motion
        np.savez_compressed(
            path,
            **extra,
            version=np.int32(POSE_FILE_VERSION),
            t_s=self.t_s,
            xy_px=self.xy_px,
            world_m=self.world_m,
            visibility=self.visibility,
            image_size=np.asarray(self.image_size, dtype=np.int32),
            n_people=self.n_people,
            source=np.asarray(self.source),
            brightness=self.brightness,
            sharpness=self.sharpness,
        )
        return path if path.suffix == ".npz" else path.with_suffix(path.suffix + ".npz")

    @classmethod
    def load(cls, path: str | Path) -> PoseSeries:
        """The series ``save`` wrote. Raises ValueError naming what is wrong when the file is
        not such a pose file (another kind of file, another .npz, a newer version)."""
        not_ours = "not a valgus pose file (the .npz that --save-poses writes)"
        try:
            loaded = np.load(Path(path), allow_pickle=False)
        except (ValueError, EOFError, zipfile.BadZipFile) as err:
            raise ValueError(not_ours) from err
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise ValueError(not_ours)
        with loaded as data:
            missing = sorted({"version", "t_s", "xy_px", "world_m", "visibility", "image_size",
                              "n_people", "source"} - set(data.files))
            if missing:
                raise ValueError(f"{not_ours}: it lacks {', '.join(missing)}")
            version = int(data["version"])
            if version != POSE_FILE_VERSION:
                raise ValueError(f"pose file version {version} is not supported")
            return cls(
                t_s=data["t_s"],
                xy_px=data["xy_px"],
                world_m=data["world_m"],
                visibility=data["visibility"],
                image_size=(int(data["image_size"][0]), int(data["image_size"][1])),
                n_people=data["n_people"],
                source=str(data["source"]),
                brightness=data["brightness"] if "brightness" in data else np.zeros(0),
                sharpness=data["sharpness"] if "sharpness" in data else np.zeros(0),
                picture_px=(tuple(float(v) for v in data["picture_px"])  # type: ignore[arg-type]
                            if "picture_px" in data else None),
                other_person=data["other_person"] if "other_person" in data else np.zeros(0, bool),
                leg_seen=data["leg_seen"] if "leg_seen" in data else np.zeros((0, 2)),
                camera_motion=(data["camera_motion"] if "camera_motion" in data
                               else np.zeros((0, 4))),
                leg_still=data["leg_still"] if "leg_still" in data else np.zeros((0, 2)),
            )

    @classmethod
    def empty(cls, image_size: tuple[int, int], source: str = "") -> PoseSeries:
        return cls(
            t_s=np.zeros(0),
            xy_px=np.zeros((0, NUM_LANDMARKS, 2), np.float32),
            world_m=np.zeros((0, NUM_LANDMARKS, 3), np.float32),
            visibility=np.zeros((0, NUM_LANDMARKS), np.float32),
            image_size=image_size,
            n_people=np.zeros(0, np.int16),
            source=source,
        )

    def mirrored(self) -> PoseSeries:
        """The same series as seen in a horizontally flipped (selfie) image: x -> width - x.

        Landmark labels are kept, so the result is what a mirrored clip looks like to code that
        trusts the labels; used to check that valgus signs come from anatomy, not from image x.
        """
        xy = self.xy_px.copy()
        xy[..., 0] = self.image_size[0] - xy[..., 0]
        world = self.world_m.copy()
        world[..., 0] = -world[..., 0]
        picture = self.picture_px
        if picture is not None:
            picture = (self.image_size[0] - picture[0] - picture[2], *picture[1:])
        motion = self.camera_motion.copy()
        motion[:, [0, 3]] *= -1  # shifts across and turns are mirrored too
        return dataclasses.replace(
            self, xy_px=xy, world_m=world, picture_px=picture, camera_motion=motion
        )
