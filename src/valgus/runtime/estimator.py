"""Pose estimation: the only module that imports mediapipe.

``PoseEstimator`` is the small interface the rest of valgus uses; ``MediaPipePoseEstimator``
implements it with the MediaPipe Tasks ``PoseLandmarker`` in VIDEO mode (one per video, closed
after use). Tests pass a fake estimator instead.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self, TextIO

import numpy as np

from valgus.config import QualityConfig
from valgus.core.trust import PersonLock
from valgus.errors import ModelError
from valgus.landmarks import NUM_LANDMARKS
from valgus.paths import bundled_model_path

DEFAULT_MODEL_PATH = bundled_model_path()
# The people counter runs in a thread of its own, so that its inference (~30-60 ms, the person
# detector plus up to four landmark passes) overlaps the tracker's instead of stalling every
# counted frame (live: those frames set the 95th percentile of the time per frame). Its count is
# reported this many frames after the frame it was made on, by which time it is normally done:
# a fixed delay, so the same clip always gives the same counts on the same frames.
COUNT_DELAY_FRAMES = 5
# A person found is blanked out (their landmarks' box, widened by this fraction of its height on
# every side, filled with the picture's mean colour) before looking for the next one: the
# BlazePose detector reports the most salient person only, whatever ``num_poses`` says (the
# bystander case: 1 person counted on 37 of 37 frames with num_poses 4; 2 on 31 of 37 with the
# blanking). Widened so that an arm or a foot left out of the box is not found as a person; the
# widening stays under a body's width so that a person standing close beside is not hidden.
BLANK_MARGIN_FRACTION = 0.05
# Where a leg is looked at in the person's segmentation mask: a square of this many shank
# lengths (knee to ankle) either side of the knee and of mid-shin. Small enough to stay on the
# leg (a shank is ~0.25 of its length wide), large enough to average a few mask pixels.
LEG_PATCH_SHANKS = 0.08


@dataclass(frozen=True)
class FramePose:
    """The chosen person in one frame.

    xy_px: (33, 2) float32 image pixels, y down. world_m: (33, 3) float32 metres, hip-centred.
    visibility: (33,) float32. n_people: how many people are in the picture, or -1 where no
    count is reported on this frame (counts are made on some frames and reported a few frames
    later: ``MediaPipePoseEstimator``). other_person: the tracker was on someone other than the
    person under test and the person was not found in the frame; the landmarks are then NaN
    (visibility 0). leg_seen: (2,) float32 for the left and right leg, how surely the person's
    own body is seen at the knee and mid-shin (``leg_seen``); None where no mask was made.
    """

    xy_px: np.ndarray
    world_m: np.ndarray
    visibility: np.ndarray
    n_people: int
    other_person: bool = False
    leg_seen: np.ndarray | None = None


class PoseEstimator(Protocol):
    """One instance per video; timestamps passed to ``estimate`` must increase strictly."""

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def estimate(self, rgb: np.ndarray, t_s: float) -> FramePose | None:
        """rgb: (H, W, 3) uint8. Returns the person being tested, or None if nobody is seen."""
        ...


def resolve_model_path(model_path: str | Path | None) -> Path:
    """The model file to use: the given path, else the bundled one; ModelError if missing."""
    path = Path(model_path) if model_path is not None else DEFAULT_MODEL_PATH
    if not path.is_file():
        raise ModelError(
            f"pose model not found at {path}; pass --model with a pose_landmarker .task file"
        )
    return path


class MediaPipePoseEstimator:
    """MediaPipe Tasks PoseLandmarker in VIDEO mode.

    The tracked landmarker follows one person (``num_poses`` = 1 is twice as fast as 2 on these
    machines: with more, the person detector runs on every frame). To notice a second person,
    a separate IMAGE-mode landmarker counts the people on every ``count_people_every_n``-th frame
    (0 = never), in a thread of its own; the count is reported ``COUNT_DELAY_FRAMES`` frames
    later (on the frame the tracker is then on), and other frames report ``n_people`` = -1.
    With ``num_poses`` > 1 the one kept each frame is the largest, preferring the one closest to
    the previous frame's choice. People are counted one at a time, each found one blanked out
    before the next search (``BLANK_MARGIN_FRACTION``).

    One person: the first body tracked is locked (``core.trust.PersonLock`` with ``quality``'s
    thresholds: body size and jumps). When the tracker is on another body, that body is blanked
    out and a second VIDEO-mode landmarker looks for the person in the rest of the picture;
    found, it becomes the tracker; not found, the frame is reported ``other_person`` (no
    landmarks). ``lock_person=False`` turns this off.

    ``segment_legs``: the tracker also returns the person's segmentation mask, read at each
    leg's knee and shin (``FramePose.leg_seen``: hidden joints).
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        num_poses: int = 1,
        min_detection_confidence: float = 0.5,
        min_tracking_confidence: float = 0.5,
        count_people_every_n: int = 30,
        max_people_counted: int = 4,
        lock_person: bool = True,
        segment_legs: bool = True,
        quality: QualityConfig | None = None,
    ) -> None:
        self._model_path = resolve_model_path(model_path)
        self._num_poses = num_poses
        self._min_detection_confidence = min_detection_confidence
        self._min_tracking_confidence = min_tracking_confidence
        self._landmarker: object | None = None
        self._counter: object | None = None
        self._count_every_n = count_people_every_n
        self._max_people = max_people_counted
        self._frame_index = 0
        self._last_ms = -1
        self._previous_center: np.ndarray | None = None
        self._count_pool: ThreadPoolExecutor | None = None
        # (frame index the count was made on, the count to come)
        self._pending_count: tuple[int, Future[int]] | None = None
        self._lock_person = lock_person
        self._segment_legs = segment_legs
        self._quality = quality or QualityConfig()
        self._lock = PersonLock(self._quality)
        self._searcher: object | None = None
        self._video_options: object | None = None

    def __enter__(self) -> Self:
        from mediapipe.tasks.python import BaseOptions
        from mediapipe.tasks.python.vision import (
            PoseLandmarker,
            PoseLandmarkerOptions,
            RunningMode,
        )

        options = PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self._model_path)),
            running_mode=RunningMode.VIDEO,
            num_poses=self._num_poses,
            min_pose_detection_confidence=self._min_detection_confidence,
            min_tracking_confidence=self._min_tracking_confidence,
            output_segmentation_masks=self._segment_legs,
        )
        self._video_options = PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self._model_path)),
            running_mode=RunningMode.VIDEO,
            num_poses=1,
            min_pose_detection_confidence=self._min_detection_confidence,
            min_tracking_confidence=self._min_tracking_confidence,
            output_segmentation_masks=self._segment_legs,
        )
        counter_options = PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self._model_path)),
            running_mode=RunningMode.IMAGE,
            num_poses=1,  # one at a time, blanked out before the next (_count_people)
            min_pose_detection_confidence=self._min_detection_confidence,
        )
        def load(opts: PoseLandmarkerOptions) -> object:
            try:
                return PoseLandmarker.create_from_options(opts)
            except (RuntimeError, ValueError) as err:
                raise ModelError(f"cannot load pose model {self._model_path}: {err}") from err

        if self._count_every_n > 0:
            # The counter loads in its own thread while the tracker loads here (~0.1 s each).
            self._count_pool = ThreadPoolExecutor(1, thread_name_prefix="valgus-count")
            counter = self._count_pool.submit(load, counter_options)
        try:
            self._landmarker = load(options)
            if self._count_pool is not None:
                self._counter = counter.result()
        except ModelError:
            if self._count_pool is not None and self._counter is None:
                # Wait for the counter's load and keep it, so that __exit__ closes it too.
                with contextlib.suppress(ModelError):
                    self._counter = counter.result()
            self.__exit__(None, None, None)
            raise
        self._frame_index = 0
        self._pending_count = None
        self._lock = PersonLock(self._quality)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pending_count is not None:
            # Its result is not needed any more, but the counter must be idle before it closes.
            self._pending_count[1].exception()
            self._pending_count = None
        if self._count_pool is not None:
            self._count_pool.shutdown(wait=True)
            self._count_pool = None
        for name in ("_landmarker", "_counter", "_searcher"):
            landmarker = getattr(self, name)
            if landmarker is not None:
                landmarker.close()
                setattr(self, name, None)

    def estimate(self, rgb: np.ndarray, t_s: float) -> FramePose | None:
        import mediapipe as mp

        if self._landmarker is None:
            raise RuntimeError("use MediaPipePoseEstimator inside a with-block")
        # The landmarker needs strictly increasing integer milliseconds.
        t_ms = max(round(t_s * 1000.0), self._last_ms + 1)
        self._last_ms = t_ms
        rgb = np.ascontiguousarray(rgb)
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        index = self._frame_index
        self._frame_index += 1
        if (
            self._count_pool is not None
            and self._pending_count is None
            and index % self._count_every_n == 0
        ):
            # A copy of its own: the tracker reads its image at the same time.
            counted = rgb.copy()
            self._pending_count = (index, self._count_pool.submit(self._count_people, counted))
        result = self._landmarker.detect_for_video(image, t_ms)  # type: ignore[attr-defined]
        n_people = -1
        if self._pending_count is not None and index - self._pending_count[0] >= (
            COUNT_DELAY_FRAMES
        ):
            n_people = self._pending_count[1].result()  # normally done; else waits for it
            self._pending_count = None
        if not result.pose_landmarks:
            return None
        h, w = rgb.shape[:2]
        people = [
            np.array([[p.x * w, p.y * h] for p in pose], dtype=np.float32)
            for pose in result.pose_landmarks
        ]
        k = self._choose(people)
        self._previous_center = np.nanmean(people[k], axis=0)
        if people[k].shape != (NUM_LANDMARKS, 2):
            return None
        if len(people) > 1:
            n_people = max(n_people, len(people))
        pose = _frame_pose(result, k, people[k], n_people)
        if not self._lock_person or self._lock.matches(pose.xy_px, t_s):
            self._lock.accept(pose.xy_px, t_s)
            return pose
        # The tracker is on someone else: look for the person in the rest of the picture.
        found = self._search(rgb, pose.xy_px, t_ms, t_s, n_people)
        if found is not None:
            return found
        return FramePose(_NAN_XY, _NAN_WORLD, _NO_VIS, n_people, other_person=True)

    def _search(
        self, rgb: np.ndarray, other_xy: np.ndarray, t_ms: int, t_s: float, n_people: int
    ) -> FramePose | None:
        """The locked person in ``rgb`` with the tracked other body (``other_xy``, (33, 2) px)
        blanked out, by a landmarker of its own (VIDEO mode, so it keeps following a person it
        found); when found it becomes the tracker. None if the person is not there."""
        import mediapipe as mp
        from mediapipe.tasks.python.vision import PoseLandmarker

        if self._searcher is None:
            try:
                self._searcher = PoseLandmarker.create_from_options(self._video_options)
            except (RuntimeError, ValueError) as err:
                raise ModelError(f"cannot load pose model {self._model_path}: {err}") from err
        masked = blank_out(rgb, [other_xy])
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=masked)
        result = self._searcher.detect_for_video(image, t_ms)  # type: ignore[union-attr]
        if not result.pose_landmarks:
            return None
        h, w = rgb.shape[:2]
        xy = np.array([[p.x * w, p.y * h] for p in result.pose_landmarks[0]], dtype=np.float32)
        if xy.shape != (NUM_LANDMARKS, 2) or not self._lock.matches(xy, t_s):
            return None
        # The searcher follows the person from now on; the old tracker (on the other body) goes.
        self._landmarker.close()  # type: ignore[union-attr]
        self._landmarker, self._searcher = self._searcher, None
        self._lock.accept(xy, t_s)
        return _frame_pose(result, 0, xy, n_people)

    def _count_people(self, image: np.ndarray) -> int:
        """People in ``image`` ((H, W, 3) uint8 RGB; runs in the counter's thread): found one at
        a time, each blanked out before the next search, up to ``max_people_counted``."""
        import mediapipe as mp

        h, w = image.shape[:2]
        found: list[np.ndarray] = []
        for _ in range(self._max_people):
            masked = blank_out(image, found) if found else image
            data = mp.Image(image_format=mp.ImageFormat.SRGB, data=masked)
            result = self._counter.detect(data)  # type: ignore[union-attr]
            if not result.pose_landmarks:
                break
            found.append(np.array([[p.x * w, p.y * h] for p in result.pose_landmarks[0]]))
        return len(found)

    def _choose(self, people: list[np.ndarray]) -> int:
        if len(people) == 1:
            return 0
        heights = np.array([np.ptp(p[:, 1]) for p in people])
        if self._previous_center is None:
            return int(np.argmax(heights))
        dist = np.array([np.linalg.norm(p.mean(axis=0) - self._previous_center) for p in people])
        # Stay with the tracked person unless another one is much larger.
        score = heights / heights.max() - dist / max(float(heights.max()), 1.0)
        return int(np.argmax(score))


