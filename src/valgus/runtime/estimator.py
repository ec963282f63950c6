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


@dataclass(frozen=True)
class FramePose:
    """The chosen person in one frame.

    xy_px: (33, 2) float32 image pixels, y down. world_m: (33, 3) float32 metres, hip-centred.
    visibility: (33,) float32. n_people: how many people are in the picture, or -1 where no
    count is reported on this frame (counts are made on some frames and reported a few frames
    later: ``MediaPipePoseEstimator``).
    """

    xy_px: np.ndarray
    world_m: np.ndarray
    visibility: np.ndarray
    n_people: int


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
    the previous frame's choice.
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
        )
        counter_options = PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self._model_path)),
            running_mode=RunningMode.IMAGE,
            num_poses=self._max_people,
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
        for name in ("_landmarker", "_counter"):
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
            # An image of its own: the tracker reads its image at the same time.
            counted = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
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
        world = np.array(
            [[p.x, p.y, p.z] for p in result.pose_world_landmarks[k]], dtype=np.float32
        )
        vis = np.array(
            [p.visibility if p.visibility is not None else 0.0 for p in result.pose_landmarks[k]],
            dtype=np.float32,
        )
        if people[k].shape != (NUM_LANDMARKS, 2):
            return None
        if len(people) > 1:
            n_people = max(n_people, len(people))
        return FramePose(people[k], world, vis, n_people)

    def _count_people(self, image: object) -> int:
        """People in ``image`` (runs in the counter's thread)."""
        return len(self._counter.detect(image).pose_landmarks)  # type: ignore[union-attr]

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
