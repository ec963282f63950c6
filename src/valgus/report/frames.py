"""The scored frame of every rep, read from the stored clip, cropped to the person and fitted
into one picture size, with the skeleton drawn when the pose landmarks were kept and OpenCV is
there; JPEG data URIs for the report's grid.

No text is drawn inside a picture: at the grid's size it could not be read. The words (rep,
FPPA, band) are the picture's caption in the report (``FramePicture.caption``). A rep whose
points a reviewer corrected is drawn with the corrected points (the stance leg through them)
and the tool's original points faint beside them.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from valgus.core.clearance import SquatRep
from valgus.core.pose import PoseSeries
from valgus.errors import ValgusError
from valgus.landmarks import Side
from valgus.present.style import BAND_RGB, BAND_TEXT, FREE_LEG, fmt_num
from valgus.runtime.video import iter_frames
from valgus.store.service import AnalysisInfo

# Every picture is this size (px, width x height, portrait 3:4 like a person standing): the grid
# stays even whatever the clip's shape. Small enough that 40 of them keep a PDF at a few MB.
PICTURE_SIZE_PX = (240, 320)
PAD_RGB = (34, 34, 34)
JPEG_QUALITY = 80

Drawer = Callable[[np.ndarray, np.ndarray, SquatRep, float], np.ndarray]


@dataclass(frozen=True)
class FramePicture:
    """A rep's scored frame: ``data_uri`` (JPEG, or "" when the frame could not be read),
    ``caption`` (rep, FPPA, band in force), and whether the skeleton is drawn."""

    rep: SquatRep
    data_uri: str
    caption: str
    skeleton: bool

    @property
    def missing(self) -> bool:
        return not self.data_uri


def scored_frame(rep: SquatRep) -> int:
    """The frame index (in the clip) a rep's FPPA was scored at: the bottom plateau's frame
    whose FPPA is the plateau's median (``RepScore.picture_index``; the deepest frame in
    results stored before issue 16). The one place the report picks it."""
    return rep.score.picture_index


def caption(rep: SquatRep) -> str:
    """The words under a rep's picture: number, FPPA, band in force and who set it."""
    text = f"rep {rep.index}: {fmt_num(rep.fppa_deg)} deg"
    if rep.score.scored_at == "reference_flexion":
        text += " @60"
    if rep.correction is not None:
        text += f" (tool {fmt_num(rep.tool_fppa_deg)})"
    text += f", {BAND_TEXT[rep.band]}, frame {scored_frame(rep)}"
    if rep.correction is not None:
        text += ", points corrected"
    if rep.overridden:
        text += " (reviewer)"
    if not rep.counted:
        text += ", not counted"
    return text


def fit_picture(rgb: np.ndarray) -> np.ndarray:
    """``rgb`` scaled to fit ``PICTURE_SIZE_PX`` (aspect kept) and centred on a dark pad."""
    width, height = PICTURE_SIZE_PX
    img = Image.fromarray(rgb)
    img.thumbnail((width, height))
    if img.size[0] < width / 2 and img.size[1] < height / 2:  # tiny crop: enlarge it
        factor = min(width / img.size[0], height / img.size[1])
        img = img.resize((max(1, round(img.size[0] * factor)), max(1, round(img.size[1] * factor))))
    canvas = Image.new("RGB", (width, height), PAD_RGB)
    canvas.paste(img, ((width - img.size[0]) // 2, (height - img.size[1]) // 2))
    return np.asarray(canvas)


def _jpeg_uri(rgb: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(fit_picture(rgb)).save(buf, format="JPEG", quality=JPEG_QUALITY)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _skeleton_drawer() -> Drawer | None:
    """The drawing of a rep's frame (person cropped, skeleton, stance leg in the band colour),
    or None without OpenCV (the pictures are then the plain frames)."""
    try:
        from valgus.present.annotated_video import crop_to_person
        from valgus.present.draw import draw_moved_points, draw_skeleton, landmark_of
    except ImportError:
        return None

    def draw(rgb: np.ndarray, xy: np.ndarray, rep: SquatRep, scale: float) -> np.ndarray:
        moved = rep.correction.moves() if rep.correction is not None else {}
        # The moved points ride along through the crop (original, then corrected, per point).
        extra = [np.asarray(p, dtype=np.float64) * scale for o, c in moved.values()
                 for p in (o, c)]
        out, pts = crop_to_person(rgb, np.vstack([xy, *extra]) if extra else xy,
                                  height_px=PICTURE_SIZE_PX[1] * 2)
        body, marks = pts[: len(xy)].copy(), pts[len(xy):]
        pairs = [(marks[2 * k], marks[2 * k + 1]) for k in range(len(moved))]
        for name, (_, corrected) in zip(moved, pairs, strict=True):
            body[landmark_of(rep.leg, name)] = corrected
        other: Side = "left" if rep.leg == "right" else "right"
        draw_skeleton(out, body, {rep.leg: BAND_RGB[rep.band], other: FREE_LEG},
                      thick_leg=rep.leg)
        draw_moved_points(out, pairs, BAND_RGB[rep.band])
        return out

    return draw


def _read_frames(analysis: AnalysisInfo, wanted: set[int], max_side: int | None
                 ) -> tuple[dict[int, np.ndarray], list[str]]:
    """The frames ``wanted`` of the analysis's clip, in one pass; notes on a failure."""
    found: dict[int, np.ndarray] = {}
    last = max(wanted)
    try:
        for i, (_t, rgb) in enumerate(iter_frames(analysis.clip.path, max_side_px=max_side)):
            if i in wanted:
                found[i] = rgb
            if i >= last:
                break
    except (ValgusError, OSError) as err:
        return found, [f"frames of {analysis.clip.original_name} could not be read: {err}"]
    return found, []


def bottom_frames(
    analysis: AnalysisInfo, reps: Sequence[SquatRep], *, placeholders: bool = False
) -> tuple[list[FramePicture], list[str]]:
    """A picture of the scored frame of each of ``reps`` (all of ``analysis``), in one pass over
    the clip, in rep order; a rep whose frame cannot be read is left out, or with
    ``placeholders`` gets a picture without an image (``missing``). Returns the pictures and
    notes on what could not be shown (never raises for a missing or unreadable clip: the
    report goes out without those images)."""
    if not reps:
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
    found, why = _read_frames(analysis, {scored_frame(r) for r in reps}, max_side)
    notes.extend(why)
    ordered = sorted(reps, key=lambda r: r.index)
    lost = [r.index for r in ordered if scored_frame(r) not in found]
    if lost and not why:
        notes.append(f"{analysis.clip.original_name} has fewer frames than its analysis: no "
                     f"picture of rep {', '.join(map(str, lost))}")
    pictures: list[FramePicture] = []
    for rep in ordered:
        i = scored_frame(rep)
        if i not in found:
            if placeholders:
                pictures.append(FramePicture(rep, "", caption(rep), False))
            continue
        rgb, skeleton = found[i], False
        if draw is not None and series is not None and i < len(series):
            scale = np.array([rgb.shape[1] / series.image_size[0],
                              rgb.shape[0] / series.image_size[1]])
            try:
                rgb = draw(rgb, series.xy_px[i].astype(np.float64) * scale, rep,
                           float(scale[0]))
                skeleton = True
            except Exception:  # drawing is an extra: a drawing change must not stop a report
                notes.append("the skeleton could not be drawn on some frames")
        pictures.append(FramePicture(rep, _jpeg_uri(rgb), caption(rep), skeleton))
    return pictures, list(dict.fromkeys(notes))
