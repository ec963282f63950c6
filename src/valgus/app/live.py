"""The live self-test page: the webcam (streamlit-webrtc) through ``live.processor.LiveProcessor``
with the live numbers beside it; afterwards the kept recording (in ``data_dir()/selftests``),
analysed like an upload on request."""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

import streamlit as st

from valgus.app.analyse import analyse
from valgus.app.results import BAND_MARKDOWN_COLOR, rep_table, show_report
from valgus.app.review import save_control
from valgus.app.upload import filming_help
from valgus.config import AnalysisConfig, LiveConfig
from valgus.core.reasons import RepIssueCode, cycle_label
from valgus.core.scoring import RepScore
from valgus.landmarks import SIDES
from valgus.live.processor import LiveOutcome, LiveProcessor, ice_servers_from_text
from valgus.live.session import LiveStatus
from valgus.live.setup import CAMERA_PLACEMENT
from valgus.paths import data_dir
from valgus.present.style import BAND_TEXT, fmt_deg, issues_text, leg_rep_number
from valgus.runtime.encode import VideoFrame, video_frame


def selftest_dir() -> Path:
    """Where kept self-test clips go: ``data_dir() / "selftests"`` (never uploaded anywhere)."""
    return data_dir() / "selftests"


def ice_servers() -> list[dict[str, Any]]:
    """ICE servers from VALGUS_ICE_SERVERS (JSON list); none by default (local use)."""
    servers, problem = ice_servers_from_text(os.environ.get("VALGUS_ICE_SERVERS", ""))
    if problem:
        st.warning(problem)
    return servers


def status_lines(status: LiveStatus, cfg: AnalysisConfig) -> list[str]:
    """The live numbers in the user's words, one markdown line each: the setup checklist
    until counting starts, then the reps per leg, the live FPPA, what to fix and the last
    reps. Nothing internal (no phase names, no frame rates)."""
    need = cfg.clearance.required_reps
    if status.phase == "setup":
        lines = ["**Getting ready**: counting starts when every line is OK for a second."]
        lines += [f"{'OK' if item.ok else 'To do:'} {item.message}"
                  for item in status.setup.items]
        return lines
    lines = [" | ".join(f"**{side.capitalize()} leg: {status.counts[side]} of {need} reps**"
                        for side in SIDES)]
    stance = status.stance
    if stance is not None and math.isfinite(status.fppa_deg[stance]):
        lines.append(f"Your {stance} knee now: **{status.fppa_deg[stance]:.0f} deg** FPPA")
    if status.not_a_rep:
        tally: dict[str, int] = {}
        for code in status.not_a_rep:
            tally[code] = tally.get(code, 0) + 1
        why = ", ".join(f"{n} {cycle_label(RepIssueCode(code))}" for code, n in tally.items())
        lines.append(f"Knee bends not counted as reps: {len(status.not_a_rep)} ({why})")
    problems = [i.message for i in status.setup.items if not i.ok]
    if problems:
        lines.append(f"To do: {problems[0]}")
    for rep in status.reps[-5:][::-1]:
        number = leg_rep_number(status.reps, rep)
        name = f"{rep.leg.capitalize()} rep {number}" if number else (
            f"{rep.leg.capitalize()}, not counted")
        value = rep.scored_fppa_deg
        lines.append(
            f"{name}: :{BAND_MARKDOWN_COLOR.get(rep.band, 'gray')}[**{BAND_TEXT[rep.band]}**]"
            + (f", FPPA {fmt_deg(value)}" if value is not None else "")
            + (f" ({issues_text(rep)})" if rep.issues else "")
        )
    lines.append(f"Recording: {status.recorded_s:.0f} s")
    return lines


def status_panel(status: LiveStatus, cfg: AnalysisConfig) -> None:
    """The live numbers as one block of text (the video shows them too; text is readable and
    testable), written whole each time so no earlier line stays behind."""
    st.markdown("  \n".join(status_lines(status, cfg)))


def live_rep_table(reps: tuple[RepScore, ...]) -> None:
    """The reps scored live, in order, band in colour."""
    st.dataframe(rep_table(reps, full=False), hide_index=True,
                 column_config={"notes": st.column_config.TextColumn(width="large")})


def webrtc_available() -> bool:
    """streamlit-webrtc needs a real browser session; AppTest (tests) has none."""
    try:
        from streamlit_webrtc.session_info import get_this_session_info

        return get_this_session_info() is not None
    except Exception:  # not installed, or no server runtime behind this script run
        return False


def page_live(cfg: AnalysisConfig) -> None:
    """The live self-test: the webcam through ``LiveProcessor`` with the numbers beside it, then
    the kept recording, which can be analysed like an upload."""
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
    filming_help("live")
    if not webrtc_available():
        st.info("The webcam is not available here (streamlit-webrtc is not installed or the "
                "page runs without a browser).")
        show_kept_clip(cfg)
        return
    from streamlit_webrtc import VideoProcessorBase, WebRtcMode, webrtc_streamer

    class ValgusVideoProcessor(VideoProcessorBase):
        """One per webcam stream: its own pose model, closed when the stream ends."""

        def __init__(self) -> None:
            from valgus.runtime.estimator import MediaPipePoseEstimator

            self.live = LiveProcessor(MediaPipePoseEstimator, selftest_dir(), cfg, live_cfg)
            self._t0: float | None = None

        def recv(self, frame: VideoFrame) -> VideoFrame:
            rgb = frame.to_ndarray(format="rgb24")
            t_s = frame.time if frame.time is not None else time.monotonic()
            out = self.live.process(rgb, float(t_s))
            return video_frame(out)

        async def recv_queued(self, frames: list[VideoFrame]) -> list[VideoFrame]:
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
                    status_panel(processor.live.status, cfg)
            time.sleep(0.3)
    processor = st.session_state.get("live_processor")
    if processor is not None:
        outcome: LiveOutcome = processor.live.stop()
        st.session_state["live_outcome"] = outcome
        st.session_state.pop("live_processor", None)
    show_kept_clip(cfg)


def show_kept_clip(cfg: AnalysisConfig) -> None:
    """The finished self-test: live counts and reps, and the kept clip analysed on request
    (``analyse`` -> ``clip_report.build_report``, exactly as an upload)."""
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
        complete = [r for r in outcome.reps if r.test_rep]
        if complete:
            st.markdown("Order of reps: " + ", ".join(r.leg for r in complete))
            live_rep_table(outcome.reps)
        if outcome.clip_path is None:
            st.info("Nothing was recorded: counting had not started (see the setup check).")
            return
        st.caption(f"Kept on this computer: {outcome.clip_path} "
                   f"({outcome.status.recorded_frames} frames, "
                   f"{outcome.status.recorded_s:.1f} s)")
        if st.button("Analyse the recording like an upload", key="review"):
            st.session_state["live_review"] = str(outcome.clip_path)
    review = st.session_state.get("live_review")
    if review and Path(review).is_file():
        report = analyse(Path(review).name, cfg, "auto", path=Path(review))
        if report is not None:
            show_report(report, "review")
            save_control(report, Path(review).name, "live", path=Path(review))
