"""The Review page's clips: each stored clip's reps (band in force and the analysis's), the
settings it was analysed with when they are not the clinic's (flagged, with "Re-score under
the clinic's settings" from the stored poses), the clip to watch with its reps on a timeline
(``app.review_watch``) and the scored frame of every rep. Streamlit code only; every read and
write goes through ``valgus.store.service.Records``.
"""

from __future__ import annotations

from typing import Any

import pandas as pd  # type: ignore[import-untyped]
import streamlit as st

from valgus.app.plain import plain
from valgus.app.review_fix import fix_panel
from valgus.app.review_watch import watch_panel
from valgus.core.clearance import SquatRep
from valgus.core.reasons import describe, plural
from valgus.errors import ValgusError
from valgus.present.style import BAND_HEX, BAND_TEXT, fmt_num
from valgus.store.service import AnalysisInfo, Records, SessionSummary, UserInfo


def rep_rows(reps: list[SquatRep]) -> pd.io.formats.style.Styler:
    """The reps of one clip as the review sees them (band in force and the analysis's)."""
    rows = []
    for r in reps:
        rows.append({
            "#": r.index,
            "leg": r.leg,
            "bottom (s)": fmt_num(r.score.bottom_s, 2),
            "depth (deg)": fmt_num(r.score.depth_deg, 0),
            "FPPA (deg)": fmt_num(r.fppa_deg),
            "tool FPPA (deg)": fmt_num(r.tool_fppa_deg),
            "band": BAND_TEXT.get(r.band, r.band),
            "analysis band": BAND_TEXT.get(r.original_band, r.original_band),
            "counted": "yes" if r.counted else "no",
            "override reason": r.override_reason or "",
            "point correction": r.correction.text() if r.correction else "",
            "notes": "; ".join(describe(i) for i in r.score.issues),
        })
    colors = {BAND_TEXT[k]: v for k, v in BAND_HEX.items()}

    def style(value: str) -> str:
        return f"background-color: {colors.get(value, '')}; color: white; font-weight: 600"

    return pd.DataFrame(rows).style.map(style, subset=["band"])


def deepest_frames(analysis: AnalysisInfo, reps: list[SquatRep]) -> None:
    """The deepest frame of every rep (skeleton drawn when the poses were kept), read from the
    stored clip once per analysis and reviewed bands."""
    from valgus.report.frames import bottom_frames

    bends = [r for r in reps if r.score.not_a_rep]
    reps = [r for r in reps if not r.score.not_a_rep]
    if bends:
        were = "was" if len(bends) == 1 else "were"
        st.caption(plain(f"{plural(len(bends), 'knee bend')} that {were} not a rep of its leg "
                         "(the free leg's bends, or the stance leg unclear): in the table above, "
                         "not pictured."))

    cache: dict[Any, Any] = st.session_state.setdefault("rv_frames", {})
    key = (analysis.id, tuple((r.index, r.band, r.correction.id if r.correction else 0)
                              for r in reps))
    if key not in cache:
        while len(cache) >= 8:
            cache.pop(next(iter(cache)))
        cache[key] = bottom_frames(analysis, reps)
    pictures, notes = cache[key]
    for note in notes:
        st.caption(plain(note[0].upper() + note[1:] + "."))  # notes name the clip
    per_row = 4
    for start in range(0, len(pictures), per_row):
        cols = st.columns(per_row)
        for col, pic in zip(cols, pictures[start : start + per_row], strict=False):
            col.image(pic.data_uri, caption=plain(pic.caption))  # captions are markdown


def settings_panel(rec: Records, summary: SessionSummary, a: AnalysisInfo,
                   user: UserInfo) -> None:
    """The analysis's settings when they are not the clinic's (``Records.settings_check``):
    flagged, and re-scored under the clinic's settings from the stored poses on request."""
    check = rec.settings_check(a, summary.person.sex)
    if not check.differs:
        return
    with st.container(key=f"rv_settings_{a.id}"):
        if check.flagged:
            st.warning(plain(check.text()), icon="⚠️")
        else:
            st.info(plain(check.text()))
        if summary.final:
            return
        if a.poses_path is None:
            st.caption("No poses were kept with this analysis: analyse the clip again with the "
                       "clinic's settings to re-score it.")
        elif not user.may("review"):
            st.caption("A clinician can re-score it under the clinic's settings.")
        elif st.button("Re-score under the clinic's settings", key=f"rv_rescore_{a.id}",
                       help="Scores the stored poses again with the clinic's thresholds, the "
                            "person's recorded sex and the policy's reps per leg (no video "
                            "model); the new analysis is the one in force, the old one stays "
                            "on record."):
            try:
                new = rec.rescore(a.id, user.username)
            except ValgusError as err:
                st.error(f"Not re-scored: {plain(err)}")
            else:
                st.session_state["rv_flash"] = (
                    f"Re-scored {a.clip.original_name} under the clinic's settings: analysis "
                    f"{new.id} is in force (analysis {a.id} stays on record; a review's "
                    "re-banded reps of it no longer apply).")
                st.rerun()


def clips_panel(rec: Records, summary: SessionSummary, user: UserInfo) -> None:
    """Every clip of the session with its reps, settings flag and scored frames."""
    if not summary.analyses:
        st.info("No clip in this session yet. Analyse a video on the upload page (or a webcam "
                "self-test) and save it to this person's record with this session's date.")
        return
    for a in summary.analyses:
        reps = [r for r in summary.reps if r.analysis_id == a.id]
        with st.container(border=True, key=f"rv_clip_{a.id}"):
            st.markdown(f"#### {plain(a.clip.original_name)} (analysis {a.id})")
            st.caption(f"{len(reps)} reps; stored {a.created_at:%Y-%m-%d %H:%M} UTC; valgus "
                       f"{a.valgus_version}.")
            settings_panel(rec, summary, a, user)
            if reps:
                st.dataframe(rep_rows(reps), hide_index=True, key=f"rv_reps_{a.id}",
                             column_config={"notes": st.column_config.TextColumn(width="large")})
                with st.expander("Watch the reps", expanded=True):
                    watch_panel(a, reps)
                    chosen = st.session_state.get(f"rv_watch_rep_{a.id}")
                    rep = next((r for r in reps if r.index == chosen), None)
                    if rep is not None and a.clip.path.is_file():
                        fix_panel(rec, summary, a, rep, user)
                with st.expander("The scored frame of every rep"):
                    deepest_frames(a, reps)
            else:
                st.info("No squat rep was found in this clip.")


