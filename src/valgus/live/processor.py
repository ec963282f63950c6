"""One webcam stream of the live self-test: ``LiveProcessor`` runs its own pose estimator on
each frame, feeds a ``LiveSession``, draws the overlay and keeps the processed frames as an H.264
clip, so that the self-test can be analysed afterwards exactly like an uploaded video
(``app.clip_report.build_report``). Also the WebRTC ICE servers from the environment's text.

No Streamlit here: the app's live page wraps ``LiveProcessor`` in a streamlit-webrtc processor.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from valgus.config import AnalysisConfig, LiveConfig
from valgus.core.scoring import RepScore
from valgus.errors import ValgusError
from valgus.live.overlay import draw_live_overlay
from valgus.live.session import LiveSession, LiveStatus
from valgus.present.draw import draw_message
from valgus.runtime.encode import H264Writer
from valgus.runtime.estimator import PoseEstimator
from valgus.runtime.frame_stats import IMAGE_STATS_EVERY_N, frame_image_stats
from valgus.runtime.occluder import OccluderMeter
from valgus.runtime.picture import fit_frame

log = logging.getLogger(__name__)

# x264 quality of the kept self-test clip (lower = closer to the frames analysed live).
KEPT_CLIP_CRF = 18


# --------------------------------------------------------------------------- ICE servers


def ice_servers_from_text(text: str) -> tuple[list[dict[str, object]], str | None]:
    """ICE servers for WebRTC from a JSON list (the ``VALGUS_ICE_SERVERS`` variable).

    Empty (the default) = no STUN/TURN server: the browser and this machine connect directly,
    which works on the same computer or local network and sends nothing elsewhere. Returns the
    servers and, when the text is not a JSON list of objects with "urls", a message for the user
    (and no servers).
    """
    if not text.strip():
        return [], None
    try:
        servers = json.loads(text)
    except json.JSONDecodeError:
        servers = None
    if not isinstance(servers, list) or not all(
        isinstance(s, dict) and "urls" in s for s in servers
    ):
        return [], (
            "VALGUS_ICE_SERVERS must be a JSON list such as "
            '[{"urls": ["stun:stun.example.org:3478"]}]; using no ICE servers.'
        )
    return servers, None


# --------------------------------------------------------------------------- one webcam stream


@dataclass
class LiveOutcome:
    """What a finished self-test leaves behind: the kept clip (None if nothing was recorded),
    the final status, and an error message for the user if the stream could not be processed."""

    clip_path: Path | None
    status: LiveStatus
    error: str | None = None
    reps: tuple[RepScore, ...] = field(default_factory=tuple)


class LiveProcessor:
    """One webcam stream: pose estimation, ``LiveSession``, overlay and the kept clip.

    ``process`` runs in the video thread; ``status`` and ``stop`` may be called from any other
    thread. The pose estimator comes from ``estimator_factory`` on the first frame (so it
    belongs to this stream alone) and is closed by ``stop``.

    Args:
        estimator_factory: makes the pose estimator for this stream.
        clip_dir: where the processed frames are written as ``selftest-<time>.mp4``.
        cfg, live_cfg: as for ``LiveSession``.
        draw: whether ``process`` returns the frame with the overlay drawn (else unchanged).
    """

    def __init__(
        self,
        estimator_factory: Callable[[], PoseEstimator],
        clip_dir: Path,
        cfg: AnalysisConfig | None = None,
        live_cfg: LiveConfig | None = None,
        draw: bool = True,
        require_setup: bool = True,
    ) -> None:
        self._factory = estimator_factory
        self._clip_dir = Path(clip_dir)
        self.session = LiveSession(cfg, live_cfg, require_setup=require_setup)
        # An object in front of a leg, measured on every analysed frame as for a recorded clip
        # (runtime.tracking): one meter for the stream, ~0.4 ms a frame.
        self._occluder = OccluderMeter()
        self._draw = draw
        self._lock = threading.Lock()
        self._estimator: PoseEstimator | None = None
        self._writer: H264Writer | None = None
        self._clip_path: Path | None = None
        self._clip_frames = 0
        self._last_t = -math.inf
        self._stopped = False
        self._error: str | None = None
        self._outcome: LiveOutcome | None = None
        self._fps_times: deque[float] = deque(maxlen=30)
        self._n = 0
        self._size: tuple[int, int] | None = None  # (width_px, height_px) frames are resized to

    @property
    def status(self) -> LiveStatus:
        return self.session.status

    @property
    def error(self) -> str | None:
        return self._error

    @property
    def stopped(self) -> bool:
        return self._stopped

    @property
    def estimator_open(self) -> bool:
        """Whether this stream's pose model is loaded (from the first frame until ``stop``)."""
        return self._estimator is not None

    @property
    def processing_fps(self) -> float:
        """Frames processed per second over the last 30 frames (wall clock)."""
        times = list(self._fps_times)
        if len(times) < 2 or times[-1] <= times[0]:
            return 0.0
        return (len(times) - 1) / (times[-1] - times[0])

    def process(self, rgb: np.ndarray, t_s: float) -> np.ndarray:
        """Analyse one frame ((H, W, 3) uint8 RGB at ``t_s`` seconds); returns the frame to show."""
        with self._lock:
            if self._stopped or self._error is not None:
                return draw_message(rgb, self._error) if self._error else rgb
            if t_s <= self._last_t:
                return rgb  # the pose model needs strictly increasing timestamps
            self._last_t = t_s
            rgb = self._normalise(rgb)
            try:
                if self._estimator is None:
                    estimator = self._factory()
                    self._estimator = estimator.__enter__()
                pose = self._estimator.estimate(rgb, t_s)
                h, w = rgb.shape[:2]
                # Light and blur every few frames, as for a recorded clip (runtime.tracking).
                stats = frame_image_stats(rgb) if self._n % IMAGE_STATS_EVERY_N == 0 else None
                self._n += 1
                still = self._occluder.step(
                    rgb, t_s, None if pose is None or pose.other_person else pose.xy_px
                )
                status = self.session.update(t_s, pose, (w, h), stats, still)
                if status.phase == "counting":
                    self._write(rgb, status.recorded_s)
            except ValgusError as err:
                self._error = str(err)
                self._close()
                return draw_message(rgb, self._error)
            except Exception:  # the page must say what happened, not freeze the video
                log.exception("live processing failed")
                self._error = ("Analysing the webcam failed; press STOP, then START to try "
                               "again.")
                self._close()
                return draw_message(rgb, self._error)
            self._fps_times.append(time.monotonic())
            if not self._draw:
                return rgb
            return draw_live_overlay(
                rgb, pose.xy_px if pose is not None else None, status, self.session.cfg,
                self.session.live_cfg,
            )

    def _normalise(self, rgb: np.ndarray) -> np.ndarray:
        """Resize to the stream's fixed processing size (see ``LiveConfig.frame_max_side_px``).

        The size is fixed from the first frame's aspect ratio; later frames are fitted to it
        whatever resolution WebRTC delivers them at, never stretched: a phone turned during
        the test is scaled down and centred on black (``runtime.picture.fit_frame``).
        """
        h, w = rgb.shape[:2]
        if self._size is None:
            scale = self.session.live_cfg.frame_max_side_px / max(h, w)
            # Even sizes: the kept clip is yuv420p.
            self._size = (max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2))
        if (w, h) == self._size:
            return rgb
        if abs(w * self._size[1] / (h * self._size[0]) - 1.0) > 0.02:  # not the even-size rounding
            return fit_frame(rgb, self._size)
        shrink = w > self._size[0]
        return cv2.resize(rgb, self._size,
                          interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)

    def stop(self) -> LiveOutcome:
        """End the self-test: close open reps, the clip and the estimator. Idempotent."""
        with self._lock:
            if self._outcome is None:
                self._stopped = True
                status = self.session.finish()
                self._close()
                clip = self._clip_path if self._clip_frames >= 2 else None
                if clip is None and self._clip_path is not None:
                    self._clip_path.unlink(missing_ok=True)
                self._outcome = LiveOutcome(clip, status, self._error, status.reps)
            return self._outcome

    def _write(self, rgb: np.ndarray, t_s: float) -> None:
        if self._writer is None:
            self._clip_dir.mkdir(parents=True, exist_ok=True)
            stamp = time.strftime("%Y%m%d-%H%M%S")
            self._clip_path = self._clip_dir / f"selftest-{stamp}-{id(self) % 10000:04d}.mp4"
            h, w = rgb.shape[:2]
            # Visually lossless: the clip is analysed again as an upload and should give the
            # numbers shown live (the pose model's own run-to-run spread is ~2 deg anyway).
            # ultrafast: ~1 ms a frame instead of ~5 (veryfast) in the video thread, which the
            # pose model already keeps busy; the file is bigger, the picture the same.
            self._writer = H264Writer(self._clip_path, w, h, crf=KEPT_CLIP_CRF,
                                      preset="ultrafast")
        self._writer.write(rgb, t_s)
        self._clip_frames += 1

    def _close(self) -> None:
        if self._writer is not None:
            try:
                self._writer.close()
            except Exception:  # a broken clip must not keep the estimator open
                log.exception("closing the self-test clip failed")
            self._writer = None
        if self._estimator is not None:
            self._estimator.__exit__(None, None, None)
            self._estimator = None
