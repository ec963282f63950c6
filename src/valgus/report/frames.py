"""The deepest frame of chosen reps, read from the stored clip, with the skeleton drawn when the
pose landmarks were kept and the drawing module (``valgus.render``) is available; JPEG data URIs
for the report."""

from __future__ import annotations

import base64
import dataclasses
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from valgus.core.clearance import SquatRep
from valgus.core.pose import PoseSeries
from valgus.errors import ValgusError
from valgus.runtime.video import iter_frames
from valgus.store.service import AnalysisInfo

# Pictures in the report are at most this wide/high (px): enough to see the knee over the foot,
# small enough that a PDF with a dozen of them stays well under a few MB.
PICTURE_MAX_SIDE_PX = 480
JPEG_QUALITY = 82


@dataclass(frozen=True)
class FramePicture:
    """A rep's deepest frame: ``data_uri`` (JPEG), caption, and whether the skeleton is drawn."""

    rep: SquatRep
    data_uri: str
    caption: str
    skeleton: bool


def choose_reps(reps: Sequence[SquatRep], per_leg: int = 2) -> list[SquatRep]:
    """The reps worth a picture: each leg's highest-FPPA reps, plus every rep the reviewer
    re-banded (its picture is the evidence for the override)."""
    chosen: dict[tuple[int, int], SquatRep] = {}
    for leg in ("left", "right"):
        own = [r for r in reps if r.leg == leg and r.counted and r.fppa_deg is not None]
        for r in sorted(own, key=lambda r: -(r.fppa_deg or 0.0))[:per_leg]:
            chosen[(r.analysis_id, r.index)] = r
    for r in reps:
        if r.overridden:
            chosen[(r.analysis_id, r.index)] = r
    return sorted(chosen.values(), key=lambda r: (r.analysis_id, r.index))


def _jpeg_uri(rgb: np.ndarray) -> str:
    img = Image.fromarray(rgb)
    img.thumbnail((PICTURE_MAX_SIDE_PX, PICTURE_MAX_SIDE_PX))
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=JPEG_QUALITY)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _skeleton_drawer() -> Any | None:
    """``valgus.render.bottom_frame_picture`` if that module is there (it needs OpenCV)."""
    try:
        from valgus.present.annotated_video import bottom_frame_picture
    except ImportError:
        return None
    return bottom_frame_picture


def bottom_frames(
    analysis: AnalysisInfo, reps: Sequence[SquatRep]
) -> tuple[list[FramePicture], list[str]]:
    """Pictures of the deepest frame of ``reps`` (all of ``analysis``), in one pass over the
    clip. Returns the pictures and notes on what could not be shown (never raises for a missing
    or unreadable clip: the report goes out without that picture)."""
    wanted = {r.score.bottom_index: r for r in reps}
    if not wanted:
        return [], []
    notes: list[str] = []
    series: PoseSeries | None = None
    if analysis.poses_path is not None:
        try:
            series = PoseSeries.load(analysis.poses_path)
        except (OSError, ValueError, KeyError):
            notes.append(f"pose landmarks of {analysis.clip.original_name} unreadable: "
                         "frames shown without the skeleton")
    draw = _skeleton_drawer() if series is not None else None
    max_side = max(series.image_size) if series is not None else None
    frontal = analysis.result.view.frontal
    found: dict[int, np.ndarray] = {}
    last = max(wanted)
    try:
        for i, (_t, rgb) in enumerate(iter_frames(analysis.clip.path, max_side_px=max_side)):
            if i in wanted:
                found[i] = rgb
            if i >= last:
                break
    except (ValgusError, OSError) as err:
        notes.append(f"frames of {analysis.clip.original_name} could not be read: {err}")
    pictures: list[FramePicture] = []
    lost = [rep.index for i, rep in sorted(wanted.items()) if i not in found]
    if lost and not notes:
        notes.append(f"{analysis.clip.original_name} has fewer frames than its analysis: no "
                     f"picture of rep {', '.join(map(str, lost))}")
    for i, rep in sorted(wanted.items()):
        if i not in found:
            continue
        rgb = found[i]
        skeleton = False
        if draw is not None and series is not None and i < len(series):
            xy = series.xy_px[i].astype(np.float64)
            sx, sy = rgb.shape[1] / series.image_size[0], rgb.shape[0] / series.image_size[1]
            xy = xy * np.array([sx, sy])
            try:
                shown = dataclasses.replace(rep.score, band=rep.band)  # the band in force
                rgb = draw(rgb, xy, shown, rep.index, frontal)
                skeleton = True
            except Exception:  # drawing is an extra: a change in render.py must not stop a report
                notes.append("the skeleton could not be drawn on some frames")
        fppa = "-" if rep.fppa_deg is None else f"{rep.fppa_deg:.1f} deg"
        caption = (f"{analysis.clip.original_name}, rep {rep.index} ({rep.leg}): FPPA {fppa}, "
                   f"{rep.band.replace('_', ' ')}" + (" (reviewer)" if rep.overridden else ""))
        pictures.append(FramePicture(rep, _jpeg_uri(rgb), caption, skeleton))
    return pictures, list(dict.fromkeys(notes))
