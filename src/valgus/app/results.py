"""What the app shows for an analysed clip: verdict cards, the per-rep table, the FPPA / flexion
chart, the deepest frame of every rep, the annotated video and the downloads; and the error
panel (one clear message and what to do, never a traceback)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd  # type: ignore[import-untyped]
import streamlit as st

from valgus.app.clip_report import Report
from valgus.app.plain import plain
from valgus.app.settings import SEX_LABEL
from valgus.core.checks import FILMING_GUIDANCE
from valgus.core.scoring import RepScore
from valgus.errors import ModelError, NoPersonError, VideoError
from valgus.present.charts import timeline_figure
from valgus.present.export import download_label
from valgus.present.style import (
    BAND_HEX,
    BAND_TEXT,
    fmt_deg,
    fmt_num,
    issues_text,
    leg_rule_text,
    rule_text,
)

VERDICT_STYLE = {"PASS": "green", "UNCERTAIN": "orange", "NOT YET": "red",
                 "CANNOT ASSESS": "gray"}
# Streamlit's markdown colour of each band (colour is never the only cue: the band is named).
BAND_MARKDOWN_COLOR = {"fine": "green", "borderline": "orange", "excessive": "red"}


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


def error_panel(title: str, err: BaseException, message: str | None = None) -> None:
    """A clear error with what to do; never a traceback. ``message``: the error in the user's
    terms when ``str(err)`` names something they never saw (a temporary file). Both may quote
    a clip's name: shown as plain text (``plain``), never as markdown."""
    with st.container(border=True, key="error_panel"):
        st.error(f"**{plain(title)}**  \n{plain(message if message is not None else err)}")
        st.markdown("**What to do**\n" + "\n".join(f"- {s}" for s in what_to_do(err)))


def verdict_cards(report: Report) -> None:
    """One card per leg: the verdict, its reasons (with the rule's numbers) and the leg's
    numbers; under them the rule in force."""
    result = report.result
    need = result.config.clearance.required_reps
    cols = st.columns(2)
    for col, (side, v) in zip(cols, result.legs.items(), strict=True):
        with col, st.container(border=True, key=f"verdict_{side}"):
            color = VERDICT_STYLE.get(v.verdict, "gray")
            st.markdown(f"#### {side.capitalize()} leg: :{color}[{v.verdict}]")
            for reason in v.reasons:
                st.markdown(f"- {reason[0].upper() + reason[1:]}")
            if v.valid_reps:
                st.caption(
                    f"{v.valid_reps} of {need} reps measured; FPPA mean "
                    f"{fmt_deg(v.mean_fppa_deg)} +/- {fmt_deg(v.uncertainty_deg)}, median "
                    f"{fmt_deg(v.median_fppa_deg)}, worst {fmt_deg(v.worst_fppa_deg)}; "
                    f"{v.excessive_reps} excessive, {v.borderline_reps} borderline."
                )
    st.caption(leg_rule_text(result.config))


def band_table(rows: list[dict[str, Any]]) -> pd.io.formats.style.Styler:
    """Rows as a table with the band column in its colour (and its name: colour is not the
    only cue)."""
    colors = {BAND_TEXT[k]: v for k, v in BAND_HEX.items()}

    def band_style(value: str) -> str:
        return f"background-color: {colors.get(value, '')}; color: white; font-weight: 600"

    return pd.DataFrame(rows).style.map(band_style, subset=["band"])


def rep_table(reps: tuple[RepScore, ...], full: bool = True,
              numbers: list[int] | None = None) -> pd.io.formats.style.Styler:
    """One row per rep; angles in degrees as text ('-' = not measurable). ``numbers``: each
    rep's number in its result (every knee-bend cycle counted, as the CLI, the records and
    ``valgus review --band A:N`` number them); 1, 2, ... when not given."""
    rows: list[dict[str, Any]] = []
    for n, r in zip(numbers or range(1, len(reps) + 1), reps, strict=True):
        row: dict[str, Any] = {
            "#": n,
            "leg": r.leg,
            "bottom (s)": fmt_num(r.bottom_s, 2),
            "depth (deg)": fmt_num(r.depth_deg, 0),
            "FPPA (deg)": fmt_num(r.scored_fppa_deg),
            "band": BAND_TEXT[r.band],
            "knee/ankle separation": fmt_num(r.knee_ankle_separation_ratio, 2),
        }
        if full:
            row["scored at"] = (f"deepest point, frame {r.picture_index}"
                                if r.scored_at == "bottom" else
                                {"reference_flexion": "60 deg flexion"}.get(r.scored_at or "", "-"))
            row["FPPA @60 deg"] = fmt_num(r.fppa_ref_deg)
            row["peak FPPA (deg)"] = fmt_num(r.fppa_peak_deg)
            row["pelvic drop (deg)"] = fmt_num(r.pelvic_drop_deg)
            row["trunk lean (deg)"] = fmt_num(r.trunk_lean_deg)
        row["notes"] = issues_text(r)
        rows.append(row)
    return band_table(rows)


