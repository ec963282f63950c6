"""valgus in the browser: analyse a phone video, or run a live single-leg squat self-test on the
webcam. Start with ``.venv/bin/streamlit run app.py``.

Thin on purpose: measuring lives in ``valgus.*`` (analysis, live, render); this file lays out the
pages. Everything runs on this machine; the video never leaves it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from valgus.app.clip_report import Report, build_report
from valgus.app.review import page_review, save_control
from valgus.config import AnalysisConfig, LiveConfig, Sex
from valgus.core.checks import FILMING_GUIDANCE
from valgus.core.scoring import RepScore
from valgus.errors import ModelError, NoPersonError, ValgusError, VideoError
from valgus.live.processor import LiveOutcome, LiveProcessor, ice_servers_from_text
from valgus.live.session import LiveStatus
from valgus.live.setup import CAMERA_PLACEMENT
from valgus.present.style import (
    BAND_HEX,
    BAND_TEXT,
    fmt_deg,
    fmt_num,
    issues_text,
    leg_rep_number,
)

log = logging.getLogger("valgus.app")

ROOT = Path(__file__).resolve().parent
SAMPLE_CLIP = ROOT / "sample_videos" / "demo_single_leg_squats.mp4"
VIDEO_TYPES = ["mp4", "mov", "webm", "avi"]
PAGES = ("Analyse a video", "Live self-test", "Review")
# Where kept self-test clips and rendered videos go (never uploaded anywhere).
DATA_DIR = Path(os.environ.get("VALGUS_DATA_DIR") or Path(tempfile.gettempdir()) / "valgus")
VERDICT_STYLE = {"PASS": "green", "NOT YET": "red", "CANNOT ASSESS": "gray"}
SEX_LABEL: dict[str, str] = {"unspecified": "not given", "female": "female", "male": "male"}


# --------------------------------------------------------------------------- settings


def sidebar_settings() -> tuple[AnalysisConfig, str]:
    """Thresholds and sex from the sidebar; defaults from ``AnalysisConfig``. Returns the config
    and the stance-leg choice."""
    base = AnalysisConfig()
    st.sidebar.header("Settings")
    sex: Sex = st.sidebar.selectbox(
        "Sex (selects the valgus threshold)",
        ("unspecified", "female", "male"),
        format_func=lambda s: SEX_LABEL[s],
        key="sex",
        help="Herrington & Munro 2010: healthy women 5-12 deg, men 1-9 deg. Not given: 11.3 deg "
        "(Park 2024, smartphone pose estimation in single-leg squats).",
    )
    default_thr = base.valgus.threshold_deg(sex)
    thr = st.sidebar.number_input(
        "Excessive valgus: FPPA above (deg)", min_value=0.0, max_value=45.0,
        value=float(default_thr), step=0.5, key=f"threshold_{sex}",
        help=f"Default for {SEX_LABEL[sex]}: {default_thr:.1f} deg.",
    )
    margin = st.sidebar.number_input(
        "Borderline band: threshold +/- (deg)", min_value=0.0, max_value=15.0,
        value=float(base.valgus.borderline_margin_deg), step=0.5, key="margin",
        help="Munro 2012: 2D FPPA is measured to within 2.7-3.0 deg (SEM); a rep this close to "
        "the threshold is borderline rather than a confident call.",
    )
    reps = st.sidebar.number_input(
        "Reps needed per leg (reps)", min_value=1, max_value=100,
        value=int(base.clearance.required_reps), step=1, key="required_reps",
        help="Return-to-running criterion: single-leg squat, 20 repetitions, no excessive valgus.",
    )
    leg = st.sidebar.selectbox(
        "Stance leg (uploads)", ("auto", "left", "right"), key="leg",
        help="auto: found for each rep from the foot that stays planted.",
    )
    field = {"female": "female_deg", "male": "male_deg"}.get(sex, "unspecified_deg")
    valgus = dataclasses.replace(base.valgus, **{field: float(thr)},
                                 borderline_margin_deg=float(margin))
    cfg = dataclasses.replace(
        base, sex=sex, valgus=valgus,
        clearance=dataclasses.replace(base.clearance, required_reps=int(reps)),
    )
    st.sidebar.caption(
        f"A rep is **excessive** above {thr + margin:.1f} deg, **borderline** from "
        f"{max(thr - margin, 0):.1f} to {thr + margin:.1f} deg, **fine** below. FPPA + = knee "
        "towards the midline (valgus)."
    )
    return cfg, leg


# --------------------------------------------------------------------------- result display


def what_to_do(err: BaseException) -> list[str]:
    """Plain steps for the user after an error."""
    if isinstance(err, VideoError):
        return [
            "Choose a video file (mp4, mov, webm or avi) as your phone's camera saved it.",
            "If it is one, copy or export it again: the file may be incomplete or damaged.",
            "Still stuck? Re-export it as H.264 MP4 and try once more.",
        ]
    if isinstance(err, NoPersonError):
        return [
            "Film with your whole body, head to feet, in the picture.",
            "Use good light and stand clear of other people.",
            FILMING_GUIDANCE,
        ]
    if isinstance(err, ModelError):
        return ["Reinstall valgus (the pose model ships inside the package), or pass a "
                "pose_landmarker .task file."]
    return ["Try again; if it happens again, try another clip or re-export this one."]


def error_panel(title: str, err: BaseException) -> None:
    """A clear error with what to do; never a traceback."""
    with st.container(border=True, key="error_panel"):
        st.error(f"**{title}**  \n{err}")
        st.markdown("**What to do**\n" + "\n".join(f"- {s}" for s in what_to_do(err)))


def verdict_cards(report: Report) -> None:
    result = report.result
    need = result.config.clearance.required_reps
    cols = st.columns(2)
    for col, (side, v) in zip(cols, result.legs.items(), strict=True):
        with col, st.container(border=True, key=f"verdict_{side}"):
            color = VERDICT_STYLE[v.verdict]
            st.markdown(f"#### {side.capitalize()} leg: :{color}[{v.verdict}]")
            if v.verdict == "PASS":
                st.markdown(f"{v.valid_reps} measured reps, none with excessive knee valgus.")
            for reason in v.reasons[1 if v.verdict == "PASS" else 0 :]:
                st.markdown(f"- {reason[0].upper() + reason[1:]}")
            if v.valid_reps:
                st.caption(
                    f"{v.valid_reps} of {need} reps measured; FPPA median "
                    f"{fmt_deg(v.median_fppa_deg)}, worst {fmt_deg(v.worst_fppa_deg)}; "
                    f"{v.excessive_reps} excessive, {v.borderline_reps} borderline."
                )



def band_table(rows: list[dict[str, Any]]) -> pd.io.formats.style.Styler:
    """Rows as a table with the band column in its colour (and its name: colour is not the
    only cue)."""
    colors = {BAND_TEXT[k]: v for k, v in BAND_HEX.items()}

    def band_style(value: str) -> str:
        return f"background-color: {colors.get(value, '')}; color: white; font-weight: 600"

    return pd.DataFrame(rows).style.map(band_style, subset=["band"])


def rep_table(reps: tuple[RepScore, ...], full: bool = True) -> pd.io.formats.style.Styler:
    """One row per rep; angles in degrees as text ('-' = not measurable)."""
    rows = []
    for n, r in enumerate(reps, start=1):
        row = {
            "#": n,
            "leg": r.leg,
            "bottom (s)": fmt_num(r.bottom_s, 2),
            "depth (deg)": fmt_num(r.depth_deg, 0),
            "FPPA (deg)": fmt_num(r.scored_fppa_deg),
            "band": BAND_TEXT[r.band],
        }
        if full:
            row["scored at"] = {"bottom": "deepest frame",
                                "reference_flexion": "60 deg flexion"}.get(r.scored_at or "", "-")
            row["peak FPPA (deg)"] = fmt_num(r.fppa_peak_deg)
            row["pelvic drop (deg)"] = fmt_num(r.pelvic_drop_deg)
            row["trunk lean (deg)"] = fmt_num(r.trunk_lean_deg)
        row["notes"] = issues_text(r)
        rows.append(row)
    return band_table(rows)


def show_report(report: Report, key: str) -> None:
    """Verdicts, per-rep table, chart, deepest frames, annotated video and downloads."""
    from valgus.present.charts import timeline_figure

    result = report.result
    thr = result.config.valgus.threshold_deg(result.config.sex)
    st.subheader(f"Result: {result.source}")
    st.caption(
        f"{result.duration_s:.1f} s, {result.n_frames} frames, person found in "
        f"{100 * result.detection_fraction:.0f}% of them. Exercise: "
        f"{result.exercise.replace('_', '-')}. Threshold: FPPA {thr:.1f} deg +/- "
        f"{result.config.valgus.borderline_margin_deg:.1f} (sex {SEX_LABEL[result.config.sex]})."
    )
    for guidance in result.view.guidance:
        with st.container(border=True, key=f"guidance_{key}"):
            st.warning(f"**The camera view cannot be measured.** {guidance}")
            st.markdown(
                "**What to do**\n- Re-film from the front, camera square to you.\n"
                "- Keep your whole body, head to feet, in the picture.\n"
                "- Camera at hip height, 2-4 m away."
            )
    quality = result.quality
    if quality:
        blocking = any(q.blocking for q in quality)
        with st.container(border=True, key=f"quality_{key}"):
            text = "\n".join(f"- **{q.message[0].upper() + q.message[1:]}.** {q.guidance}"
                              for q in quality)
            if blocking:
                st.error("**This video cannot be scored as it is.** What to do:\n" + text)
            else:
                st.warning("**Check the filming.** What to do:\n" + text)
    if result.exercise == "double_leg":
        st.warning("This looks like a double-leg squat. The test is a single-leg squat: stand on "
                   "one leg and squat on it.")
    verdict_cards(report)
    st.caption("valgus is a measurement aid, not a diagnosis.")
    if result.reps:
        st.markdown("##### Every rep")
        st.dataframe(rep_table(result.reps), hide_index=True, key=f"reps_{key}",
                     column_config={"notes": st.column_config.TextColumn(width="large")})
        complete = [r.leg for r in result.reps if r.complete and r.exercise == "single_leg"]
        if complete:
            st.caption(f"Complete single-leg reps in order: {', '.join(complete)}.")
        st.caption("FPPA: frontal plane projection angle, + = knee towards the midline "
                   "(valgus). Pelvic drop + = free-side hip lower; trunk lean + = towards the "
                   "stance leg.")
    else:
        st.info("No squat rep was found. Squat on one leg: down to about 60 deg of knee "
                "bend and back up, 2-6 s per rep.")
    st.markdown("##### FPPA and knee flexion over time")
    st.plotly_chart(timeline_figure(report.kin, result), key=f"chart_{key}")
    st.caption("Shaded: the reps, in their band's colour. FPPA is drawn bold while the leg is "
               "the standing leg of a rep and faint otherwise (a free leg's angle means "
               "nothing). Dashed line: the threshold; band around it: borderline.")
    if report.video.bottom_frames:
        st.markdown("##### The deepest frame of every rep")
        items = sorted(report.video.bottom_frames.items())
        per_row = 4
        for start in range(0, len(items), per_row):
            cols = st.columns(per_row)
            for col, (k, img) in zip(cols, items[start : start + per_row], strict=False):
                rep = result.reps[k]
                col.image(img, caption=f"Rep {k + 1}, {rep.leg}: {BAND_TEXT[rep.band]}, FPPA "
                          f"{fmt_deg(rep.scored_fppa_deg)}")
    st.markdown("##### Annotated video")
    video_bytes = report.video.path.read_bytes()
    w, h = report.video.size
    # A portrait phone clip at full page width would be taller than the screen.
    video_col = st.columns([2, 3])[0] if h > w else st.container()
    video_col.video(video_bytes, format="video/mp4")
    st.markdown("##### Downloads")
    cols = st.columns(4)
    mime = {".json": "application/json", ".csv": "text/csv"}
    for col, (name, data) in zip(cols, report.files.items(), strict=False):
        col.download_button(name, data, file_name=name, mime=mime[Path(name).suffix],
                            key=f"dl_{key}_{name}", on_click="ignore")
    cols[3].download_button(report.video.path.name, video_bytes,
                            file_name=report.video.path.name, mime="video/mp4",
                            key=f"dl_{key}_video", on_click="ignore")


def analyse(
    name: str, cfg: AnalysisConfig, leg: str, path: Path | None = None,
    data: bytes | None = None, content_id: str | None = None,
) -> Report | None:
    """Run (or reuse) the analysis of one clip (a file, or uploaded bytes) with a progress bar;
    errors become a panel.

    Poses are cached per clip content for this browser session, so changing a threshold only
    re-scores and redraws; the pose model runs once per clip.
    """
    content = data if data is not None else path.read_bytes() if path else b""
    # Hashing a big upload takes a while: once per uploaded file (Streamlit's file id) or per
    # file on disk (path, size, time) for the whole session.
    if content_id is None and path is not None:
        stat = path.stat()
        content_id = f"{path}:{stat.st_size}:{stat.st_mtime_ns}"
    digests: dict[str, str] = st.session_state.setdefault("digests", {})
    digest = digests.get(content_id or "")
    if digest is None:
        digest = hashlib.sha256(content).hexdigest()[:16]
        if content_id:
            digests[content_id] = digest
    cfg_key = json.dumps(dataclasses.asdict(cfg), sort_keys=True) + leg
    cache: dict[str, Any] = st.session_state.setdefault("reports", {})
    series_cache: dict[str, Any] = st.session_state.setdefault("series", {})
    full_key = digest + hashlib.sha256(cfg_key.encode()).hexdigest()[:16]
    if full_key in cache:
        return cache[full_key]
    bar = st.progress(0.0, text=f"Analysing {name}...")

    def progress(fraction: float, text: str) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=text)

    try:
        with tempfile.TemporaryDirectory(prefix="valgus-upload-") as tmp:
            if path is None:
                # PyAV reads files; the upload is written next to nothing else and removed.
                path = Path(tmp) / f"upload{Path(name).suffix.lower() or '.mp4'}"
                path.write_bytes(content)
            report = build_report(
                path, cfg, DATA_DIR / "reports" / digest, series=series_cache.get(digest),
                leg=leg, name=name, progress=progress,
            )
    except ValgusError as err:
        bar.empty()
        error_panel(f"Could not analyse {name}", err)
        return None
    except Exception as err:  # never a traceback in the browser; details go to the log
        log.exception("analysis of %s failed", name)
        bar.empty()
        error_panel(f"Could not analyse {name}: unexpected error", err)
        return None
    bar.empty()
    series_cache[digest] = report.series
    # Keep only the latest few reports in memory.
    while len(cache) >= 3:
        cache.pop(next(iter(cache)))
    cache[full_key] = report
    return report


# --------------------------------------------------------------------------- pages


def page_upload(cfg: AnalysisConfig, leg: str) -> None:
    st.title("Knee valgus in single-leg squats")
    st.markdown(
        "Film yourself from the front doing single-leg squats (20 per leg for the "
        "return-to-running test), then upload the video. valgus measures the knee's frontal "
        "plane projection angle (FPPA) in every rep. Everything stays on this computer."
    )
    limit_mb = int(st.get_option("server.maxUploadSize"))
    upload = st.file_uploader(
        f"Phone video: mp4, mov, webm or avi, up to {limit_mb} MB", type=VIDEO_TYPES,
        key="upload",
    )
    st.caption(f"Upload limit: {limit_mb} MB per video. {FILMING_GUIDANCE}")
    sample_clicked = st.button("Analyse the sample clip", key="sample",
                               disabled=not SAMPLE_CLIP.is_file())
    st.caption("The sample: a 20 s synthetic clip of six single-leg squats bundled with valgus.")
    if sample_clicked:
        st.session_state["source"] = "sample"
    if upload is not None and st.session_state.get("upload_id") != upload.file_id:
        st.session_state["upload_id"] = upload.file_id
        st.session_state["source"] = "upload"
    source = st.session_state.get("source")
    if source == "upload" and upload is not None:
        report = analyse(upload.name, cfg, leg, data=upload.getvalue(),
                         content_id=upload.file_id)
        if report is not None:
            show_report(report, "upload")
            save_control(report, upload.name, "upload", data=upload.getvalue())
    elif source == "sample":
        report = analyse(SAMPLE_CLIP.name, cfg, leg, path=SAMPLE_CLIP)
        if report is not None:
            show_report(report, "sample")
            save_control(report, SAMPLE_CLIP.name, "sample", path=SAMPLE_CLIP)


def ice_servers() -> list[dict[str, Any]]:
    """ICE servers from VALGUS_ICE_SERVERS (JSON list); none by default (local use)."""
    servers, problem = ice_servers_from_text(os.environ.get("VALGUS_ICE_SERVERS", ""))
    if problem:
        st.warning(problem)
    return servers


def status_panel(status: LiveStatus, fps: float, cfg: AnalysisConfig) -> None:
    """The live numbers as text (the video shows them too; text is readable and testable)."""
    need = cfg.clearance.required_reps
    if status.phase == "setup":
        st.markdown("**Setup check** (counting starts when every line is OK for a second)")
        for item in status.setup.items:
            st.markdown(f"{'OK' if item.ok else '->'} {item.message}")
    else:
        cols = st.columns(2)
        for col, side in zip(cols, ("left", "right"), strict=True):
            col.metric(f"{side.capitalize()} leg reps", f"{status.counts[side]} / {need}")
            col.progress(min(status.counts[side] / need, 1.0))
        stance = status.stance
        if stance is not None and math.isfinite(status.fppa_deg[stance]):
            st.markdown(f"Live FPPA, {stance} knee: **{status.fppa_deg[stance]:.0f} deg**")
        problems = [i.message for i in status.setup.items if not i.ok]
        if problems:
            st.warning(problems[0])
        for rep in status.reps[-5:][::-1]:
            number = leg_rep_number(status.reps, rep)
            name = f"{rep.leg.capitalize()} rep {number}" if number else (
                f"{rep.leg.capitalize()}, not counted")
            value = rep.scored_fppa_deg
            st.markdown(
                f"{name}: :{_band_color(rep.band)}[**{BAND_TEXT[rep.band]}**]"
                + (f", FPPA {fmt_deg(value)}" if value is not None else "")
                + (f" ({issues_text(rep)})" if rep.issues else "")
            )
    st.caption(
        f"live: {status.frames} frames processed, {status.recorded_frames} recorded, "
        f"{status.recorded_s:.1f} s recorded, {fps:.1f} frames/s, phase {status.phase}"
    )


def live_rep_table(reps: tuple[RepScore, ...]) -> None:
    """The reps scored live, in order, band in colour."""
    st.dataframe(rep_table(reps, full=False), hide_index=True,
                 column_config={"notes": st.column_config.TextColumn(width="large")})


def _band_color(band: str) -> str:
    return {"fine": "green", "borderline": "orange", "excessive": "red"}.get(band, "gray")


def webrtc_available() -> bool:
    """streamlit-webrtc needs a real browser session; AppTest (tests) has none."""
    try:
        from streamlit_webrtc.session_info import get_this_session_info

        return get_this_session_info() is not None
    except Exception:  # not installed, or no server runtime behind this script run
        return False


def page_live(cfg: AnalysisConfig) -> None:
    live_cfg = LiveConfig()
    st.title("Live self-test")
    st.markdown(
        "**Before you start**\n"
        f"1. {CAMERA_PLACEMENT}\n"
        "2. Press START and allow the camera. The picture shows a checklist: it counts nothing "
        "until your whole body is in view, you face the camera and you are close enough.\n"
        f"3. Then do single-leg squats: {cfg.clearance.required_reps} on one leg, then "
        f"{cfg.clearance.required_reps} on the other, down to about 60 deg of knee bend, "
        "2-6 s per rep. Every rep shows its band and FPPA as soon as you are back up.\n"
        "4. Press STOP when you are done: the recording is kept on this computer and can be "
        "analysed exactly like an uploaded video."
    )
    if not webrtc_available():
        st.info("The webcam is not available here (streamlit-webrtc is not installed or the "
                "page runs without a browser).")
        show_kept_clip(cfg)
        return
    import av
    from streamlit_webrtc import VideoProcessorBase, WebRtcMode, webrtc_streamer

    class ValgusVideoProcessor(VideoProcessorBase):
        """One per webcam stream: its own pose model, closed when the stream ends."""

        def __init__(self) -> None:
            from valgus.runtime.estimator import MediaPipePoseEstimator

            self.live = LiveProcessor(MediaPipePoseEstimator, DATA_DIR / "selftests", cfg,
                                      live_cfg)
            self._t0: float | None = None

        def recv(self, frame: av.VideoFrame) -> av.VideoFrame:
            rgb = frame.to_ndarray(format="rgb24")
            t_s = frame.time if frame.time is not None else time.monotonic()
            out = self.live.process(rgb, float(t_s))
            return av.VideoFrame.from_ndarray(out, format="rgb24")

        async def recv_queued(self, frames: list[av.VideoFrame]) -> list[av.VideoFrame]:
            # Frames that queued up while the previous one was analysed are dropped and only
            # the newest is analysed: on a slow machine the picture and the counts stay current
            # (every frame carries its own time) instead of falling behind the camera.
            # streamlit-webrtc does the same without this method, but logs a warning each time.
            return [self.recv(frames[-1])]

        def on_ended(self) -> None:
            self.live.stop()

    video_col, status_col = st.columns([3, 2], gap="large")
    with video_col:
        ctx = webrtc_streamer(
            key="selftest",
            mode=WebRtcMode.SENDRECV,
            rtc_configuration={"iceServers": ice_servers()},
            media_stream_constraints={"video": True, "audio": False},
            video_processor_factory=ValgusVideoProcessor,
            async_processing=True,
        )
    with status_col:
        box = st.empty()
    if ctx.state.playing:
        st.session_state.pop("live_review", None)
        # Poll the stream's numbers until the user presses STOP (which reruns this script).
        while True:
            processor = ctx.video_processor
            if processor is not None:
                st.session_state["live_processor"] = processor
                with box.container():
                    status_panel(processor.live.status, processor.live.processing_fps, cfg)
            time.sleep(0.3)
    processor = st.session_state.get("live_processor")
    if processor is not None:
        outcome: LiveOutcome = processor.live.stop()
        st.session_state["live_outcome"] = outcome
        st.session_state.pop("live_processor", None)
    show_kept_clip(cfg)


def show_kept_clip(cfg: AnalysisConfig) -> None:
    outcome: LiveOutcome | None = st.session_state.get("live_outcome")
    if outcome is None:
        return
    with st.container(border=True, key="live_summary"):
        st.markdown("#### Your self-test")
        if outcome.error:
            st.error(outcome.error)
        counts = outcome.status.counts
        st.markdown(
            f"Counted live: **left {counts['left']}**, **right {counts['right']}** reps "
            f"({outcome.status.recorded_s:.1f} s recorded)."
        )
        complete = [r for r in outcome.reps if r.complete and r.exercise == "single_leg"]
        if complete:
            st.markdown("Order of reps: " + ", ".join(r.leg for r in complete))
            live_rep_table(outcome.reps)
        if outcome.clip_path is None:
            st.info("Nothing was recorded: counting had not started (see the setup check).")
            return
        st.caption(f"Kept on this computer: {outcome.clip_path}")
        if st.button("Analyse the recording like an upload", key="review"):
            st.session_state["live_review"] = str(outcome.clip_path)
    review = st.session_state.get("live_review")
    if review and Path(review).is_file():
        report = analyse(Path(review).name, cfg, "auto", path=Path(review))
        if report is not None:
            show_report(report, "review")
            save_control(report, Path(review).name, "live", path=Path(review))


def main() -> None:
    st.set_page_config(page_title="valgus: knee valgus in single-leg squats", layout="wide")
    query_page = st.query_params.get("page")
    default = {"live": 1, "review": 2}.get(query_page or "", 0)
    page = st.sidebar.radio("Page", PAGES, index=default, key="page")
    if page == PAGES[2]:
        page_review()
        return
    cfg, leg = sidebar_settings()
    if page == PAGES[0]:
        page_upload(cfg, leg)
    else:
        page_live(cfg)


main()
