"""Watching a stored clip's reps on the Review page (issue 15 item 1): the clip plays
(``st.video`` with ``start_time``) beside the timeline of FPPA and knee flexion with every rep
shaded in its band in force (``present.charts.timeline_figure``, from the stored poses); picking
a rep, in the list or by clicking the chart, starts the video at that rep; around the rep's
scored frame the frames can be stepped one by one, each drawn with the skeleton and the
knee's FPPA at that frame (``present.annotated_video``). Streamlit code only; the poses and
frames are read from the records' files and kept for the browser session.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import numpy as np
import streamlit as st

from valgus.app.plain import plain
from valgus.core.clearance import SquatRep
from valgus.core.kinematics import Kinematics
from valgus.core.result import AnalysisResult
from valgus.errors import ValgusError
from valgus.present.style import BAND_TEXT, fmt_num
from valgus.store.service import AnalysisInfo

STEP_FRAMES = 15  # frames either side of the scored frame that can be stepped to
MAX_SIDE_PX = 720  # stepped frames are decoded at most this large
PICTURE_HEIGHT_PX = 480
CACHED = 4  # analyses (motion) and reps (frame windows) kept per browser session
WHOLE_CLIP = 0


@dataclass(frozen=True)
class Motion:
    """What the stored poses give the page: the kinematics the reps were scored on and the
    smoothed landmarks (T, 33, 2) in the poses' image pixels."""

    kin: Kinematics
    xy_px: np.ndarray
    image_size: tuple[int, int]


def _cache(name: str) -> dict[Any, Any]:
    cache: dict[Any, Any] = st.session_state.setdefault(name, {})
    while len(cache) >= CACHED:
        cache.pop(next(iter(cache)))
    return cache


def motion(a: AnalysisInfo) -> Motion | None:
    """The analysis's kinematics and landmarks from its stored poses (None without poses, or
    when they cannot be read); computed once per browser session."""
    from valgus.core.kinematics import smooth_landmarks
    from valgus.core.pose import PoseSeries
    from valgus.pipeline import prepare_scoring

    cache: dict[Any, Any] = st.session_state.setdefault("rv_motion", {})
    if a.id not in cache:
        found: Motion | None = None
        if a.poses_path is not None:
            try:
                series = PoseSeries.load(a.poses_path)
                kin = prepare_scoring(series, a.result.config).kin
                xy, _ = smooth_landmarks(series, a.result.config.smoothing)
                found = Motion(kin, xy, series.image_size)
            except (OSError, ValueError, KeyError, ValgusError):
                found = None
        cache = _cache("rv_motion")
        cache[a.id] = found
    return cache[a.id]  # type: ignore[no-any-return]


def reviewed_result(result: AnalysisResult, reps: list[SquatRep]) -> AnalysisResult:
    """``result`` with each rep in its band in force (a reviewer's re-banding drawn too)."""
    scores = list(result.reps)
    for r in reps:
        if 0 < r.index <= len(scores):
            scores[r.index - 1] = dataclasses.replace(scores[r.index - 1], band=r.band)
    return dataclasses.replace(result, reps=tuple(scores))


def rep_label(r: SquatRep) -> str:
    return (f"rep {r.index}: {r.leg} leg, {fmt_num(r.fppa_deg)} deg, "
            f"{BAND_TEXT.get(r.band, r.band)} ({r.score.start_s:.1f}-{r.score.end_s:.1f} s)")


def frame_window(a: AnalysisInfo, first: int, last: int) -> dict[int, np.ndarray]:
    """Frames ``first``..``last`` of the stored clip (fewer at its end; none if unreadable),
    decoded in one pass and kept for the browser session."""
    from valgus.runtime.video import iter_frames

    key = (a.id, first, last)
    cache: dict[Any, Any] = st.session_state.setdefault("rv_frame_windows", {})
    if key not in cache:
        found: dict[int, np.ndarray] = {}
        try:
            for i, (_t, rgb) in enumerate(iter_frames(a.clip.path, max_side_px=MAX_SIDE_PX)):
                if i >= first:
                    found[i] = rgb
                if i >= last:
                    break
        except (ValgusError, OSError):
            found = {}
        cache = _cache("rv_frame_windows")
        cache[key] = found
    return cache[key]  # type: ignore[no-any-return]


def drawn_frame(rgb: np.ndarray, i: int, result: AnalysisResult, m: Motion | None
                ) -> np.ndarray:
    """Frame ``i`` with the skeleton, the stance knee's FPPA and the rep counters, cropped to
    the person (the plain frame without poses or OpenCV)."""
    if m is None or i >= len(m.kin.t_s):
        return rgb
    try:
        from valgus.present.annotated_video import annotate_frame, crop_to_person
    except ImportError:
        return rgb
    xy = m.xy_px[i] * (rgb.shape[1] / m.image_size[0])
    out = annotate_frame(rgb, xy, i, float(m.kin.t_s[i]), result, m.kin)
    crop, _ = crop_to_person(out, xy, height_px=PICTURE_HEIGHT_PX)
    return crop


