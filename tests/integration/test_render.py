"""Pictures of the results (valgus.present, runtime.encode, live.overlay): the H.264 writer,
drawing, the annotated video and the chart. The clip here is drawn from the synthetic person, so
no pose model is needed."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from tests.synthetic import evenly_spaced_reps, person_series, squat_curve, time_base
from valgus import landmarks as lm
from valgus.config import AnalysisConfig
from valgus.core.pose import PoseSeries
from valgus.pipeline import analyze_series
from valgus.present.annotated_video import crop_to_person, render_analysis_video
from valgus.present.charts import timeline_figure
from valgus.present.draw import draw_knee_angle, draw_skeleton, put_text, text_size
from valgus.present.style import BAND_RGB, live_band
from valgus.runtime.encode import H264Writer


def decode(path: Path) -> tuple[list[float], list[np.ndarray], av.video.stream.VideoStream]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        times = [float(f.pts * f.time_base) for f in frames]
        images = [f.to_ndarray(format="rgb24") for f in frames]
        return times, images, stream


def test_h264_writer_makes_a_browser_playable_mp4(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    times = [0.0, 0.033, 0.070, 0.2, 0.21, 0.5]  # variable frame rate, as from a webcam
    with H264Writer(path, 161, 121) as writer:  # odd sizes are cropped to even
        for k, t in enumerate(times):
            img = np.full((121, 161, 3), 40 * k, np.uint8)
            writer.write(img, t)
    data = path.read_bytes()
    # +faststart: the index (moov) comes before the media data, so playback starts at once.
    assert 0 < data.find(b"moov") < data.find(b"mdat")
    got, images, stream = decode(path)
    assert stream.codec_context.name == "h264"
    assert stream.codec_context.pix_fmt == "yuv420p"
    assert (stream.codec_context.width, stream.codec_context.height) == (160, 120)
    np.testing.assert_allclose(np.array(got) - got[0], times, atol=0.0011)
    assert abs(float(images[-1].mean()) - 200) < 3


def test_h264_writer_keeps_timestamps_strictly_increasing(tmp_path: Path) -> None:
    path = tmp_path / "same.mp4"
    with H264Writer(path, 64, 64) as writer:
        for t in (0.0, 0.0004, 0.0004, 0.001):  # sub-millisecond and repeated stamps
            writer.write(np.zeros((64, 64, 3), np.uint8), t)
    got, _, _ = decode(path)
    assert len(got) == 4 and all(b > a for a, b in itertools.pairwise(got))


def test_text_with_degree_sign_is_drawn() -> None:
    img = np.zeros((60, 200, 3), np.uint8)
    put_text(img, "12.5°", (5, 40), 1.0, (255, 255, 255), 2)
    w, _ = text_size("12.5°", 1.0, 2)
    lit = np.flatnonzero(img.max(axis=(0, 2)) > 0)
    assert lit.size and lit[-1] <= 5 + w + 2
    # The degree ring sits right of the digits, in the upper half of the line.
    ring = img[:25, 5 + text_size("12.5", 1.0, 2)[0] :]
    assert ring.max() > 0


def standing_xy() -> np.ndarray:
    t = np.array([0.0])
    return person_series(t, np.array([60.0]), "left", valgus_turn_deg=20.0).xy_px[0].astype(
        np.float64
    )


def test_skeleton_legs_in_their_colours() -> None:
    xy = standing_xy()
    img = np.zeros((1280, 720, 3), np.uint8)
    red = BAND_RGB["excessive"]
    draw_skeleton(img, xy, {"left": red, "right": (0, 0, 255)}, thick_leg="left")
    mid_thigh = (0.5 * (xy[lm.LEFT_HIP] + xy[lm.LEFT_KNEE])).round().astype(int)
    assert tuple(img[mid_thigh[1], mid_thigh[0]]) == red
    mid_free_thigh = (0.5 * (xy[lm.RIGHT_HIP] + xy[lm.RIGHT_KNEE])).round().astype(int)
    assert tuple(img[mid_free_thigh[1], mid_free_thigh[0]]) == (0, 0, 255)


def test_knee_angle_label_sits_beside_the_knee_on_the_outer_side() -> None:
    xy = standing_xy()
    img = np.zeros((1280, 720, 3), np.uint8)
    color = BAND_RGB["borderline"]
    draw_knee_angle(img, xy, "left", 14.2, color)
    mask = np.all(img == color, axis=2)
    ys, xs = np.nonzero(mask)
    knee = xy[lm.LEFT_KNEE]
    assert mask.sum() > 200
    # The person's left is on the image right (front view): the label box lies right of the knee.
    assert np.median(xs) > knee[0]
    assert abs(np.median(ys) - knee[1]) < 60


def test_live_band_uses_the_config() -> None:
    cfg = AnalysisConfig()
    assert live_band(5.0, cfg) == "fine"
    assert live_band(11.3, cfg) == "borderline"
    assert live_band(15.0, cfg) == "excessive"
    assert live_band(math.nan, cfg) == "not_measurable"


# --------------------------------------------------------------------------- annotated video


def stick_figure_clip(series: PoseSeries, path: Path, fps: float) -> None:
    """Draw the synthetic person's landmarks as a clip (stand-in for a real video)."""
    w, h = series.image_size
    container = av.open(str(path), mode="w")
    stream = container.add_stream("libx264", rate=Fraction(round(fps)))
    stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
    for i in range(len(series)):
        img = np.full((h, w, 3), 90, np.uint8)
        for a, b in lm.SKELETON_EDGES:
            p, q = series.xy_px[i, a], series.xy_px[i, b]
            cv2.line(img, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), (250, 250, 250), 6)
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = i
        for packet in stream.encode(frame):
            container.mux(packet)
    for packet in stream.encode():
        container.mux(packet)
    container.close()


