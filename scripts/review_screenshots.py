"""The Review page's "Correct a point" panel as a PNG for the README
(``docs/review_correction.png``), and the whole Review page with that rep being watched
(``docs/review_page.png``).

The demo clip (``sample_videos/demo_single_leg_squats.mp4``) is analysed with the bundled model
and saved in a throw-away records folder; the app runs on 127.0.0.1 against it, and Debian's
Chromium (Playwright, never ``playwright install``) logs in as a clinician, watches the first
measured right-leg rep, picks the knee, clicks on the scored frame a little outside the drawn
knee, gives a reason and saves; the panel is then captured with both values side by side.

    nice -n 10 .venv/bin/python scripts/review_screenshots.py [--out docs]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from valgus.app.review_fix import DISPLAY_WIDTH_PX, crop_box
from valgus.config import AnalysisConfig
from valgus.core.clearance import correctable
from valgus.pipeline import analyze_video
from valgus.runtime.video import iter_frames
from valgus.store.service import Records

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "sample_videos" / "demo_single_leg_squats.mp4"
CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "correct horse battery"
MOVE_PX = 16  # displayed pixels outwards from the drawn knee


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int, timeout_s: float = 90.0) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise SystemExit("the app did not start")


def watch_rep(page: Any, clip_box: Any, label: str, tries: int = 10) -> None:
    """Choose the rep in the clip's "Watch" list (opened again while the page re-runs)."""
    select = clip_box.locator('[data-testid="stSelectbox"]').filter(has_text="Watch")
    select.wait_for(timeout=120_000)
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
    raise SystemExit(f"the Watch list never offered {label!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    done = analyze_video(CLIP, AnalysisConfig(sex="female"))
    with tempfile.TemporaryDirectory(prefix="valgus-review-") as tmp:
        data = Path(tmp) / "data"
        with Records.open(data) as rec:
            rec.add_user("dr.vega", "clinician", PASSWORD)
            rec.ensure_person("DEMO-1", "female")
            visit = rec.create_session("DEMO-1", date(2025, 4, 1))
            a = rec.save_analysis(visit.id, CLIP, done.result, done.series,
                                  original_name=CLIP.name, by="dr.vega")
            index = next(n for n, r in enumerate(a.result.reps, start=1)
                         if r.leg == "right" and correctable(r))
            scored = rec.scored_points(a, index)
        frame = next(rgb for i, (_t, rgb) in enumerate(iter_frames(CLIP, max_side_px=720))
                     if i == scored.frame)
        scale = np.array([frame.shape[1] / scored.image_size[0],
                          frame.shape[0] / scored.image_size[1]])
        x0, y0, x1, _ = crop_box(scored.points, scale, frame.shape)
        zoom = DISPLAY_WIDTH_PX / (x1 - x0)
        knee = (np.asarray(scored.points.knee) * scale - [x0, y0]) * zoom
        outwards = -1.0 if scored.points.other_hip[0] > scored.points.hip[0] else 1.0
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env={**os.environ, "VALGUS_DATA_DIR": str(data)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            _wait_for(port)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1300, "height": 1400})
                page.goto(f"http://127.0.0.1:{port}/?page=review")
                page.get_by_role("textbox", name="User name").fill("dr.vega")
                page.get_by_role("textbox", name="Password").fill(PASSWORD)
                page.get_by_role("button", name="Log in").click()
                clip_box = page.locator(f".st-key-rv_clip_{a.id}")
                clip_box.wait_for(timeout=120_000)
                watch_rep(page, clip_box, f"rep {index}: right leg")
                page.wait_for_timeout(1500)
                page.screenshot(path=str(args.out / "review_page.png"), full_page=True)
                panel = page.locator(f".st-key-rv_fix_{a.id}")
                panel.get_by_text("knee", exact=True).click()
                img = page.frame_locator(
                    "iframe[title*='streamlit_image_coordinates']").first.locator("img")
                img.wait_for(timeout=60_000)
                box = img.bounding_box()
                shown = box["width"] / DISPLAY_WIDTH_PX if box else 1.0
                img.click(position={"x": (knee[0] + outwards * MOVE_PX) * shown,
                                    "y": knee[1] * shown})
                panel.get_by_text("FPPA with this correction").wait_for(timeout=60_000)
                panel.get_by_role("textbox", name="Reason (required)").fill(
                    "knee point on the kneecap, not the joint centre")
                panel.get_by_role("button", name="Save correction").click()
                page.get_by_text("FPPA from the corrected points").wait_for(timeout=60_000)
                page.wait_for_timeout(1500)  # the image component redraws in its iframe
                page.mouse.move(5, 5)
                out = args.out / "review_correction.png"
                page.locator(f".st-key-rv_fix_{a.id}").screenshot(path=str(out))
                browser.close()
        finally:
            os.killpg(server.pid, 15)
            server.wait(timeout=20)
    print(out)


if __name__ == "__main__":
    main()
