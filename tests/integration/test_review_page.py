"""The app's Review page (valgus.review_page) driven with Streamlit's AppTest: add a person, a
session with a stored analysis of synthetic squats (no video model), override a rep's band with
a reason, notes, the clearance values, sign-off, and everything still there after a restart (a
fresh AppTest and a fresh Records on the same VALGUS_DATA_DIR). Also the "Save to a person's
record" control of the upload page."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.records_data import clip_variant, squats, write_clip
from valgus.app.review import get_records
from valgus.core.clearance import ClearanceInputs, ClearancePolicy, Override
from valgus.store.service import Records

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
DAY = date(2025, 3, 4)


def texts(at: AppTest) -> str:
    parts: list[str] = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success", "title", "text"):
        parts += [str(e.value) for e in at.get(kind)]
    return "\n".join(parts)


def button(at: AppTest, prefix: str) -> object:
    found = [b for b in at.button if str(b.key or "").startswith(prefix)]
    assert found, f"no button {prefix!r}: {[b.key for b in at.button]}"
    return found[0]


def widget(at: AppTest, kind: str, prefix: str) -> object:
    found = [w for w in at.get(kind) if str(getattr(w, "key", "") or "").startswith(prefix)]
    assert found, f"no {kind} {prefix!r}"
    return found[0]


def elements_in(at: AppTest, container_key: str, kind: str) -> list[Any]:
    """Elements of this type inside the container with this key."""
    found = [c for c in at.get("container") if getattr(c, "key", None) == container_key]
    assert found, f"no container {container_key!r}"
    out: list[Any] = []

    def walk(node: object) -> None:
        if getattr(node, "type", None) == kind:
            out.append(node)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(found[0])
    return out


def table_in(at: AppTest, container_key: str) -> Any:
    """The first table (as a DataFrame) inside the container with this key."""
    tables = elements_in(at, container_key, "dataframe")
    assert tables, f"no table in {container_key!r}"
    return tables[0].value


CLINICIAN, ASSISTANT, PASSWORD = "dr.vega", "sam", "correct horse battery"


def log_in(at: AppTest, username: str = CLINICIAN, password: str = PASSWORD) -> AppTest:
    at.text_input(key="login_user").set_value(username)
    at.text_input(key="login_password").set_value(password)
    next(b for b in at.button if b.label == "Log in").click().run()
    assert not at.exception, at.exception
    return at


def review_app(username: str | None = CLINICIAN) -> AppTest:
    """The Review page in a new process, logged in as ``username`` (None: not logged in)."""
    get_records.clear()  # a new process: nothing cached from an earlier run
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params["page"] = "review"
    at.run()
    assert not at.exception, at.exception
    return log_in(at, username) if username else at


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The data directory, with a clinician's and an assistant's account."""
    path = tmp_path / "data"
    monkeypatch.setenv("VALGUS_DATA_DIR", str(path))
    with Records.open(path) as rec:
        rec.add_user(CLINICIAN, "clinician", PASSWORD)
        rec.add_user(ASSISTANT, "assistant", PASSWORD)
    return path