@pytest.fixture(scope="module")
def synthetic_clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PoseSeries]:
    from tests.synthetic import valgus_turn_for_fppa_deg

    fps = 25.0
    truth = evenly_spaced_reps(2, 0.8, 2.4, 0.6, 75.0)
    t = time_base(truth[-1].end_s + 1.0, fps)
    series = person_series(t, squat_curve(t, truth, 10.0), "right",
                           valgus_turn_deg=valgus_turn_for_fppa_deg(18.0, 75.0))
    path = tmp_path_factory.mktemp("render") / "stick.mp4"
    stick_figure_clip(series, path, fps)
    return path, series


def test_annotated_video_has_every_frame_and_the_deepest_frame_of_every_rep(
    synthetic_clip: tuple[Path, PoseSeries], tmp_path: Path
) -> None:
    path, series = synthetic_clip
    result, kin = analyze_series(series)
    assert [r.band for r in result.reps] == ["excessive", "excessive"]
    calls: list[tuple[int, int]] = []
    video = render_analysis_video(path, series, kin, result, tmp_path / "annotated.mp4",
                                  max_side_px=640, progress=lambda d, n: calls.append((d, n)))
    times, images, stream = decode(video.path)
    assert len(images) == len(series)
    np.testing.assert_allclose(np.array(times) - times[0], series.t_s, atol=0.002)
    assert stream.codec_context.pix_fmt == "yuv420p"
    assert max(images[0].shape[:2]) == 640 and video.size == (360, 640)
    assert calls[-1] == (len(series), len(series))
    assert sorted(video.bottom_frames) == [0, 1]
    red = np.array(BAND_RGB["excessive"])
    for k, rep in enumerate(result.reps):
        picture = video.bottom_frames[k]
        # Cropped to the person, 540 px tall (the person spans ~60% of the 640 px frame).
        assert picture.shape[0] == 540 and picture.shape[1] < 540
        # The stance knee's FPPA box and the stance leg are drawn in the rep's band colour.
        close = np.all(np.abs(picture.astype(int) - red) < 12, axis=2)
        assert close.sum() > 500
        xy = series.xy_px[rep.bottom_index].astype(np.float64) * 640 / series.image_size[1]
        _, cropped = crop_to_person(np.zeros((640, 360, 3), np.uint8), xy)
        knee = cropped[lm.RIGHT_KNEE]
        ys, xs = np.nonzero(close)
        assert np.min(np.hypot(xs - knee[0], ys - knee[1])) < 30
    # In the annotated video, a frame in the middle of rep 1 has the leg in the band colour...
    frame = images[result.reps[0].bottom_index]
    assert np.all(np.abs(frame.astype(int) - red) < 30, axis=2).sum() > 300
    # ...and the first frame (standing, before any rep) has none of it.
    assert np.all(np.abs(images[0].astype(int) - red) < 30, axis=2).sum() < 20