_NAN_XY = np.full((NUM_LANDMARKS, 2), np.nan, np.float32)
_NAN_WORLD = np.full((NUM_LANDMARKS, 3), np.nan, np.float32)
_NO_VIS = np.zeros(NUM_LANDMARKS, np.float32)


def _frame_pose(result: object, k: int, xy: np.ndarray, n_people: int) -> FramePose:
    """Person ``k`` of a landmarker ``result`` (its image landmarks ``xy`` already in px), with
    its legs read in the segmentation mask when the result has one."""
    world = np.array(
        [[p.x, p.y, p.z] for p in result.pose_world_landmarks[k]],  # type: ignore[attr-defined]
        dtype=np.float32,
    )
    vis = np.array(
        [p.visibility if p.visibility is not None else 0.0
         for p in result.pose_landmarks[k]],  # type: ignore[attr-defined]
        dtype=np.float32,
    )
    masks = getattr(result, "segmentation_masks", None)
    seen = leg_seen(masks[k].numpy_view(), xy) if masks and len(masks) > k else None
    return FramePose(xy, world, vis, n_people, leg_seen=seen)


def leg_seen(mask: np.ndarray, xy: np.ndarray, patch: float = LEG_PATCH_SHANKS) -> np.ndarray:
    """(2,) float32, left then right leg: the lesser of the mean person mask (``mask``: (H, W)
    or (H, W, 1), 0-1, the frame's size) in a square of ``patch`` shank lengths either side of
    the knee and of mid-shin. ``xy``: (33, 2) px. 0 where the point is off the picture, NaN
    where a landmark is missing."""
    from valgus import landmarks as lm

    m = mask.reshape(mask.shape[0], mask.shape[1])
    h, w = m.shape
    out = np.full(2, np.nan, np.float32)
    for j, side in enumerate(lm.SIDES):
        knee, ankle = xy[lm.knee(side)].astype(np.float64), xy[lm.ankle(side)].astype(np.float64)
        if not (np.all(np.isfinite(knee)) and np.all(np.isfinite(ankle))):
            continue
        r = max(1.0, patch * float(np.linalg.norm(knee - ankle)))
        values = []
        for x, y in (knee, 0.5 * (knee + ankle)):
            x0, x1 = max(0, int(x - r)), min(w, int(x + r) + 1)
            y0, y1 = max(0, int(y - r)), min(h, int(y + r) + 1)
            values.append(float(np.mean(m[y0:y1, x0:x1])) if x0 < x1 and y0 < y1 else 0.0)
        out[j] = min(values)
    return out


