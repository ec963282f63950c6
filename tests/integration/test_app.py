"""The Streamlit app driven headlessly with Streamlit's AppTest: upload flow, the sample button,
thresholds from the sidebar, and the error panels. (The webcam page needs a real browser: see
test_app_browser.py; here it must only say the webcam is unavailable.)"""

from __future__ import annotations

import gc
import json
import stat
import tempfile
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import shared_clip
from valgus.app.plain import plain
from valgus.core.checks import FILMING_GUIDANCE
from valgus.present.export import DOWNLOAD_LABELS
from valgus.runtime.encode import H264Writer
from valgus.runtime.video import iter_frames

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
SAMPLE = ROOT / "sample_videos" / "demo_single_leg_squats.mp4"
SAMPLE_TRUTH = SAMPLE.with_suffix(".truth.json")
SIDE_VIEW = "rohanx01__Squat-Analysis-Model__squat.mp4"
RUN_TIMEOUT_S = 300  # pose estimation of a clip on 2 cores


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("VALGUS_DATA_DIR", str(tmp_path / "data"))
    at = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT_S)
    at.run()
    assert not at.exception
    return at


def texts(at: AppTest) -> str:
    """All markdown, captions, alerts and metrics of the page as one string."""
    parts: list[str] = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "subheader"):
        parts += [str(e.value) for e in at.get(kind)]
    return "\n".join(parts)


def block(at: AppTest, key: str) -> str:
    """Text inside the container with this key."""
    found = [c for c in at.get("container") if getattr(c, "key", None) == key]
    assert found, f"no container {key!r}"
    out: list[str] = []

    def walk(node: object) -> None:
        value = getattr(node, "value", None)
        if isinstance(value, str):
            out.append(value)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(found[0])
    return "\n".join(out)


def trim_clip(src: Path, dst: Path, seconds: float) -> Path:
    """The first ``seconds`` of a clip, re-encoded (keeps the tests quick)."""
    writer: H264Writer | None = None
    for t_s, rgb in iter_frames(src):
        if t_s > seconds:
            break
        if writer is None:
            writer = H264Writer(dst, rgb.shape[1], rgb.shape[0])
        writer.write(rgb, t_s)
    assert writer is not None
    writer.close()
    return dst


def assert_report(at: AppTest, source: str) -> None:
    assert not at.exception
    page = texts(at)
    assert f"Result: {plain(source)}" in page  # the name as typed, never markdown
    for side in ("left", "right"):
        card = block(at, f"verdict_{side}")
        assert f"{side.capitalize()} leg:" in card
        assert any(v in card for v in ("PASS", "NOT YET", "CANNOT ASSESS"))
    assert at.get("plotly_chart"), "no FPPA / flexion chart"
    assert at.get("video"), "no annotated video"
    # Each download says what it is (the file name is its tooltip), the PDF included.
    labels = sorted(b.proto.label for b in at.get("download_button"))
    assert labels == sorted(DOWNLOAD_LABELS.values())
    stem = Path(source).stem
    assert all(stem not in label for label in labels)