def show_report(report: Report, key: str) -> None:
    """Verdicts, per-rep table, chart, deepest frames, annotated video and downloads."""
    result = report.result
    st.subheader(f"Result: {plain(result.source)}")
    st.caption(
        f"{result.duration_s:.1f} s, {result.n_frames} frames, person found in "
        f"{100 * result.detection_fraction:.0f}% of them. Exercise: "
        f"{result.exercise.replace('_', '-')}. Threshold: FPPA {result.threshold_deg:.1f} deg "
        f"(sex {SEX_LABEL[result.config.sex]})."
    )
    for guidance in result.view.guidance:
        with st.container(border=True, key=f"guidance_{key}"):
            st.warning(f"**The camera view cannot be measured.** {guidance}")
            st.markdown(
                "**What to do**\n- Re-film from the front, camera square to you.\n"
                f"- {FILMING_GUIDANCE}"
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
    numbered = [(n, r) for n, r in enumerate(result.reps, start=1) if not r.not_a_rep]
    reps = tuple(r for _, r in numbered)
    if reps:
        st.markdown("##### Every rep")
        st.dataframe(rep_table(reps, numbers=[n for n, _ in numbered]), hide_index=True,
                     key=f"reps_{key}",
                     column_config={"notes": st.column_config.TextColumn(width="large")})
        st.caption("#: the rep's number in the result, as the command line, the records and "
                   "the report number it (the free leg's bends, listed there, count too).")
        complete = [r.leg for r in result.reps if r.test_rep]
        if complete:
            st.caption(f"Complete single-leg reps in order: {', '.join(complete)}.")
        st.caption("FPPA: frontal plane projection angle, + = knee towards the midline "
                   "(valgus). Pelvic drop + = free-side hip lower; trunk lean + = towards the "
                   "stance leg. Knee/ankle separation: the knee-to-ankle separation ratio "
                   "(distance between the knees over that between the ankles across the image, "
                   "at the scored frame; < 1 = knees closer than the ankles), a screening "
                   "measure from drop-landing studies (Mizner 2012; Tofte and colleagues) where "
                   "both feet land; here the free leg enters it too, so it is shown, not scored. "
                   + rule_text(result.config))
    bends = [r for r in result.reps if r.not_a_rep]
    if bends:  # never silent (issue 16): every knee bend found is shown
        st.markdown("##### Knee bends that are not reps")
        st.caption("Every knee bend that reached the minimum depth is listed. These were the "
                   "free leg's, or which foot stood could not be told: they count on neither "
                   "leg.")
        st.dataframe(pd.DataFrame([{
            "leg": r.leg, "start (s)": fmt_num(r.start_s, 2), "bottom (s)": fmt_num(r.bottom_s, 2),
            "depth (deg)": fmt_num(r.depth_deg, 0), "why not a rep": issues_text(r),
        } for r in bends]), hide_index=True, key=f"bends_{key}")
    if not reps:
        st.info("No squat rep was found. Squat on one leg: down to about 60 deg of knee "
                "bend and back up, 2-6 s per rep.")
    st.markdown("##### FPPA and knee flexion over time")
    st.plotly_chart(timeline_figure(report.kin, result), key=f"chart_{key}")
    st.caption("Shaded: the reps, in their band's colour. FPPA is drawn bold while the leg is "
               "the standing leg of a rep and faint otherwise (a free leg's angle means "
               "nothing). Dashed line: the threshold; band around it: borderline (threshold "
               f"+/- {result.config.valgus.margin_deg(result.config.sex):.2f} deg, the measurement "
               "error).")
    if report.video.bottom_frames:
        st.markdown("##### The deepest frame of every rep")
        items = sorted(report.video.bottom_frames.items())
        per_row = 4
        for start in range(0, len(items), per_row):
            row = st.columns(per_row)
            for col, (k, img) in zip(row, items[start : start + per_row], strict=False):
                rep = result.reps[k]
                col.image(img, caption=f"Rep {k + 1}, {rep.leg}: {BAND_TEXT[rep.band]}, FPPA "
                          f"{fmt_deg(rep.scored_fppa_deg)} (frame {rep.picture_index})")
    st.markdown("##### Annotated video")
    video_bytes = report.video.path.read_bytes()
    w, h = report.video.size
    # A portrait phone clip at full page width would be taller than the screen.
    video_col = st.columns([2, 3])[0] if h > w else st.container()
    video_col.video(video_bytes, format="video/mp4")
    st.markdown("##### Downloads")
    cols = st.columns(5)
    mime = {".json": "application/json", ".csv": "text/csv"}
    for col, (name, data) in zip(cols, report.files.items(), strict=False):
        col.download_button(download_label(name), data, file_name=name,
                            mime=mime[Path(name).suffix], key=f"dl_{key}_{name}",
                            on_click="ignore", help=plain(name))
    cols[3].download_button(download_label(report.video.path.name), video_bytes,
                            file_name=report.video.path.name, mime="video/mp4",
                            key=f"dl_{key}_video", on_click="ignore",
                            help=plain(report.video.path.name))
    pdf_name = f"{Path(report.result.source).stem}.pdf"
    cols[4].download_button(download_label(pdf_name), partial(result_pdf, report),
                            file_name=pdf_name, mime="application/pdf", key=f"dl_{key}_pdf",
                            on_click="ignore",
                            help=f"{plain(pdf_name)}: this result, no record needed")


def result_pdf(report: Report) -> bytes:
    """This result as a PDF (``report.single``), made when the button is pressed."""
    from valgus.report.single import analysis_pdf

    return analysis_pdf(report.result, report.video.bottom_frames)
