"""The records in a real browser (issue 14, points 7 and 8): Debian's Chromium driven by
Playwright, the app and the browser in a network namespace with only loopback (as in
test_app_browser.py). The Review page shows nothing before a login, a wrong password is refused,
an assistant cannot sign, a clinician can, logging out ends it; a markdown image in a clip name
and in the notes is shown as text, never as an image. Skips locally without Chromium,
Playwright or the rights to make a namespace; fails in CI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.netns import app_in_netns
from tests.records_data import squats, write_clip
from valgus.store.service import Records

CHROMIUM = Path("/usr/bin/chromium")
PORT = 8521
PASSWORD = "correct horse battery"
IMAGE = "![x](http://example.invalid/a.png)"
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _records(data: Path, tmp: Path) -> None:
    with Records.open(data) as rec:
        rec.add_user("dr.vega", "clinician", PASSWORD)
        rec.add_user("sam", "assistant", PASSWORD)
        rec.add_person("RUN-060", "female")
        visit = rec.create_session("RUN-060", date(2025, 3, 4))
        result, series = squats("left", 4.0, 3)
        clip = write_clip(tmp / "c.mp4", n_frames=result.n_frames)
        rec.save_analysis(visit.id, clip, result, series, original_name=f"{IMAGE}.mp4",
                          by="sam")
        rec.save_review(visit.id, "dr.vega", f"notes {IMAGE}")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    tmp = tmp_path_factory.mktemp("login")
    data = tmp / "data"
    _records(data, tmp)
    with app_in_netns("valgus-login", data, tmp, PORT, CHROMIUM, FLAGS) as browser:
        yield f"http://127.0.0.1:{PORT}/?page=review", browser


def _log_in(page: Any, username: str, password: str = PASSWORD) -> None:
    page.get_by_role("textbox", name="User name").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_login_roles_and_plain_text_in_chromium(app: tuple[str, Any]) -> None:
    url, browser = app
    page = browser.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    page.goto(url)
    page.get_by_text("Log in to the clinician records").wait_for(timeout=60_000)
    assert "RUN-060" not in page.content()
    _log_in(page, "dr.vega", "not the password")
    page.get_by_text("Not logged in: wrong user name or password").wait_for(timeout=30_000)
    # An assistant sees the records, as plain text, and cannot sign.
    _log_in(page, "sam")
    page.get_by_text("Logged in: sam (assistant)").wait_for(timeout=60_000)
    page.get_by_text(f"{IMAGE}.mp4 (analysis", exact=False).first.wait_for(timeout=60_000)
    page.get_by_text(f"notes {IMAGE}").wait_for(timeout=30_000)
    assert page.locator('img[src*="example.invalid"]').count() == 0  # also image captions
    page.get_by_role("button", name="Sign off").click()
    page.get_by_text("only a clinician may sign", exact=False).wait_for(timeout=30_000)
    page.get_by_role("button", name="Log out").click()
    page.get_by_text("Log in to the clinician records").wait_for(timeout=30_000)
    # A clinician signs, under the account's own name.
    _log_in(page, "dr.vega")
    page.get_by_text("Logged in: dr.vega (clinician)").wait_for(timeout=60_000)
    page.get_by_role("button", name="Sign off").click()
    page.get_by_role("button", name="Confirm and sign").click()
    page.get_by_text("Signed by dr.vega on", exact=False).wait_for(timeout=60_000)
    assert not [u for u in requested if "example.invalid" in u]
    page.close()
