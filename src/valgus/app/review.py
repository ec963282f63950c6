"""The app's Review page: people and their test sessions, each clip's reps with the reviewer's
band overrides and notes, the person's FPPA across sessions, the return-to-running clearance
record (entered, decided, signed; in ``app.review_clearance``) and the session report. Also the
"Save to a person's record" control of the upload and live pages. Both need a login
(``app.login``); what they record is recorded under the logged-in account.

Streamlit code only: every read and write goes through ``valgus.store.service.Records`` (one per
process, ``st.cache_resource``), so everything shown survives an app restart.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from pathlib import Path

import streamlit as st

from valgus.app.clip_report import Report
from valgus.app.login import current_user, require_login
from valgus.app.plain import plain
from valgus.app.review_clearance import clearance_panel, decision_panel, history_panel, policy_panel
from valgus.app.review_clips import clips_panel
from valgus.app.review_signoff import signoff_panel
from valgus.core.clearance import BANDS, Override
from valgus.errors import ValgusError
from valgus.present.style import BAND_TEXT
from valgus.store.service import Records, SessionInfo, SessionSummary, UserInfo

SEX_CHOICES = ("not given", "female", "male")
NEW_SESSION = -1


@st.cache_resource(show_spinner=False)
def get_records(data_dir: str) -> Records:
    """One ``Records`` per process and data directory (thread-safe); ``data_dir`` "" is
    ``Records.open()``'s default (``VALGUS_DATA_DIR``, else ``~/.local/share/valgus``)."""
    return Records.open(data_dir or None)


def records() -> Records:
    return get_records(os.environ.get("VALGUS_DATA_DIR", ""))


def logged_in() -> UserInfo | None:
    """The account logged in in this browser session, if any (and the records open)."""
    try:
        return current_user(records())
    except ValgusError:
        return None


# --------------------------------------------------------------------------- saving an analysis


def save_control(report: Report, name: str, key: str, path: Path | None = None,
                 data: bytes | None = None) -> None:
    """"Save to a person's record": person code + session date -> ``Records.save_analysis``
    with the clip, the result and the poses. ``path`` or ``data``: the clip's file or bytes."""
    with st.container(border=True, key=f"save_{key}"):
        st.markdown("##### Save to a person's record")
        cols = st.columns([2, 2, 1])
        code = cols[0].text_input("Person code (pseudonymous, never a name)",
                                  key=f"save_code_{key}")
        when = cols[1].date_input("Session date", value=date.today(), key=f"save_date_{key}")
        cols[2].markdown("&nbsp;")
        clicked = cols[2].button("Save", key=f"save_btn_{key}")
        saved = st.session_state.get(f"saved_{key}")
        done = saved[1] if saved and saved[0] == name else None  # for this clip only
        if clicked and not code.strip():
            st.error("Enter the person's code.")
        elif clicked and (user := logged_in()) is None:
            st.error("Log in on the Review page first: saving to a person's record needs an "
                     "account.")
        elif clicked and user is not None:
            try:
                rec = records()
                sex = report.result.config.sex
                person = rec.ensure_person(code, None if sex == "unspecified" else sex)
                visit = rec.session_for_date(person.code, when)
                with tempfile.TemporaryDirectory(prefix="valgus-save-") as tmp:
                    clip = path
                    if clip is None:
                        clip = Path(tmp) / f"clip{Path(name).suffix.lower() or '.mp4'}"
                        clip.write_bytes(data or b"")
                    info = rec.save_analysis(visit.id, clip, report.result, report.series,
                                             original_name=name, by=user.username)
            except ValgusError as err:
                st.error(f"Not saved: {plain(err)}")
                return
            done = (f"Saved {plain(name)} to {plain(person.code)}, session {visit.id} of "
                    f"{visit.session_date.isoformat()} (analysis {info.id}). Open the Review page "
                    "to review it.")
            st.session_state[f"saved_{key}"] = (name, done)
        if done:
            st.success(done)


# --------------------------------------------------------------------------- people & sessions


