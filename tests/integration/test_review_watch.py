"""Watching the reps on the Review page (issue 15 item 1), AppTest: the stored clip plays
(``st.video``), the timeline of the stored poses shades every rep in its band in force, picking
a rep starts the video at it (the list, and a click on the chart), and the frames around the
rep's scored frame step one by one."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tests.integration.test_review_page import (
    CLINICIAN,
    DAY,
    button,
    data_dir,  # noqa: F401  (fixture)
    elements_in,
    review_app,
)
from tests.records_data import squats, write_clip
from valgus.core.clearance import Override
from valgus.store.service import Records


def _saved(path: Path, tmp_path: Path) -> tuple[int, Any]:
    result, series = squats("left", 4.0, 3)
    with Records.open(path) as rec:
        rec.add_person("RUN-090", "female")
        sid = rec.create_session("RUN-090", DAY).id
        saved = rec.save_analysis(sid, write_clip(tmp_path / "c.mp4", n_frames=len(series)),
                                  result, series)
        rec.save_review(sid, CLINICIAN, "", [Override(saved.id, 2, "excessive", "caves in")])
    return saved.id, result


def _video(at: Any, aid: int) -> Any:
    (video,) = elements_in(at, f"rv_clip_{aid}", "video")
    return video.proto


def _step_caption(at: Any, aid: int) -> str:
    found = elements_in(at, f"rv_step_frame_{aid}", "image")
    assert len(found) == 1, found
    return str(found[0].proto.imgs[0].caption).replace("\\", "")  # plain(): escaped


def test_the_clip_plays_from_the_chosen_rep_and_frames_step(
    data_dir: Path, tmp_path: Path  # noqa: F811
) -> None:
    aid, result = _saved(data_dir, tmp_path)
    at = review_app()
    assert not at.exception, at.exception
    assert _video(at, aid).start_time == 0  # the whole clip
    # The timeline: both legs' FPPA and flexion, the reps shaded; rep 2 in its reviewed band.
    charts = [c for c in elements_in(at, f"rv_clip_{aid}", "plotly_chart")]
    assert charts, "no timeline"
    spec = json.loads(charts[0].proto.spec)
    shapes = [s for s in spec["layout"]["shapes"] if s.get("type") == "rect"]
    colors = [s["fillcolor"] for s in shapes if s.get("yref", "").startswith("y")]
    assert len({s["x0"] for s in shapes}) >= 3
    assert "left FPPA" in json.dumps(spec["data"])
    assert len(set(colors)) >= 2  # fine reps and the re-banded (excessive) one
    # Pick rep 2: the video starts on the whole second at least 0.5 s before it; its scored
    # frame is shown.
    rep2 = result.reps[1]
    pick = at.selectbox(key=f"rv_watch_rep_{aid}")
    assert "rep 2: left leg" in pick.format_func(2) and "excessive" in pick.format_func(2)
    pick.set_value(2).run()
    assert not at.exception, at.exception
    assert _video(at, aid).start_time == int(max(0.0, rep2.start_s - 0.5))  # a second
    scored = rep2.picture_index
    assert f"frame {scored} (the scored frame; left FPPA here" in _step_caption(at, aid)
    button(at, f"rv_next_{aid}").click().run()
    assert f"frame {scored + 1} (+1 from the scored frame {scored}" in _step_caption(at, aid)
    button(at, f"rv_prev_{aid}").click().run()
    button(at, f"rv_prev_{aid}").click().run()
    assert f"frame {scored - 1} (-1 from the scored frame {scored}" in _step_caption(at, aid)
    button(at, f"rv_scored_{aid}").click().run()
    assert f"frame {scored} (the scored frame" in _step_caption(at, aid)


def test_a_click_on_the_chart_picks_the_rep_under_it(
    data_dir: Path, tmp_path: Path  # noqa: F811
) -> None:
    """The chart's selection event (as Streamlit hands it to the script) picks the rep whose
    span holds the clicked time."""
    aid, result = _saved(data_dir, tmp_path)
    at = review_app()
    rep3 = result.reps[2]
    event = SimpleNamespace(selection=SimpleNamespace(points=[{"x": rep3.bottom_s, "y": 3.0}]))
    at.session_state[f"rv_watch_chart_{aid}"] = event
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key=f"rv_watch_rep_{aid}").value == 3
    assert _video(at, aid).start_time == int(max(0.0, rep3.start_s - 0.5))