def _chosen_from_chart(key: str, reps: list[SquatRep]) -> int | None:
    """The rep clicked on the chart since the last run (None: no new click)."""
    event = st.session_state.get(key)
    points = list(getattr(getattr(event, "selection", None), "points", None) or [])
    seen_key = f"{key}_seen"
    if not points or st.session_state.get(seen_key) == points:
        return None
    st.session_state[seen_key] = points
    x = points[0].get("x") if isinstance(points[0], dict) else None
    if not isinstance(x, (int, float)):
        return None
    inside = [r for r in reps if r.score.start_s <= x <= r.score.end_s]
    near = inside or sorted(reps, key=lambda r: abs(r.score.bottom_s - x))
    return near[0].index if near else None


def step_panel(a: AnalysisInfo, rep: SquatRep, result: AnalysisResult, m: Motion | None
               ) -> None:
    """Previous / next frame around the rep's scored frame."""
    scored = rep.score.picture_index
    key = f"rv_step_{a.id}_{rep.index}"
    offset = int(st.session_state.get(key, 0))
    # Short labels: the panel is a narrow column beside the video ("◀ previous frame" was cut
    # to "◀." there); the full words are the buttons' tooltips.
    cols = st.columns(3)
    if cols[0].button("◀ prev", key=f"rv_prev_{a.id}", help="previous frame",
                      disabled=offset <= -STEP_FRAMES, width="stretch"):
        offset -= 1
    if cols[1].button("scored", key=f"rv_scored_{a.id}", help="back to the scored frame",
                      width="stretch"):
        offset = 0
    if cols[2].button("next ▶", key=f"rv_next_{a.id}", help="next frame",
                      disabled=offset >= STEP_FRAMES, width="stretch"):
        offset += 1
    st.session_state[key] = offset
    frames = frame_window(a, max(0, scored - STEP_FRAMES), scored + STEP_FRAMES)
    i = scored + offset
    if i not in frames:
        st.caption(f"Frame {i} is not in the stored clip.")
        return
    where = "the scored frame" if offset == 0 else f"{offset:+d} from the scored frame {scored}"
    fppa = ""
    if m is not None and i < len(m.kin.t_s):
        value = float(m.kin.leg(rep.leg).fppa_deg[i])
        fppa = f"; {rep.leg} FPPA here {fmt_num(value)} deg" if np.isfinite(value) else ""
    with st.container(key=f"rv_step_frame_{a.id}"):
        st.image(drawn_frame(frames[i], i, result, m),
                 caption=plain(f"rep {rep.index}, frame {i} ({where}{fppa})"))


def watch_panel(a: AnalysisInfo, reps: list[SquatRep]) -> None:
    """The clip with its reps: timeline, rep choice (list or chart click), video, frames."""
    if not a.clip.path.is_file():
        st.caption("The stored clip is missing: it cannot be played.")
        return
    listed = [r for r in reps if not r.score.not_a_rep]
    result = reviewed_result(a.result, reps)
    m = motion(a)
    chart_key = f"rv_watch_chart_{a.id}"
    pick_key = f"rv_watch_rep_{a.id}"
    clicked = _chosen_from_chart(chart_key, listed)
    if clicked is not None:
        st.session_state[pick_key] = clicked
    if m is not None:
        from valgus.present.charts import timeline_figure

        st.plotly_chart(timeline_figure(m.kin, result), key=chart_key, on_select="rerun",
                        selection_mode="points")
        st.caption("Click a point inside a rep to play it; bands as reviewed.")
    by_index = {r.index: r for r in listed}
    options = [WHOLE_CLIP, *by_index]
    if st.session_state.get(pick_key) not in options:
        st.session_state[pick_key] = WHOLE_CLIP
    chosen = st.selectbox("Watch", options, key=pick_key,
                          format_func=lambda k: "the whole clip" if k == WHOLE_CLIP
                          else rep_label(by_index[k]))
    rep = by_index.get(chosen)
    # Streamlit starts a video on a whole second: the one at least half a second before the
    # rep starts.
    start = int(max(0.0, rep.score.start_s - 0.5)) if rep else 0
    cols = st.columns([3, 2]) if rep else [st.container()]
    with cols[0]:
        st.video(str(a.clip.path), start_time=start)
    if rep is not None:
        with cols[1]:
            step_panel(a, rep, result, m)