def test_upload_flow_thresholds_and_sample_button(app: AppTest) -> None:
    limit = app.get("file_uploader")[0]
    assert {".avi", ".mov", ".mp4", ".webm"} <= set(limit.allowed_type)
    assert "up to 500 MB" in limit.label  # the limit in .streamlit/config.toml, stated
    app.file_uploader(key="upload").upload(SAMPLE.name, SAMPLE.read_bytes(), "video/mp4").run()
    assert_report(app, SAMPLE.name)
    table = app.dataframe[0].value
    truth = json.loads(SAMPLE_TRUTH.read_text())["reps"]
    assert list(table["leg"]) == [rep["stance"] for rep in truth]
    # Numbered as the CLI, the records and `valgus review --band A:N` number them: every
    # knee-bend cycle counts (the free leg's bend comes first in each pair of the demo).
    assert list(table["#"]) == [2, 4, 6, 8, 10, 12]
    # The sample's knees: one caves in (18 deg by design), the other does not (2 deg). The
    # table shows it (measured FPPA is a few degrees below the rig's, see sample_videos/).
    for (_, row), rep in zip(table.iterrows(), truth, strict=True):
        if rep["design_valgus_deg"] >= 10:
            assert float(row["FPPA (deg)"]) > 8 and row["band"] in ("borderline", "excessive")
        else:
            assert float(row["FPPA (deg)"]) < 8 and row["band"] == "fine"
    assert "NOT YET" in block(app, "verdict_right")
    # Thresholds come from the sidebar, units shown; a lower threshold re-scores the reps
    # from the poses already found (no second pass of the pose model).
    threshold = app.number_input(key="threshold_unspecified")
    assert threshold.value == pytest.approx(11.3) and "(deg)" in threshold.label
    threshold.set_value(5.0).run()
    assert not app.exception
    table = app.dataframe[0].value
    assert set(table[table["leg"] == "right"]["band"]) == {"excessive"}
    assert "excessive knee valgus" in block(app, "verdict_right").lower()
    assert len(app.session_state["series"]) == 1
    # Sex selects the sex-specific default.
    app.selectbox(key="sex").set_value("male").run()
    assert app.number_input(key="threshold_male").value == pytest.approx(9.0)
    # The sample button analyses the bundled clip (same content: its poses are reused).
    app.button(key="sample").click().run()
    assert_report(app, SAMPLE.name)
    assert "sex male" in texts(app)


def test_bad_inputs_show_a_panel_with_what_to_do_and_the_app_stays_usable(
    app: AppTest, tmp_path: Path
) -> None:
    app.file_uploader(key="upload").upload("holiday.mp4", b"this is not a video" * 100).run()
    assert not app.exception
    panel = block(app, "error_panel")
    assert "Could not analyse holiday.mp4" in panel
    # The message names the file as uploaded, never the temporary copy it was read from.
    message = panel.split("What to do")[0].split("Could not analyse holiday.mp4")[1]
    assert "holiday.mp4" in message and "valgus-upload" not in panel and "/tmp" not in panel
    assert "What to do" in panel and "Traceback" not in texts(app)

    empty_room = tmp_path / "empty_room.mp4"
    with H264Writer(empty_room, 320, 240) as writer:
        for k in range(40):
            writer.write(np.full((240, 320, 3), 120 + k, np.uint8), k / 10)
    app.file_uploader(key="upload").clear().upload(
        empty_room.name, empty_room.read_bytes(), "video/mp4"
    ).run()
    assert not app.exception
    panel = block(app, "error_panel")
    assert f"Could not analyse {plain(empty_room.name)}" in panel
    assert "whole body" in panel  # what to do: film with the whole body in the picture

    short = trim_clip(SAMPLE, tmp_path / "short_sample.mp4", 4.0)
    app.file_uploader(key="upload").clear().upload(
        short.name, short.read_bytes(), "video/mp4"
    ).run()
    assert_report(app, short.name)
    assert not [c for c in app.get("container") if getattr(c, "key", None) == "error_panel"]


def test_side_view_gets_guidance_to_refilm(app: AppTest, tmp_path: Path) -> None:
    clip = trim_clip(shared_clip(SIDE_VIEW), tmp_path / "side_view.mp4", 5.0)
    app.file_uploader(key="upload").upload(clip.name, clip.read_bytes(), "video/mp4").run()
    assert not app.exception
    guidance = block(app, "guidance_upload")
    assert "cannot be measured" in guidance and "Re-film from the front" in guidance
    for side in ("left", "right"):
        assert "CANNOT ASSESS" in block(app, f"verdict_{side}")


def test_live_page_without_a_browser_says_the_webcam_is_unavailable(app: AppTest) -> None:
    app.radio(key="page").set_value("Live self-test").run()
    assert not app.exception
    page = texts(app)
    assert "Before you start" in page and FILMING_GUIDANCE in page
    assert "at hip height" not in page  # one filming advice: the other wording is gone
    how = [e for e in app.main.children.values()
           if type(e).__name__ == "Expander" and e.label == "How to film"]
    assert len(how) == 1 and FILMING_GUIDANCE in [m.value for m in how[0].markdown]
    kinds = [type(c).__name__ for c in how[0].children.values()]
    assert "Image" in kinds, "the how-to-film picture"
    assert any("webcam is not available" in str(i.value) for i in app.info)


