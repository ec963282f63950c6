"""Writing video: ``H264Writer`` encodes RGB frames as an H.264 mp4 that every browser plays
(PyAV's libx264, yuv420p, the index at the front with +faststart); ``video_frame`` makes the PyAV
frame of an RGB array (what the encoder and a WebRTC stream take)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

VideoFrame = av.VideoFrame


def video_frame(rgb: np.ndarray) -> VideoFrame:
    """The PyAV frame of an (H, W, 3) uint8 RGB array (rgb24)."""
    return av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")


class H264Writer:
    """Write RGB frames to an H.264 mp4 that browsers play: libx264, yuv420p, +faststart.

    Frames carry their own timestamps (variable frame rate is kept, millisecond resolution). Odd
    widths or heights are cropped by one pixel (yuv420p needs even sizes).

    Args:
        path: output .mp4. width_px, height_px: frame size. crf: x264 quality (lower = better;
        23 is x264's default). preset: x264 speed/size trade-off.
    Raises:
        ValueError: a frame size under 2x2 px.
    """

    def __init__(
        self,
        path: str | Path,
        width_px: int,
        height_px: int,
        crf: int = 23,
        preset: str = "veryfast",
    ) -> None:
        self.path = Path(path)
        self._w, self._h = width_px - width_px % 2, height_px - height_px % 2
        if self._w < 2 or self._h < 2:
            raise ValueError(f"frame size {width_px}x{height_px} is too small to encode")
        self._container = av.open(str(self.path), mode="w", format="mp4",
                                  options={"movflags": "+faststart"})
        self._stream = self._container.add_stream("libx264", rate=30)
        self._stream.width, self._stream.height = self._w, self._h
        self._stream.pix_fmt = "yuv420p"
        self._stream.codec_context.time_base = Fraction(1, 1000)
        self._stream.options = {"crf": str(crf), "preset": preset}
        self._last_pts = -1
        self.frames = 0

    def write(self, rgb: np.ndarray, t_s: float) -> None:
        """Append one (H, W, 3) uint8 RGB frame shown at ``t_s`` seconds."""
        frame = video_frame(rgb[: self._h, : self._w])
        pts = max(self._last_pts + 1, round(t_s * 1000))
        frame.pts, frame.time_base = pts, Fraction(1, 1000)
        self._last_pts = pts
        for packet in self._stream.encode(frame):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        """Flush the encoder and finish the file."""
        for packet in self._stream.encode():
            self._container.mux(packet)
        self._container.close()

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