def test_review_flow_persists_across_a_restart(data_dir: Path, tmp_path: Path) -> None:
    at = review_app()
    assert "No one in the records yet" in texts(at)
    # Add a person with a pseudonymous code and sex.
    at.text_input(key="rv_new_code").set_value("RUN-017")
    at.selectbox(key="rv_new_sex").set_value("female")
    at.button(key="rv_add_person").click().run()
    assert not at.exception
    assert at.selectbox(key="rv_person").value == "RUN-017"
    # Create a session for a date.
    session_box = at.selectbox(key="rv_session_RUN-017")
    assert session_box.value == -1  # no session yet: "New session..."
    at.date_input(key="rv_new_date").set_value(DAY)
    at.button(key="rv_create_session").click().run()
    assert not at.exception
    with Records.open(data_dir) as rec:
        (visit,) = rec.list_sessions("RUN-017")
        assert visit.session_date == DAY
        # An analysis of synthetic squats (3 reps, left leg, FPPA 4 deg: fine) with its poses.
        result, series = squats("left", 4.0, 3)
        clip = write_clip(tmp_path / "left.mp4", n_frames=len(series))
        saved = rec.save_analysis(visit.id, clip, result, series)
    at.run()
    assert not at.exception
    page = texts(at)
    assert "left.mp4 (analysis" in page
    assert "Clearance: :red[NOT YET]" in page and "proposal, not signed" in page
    table = table_in(at, f"rv_clip_{saved.id}")
    assert list(table["band"]) == ["fine"] * 3 and list(table["leg"]) == ["left"] * 3
    # Deepest frames with the skeleton, read from the stored clip.
    assert len(elements_in(at, f"rv_clip_{saved.id}", "image")) == 3
    # Override rep 2 with a reason; notes; saved under the logged-in account.
    widget(at, "selectbox", "rv_ov_rep_").set_value((saved.id, 2))
    widget(at, "selectbox", "rv_ov_band_").set_value("excessive")
    button(at, "rv_ov_add_").click().run()
    assert "Give a reason" in texts(at)  # no reason: refused
    widget(at, "text_input", "rv_ov_reason_").set_value("knee caves in on the video")
    button(at, "rv_ov_add_").click().run()
    assert "knee caves in on the video" in texts(at)
    widget(at, "text_area", "rv_notes_").set_value("Good depth; watch the left knee.")
    button(at, "rv_save_review_").click().run()
    assert not at.exception
    assert "Review saved." in texts(at)
    table = table_in(at, f"rv_clip_{saved.id}")
    assert list(table["band"]) == ["fine", "excessive", "fine"]
    assert table["override reason"][1] == "knee caves in on the video"
    assert "1 re-banded" in texts(at)
    # Clearance values.
    for name in ("squat_pain_left", "squat_pain_right", "run_pain_during",
                 "run_pain_next_morning"):
        widget(at, "number_input", f"rv_{name}_").set_value(0)
    widget(at, "radio", "rv_stairs_").set_value("no pain")
    widget(at, "number_input", "rv_run_minutes_").set_value(25.0)
    widget(at, "number_input", "rv_strength_left_").set_value(95.0)
    widget(at, "number_input", "rv_strength_right_").set_value(100.0)
    widget(at, "selectbox", "rv_involved_").set_value("left")
    button(at, "rv_save_clearance_").click().run()
    assert not at.exception
    page = texts(at)
    assert "Clearance values saved." in page and "Entered by dr.vega" in page
    assert "Clearance: :red[NOT YET]" in page  # the squat still fails (3 of 20, one excessive)
    assert "excessive" in page.lower()
    assert widget(at, "number_input", "rv_run_minutes_").value == 25.0
    # Report downloads are offered.
    labels = {b.proto.label for b in at.get("download_button")}
    assert labels == {"Report (PDF)", "Report (HTML)"}
    # Sign off: a confirmation of what is signed, then final, read-only.
    button(at, "rv_sign_").click().run()
    button(at, "rv_sign_confirm_").click().run()
    assert not at.exception
    page = texts(at)
    assert "Signed by dr.vega" in page and "final and read-only" in page
    assert "(FINAL)" in page
    assert widget(at, "number_input", "rv_run_minutes_").disabled
    assert not [b for b in at.button if str(b.key or "").startswith(("rv_sign_", "rv_save_"))]

    # Restart: a fresh app and fresh Records on the same data directory.
    at = review_app()
    page = texts(at)
    assert at.selectbox(key="rv_person").value == "RUN-017"
    assert "signed" in at.selectbox(key="rv_session_RUN-017").format_func(visit.id)
    assert "Signed by dr.vega" in page and "(FINAL)" in page
    assert f"Session {visit.id} of 2025-03-04: signed, final (read-only)." in page
    assert "Good depth; watch the left knee." in page
    assert "knee caves in on the video" in page
    table = table_in(at, f"rv_clip_{saved.id}")
    assert list(table["band"]) == ["fine", "excessive", "fine"]
    assert widget(at, "number_input", "rv_strength_left_").value == 95.0
    # The progress chart of the person's sessions is there.
    assert elements_in(at, "rv_history", "plotly_chart")
    assert "7.5 deg" in texts(at)


def test_history_marks_a_real_change(data_dir: Path, tmp_path: Path) -> None:
    with Records.open(data_dir) as rec:
        rec.add_person("RUN-020", "male")
        for k, (day, fppa) in enumerate(((date(2025, 1, 6), 16.0), (date(2025, 2, 3), 4.0))):
            visit = rec.create_session("RUN-020", day)
            result, series = squats("right", fppa, 3)
            clip = write_clip(tmp_path / f"right{k}.mp4", n_frames=40, seed=k)
            rec.save_analysis(visit.id, clip, result, series)
        history = rec.history("RUN-020")
    change = history.rows[1].since_previous["right"]
    assert change is not None and change.real
    at = review_app()
    table = table_in(at, "rv_history")
    assert "a real change" in table["right change"][1]
    fig = elements_in(at, "rv_history", "plotly_chart")[0].proto.spec  # not a clip's timeline
    assert "real change" in fig and "smallest detectable change" in fig