def test_quality_problems_are_shown_with_what_to_do(app: AppTest, tmp_path: Path) -> None:
    """A clip filmed in the dark gets a panel naming the problem and how to film instead."""
    from tests import bad_inputs

    dark = bad_inputs.too_dark(tmp_path)
    app.file_uploader(key="upload").upload(dark.name, dark.read_bytes(), "video/mp4").run()
    assert not app.exception
    panel = block(app, "quality_upload")
    assert "cannot be scored" in panel and "too dark" in panel
    assert "good light" in panel.lower()
    for side in ("left", "right"):
        assert "CANNOT ASSESS" in block(app, f"verdict_{side}")


# A clip name that, rendered as markdown, makes the browser fetch a remote picture (no "/": a
# file name keeps no folder; browsers read "https:host" as "https://host/").
IMAGE_NAME = "![x](https:example.invalid) clip.mp4"


def shown_strings(at: AppTest) -> list[str]:
    """Every string the page renders as markdown: texts, alerts, the progress bar's text and
    the tooltips of the download buttons."""
    shown = texts(at).split("\n")
    shown += [str(getattr(e, "value", "")) for e in at.get("progress")]
    shown += [b.proto.help for b in at.get("download_button")]
    return shown


def test_clip_names_are_plain_text_never_markdown(app: AppTest, tmp_path: Path) -> None:
    """A clip named like a markdown image is shown as typed (every markdown character
    escaped, ``app/plain.py``) in the error panel, the result's title and the downloads'
    tooltips: nothing for the browser to fetch (issue 14, point 7)."""
    app.file_uploader(key="upload").upload(IMAGE_NAME, b"this is not a video" * 100).run()
    assert not app.exception
    panel = block(app, "error_panel")
    assert plain(IMAGE_NAME) in panel
    assert all("](http" not in text for text in shown_strings(app))

    short = trim_clip(SAMPLE, tmp_path / "short.mp4", 3.0)
    app.file_uploader(key="upload").clear().upload(
        IMAGE_NAME, short.read_bytes(), "video/mp4").run()
    assert not app.exception
    assert f"Result: {plain(IMAGE_NAME)}" in texts(app)
    shown = shown_strings(app)
    assert any("example.invalid" in text for text in shown)  # the name is there, as text
    assert all("](http" not in text for text in shown)


def test_annotated_videos_live_in_a_private_folder_of_the_session(
    app: AppTest, tmp_path: Path
) -> None:
    """The annotated video and exports go to this browser session's own temporary folder:
    0700, named at random (never a fixed folder under the system temp directory), files
    0600, and the folder is gone once the session's state is (the session ended)."""
    short = trim_clip(SAMPLE, tmp_path / "short.mp4", 3.0)
    app.file_uploader(key="upload").upload(short.name, short.read_bytes(), "video/mp4").run()
    assert not app.exception and app.get("video")
    work = Path(app.session_state["work_dir"].name)
    assert work.parent == Path(tempfile.gettempdir())
    assert work.name.startswith("valgus-app-") and len(work.name) > len("valgus-app-") + 4
    assert stat.S_IMODE(work.stat().st_mode) == 0o700
    exports = [f for f in work.rglob("*") if f.suffix in (".json", ".csv")]
    assert len(exports) == 3
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in exports)
    assert [f for f in work.rglob("*.annotated.mp4")]
    # A second session gets another folder.
    other = AppTest.from_file(str(APP), default_timeout=RUN_TIMEOUT_S)
    other.run()
    other.file_uploader(key="upload").upload(short.name, short.read_bytes(), "video/mp4").run()
    assert Path(other.session_state["work_dir"].name) != work
    # The session's state goes when the session ends: so does the folder.
    del app.session_state["work_dir"]
    gc.collect()
    assert not work.exists()
