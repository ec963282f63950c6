"""The smallest person, in pixels, that valgus scores like at full size (issue 13).

Each clip is downscaled (the whole picture, aspect kept, area average; H.264 at CRF 18) to
several heights in a temporary folder, analysed with the pixel minimum switched off
(``min_body_height_px`` 0, so that the reps are scored at every size), and compared with the
clip as it is. The clip re-encoded at its own height is the control: any change of the pixels
sends the pose model along another path, so its row is the spread that owes nothing to size.

* ``person_px``: the person's median height, nose to lowest foot point, in pixels of the
  analysed picture (what ``person_too_few_pixels`` reads);
* ``reps``: the reps of a leg (not the free leg's bends), as leg:band, e.g. ``L:fine``;
* ``same``: the same reps, legs and bands as at full size (each full-size rep matched to the
  rep whose bottom is within 1 s);
* ``max_dFPPA``: the largest |scored FPPA - full-size scored FPPA| over the matched reps (deg).

Default clips: the demo, the frontal single-leg real clips of ../shared/videos (hyva2, hyva3,
hyva7) and the field case ../shared/cases/base_hyva7.mp4 (those absent are skipped).

Usage::

    nice python bench/min_pixels.py                       # all default clips, all heights
    nice python bench/min_pixels.py --heights 360 180 144 --clips sample_videos/demo*.mp4
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import sys
import tempfile
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from valgus.config import AnalysisConfig
from valgus.core.kinematics import body_height_px
from valgus.pipeline import VideoAnalysis, analyze_video
from valgus.runtime.video import iter_frames

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DEFAULT_CLIPS = (
    ROOT / "sample_videos" / "demo_single_leg_squats.mp4",
    SHARED / "videos" / "tuxotiikeri__squatdetection__hyva2.mp4",
    SHARED / "videos" / "tuxotiikeri__squatdetection__hyva3.mp4",
    SHARED / "videos" / "tuxotiikeri__squatdetection__hyva7.mp4",
    SHARED / "cases" / "base_hyva7.mp4",
)
DEFAULT_HEIGHTS = (480, 360, 300, 240, 200, 180, 160, 144, 120)
MATCH_S = 1.0

Rep = tuple[str, str, float, float | None, str]  # leg, band, bottom_s, scored FPPA, issues


def downscale(src: Path, dst: Path, height: int) -> None:
    """Write ``src`` scaled to ``height`` px high (width in proportion, even; area average) as
    H.264 at CRF 18 (visually lossless, so that the size is what changes, not the codec's
    blocks); at the clip's own height it is only re-encoded (the control row)."""
    with av.open(str(dst), "w") as out:
        stream = None
        for _, rgb in iter_frames(src):
            if stream is None:
                h, w = rgb.shape[:2]
                size = (max(2, 2 * round(w * height / h / 2)), 2 * round(height / 2))
                stream = out.add_stream("libx264", rate=Fraction(round(1000 * fps_of(src)), 1000),
                                        options={"crf": "18", "preset": "veryfast"})
                stream.width, stream.height = size
                stream.pix_fmt = "yuv420p"
            small = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            frame = av.VideoFrame.from_ndarray(small, format="rgb24")
            out.mux(stream.encode(frame))
        if stream is not None:
            out.mux(stream.encode(None))


def fps_of(path: Path) -> float:
    return float(cv2.VideoCapture(str(path)).get(cv2.CAP_PROP_FPS) or 25.0)


def reps_of(analysis: VideoAnalysis) -> list[Rep]:
    return [
        (r.leg[0].upper(), str(r.band), r.bottom_s, r.scored_fppa_deg,
         ",".join(str(i.code) for i in r.issues))
        for r in analysis.result.reps
        if not r.not_a_rep
    ]


def person_px(analysis: VideoAnalysis) -> float:
    heights = body_height_px(analysis.series.xy_px.astype(np.float64))
    return float(np.nanmedian(heights)) if np.isfinite(heights).any() else float("nan")


def compare(full: list[Rep], small: list[Rep]) -> tuple[bool, float]:
    """(same reps/legs/bands, max |dFPPA| over matched reps with both FPPAs)."""
    same = len(full) == len(small)
    worst = 0.0
    for leg, band, bottom, fppa, _ in full:
        near = [r for r in small if abs(r[2] - bottom) <= MATCH_S]
        if not near:
            same = False
            continue
        match = min(near, key=lambda r: abs(r[2] - bottom))
        same &= match[0] == leg and match[1] == band
        if fppa is not None and match[3] is not None:
            worst = max(worst, abs(match[3] - fppa))
        elif (fppa is None) != (match[3] is None):
            same = False
    return same, worst


def row(clip: str, height: str, px: float, reps: list[Rep], same: str, worst: str) -> str:
    shown = " ".join(
        f"{leg}:{band}" + (f"({fppa:+.1f})" if fppa is not None else f"({issues})")
        for leg, band, _, fppa, issues in reps
    )
    return f"| {clip} | {height} | {px:.0f} | {shown} | {same} | {worst} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", nargs="*", default=None, help="clips (globs allowed)")
    parser.add_argument("--heights", nargs="*", type=int, default=list(DEFAULT_HEIGHTS))
    args = parser.parse_args(argv)
    clips = (
        [Path(p) for pattern in args.clips for p in sorted(glob.glob(pattern))]
        if args.clips else [p for p in DEFAULT_CLIPS if p.exists()]
    )
    base = AnalysisConfig()
    cfg = dataclasses.replace(base, quality=dataclasses.replace(base.quality,
                                                                min_body_height_px=0.0))
    print("| clip | height px | person px | reps leg:band(FPPA) | same | max dFPPA deg |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for clip in clips:
            full_analysis = analyze_video(clip, cfg)
            full = reps_of(full_analysis)
            full_h = int(cv2.VideoCapture(str(clip)).get(cv2.CAP_PROP_FRAME_HEIGHT))
            print(row(clip.stem, f"{full_h} (full)", person_px(full_analysis), full, "-", "-"),
                  flush=True)
            for height in [full_h, *args.heights]:
                if height > full_h:
                    continue
                small_path = Path(tmp) / f"{clip.stem}_{height}.mp4"
                downscale(clip, small_path, height)
                analysis = analyze_video(small_path, cfg)
                reps = reps_of(analysis)
                same, worst = compare(full, reps)
                label = f"{height} (re-encoded)" if height == full_h else str(height)
                print(row(clip.stem, label, person_px(analysis), reps,
                          "yes" if same else "NO", f"{worst:.1f}"), flush=True)
                small_path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