def test_timeline_figure_has_both_legs_threshold_and_rep_shading(
    synthetic_clip: tuple[Path, PoseSeries],
) -> None:
    _, series = synthetic_clip
    result, kin = analyze_series(series)
    fig = timeline_figure(kin, result)
    legend = [trace.name for trace in fig.data if trace.showlegend is not False]
    assert legend == ["left FPPA", "left knee flexion", "right FPPA", "right knee flexion"]
    # Bold FPPA only while the leg stands in one of its reps (the free leg's angle is noise).
    right = next(tr for tr in fig.data if tr.name == "right FPPA")
    shown = np.array([y is not None for y in right.y])
    in_reps = np.zeros(len(series), bool)
    for rep in result.reps:
        in_reps |= (series.t_s >= rep.start_s) & (series.t_s <= rep.end_s)
    assert np.array_equal(shown, in_reps)
    left = next(tr for tr in fig.data if tr.name == "left FPPA")
    assert all(y is None for y in left.y)  # no left reps
    low, high = fig.layout.yaxis.range
    assert low < 0 < 18 < high <= 60
    shapes = fig.layout.shapes
    thr = result.config.valgus.threshold_deg(result.config.sex)
    assert any(s.type == "line" and s.y0 == pytest.approx(thr) for s in shapes)
    shaded = [s for s in shapes if s.type == "rect" and s.xref.startswith("x")]
    rep_rects = [s for s in shaded if s.x0 in [r.start_s for r in result.reps]]
    assert len(rep_rects) == 2 * len(result.reps)  # both panels
    texts = [a.text for a in fig.layout.annotations]
    assert "1 R" in texts and "2 R" in texts


def test_live_overlay_shows_setup_then_counts_and_rep_feedback() -> None:
    from tests.synthetic import valgus_turn_for_fppa_deg
    from valgus.config import LiveConfig
    from valgus.live.overlay import draw_live_overlay
    from valgus.live.session import LiveSession
    from valgus.runtime.estimator import FramePose

    truth = evenly_spaced_reps(1, 2.0, 3.0, 1.0, 75.0)
    t = time_base(truth[-1].end_s + 1.0, 30.0)
    series = person_series(t, squat_curve(t, truth, 10.0), "left",
                           valgus_turn_deg=valgus_turn_for_fppa_deg(18.0, 75.0))
    session = LiveSession()
    cfg, live_cfg = session.cfg, LiveConfig()
    blank = np.full((series.image_size[1], series.image_size[0], 3), 200, np.uint8)
    red = np.array(BAND_RGB["excessive"])
    pictures = {}
    for i in range(len(series)):
        pose = FramePose(series.xy_px[i], series.world_m[i], series.visibility[i], 1)
        status = session.update(float(t[i]), pose, series.image_size)
        picture = draw_live_overlay(blank, series.xy_px[i].astype(float), status, cfg, live_cfg)
        pictures.setdefault(status.phase, picture)
        if status.new_reps:
            pictures["rep"] = picture
    assert set(pictures) == {"setup", "counting", "rep"}
    # Setup: the checklist panel (dark) top left, nothing in a band colour yet.
    assert pictures["setup"][20:60, 20:200].mean() < 120
    assert np.all(np.abs(pictures["setup"].astype(int) - red) < 12, axis=2).sum() == 0
    # The frame a rep ends on: its result in the band colour across the bottom of the picture.
    bottom = pictures["rep"][-200:]
    assert np.all(np.abs(bottom.astype(int) - red) < 12, axis=2).sum() > 2000


def test_rep_feedback_is_numbered_per_leg_as_the_counters_count() -> None:
    from tests.synthetic import Rep
    from valgus.present.style import feedback_text, leg_rep_number

    truth = [Rep(1.0, 3.0, 70.0), Rep(5.0, 3.0, 70.0), Rep(9.0, 3.0, 70.0)]
    t = time_base(10.5, 30.0)  # the third rep is cut by the end of the clip
    result, _ = analyze_series(person_series(t, squat_curve(t, truth, 10.0), "right"))
    reps = result.reps
    assert [leg_rep_number(reps, r) for r in reps] == [1, 2, 0]
    assert feedback_text(reps[1], 2).startswith("Right rep 2: FPPA ")
    assert feedback_text(reps[1], 2).endswith(" fine")
    assert feedback_text(reps[2], 0).startswith("Right: rep not counted (rep still under way")


def test_timeline_leaves_out_the_free_legs_bends(
    synthetic_clip: tuple[Path, PoseSeries],
) -> None:
    """A free leg's listed bend lies under the other leg's rep: shaded and labelled as well, the
    two labels overlapped ("12R"). It is in the rep table, not on the timeline."""
    import dataclasses

    from valgus.core.reasons import RepIssue, RepIssueCode

    _, series = synthetic_clip
    result, kin = analyze_series(series)
    bend = dataclasses.replace(result.reps[0], band="not_measurable",
                               issues=(RepIssue(RepIssueCode.FREE_LEG_PHASE),))
    with_bend = dataclasses.replace(result, reps=(bend, *result.reps[1:]))
    fig = timeline_figure(kin, with_bend)
    texts = [a.text for a in fig.layout.annotations]
    assert "1 R" not in texts and "2 R" in texts  # numbered as in the rep table
    shaded = [s for s in fig.layout.shapes if s.type == "rect" and s.x0 == bend.start_s]
    assert not shaded
