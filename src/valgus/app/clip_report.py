"""Everything the app shows for one clip: the analysis (``pipeline.analyze_video``, as the CLI
and batch run it), the annotated video and the export files.

An upload, the sample clip and a kept self-test clip all go through ``build_report``, so all
three are scored alike. No Streamlit here: the pages call it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from valgus.config import AnalysisConfig
from valgus.core.kinematics import Kinematics
from valgus.core.pose import PoseSeries
from valgus.core.result import AnalysisResult, LegChoice
from valgus.pipeline import EstimatorFactory, VideoAnalysis, analyze_series, analyze_video
from valgus.present.annotated_video import RenderedVideo, render_analysis_video
from valgus.present.export import write_frames_csv, write_json, write_reps_csv

# Share of the progress bar taken by pose estimation; drawing the annotated video is the rest.
POSE_SHARE = 0.8

StageProgress = Callable[[float, str], None]


@dataclass(frozen=True)
class Report:
    """Everything the app shows for one clip.

    ``files``: download name -> bytes (JSON, per-frame CSV, per-rep CSV). ``video``: the annotated
    clip. ``series`` is kept so that other thresholds can be applied without the pose model.
    """

    result: AnalysisResult
    kin: Kinematics
    series: PoseSeries
    video: RenderedVideo
    files: dict[str, bytes]


def build_report(
    video_path: str | Path,
    cfg: AnalysisConfig,
    work_dir: str | Path,
    estimator_factory: EstimatorFactory | None = None,
    series: PoseSeries | None = None,
    leg: LegChoice = "auto",
    name: str | None = None,
    progress: StageProgress | None = None,
    max_side_px: int = 960,
    threads: int | None = None,
) -> Report:
    """Pose estimation and analysis (``pipeline.analyze_video``; only ``analyze_series`` when
    the clip's ``series`` is given), then the annotated video and the exports, written to
    ``work_dir`` as ``<stem>.annotated.mp4``, ``.valgus.json``, ``.reps.csv``, ``.frames.csv``.

    ``name``: the clip's name (an upload is analysed from a temporary file). ``threads``: as
    ``analyze_video``'s (None = its default). ``max_side_px``: the annotated video's longer side.
    ``progress(fraction 0-1, what is being done)``.

    Raises:
        ValgusError: unreadable video, input too large, no model, nobody in the picture.
    """
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    stem = Path(name or Path(video_path).name).stem
    report = progress or (lambda _f, _t: None)
    if series is None:
        def pose_progress(done: int, total: int | None) -> None:
            frac = min(done / total, 1.0) if total else 0.0
            report(POSE_SHARE * frac, f"Finding the body in every frame ({done} frames)")

        report(0.0, "Opening the video")
        run = partial(analyze_video, video_path, cfg, leg=leg, name=name,
                      estimator_factory=estimator_factory, progress=pose_progress)
        analysis = run() if threads is None else run(threads=threads)
    else:
        analysis = VideoAnalysis(*analyze_series(series, cfg, leg=leg), series)
    result, kin = analysis.result, analysis.kin

    def render_progress(done: int, total: int) -> None:
        report(POSE_SHARE + (1 - POSE_SHARE) * done / max(total, 1), "Drawing the annotated video")

    video = render_analysis_video(
        video_path, analysis.series, kin, result, work / f"{stem}.annotated.mp4", max_side_px,
        render_progress,
    )
    files = {
        f"{stem}.valgus.json": write_json(result, work / f"{stem}.valgus.json").read_bytes(),
        f"{stem}.reps.csv": write_reps_csv(result, work / f"{stem}.reps.csv").read_bytes(),
        f"{stem}.frames.csv": write_frames_csv(kin, work / f"{stem}.frames.csv").read_bytes(),
    }
    report(1.0, "Done")
    return Report(result, kin, analysis.series, video, files)