def people_panel(rec: Records) -> str | None:
    """Add a person; pick one. Returns the chosen person's code."""
    with st.expander("Add a person", expanded=not rec.list_people()):
        cols = st.columns([2, 1, 1])
        code = cols[0].text_input("Code (pseudonymous, never a name)", key="rv_new_code")
        sex = cols[1].selectbox("Sex", SEX_CHOICES, key="rv_new_sex")
        cols[2].markdown("&nbsp;")
        if cols[2].button("Add person", key="rv_add_person"):
            try:
                person = rec.add_person(code, None if sex == "not given" else sex)
            except ValgusError as err:
                st.error(str(err))
            else:
                st.session_state["rv_person"] = person.code
                st.success(f"Added {plain(person.code)}.")
    people = rec.list_people()
    if not people:
        st.info("No one in the records yet: add a person, or save an analysed video to a "
                "person's record on the upload page.")
        return None
    codes = [p.code for p in people]
    if st.session_state.get("rv_person") not in codes:
        st.session_state["rv_person"] = codes[0]
    sexes = {p.code: (p.sex or "unspecified").replace("unspecified", "not given")
             for p in people}
    return st.selectbox("Person", codes, key="rv_person",
                        format_func=lambda c: f"{c} (sex {sexes[c]})")


def _session_label(s: SessionInfo) -> str:
    return (f"{s.session_date.isoformat()} (session {s.id}, {s.n_clips} clip"
            f"{'' if s.n_clips == 1 else 's'}{', signed' if s.signed else ''})")


def session_panel(rec: Records, code: str) -> int | None:
    """Pick a session of the person, or create one for a date. Returns its id."""
    sessions = rec.list_sessions(code)
    labels = {s.id: _session_label(s) for s in sessions}
    labels[NEW_SESSION] = "New session..."
    ids = [s.id for s in reversed(sessions)] + [NEW_SESSION]
    key = f"rv_session_{code}"
    if st.session_state.get(key) not in ids:
        st.session_state[key] = ids[0]
    sid = st.selectbox("Session", ids, key=key, format_func=labels.__getitem__)
    if sid == NEW_SESSION:
        cols = st.columns([2, 1])
        when = cols[0].date_input("Session date", value=date.today(), key="rv_new_date")
        cols[1].markdown("&nbsp;")
        if cols[1].button("Create session", key="rv_create_session"):
            try:
                made = rec.session_for_date(code, when)
            except ValgusError as err:
                st.error(str(err))
                return None
            st.session_state["rv_pending_session"] = (key, made.id)
            st.rerun()
        return None
    chosen = next(s for s in sessions if s.id == sid)
    st.caption(f"Session {sid} of {chosen.session_date.isoformat()}: "
               + ("signed, final (read-only)." if chosen.signed else "open (not signed)."))
    return sid


# --------------------------------------------------------------------------- clips and review


def _pending(summary: SessionSummary) -> dict[tuple[int, int], Override]:
    """The overrides being edited for this session (start: the latest review's)."""
    key = f"rv_overrides_{summary.session.id}"
    review_id = summary.review.id if summary.review else None
    state = st.session_state.get(key)
    if state is None or state[0] != review_id:
        base = summary.review.overrides if summary.review else ()
        current = {a.id for a in summary.analyses}
        state = (review_id, {(o.analysis_id, o.index): o for o in base
                             if o.analysis_id in current})
        st.session_state[key] = state
    return state[1]


