"""The upload page: a phone video (or the bundled sample clip) analysed and shown, with the
control that saves it to a person's record."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from valgus.app.analyse import analyse
from valgus.app.results import show_report
from valgus.app.review import save_control
from valgus.config import AnalysisConfig
from valgus.core.checks import FILMING_GUIDANCE
from valgus.core.result import LegChoice

VIDEO_TYPES = ["mp4", "mov", "webm", "avi"]
# The how-to-film picture (scripts/make_filming_diagram.py); absent from an installed package.
HOW_TO_FILM = Path(__file__).resolve().parents[3] / "docs" / "how_to_film.png"


def filming_help(key: str) -> None:
    """The one filming advice, with the how-to-film picture when it is there."""
    with st.expander("How to film", expanded=False, key=f"how_to_film_{key}"):
        st.markdown(FILMING_GUIDANCE)
        if HOW_TO_FILM.is_file():
            st.image(str(HOW_TO_FILM), caption="Camera in front, whole body in the picture.")


def page_upload(cfg: AnalysisConfig, leg: LegChoice, sample_clip: Path | None) -> None:
    """Upload a phone video (or analyse the sample clip) and show its result.

    ``sample_clip``: the bundled sample video (its button is disabled when it is None or
    missing, as in an installed package without the repository's sample_videos/).
    """
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
    st.caption(f"Upload limit: {limit_mb} MB per video.")
    filming_help("upload")
    sample_clicked = st.button("Analyse the sample clip", key="sample",
                               disabled=sample_clip is None or not sample_clip.is_file())
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
    elif source == "sample" and sample_clip is not None:
        report = analyse(sample_clip.name, cfg, leg, path=sample_clip)
        if report is not None:
            show_report(report, "sample")
            save_control(report, sample_clip.name, "sample", path=sample_clip)
