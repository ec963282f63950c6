"""Correcting a point on the Review page (issue 15 item 2): at the scored frame of the rep being
watched, the hip, knee and ankle of its scored leg are drawn on the frame; the reviewer picks a
point (radio), clicks where it belongs on the picture (``streamlit-image-coordinates``), sees
the FPPA measured again from the corrected points at once, gives a reason and saves
(``Records.save_correction``). The tool's value and the corrected one stand side by side with
who, when and why; the newest correction of a rep can be undone with a reason (audited, the
record kept). Streamlit code only; every read and write goes through ``Records``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import streamlit as st

from valgus import landmarks as lm
from valgus.app.plain import plain
from valgus.app.review_watch import frame_window
from valgus.core.clearance import SquatRep, correctable
from valgus.core.correction import POINTS, XY, LegPoints, Point
from valgus.core.fppa import mapping_for
from valgus.errors import ValgusError
from valgus.landmarks import NUM_LANDMARKS, Side
from valgus.present.style import BAND_RGB, BAND_TEXT, FREE_LEG, fmt_num
from valgus.store.corrections import ScoredPoints, preview
from valgus.store.service import AnalysisInfo, Records, SessionSummary, UserInfo

DISPLAY_WIDTH_PX = 420  # the picture to click on is shown this wide
MARGIN = 0.35  # around the leg's points, as a fraction of the leg's height


def _scored(rec: Records, a: AnalysisInfo, index: int) -> ScoredPoints | None:
    """The rep's scored frame and the tool's points there (kept for the browser session)."""
    cache: dict[Any, Any] = st.session_state.setdefault("rv_fix_points", {})
    key = (a.id, index)
    if key not in cache:
        try:
            cache[key] = rec.scored_points(a, index)
        except ValgusError as err:
            cache[key] = str(err)
    found = cache[key]
    if isinstance(found, str):
        st.caption(plain(f"Its points cannot be corrected: {found}."))
        return None
    return found  # type: ignore[no-any-return]


def crop_box(points: LegPoints, scale: np.ndarray, shape: tuple[int, ...]) -> tuple[int, ...]:
    """(x0, y0, x1, y1) in frame pixels around the leg's points (and the other hip)."""
    pts = np.array([points.hip, points.knee, points.ankle, points.other_hip]) * scale
    height = float(np.ptp(pts[:, 1])) or shape[0] / 2
    pad = MARGIN * height
    x0 = int(max(0, pts[:, 0].min() - pad))
    x1 = int(min(shape[1], pts[:, 0].max() + pad))
    y0 = int(max(0, pts[:, 1].min() - pad))
    y1 = int(min(shape[0], pts[:, 1].max() + pad))
    # At least 0.75 as wide as tall, so the enlarged picture is not a tall strip.
    short = int(0.75 * (y1 - y0)) - (x1 - x0)
    if short > 0:
        x0, x1 = max(0, x0 - short // 2), min(shape[1], x1 + short - short // 2)
    return x0, y0, max(x1, x0 + 2), max(y1, y0 + 2)


def _picture(rgb: np.ndarray, scale: np.ndarray, box: tuple[int, ...], leg: Side,
             shown: LegPoints, moves: list[tuple[XY, XY]], chosen: Point,
             color: tuple[int, int, int]) -> np.ndarray:
    """The cropped frame, enlarged to the display width, with the leg drawn through the
    points ``shown`` (the chosen point ringed), the moved points' originals faint."""
    from PIL import Image

    from valgus.present.draw import draw_moved_points, draw_skeleton, landmark_of

    x0, y0, x1, y1 = box
    zoom = DISPLAY_WIDTH_PX / (x1 - x0)
    crop = np.asarray(Image.fromarray(np.ascontiguousarray(rgb[y0:y1, x0:x1])).resize(
        (DISPLAY_WIDTH_PX, max(2, round((y1 - y0) * zoom))))).copy()

    def to_crop(p: XY) -> np.ndarray:
        return (np.asarray(p, dtype=float) * scale - [x0, y0]) * zoom

    xy = np.full((NUM_LANDMARKS, 2), np.nan)
    for name in POINTS:
        xy[landmark_of(leg, name)] = to_crop(shown.point(name))
    other = lm.other(leg)
    xy[landmark_of(other, "hip")] = to_crop(shown.other_hip)
    draw_skeleton(crop, xy, {leg: color, other: FREE_LEG}, thick_leg=leg)
    draw_moved_points(crop, [(to_crop(o), to_crop(c)) for o, c in moves], color)
    import cv2

    at = to_crop(shown.point(chosen))
    cv2.circle(crop, (round(at[0]), round(at[1])), 12, (255, 255, 0), 2, cv2.LINE_AA)
    return crop


def _in_force_panel(rec: Records, summary: SessionSummary, rep: SquatRep, user: UserInfo
                    ) -> None:
    """The tool's value and the corrected one side by side, with who, when and why; undo."""
    fix = rep.correction
    if fix is None:
        return
    cols = st.columns(2)
    cols[0].metric("FPPA measured by the tool", f"{fmt_num(rep.tool_fppa_deg)} deg")
    cols[1].metric("FPPA from the corrected points", f"{fmt_num(fix.fppa_deg)} deg",
                   delta=f"{fix.fppa_deg - (rep.tool_fppa_deg or 0.0):+.1f} deg",
                   delta_color="off")
    moved = ", ".join(fix.moves())
    st.caption(plain(f"In force: {moved} point{'s' if len(fix.moves()) > 1 else ''} corrected; "
                     f"newest by {fix.by} on {fix.at:%Y-%m-%d %H:%M} UTC: {fix.reason}. "
                     f"Band in force: {BAND_TEXT.get(rep.band, rep.band)}."))
    if summary.final or not user.may("review"):
        return
    row = st.columns([3, 1])
    why = row[0].text_input("Reason to undo the newest correction",
                            key=f"rv_fix_undo_reason_{fix.id}")
    row[1].markdown("&nbsp;")
    if row[1].button("Undo correction", key=f"rv_fix_undo_{fix.id}"):
        try:
            rec.undo_correction(fix.id, why, user.username)
        except ValgusError as err:
            st.error(f"Not undone: {plain(err)}")
        else:
            st.session_state["rv_flash"] = (f"Correction of the {fix.point} point of rep "
                                            f"{rep.index} undone (kept on record).")
            st.rerun()


def _history(rec: Records, a: AnalysisInfo, index: int) -> None:
    rows = [(c, how) for c, how in rec.correction_history(a.id) if c.index == index]
    if not rows:
        return
    with st.expander(f"Corrections of rep {index} on record ({len(rows)})"):
        for c, how in rows:
            st.markdown(plain(f"- {c.text()}" + (f"; {how}" if how else "; in force")))


def fix_panel(rec: Records, summary: SessionSummary, a: AnalysisInfo, rep: SquatRep,
              user: UserInfo) -> None:
    """Correct a point of ``rep`` at its scored frame (see the module docstring)."""
    with st.container(border=True, key=f"rv_fix_{a.id}"):
        st.markdown(f"##### Correct a point of rep {rep.index} ({rep.leg} leg)")
        if not correctable(rep.score):
            st.caption("This rep has no measured FPPA: there is no point to correct.")
            return
        _in_force_panel(rec, summary, rep, user)
        _history(rec, a, rep.index)
        if summary.final:
            st.caption("The session is signed: corrections are closed here (a later one is an "
                       "amendment, as for a review).")
            return
        if not user.may("review"):
            st.caption("A clinician can correct the hip, knee or ankle point here.")
            return
        scored = _scored(rec, a, rep.index)
        if scored is None:
            return
        frames = frame_window(a, scored.frame, scored.frame)
        if scored.frame not in frames:
            st.caption(f"Frame {scored.frame} is not in the stored clip.")
            return
        _editor(rec, a, rep, scored, frames[scored.frame], user.username)


def _editor(rec: Records, a: AnalysisInfo, rep: SquatRep, scored: ScoredPoints,
            rgb: np.ndarray, username: str) -> None:
    """Pick a point, click the picture, preview, reason, save."""
    try:
        from streamlit_image_coordinates import (  # type: ignore[import-untyped]
            streamlit_image_coordinates,
        )
    except ImportError:
        st.caption("Placing a point needs the streamlit-image-coordinates package (pip "
                   "install 'valgus[app]').")
        return

    from valgus.core.scoring import band_for

    base = f"{a.id}_{rep.index}"
    point: Point = st.radio("Point to move", POINTS, horizontal=True,
                            key=f"rv_fix_point_{base}")
    in_force = [rep.correction] if rep.correction else []
    moves = {p: oc for p, oc in (rep.correction.moves().items() if rep.correction else ())}
    pending_key = f"rv_fix_xy_{base}"
    pending = st.session_state.get(pending_key)
    if pending is not None and pending[0] != point:
        pending = None  # another point chosen: start again
    target: XY | None = pending[1] if pending is not None else None
    if target is not None:
        moves[point] = (scored.points.point(point), target)
    shown = scored.points.moved({p: c for p, (_, c) in moves.items()})
    # Pose image pixels -> decoded frame pixels, per axis.
    scale = np.array([rgb.shape[1] / scored.image_size[0], rgb.shape[0] / scored.image_size[1]])
    box = crop_box(scored.points, scale, rgb.shape)
    cfg = a.result.config
    threshold, margin = cfg.valgus.threshold_deg(cfg.sex), cfg.valgus.margin_deg(cfg.sex)
    value = None
    if target is not None:
        try:
            value = preview(scored.points, in_force, point, target, mapping_for(cfg))
        except ValueError as err:
            st.error(plain(f"That position gives no angle ({err}): click again."))
            st.session_state.pop(pending_key, None)
            target = None
            moves.pop(point, None)
    color = BAND_RGB[band_for(value, threshold, margin)] if value is not None else (
        BAND_RGB[rep.band])
    picture = _picture(rgb, scale, box, scored.leg, shown, list(moves.values()), point, color)
    cols = st.columns([3, 2])
    with cols[0]:
        click = streamlit_image_coordinates(picture, key=f"rv_fix_click_{base}",
                                            cursor="crosshair")
        st.caption(plain(f"Frame {scored.frame}, the scored frame: click where the {point} "
                         "belongs. Dots with a white ring: corrected points; faint rings: the "
                         "tool's."))
    if click and st.session_state.get(f"{pending_key}_seen") != click.get("unix_time"):
        st.session_state[f"{pending_key}_seen"] = click.get("unix_time")
        x0, y0, x1, _ = box
        zoom = (x1 - x0) / float(click.get("width") or DISPLAY_WIDTH_PX)
        xy = (float((x0 + click["x"] * zoom) / scale[0]),
              float((y0 + click["y"] * zoom) / scale[1]))
        st.session_state[pending_key] = (point, xy)
        st.rerun()
    with cols[1]:
        if rep.correction is None:
            st.metric("FPPA measured by the tool", f"{fmt_num(rep.tool_fppa_deg)} deg")
        else:
            st.metric("FPPA in force (corrected)", f"{fmt_num(rep.fppa_deg)} deg")
        if value is None or target is None:
            st.caption("Click the picture to move the point; the FPPA is measured again at "
                       "once.")
            return
        st.metric("FPPA with this correction", f"{fmt_num(value)} deg",
                  delta=f"{value - (rep.fppa_deg or 0.0):+.1f} deg", delta_color="off")
        st.caption(plain(f"Band: {BAND_TEXT[band_for(value, threshold, margin)]} (threshold "
                         f"{threshold:.1f} deg, unchanged)."))
        reason = st.text_input("Reason (required)", key=f"rv_fix_reason_{base}")
        save, cancel = st.columns(2)
        if cancel.button("Cancel", key=f"rv_fix_cancel_{base}"):
            st.session_state.pop(pending_key, None)
            st.rerun()
        if save.button("Save correction", key=f"rv_fix_save_{base}", type="primary"):
            if not reason.strip():
                st.error("Give the reason for the correction.")
                return
            try:
                fix = rec.save_correction(a.id, rep.index, point, target, reason, username)
            except ValgusError as err:
                st.error(f"Not saved: {plain(err)}")
                return
            st.session_state.pop(pending_key, None)
            st.session_state["rv_flash"] = (
                f"Saved: rep {rep.index}'s {point} point corrected, FPPA "
                f"{fix.fppa_deg:.1f} deg (tool {fix.tool_fppa_deg:.1f} deg).")
            st.rerun()

