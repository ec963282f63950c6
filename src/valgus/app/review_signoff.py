"""The Review page's sign-off: "Sign off" opens a confirmation showing exactly what will be
signed (the decision and its reasons, the reps counted per leg, the review's overrides, the
policy, the entered clearance values) and under which account (the logged-in one: no name is
typed), with "Confirm and sign" and "Cancel". The confirmation carries the
``signing_digest`` of what it shows; the records refuse the signature if the session changed
in between (``Records.sign_clearance(expected=...)``). Streamlit code only.
"""

from __future__ import annotations

import streamlit as st

from valgus.app.plain import plain
from valgus.core.clearance import SIDES
from valgus.errors import ValgusError
from valgus.present.style import BAND_TEXT, fmt_num
from valgus.store.service import Records, SessionSummary, UserInfo
from valgus.store.signing import signing_digest

PAIN_LABELS = {
    "squat_pain_left": "squat pain, left",
    "squat_pain_right": "squat pain, right",
    "run_pain_during": "easy run, pain during",
    "run_pain_next_morning": "easy run, pain the next morning",
}


def _value(v: object) -> str:
    return "not recorded" if v is None or v == "" else str(v)


def signed_lines(summary: SessionSummary) -> list[str]:
    """What a signature of this (unsigned) session would seal, one plain-text line each."""
    d, p = summary.decision, summary.policy
    lines = [f"Decision: {d.status}"]
    lines += [f"  - {r}" for r in d.reasons]
    for leg in SIDES:
        r = summary.squat[leg]
        lines.append(f"Squat, {leg} leg: {r.verdict}; {r.valid_reps} of {p.required_reps} reps "
                     f"counted, {r.excessive_reps} excessive, "
                     + (f"median FPPA {fmt_num(r.median_fppa_deg)} deg"
                        if r.median_fppa_deg is not None else "no FPPA measured")
                     + (f", {r.overridden_reps} re-banded" if r.overridden_reps else ""))
    names = {a.id: a.clip.original_name for a in summary.analyses}
    overrides = summary.review.overrides if summary.review else ()
    lines.append(f"Overrides: {len(overrides) or 'none'}")
    lines += [f"  - {names.get(o.analysis_id, o.analysis_id)} (analysis {o.analysis_id}) rep "
              f"{o.index}: {BAND_TEXT.get(o.band, o.band)} ({o.reason})" for o in overrides]
    fixed = [r for r in summary.reps if r.correction is not None]
    lines.append(f"Point corrections: {len(fixed) or 'none'}")
    lines += [f"  - {names.get(r.analysis_id, r.analysis_id)} (analysis {r.analysis_id}) rep "
              f"{r.index}: {r.correction.text()}" for r in fixed if r.correction is not None]
    if summary.review and summary.review.notes:
        lines.append(f"Notes: {' '.join(summary.review.notes.split())}")
    lines.append(f"Policy: pain up to {p.max_pain_score}/10 counts as none; strength LSI at "
                 f"least {p.min_lsi_pct:.0f} %; easy run at least {p.min_run_minutes:.0f} min; "
                 f"{p.required_reps} reps per leg")
    i = summary.clearance.inputs if summary.clearance else None
    if i is None:
        lines.append("Entered values: none")
    else:
        stairs = {None: "not recorded", False: "no pain", True: "pain"}[i.stair_descent_pain]
        lines.append("Entered values: " + "; ".join(
            [f"{label} {_value(getattr(i, name))}" for name, label in PAIN_LABELS.items()]
            + [f"stair descent {stairs}", f"easy run {_value(i.run_minutes)} min",
               f"strength left {_value(i.strength_left)}, right {_value(i.strength_right)} "
               f"{i.strength_unit}".rstrip(),
               f"involved side {_value(i.involved_side)}"]))
    return lines


def signoff_panel(rec: Records, summary: SessionSummary, user: UserInfo) -> None:
    """The sign-off of an unsigned session: a button, then the confirmation step."""
    if summary.final:
        return
    sid = summary.session.id
    key = f"rv_signing_{sid}"
    with st.container(border=True, key="rv_signoff"):
        st.markdown("#### Sign off")
        confirming = st.session_state.get(key)
        if confirming is None:
            st.caption("Signing stores the decision as it stands now; the session can then no "
                       "longer change. You will see what is signed before it is.")
            if st.button("Sign off", key=f"rv_sign_{sid}", type="primary"):
                if not user.may("sign"):
                    st.error(f"Not signed: {plain(user.username)} is an {user.role}: only a "
                             "clinician may sign.")
                    return
                st.session_state[key] = signing_digest(summary)
                st.rerun()
            return
        st.markdown(f"**You are about to sign as {plain(user.username)} ({user.role}).** "
                    "Check what will be signed:")
        with st.container(key="rv_sign_summary"):
            st.text("\n".join(signed_lines(summary)))  # names, reasons, notes: plain text
        current = signing_digest(summary)
        changed = confirming != current
        if changed:  # never sign what was not on the screen when Confirm was pressed
            st.warning("The record changed since you pressed Sign off: check what is signed "
                       "again.")
            st.session_state[key] = current
        cols = st.columns([2, 1, 3])
        if cols[0].button("Confirm and sign", key=f"rv_sign_confirm_{sid}", type="primary") \
                and not changed:
            try:
                rec.sign_clearance(sid, user.username, expected=confirming)
            except ValgusError as err:
                st.error(f"Not signed: {plain(err)}")
            else:
                st.session_state.pop(key, None)
                st.session_state["rv_flash"] = "Signed: the record is final."
                st.rerun()
        if cols[1].button("Cancel", key=f"rv_sign_cancel_{sid}"):
            st.session_state.pop(key, None)
            st.rerun()
