"""Correcting a point in a real browser (issue 15 item 2): Debian's Chromium driven by
Playwright, the app and the browser in a network namespace with only loopback (tests/netns.py,
as in test_app_browser.py). A clinician picks rep 2 to watch, chooses the knee, clicks on the
scored frame (the streamlit-image-coordinates component, in its iframe) beside the drawn knee,
sees the FPPA measured again, gives a reason and saves: the records hold the correction at the
clicked place, and the page shows the tool's and the corrected value side by side. Skips
locally without Chromium, Playwright or the rights to make a namespace; fails in CI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.netns import app_in_netns
from tests.records_data import squats, write_clip
from valgus.core.correction import remeasure
from valgus.store.service import Records

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
PORT = 8531
PASSWORD = "correct horse battery"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MOVE_PX = 30  # how far from the drawn knee the click lands, in displayed pixels


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any, Path, int]]:
    """The app on a records folder with one stored analysis (3 left reps); yields the Review
    page's address, the browser, the data folder and the analysis id."""
    tmp = tmp_path_factory.mktemp("fix")
    data = tmp / "data"
    with Records.open(data) as rec:
        rec.add_user("dr.vega", "clinician", PASSWORD)
        rec.add_person("RUN-070", "female")
        visit = rec.create_session("RUN-070", date(2025, 3, 4))
        result, series = squats("left", 4.0, 3)
        clip = write_clip(tmp / "left.mp4", n_frames=result.n_frames, size=(360, 640))
        aid = rec.save_analysis(visit.id, clip, result, series, original_name="left.mp4").id
    with app_in_netns("valgus-fix", data, tmp, PORT, CHROMIUM, FLAGS,
                      forbid_tracebacks=True) as browser:
        yield f"http://127.0.0.1:{PORT}/?page=review", browser, data, aid


def watch_rep(page: Any, clip_box: Any, label: str, tries: int = 10) -> None:
    """Choose the rep to watch in the clip's "Watch" list. The page may still be re-running
    when the list first shows (a click on it then opens nothing): open it until the option is
    there."""
    select = clip_box.locator('[data-testid="stSelectbox"]').filter(has_text="Watch")
    select.wait_for(timeout=60_000)
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    option = page.get_by_role("option", name=label)
    for _ in range(tries):
        select.get_by_role("combobox").click()
        try:
            option.wait_for(timeout=3_000)
        except PlaywrightTimeout:  # not offered yet: open the list again
            page.keyboard.press("Escape")
            continue
        option.click()
        return
    raise AssertionError(f"the Watch list never offered {label!r}")


def _knee_on_screen(data: Path, aid: int) -> tuple[tuple[float, float], float, Any]:
    """Where the page draws rep 2's knee in the displayed picture (pixels of the picture as
    drawn at DISPLAY_WIDTH_PX), the pose pixels per displayed pixel across, and the points."""
    from valgus.app.review_fix import DISPLAY_WIDTH_PX, crop_box

    with Records.open(data) as rec:
        a = rec.get_analysis(aid)
        scored = rec.scored_points(a, 2)
    frame_shape = (640, 360, 3)  # the clip as written (small enough: decoded at full size)
    scale = np.array([frame_shape[1] / scored.image_size[0],
                      frame_shape[0] / scored.image_size[1]])
    x0, y0, x1, _ = crop_box(scored.points, scale, frame_shape)
    zoom = DISPLAY_WIDTH_PX / (x1 - x0)
    knee = (np.asarray(scored.points.knee) * scale - [x0, y0]) * zoom
    return (float(knee[0]), float(knee[1])), 1.0 / (zoom * scale[0]), scored


def test_a_click_on_the_scored_frame_corrects_the_knee_point(
    app: tuple[str, Any, Path, int],
) -> None:
    url, browser, data, aid = app
    page = browser.new_page(viewport={"width": 1400, "height": 1400})
    page.goto(url)
    page.get_by_role("textbox", name="User name").fill("dr.vega")
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    clip_box = page.locator(f".st-key-rv_clip_{aid}")
    clip_box.wait_for(timeout=60_000)
    watch_rep(page, clip_box, "rep 2: left leg")
    panel = page.locator(f".st-key-rv_fix_{aid}")
    panel.get_by_text("Correct a point of rep 2 (left leg)").wait_for(timeout=60_000)
    panel.get_by_text("knee", exact=True).click()
    frame = page.frame_locator("iframe[title*='streamlit_image_coordinates']").first
    img = frame.locator("img")
    img.wait_for(timeout=60_000)
    (kx, ky), per_px, scored = _knee_on_screen(data, aid)
    box = img.bounding_box()
    assert box is not None and box["width"] > 100
    shown = box["width"] / 420.0  # the picture as laid out (it may be narrowed to its column)
    medial = 1.0 if scored.points.other_hip[0] > scored.points.hip[0] else -1.0
    target = (kx + medial * MOVE_PX, ky)
    img.click(position={"x": target[0] * shown, "y": target[1] * shown})
    preview = panel.get_by_text("FPPA with this correction")
    preview.wait_for(timeout=60_000)
    panel.get_by_role("textbox", name="Reason (required)").fill("knee point on the patella")
    panel.get_by_role("button", name="Save correction").click()
    page.get_by_text("Saved: rep 2's knee point corrected").wait_for(timeout=60_000)
    with Records.open(data) as rec:
        ((fix, how),) = rec.correction_history(aid)
    assert how is None and fix.point == "knee" and fix.by == "dr.vega"
    # The records hold the clicked place (within the rounding of a click to whole pixels).
    expected = (scored.points.knee[0] + medial * MOVE_PX * per_px, scored.points.knee[1])
    assert np.allclose(fix.corrected_xy, expected, atol=3 * per_px), (fix.corrected_xy,
                                                                       expected)
    assert fix.fppa_deg == pytest.approx(remeasure(scored.points, {"knee": fix.corrected_xy}))
    assert fix.fppa_deg > fix.tool_fppa_deg + 5  # moved towards the other hip: more valgus
    panel = page.locator(f".st-key-rv_fix_{aid}")
    panel.get_by_text("FPPA from the corrected points").wait_for(timeout=60_000)
    text = panel.inner_text()
    assert f"{fix.fppa_deg:.1f} deg" in text and f"{fix.tool_fppa_deg:.1f} deg" in text
    assert "newest by dr.vega" in text and "knee point on the patella" in text
    assert page.get_by_text("Traceback").count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.mouse.move(5, 5)
    panel.screenshot(path=str(ARTIFACTS / "review-correction.png"))
    page.close()