def review_panel(rec: Records, summary: SessionSummary, reviewer: str) -> None:
    sid = summary.session.id
    with st.container(border=True, key="rv_review"):
        st.markdown("#### Review: re-band reps, notes")
        if summary.review:
            st.caption(f"In force: review {summary.review.id} by {plain(summary.review.reviewer)}, "
                       f"{summary.review.created_at:%Y-%m-%d %H:%M} UTC.")
        if summary.final:
            if summary.review is None:
                st.caption("No review was recorded before signing.")
            if summary.review and summary.review.notes:
                st.markdown("**Notes:**")
                st.text(summary.review.notes)
            for o in summary.review.overrides if summary.review else ():
                st.markdown(f"- Analysis {o.analysis_id} rep {o.index}: "
                            f"{BAND_TEXT.get(o.band, o.band)} ({plain(o.reason)})")
            return
        pending = _pending(summary)
        countable = [r for r in summary.reps if r.counted or r.overridden]
        names = {a.id: a.clip.original_name for a in summary.analyses}
        if countable:
            cols = st.columns([3, 2, 4, 1])
            choice = cols[0].selectbox(
                "Rep", [(r.analysis_id, r.index) for r in countable], key=f"rv_ov_rep_{sid}",
                format_func=lambda k: f"{names[k[0]]}: rep {k[1]}",
            )
            band = cols[1].selectbox("Band", BANDS, key=f"rv_ov_band_{sid}",
                                     format_func=lambda b: BAND_TEXT.get(b, b))
            reason = cols[2].text_input("Reason", key=f"rv_ov_reason_{sid}")
            cols[3].markdown("&nbsp;")
            if cols[3].button("Override", key=f"rv_ov_add_{sid}"):
                if not reason.strip():
                    st.error("Give a reason for the new band.")
                else:
                    pending[choice] = Override(choice[0], choice[1], band, reason.strip())
        for k, o in sorted(pending.items()):
            cols = st.columns([6, 1])
            cols[0].markdown(f"- {plain(names.get(o.analysis_id, o.analysis_id))} rep "
                             f"{o.index}: **{BAND_TEXT.get(o.band, o.band)}** "
                             f"({plain(o.reason)})")
            if cols[1].button("Remove", key=f"rv_ov_del_{sid}_{k[0]}_{k[1]}"):
                pending.pop(k)
                st.rerun()
        notes = st.text_area("Notes", value=summary.review.notes if summary.review else "",
                             key=f"rv_notes_{sid}_{summary.review.id if summary.review else 0}")
        if st.button("Save review", key=f"rv_save_review_{sid}", type="primary"):
            try:
                rec.save_review(sid, reviewer, notes, list(pending.values()))
            except ValgusError as err:
                st.error(f"Not saved: {plain(err)}")
            else:
                st.session_state["rv_flash"] = "Review saved."
                st.rerun()


# --------------------------------------------------------------------------- report


def report_panel(rec: Records, summary: SessionSummary, user: str) -> None:
    from valgus.report import build_session_report

    sid = summary.session.id
    stem = f"valgus-{summary.person.code}-{summary.session.session_date.isoformat()}-s{sid}"
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in stem)

    def html() -> bytes:
        rec.note_export(user, sid, "html")
        return build_session_report(rec, sid).html.encode("utf-8")

    def pdf() -> bytes:
        rec.note_export(user, sid, "pdf")
        return build_session_report(rec, sid).pdf()

    with st.container(border=True, key="rv_report"):
        st.markdown("#### Report")
        cols = st.columns(4)
        cols[0].download_button("Report (PDF)", pdf, file_name=f"{stem}.pdf",
                                mime="application/pdf", key=f"rv_pdf_{sid}", on_click="ignore")
        cols[1].download_button("Report (HTML)", html, file_name=f"{stem}.html",
                                mime="text/html", key=f"rv_html_{sid}", on_click="ignore")
        st.caption("Made on this computer when you click; " +
                   ("signed: the report shows the final record." if summary.final
                    else "not signed yet: the report is marked DRAFT."))


# --------------------------------------------------------------------------- page


def page_review() -> None:
    st.title("Review: clinician records")
    pending = st.session_state.pop("rv_pending_session", None)
    if pending:
        st.session_state[pending[0]] = pending[1]
    try:
        rec = records()
    except ValgusError as err:
        st.error("The records cannot be opened.")
        st.text(str(err))
        return
    user = require_login(rec)
    if user is None:
        return
    # Everything recorded from this page is recorded under the logged-in account.
    reviewer = user.username
    st.caption("People are known only by a pseudonymous code: never enter names. "
               + ("As a clinician you may review, sign and set the policy."
                  if user.may("sign") else
                  "As an assistant you may record people, clips and clearance values; a "
                  "clinician reviews and signs."))
    # The clinic's policy as stored now (another user or the command line may have changed it).
    setting = rec.policy_setting()
    rec = Records(rec.db, setting.policy)
    policy_panel(rec, setting, reviewer)
    flash = st.session_state.pop("rv_flash", None)
    if flash:
        st.success(flash)
    code = people_panel(rec)
    if code is None:
        return
    viewed = st.session_state.setdefault("rv_viewed", set())
    if code not in viewed:  # once per browser session and person
        rec.note_view(reviewer, code)
        viewed.add(code)
    sid = session_panel(rec, code)
    if sid is not None:
        try:
            summary = rec.session_summary(sid)
        except ValgusError as err:
            st.error(str(err))
            return
        decision_panel(summary)
        clips_panel(rec, summary, user)
        review_panel(rec, summary, reviewer)
        clearance_panel(rec, summary, reviewer)
        signoff_panel(rec, summary, user)
        report_panel(rec, summary, reviewer)
    history_panel(rec, code)