def blank_out(
    rgb: np.ndarray, bodies: list[np.ndarray], margin: float = BLANK_MARGIN_FRACTION
) -> np.ndarray:
    """A copy of ``rgb`` ((H, W, 3) uint8) with each body's box filled with the picture's mean
    colour. ``bodies``: (33, 2) px landmarks each; the box of a body's finite landmarks is
    widened by ``margin`` x its height on every side."""
    out = np.array(rgb, copy=True)
    fill = rgb.reshape(-1, rgb.shape[-1]).mean(axis=0).astype(np.uint8)
    h, w = rgb.shape[:2]
    for xy in bodies:
        pts = xy[np.all(np.isfinite(xy), axis=1)]
        if not len(pts):
            continue
        (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
        m = margin * (y1 - y0)
        top, bottom = max(0, int(y0 - m)), min(h, int(np.ceil(y1 + m)))
        left, right = max(0, int(x0 - m)), min(w, int(np.ceil(x1 + m)))
        out[top:bottom, left:right] = fill
    return out


_silenced_lock = threading.Lock()
_silenced: list[TextIO] = []  # the real-stderr stream while descriptor 2 is silenced


@contextlib.contextmanager
def native_logs_silenced(enabled: bool = True) -> Iterator[TextIO]:
    """Keep MediaPipe's C++ logging (written straight to file descriptor 2) off the terminal.

    Yields a text stream on the real stderr for our own progress line. Descriptor 2 is restored
    on exit, so error messages printed afterwards reach the user. Nested or concurrent uses share
    the outermost one (descriptor 2 is the process's, not a thread's).
    """
    if not enabled:
        yield sys.stderr
        return
    with _silenced_lock:
        outer = not _silenced
        if outer:
            os.environ.setdefault("GLOG_minloglevel", "2")
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            sys.stderr.flush()
            saved = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
            _silenced.append(os.fdopen(os.dup(saved), "w", buffering=1))
        else:
            _silenced.append(_silenced[0])
        stream = _silenced[0]
    try:
        yield stream
    finally:
        with _silenced_lock:
            _silenced.pop()
            if outer:
                stream.close()
                os.dup2(saved, 2)
                os.close(saved)