SAVE_SCRIPT = """
from pathlib import Path
from typing import Any
from types import SimpleNamespace
import streamlit as st
from tests.records_data import squats
from valgus.app.review import save_control
result, series = squats("left", 4.0, 3)
save_control(SimpleNamespace(result=result, series=series), "phone clip.mp4", "upload",
             path=Path(st.session_state["clip"]))
"""


def test_save_to_a_persons_record(data_dir: Path, tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", n_frames=20)
    get_records.clear()
    at = AppTest.from_string(SAVE_SCRIPT, default_timeout=60)
    at.session_state["clip"] = str(clip)
    at.run()
    assert not at.exception, at.exception
    at.button(key="save_btn_upload").click().run()
    assert "Enter the person's code." in [str(e.value) for e in at.error]
    at.text_input(key="save_code_upload").set_value("RUN-031")
    at.date_input(key="save_date_upload").set_value(DAY)
    at.button(key="save_btn_upload").click().run()
    assert any("Log in on the Review page first" in str(e.value) for e in at.error)
    at.session_state["valgus_login"] = {"username": ASSISTANT, "seen": time.monotonic()}
    at.button(key="save_btn_upload").click().run()
    assert not at.exception, at.exception
    assert any("Saved phone clip.mp4 to RUN-031" in str(s.value) for s in at.success)
    with Records.open(data_dir) as rec:
        (visit,) = rec.list_sessions("RUN-031")
        assert visit.session_date == DAY and visit.n_clips == 1
        (analysis,) = rec.list_analyses(visit.id)
        assert analysis.clip.original_name == "phone clip.mp4"
        assert analysis.poses_path is not None and analysis.poses_path.is_file()
        assert len(analysis.result.reps) == 3


def test_clinic_policy_is_saved_changes_the_proposal_and_is_signed_with_it(
    data_dir: Path, tmp_path: Path
) -> None:
    """20 fine reps per leg, squat pain 1/10 on the left, strength LSI 87 %: NOT YET under the
    default policy (no pain, LSI 90 %), CLEARED once the clinic's policy accepts pain up to 1 and
    LSI 85 %. The policy is stored in the records; the signed record keeps it after the clinic
    goes back to the defaults."""
    clip = write_clip(tmp_path / "c.mp4")
    with Records.open(data_dir) as rec:
        rec.ensure_person("RUN-090", "male")
        sid = rec.create_session("RUN-090", DAY).id
        for k, leg in enumerate(("left", "right")):
            rec.save_analysis(sid, clip_variant(clip, k), squats(leg, 4.0)[0],
                              original_name=f"{leg}.mp4")
        rec.save_clearance(sid, ClearanceInputs(
            squat_pain_left=1, squat_pain_right=0, stair_descent_pain=False, run_minutes=25,
            run_pain_during=0, run_pain_next_morning=0, strength_left=87.0,
            strength_right=100.0, strength_unit="Nm", involved_side="left"), "dr.vega")
    at = review_app()
    page = texts(at)
    assert "Clearance: :red[NOT YET]" in page
    assert "pain up to 0/10 counts as none; strength LSI of at least 90 %" in page
    widget(at, "number_input", "rv_policy_min_lsi_").set_value(85.0)
    widget(at, "number_input", "rv_policy_max_pain_").set_value(1)
    at.button(key="rv_policy_save").click().run()
    assert not at.exception
    page = texts(at)
    assert "Clearance policy saved." in page
    assert "Clearance: :green[CLEARED]" in page
    assert "pain up to 1/10 counts as none; strength LSI of at least 85 %" in page
    with Records.open(data_dir) as rec:  # stored: a new process (or the CLI) sees it
        setting = rec.policy_setting()
        assert (setting.policy.max_pain_score, setting.policy.min_lsi_pct) == (1, 85.0)
        assert setting.updated_by == "dr.vega"
    button(at, "rv_sign_").click().run()
    button(at, "rv_sign_confirm_").click().run()
    assert not at.exception and "Signed by dr.vega" in texts(at)
    with Records.open(data_dir) as rec:  # the clinic goes back to the defaults
        rec.save_policy(ClearancePolicy(), CLINICIAN)
    at = review_app()
    assert widget(at, "number_input", "rv_policy_min_lsi_").value == 90.0
    page = texts(at)
    assert "Clearance: :green[CLEARED] (FINAL)" in page
    assert "Policy it was signed under: pain up to 1/10 counts as none; strength LSI of at " \
           "least 85 %" in page


def test_a_tampered_signed_session_is_shown_as_signed_with_the_mismatch_in_red(
    data_dir: Path, tmp_path: Path
) -> None:
    with Records.open(data_dir) as rec:
        rec.add_person("RUN-030", "female")
        visit = rec.create_session("RUN-030", DAY)
        result, series = squats("left", 4.0, 3)
        clip = write_clip(tmp_path / "left.mp4", n_frames=40)
        saved = rec.save_analysis(visit.id, clip, result, series,
                                  original_name="![x](http://example.invalid/a.png)")
        rec.sign_clearance(visit.id, "dr.vega")
    at = review_app()
    assert not [c for c in at.get("container") if getattr(c, "key", None) == "rv_tampered"]
    saved.clip.path.write_bytes(b"a different video")  # replaced after signing
    at = review_app()
    shown = [str(e.value) for e in elements_in(at, "rv_tampered", "text")]
    assert "does not match its signature" in str(elements_in(at, "rv_tampered", "error")[0].value)
    assert any("was replaced or changed after signing" in t for t in shown), shown
    assert any("![x](http://example.invalid/a.png)" in t for t in shown)  # plain text


def test_the_records_need_a_login_and_roles_decide_what_may_be_done(
    data_dir: Path, tmp_path: Path
) -> None:
    with Records.open(data_dir) as rec:
        rec.add_person("RUN-040", "female")
        visit = rec.create_session("RUN-040", DAY)
        result, series = squats("left", 4.0, 3)
        rec.save_analysis(visit.id, write_clip(tmp_path / "c.mp4", n_frames=40), result, series)
    at = review_app(None)
    assert "RUN-040" not in texts(at) and not at.selectbox  # nothing of the records
    log_in(at, CLINICIAN, "wrong password!!")
    assert "Not logged in: wrong user name or password" in texts(at)
    log_in(at, "nobody", PASSWORD)
    assert "Not logged in: wrong user name or password" in texts(at)  # the same words
    # An assistant sees the records but cannot sign: the records refuse it.
    log_in(at, ASSISTANT)
    assert at.selectbox(key="rv_person").value == "RUN-040"
    assert "As an assistant" in texts(at)
    button(at, "rv_sign_").click().run()
    assert "only a clinician may sign" in texts(at)
    # Inactivity ends the login.
    at.session_state["valgus_login"]["seen"] -= 16 * 60
    at.run()
    assert "Logged out after 15 minutes" in texts(at) and not at.selectbox
    # A disabled account is logged out at its next page run.
    log_in(at, CLINICIAN)
    with Records.open(data_dir) as rec:
        rec.set_disabled(CLINICIAN)
    at.run()
    assert "no longer active" in texts(at) and not at.selectbox
    log_in(at, CLINICIAN)
    assert "wrong user name or password" in texts(at)


def test_without_accounts_the_page_says_how_to_make_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VALGUS_DATA_DIR", str(tmp_path / "data"))
    at = review_app(None)
    assert "valgus user add NAME --role clinician" in texts(at)
    assert not at.text_input


def test_user_text_is_shown_as_plain_text(data_dir: Path, tmp_path: Path) -> None:
    """A markdown image in a clip name, a note or a reason must not become an image (the
    browser would fetch its address): it is shown as typed."""
    image = "![x](http://example.invalid/a.png)"
    with Records.open(data_dir) as rec:
        rec.add_person("RUN-050", "female")
        visit = rec.create_session("RUN-050", DAY)
        result, series = squats("left", 4.0, 3)
        saved = rec.save_analysis(visit.id, write_clip(tmp_path / "c.mp4", n_frames=40),
                                  result, series, original_name=f"{image}.mp4")
        rec.save_review(visit.id, CLINICIAN, f"see {image}",
                        [Override(saved.id, 1, "excessive", f"because {image}")])
        rec.sign_clearance(visit.id, CLINICIAN)
    at = review_app()
    markdown = [str(e.value) for kind in ("markdown", "caption", "success", "error", "info")
                for e in at.get(kind)]
    assert not [m for m in markdown if "](http" in m and "\\](" not in m], markdown
    assert any("\\!\\[x\\]\\(http\\://example.invalid/a.png\\)" in m for m in markdown)
    assert f"see {image}" in [str(e.value) for e in at.get("text")]
