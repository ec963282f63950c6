"""The Review page's clearance and progress panels: the clinic's clearance policy, the
decision with its criteria, the entered clearance values and sign-off, and the person's FPPA
across sessions. Streamlit code only; every read and write goes through
``valgus.store.service.Records``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pandas as pd  # type: ignore[import-untyped]
import streamlit as st

from valgus.app.plain import plain
from valgus.core.clearance import (
    LSI_RANGE_PCT,
    SIDES,
    ClearanceInputs,
    ClearancePolicy,
    FppaChange,
    NotComparable,
    ProgressRow,
)
from valgus.core.progress import definition_runs, definition_text
from valgus.errors import ValgusError
from valgus.present.style import fmt_num
from valgus.store.service import History, PolicySetting, Records, SessionSummary

STATUS_COLOR = {"CLEARED": "green", "NOT YET": "red"}
LEG_COLOR = {"left": "#1f77b4", "right": "#d62728"}
PAIN_FIELDS = {
    "squat_pain_left": "Squat pain, left leg (0-10)",
    "squat_pain_right": "Squat pain, right leg (0-10)",
    "run_pain_during": "Easy run: pain during (0-10)",
    "run_pain_next_morning": "Easy run: pain the next morning (0-10)",
}
STAIRS = {"not recorded": None, "no pain": False, "pain": True}
INVOLVED = {"not given": None, "left": "left", "right": "right", "both": "both"}


# --------------------------------------------------------------------------- clearance


def policy_panel(rec: Records, setting: PolicySetting, reviewer: str) -> None:
    """The clinic's clearance policy (stored in the records, shared with the command line's
    `valgus policy`): its current values and who set them, and a form to change them."""
    p = setting.policy
    lo, hi = LSI_RANGE_PCT
    origin = (f"set by {plain(setting.updated_by)} on {setting.updated_at:%Y-%m-%d %H:%M} UTC"
              if setting.updated_at else "the defaults")
    with st.expander(f"Clearance policy: pain up to {p.max_pain_score}/10 counts as none, "
                     f"LSI at least {p.min_lsi_pct:.0f} % ({origin})"):
        stamp = setting.updated_at.isoformat() if setting.updated_at else "default"
        max_pain = st.number_input(
            "Highest pain that still counts as no pain (0-10 scale)", min_value=0, max_value=2,
            step=1, value=p.max_pain_score, key=f"rv_policy_max_pain_{stamp}",
            help="The criterion says no pain (0). Some programmes accept mild pain, up to 2/10, "
                 "during loading; that is a clinical choice and is printed on the report.")
        min_lsi = st.number_input(
            "Limb symmetry index needed (%)", min_value=lo, max_value=hi, step=1.0,
            value=p.min_lsi_pct, key=f"rv_policy_min_lsi_{stamp}",
            help=f"Strength of the involved leg against the other: the criterion allows "
                 f"{lo:.0f}-{hi:.0f} %; {ClearancePolicy().min_lsi_pct:.0f} % is the "
                 "conservative end.")
        st.caption("The clinic's choices within the published criteria, for every proposal "
                   "and for what is signed from now on, here and on the command line. A signed "
                   "record keeps the policy it was signed under.")
        if st.button("Save policy", key="rv_policy_save"):
            try:
                rec.save_policy(dataclasses.replace(p, max_pain_score=int(max_pain),
                                                    min_lsi_pct=float(min_lsi)), reviewer)
            except (ValueError, ValgusError) as err:
                st.error(f"Not saved: {plain(err)}")
            else:
                st.session_state["rv_flash"] = "Clearance policy saved."
                st.rerun()


def decision_panel(summary: SessionSummary) -> None:
    d = summary.decision
    with st.container(border=True, key="rv_decision"):
        final = summary.final
        word = "FINAL" if final else "proposal, not signed"
        st.markdown(f"#### Clearance: :{STATUS_COLOR[d.status]}[{d.status}] ({word})")
        for reason in d.reasons:
            st.markdown(f"- {reason[0].upper() + reason[1:]}")
        st.caption("Criteria: " + "; ".join(f"{c.title}: **{c.status}**" for c in d.criteria))
        p = summary.policy
        st.caption(f"Policy{' it was signed under' if final else ''}: pain up to "
                   f"{p.max_pain_score}/10 counts as none; strength LSI of at least "
                   f"{p.min_lsi_pct:.0f} %.")
        for leg in SIDES:
            r = summary.squat[leg]
            st.caption(f"Squat, {leg} leg: {r.verdict}; {r.valid_reps} measured reps, "
                       f"{r.excessive_reps} excessive, median FPPA {fmt_num(r.median_fppa_deg)} "
                       f"deg" + (f", {r.overridden_reps} re-banded" if r.overridden_reps else ""))
        if final and summary.clearance is not None and summary.clearance.signed_at:
            st.success(f"Signed by {plain(summary.clearance.signed_by)} on "
                       f"{summary.clearance.signed_at:%Y-%m-%d %H:%M} UTC: this record is final "
                       "and read-only. Start a new session for new data.")
        signature_panel(summary)


def signature_panel(summary: SessionSummary) -> None:
    """How a signed session is shown (from its sealed snapshot) and, in red, anything in the
    records that no longer matches it (``valgus records verify``). Plain text only."""
    sig = summary.signature
    if sig is None:
        return
    amended = (f"; amended {sig.amendments} time(s), last on {sig.signed_at:%Y-%m-%d %H:%M} "
               f"UTC by {sig.signed_by}: {sig.reason}" if sig.amendments else "")
    st.text(f"Shown as signed{amended}. Seal {sig.chain_sha256[:16]}.")
    if sig.problems:
        with st.container(key="rv_tampered"):
            st.error("This signed record does not match its signature: it was changed after "
                     "signing. The decision shown is the one signed. Run `valgus records "
                     "verify`.", icon="🛑")
            # Problems name clips (user text): shown as plain text, never as markdown.
            st.text("\n".join(sig.problems))


def clearance_panel(rec: Records, summary: SessionSummary, reviewer: str) -> None:
    sid = summary.session.id
    entered = summary.clearance.inputs if summary.clearance else ClearanceInputs()
    final = summary.final
    stamp = summary.clearance.updated_at.isoformat() if summary.clearance else "new"
    k = f"{sid}_{stamp}"  # fresh widgets (showing the stored values) after every save
    with st.container(border=True, key="rv_clearance"):
        st.markdown("#### Clearance values")
        if summary.clearance:
            st.caption(f"Entered by {plain(summary.clearance.updated_by)}, "
                       f"{summary.clearance.updated_at:%Y-%m-%d %H:%M} UTC.")
        values: dict[str, Any] = {}
        cols = st.columns(4)
        for col, (name, label) in zip(cols, PAIN_FIELDS.items(), strict=True):
            values[name] = col.number_input(label, min_value=0, max_value=10, step=1,
                                            value=getattr(entered, name), key=f"rv_{name}_{k}",
                                            disabled=final, placeholder="not recorded")
        cols = st.columns(4)
        stairs = cols[0].radio("Stair descent", list(STAIRS), horizontal=True,
                               index=[v for v in STAIRS.values()].index(entered.stair_descent_pain),
                               key=f"rv_stairs_{k}", disabled=final)
        values["stair_descent_pain"] = STAIRS[stairs]
        values["run_minutes"] = cols[1].number_input(
            "Easy run (min)", min_value=0.0, max_value=300.0, step=1.0,
            value=entered.run_minutes, key=f"rv_run_minutes_{k}", disabled=final,
            placeholder="not recorded")
        cols = st.columns(4)
        for col, side in zip(cols, SIDES, strict=False):
            values[f"strength_{side}"] = col.number_input(
                f"Strength, {side}", min_value=0.0, step=1.0,
                value=getattr(entered, f"strength_{side}"), key=f"rv_strength_{side}_{k}",
                disabled=final, placeholder="not recorded")
        values["strength_unit"] = cols[2].text_input("Strength unit", value=entered.strength_unit,
                                                     key=f"rv_strength_unit_{k}", disabled=final)
        involved = cols[3].selectbox(
            "Involved side", list(INVOLVED),
            index=list(INVOLVED.values()).index(entered.involved_side),
            key=f"rv_involved_{k}", disabled=final)
        values["involved_side"] = INVOLVED[involved]
        if final:
            return
        if st.button("Save clearance values", key=f"rv_save_clearance_{sid}"):
            try:
                entered_values: dict[str, Any] = {
                    f.name: (int(values[f.name]) if f.name in PAIN_FIELDS
                             and values[f.name] is not None else values[f.name])
                    for f in dataclasses.fields(ClearanceInputs)
                }
                inputs = ClearanceInputs(**entered_values)
                rec.save_clearance(sid, inputs, reviewer)
            except (ValueError, ValgusError) as err:
                st.error(f"Not saved: {plain(err)}")
            else:
                st.session_state["rv_flash"] = "Clearance values saved."
                st.rerun()


# --------------------------------------------------------------------------- progress


def history_figure(history: History) -> Any:
    """Median FPPA per leg over the sessions with +/- the smallest detectable change as error
    bars; a change of at least that size (a real change) is ringed and labelled. Points on
    different FPPA definitions are not joined, and a point with no earlier one on its definition
    to compare with is marked (an open square: not comparable)."""
    import plotly.graph_objects as go  # type: ignore[import-untyped]

    fig = go.Figure()
    rows: tuple[ProgressRow, ...] = history.rows
    sdc = history.sdc_deg
    dates = [r.session.session_date for r in rows]
    label = {r.session.session_id: r.session.session_date.isoformat()
             + (f" #{r.session.session_id}" if dates.count(r.session.session_date) > 1 else "")
             for r in rows}
    for leg in SIDES:
        pts = [(label[r.session.session_id], r.session.median_fppa_deg.get(leg), r)
               for r in rows]
        pts = [(d, v, r) for d, v, r in pts if v is not None]
        if not pts:
            continue
        # A gap (y None) between runs of one definition: no line across definitions.
        line: list[tuple[str, float | None, str]] = []
        for run in definition_runs(rows, leg):
            if line:
                line.append((label[run[0].session.session_id], None, ""))
            line.extend((label[r.session.session_id], r.session.median_fppa_deg[leg],
                         definition_text(r.session.definition.get(leg))) for r in run)
        fig.add_trace(go.Scatter(
            x=[d for d, _, _ in line], y=[v for _, v, _ in line], text=[w for _, _, w in line],
            mode="lines+markers",
            name=f"{leg} leg", line={"color": LEG_COLOR[leg]},
            error_y={"type": "constant", "value": sdc, "thickness": 1, "width": 4},
            hovertemplate="%{x}: %{y:.1f} deg, %{text}<extra>" + leg + "</extra>",
        ))
        changes = [(d, v, r.since_previous.get(leg)) for d, v, r in pts]
        real = [(d, v, c) for d, v, c in changes if isinstance(c, FppaChange) and c.real]
        if real:
            fig.add_trace(go.Scatter(
                x=[d for d, _, _ in real], y=[v for _, v, _ in real],
                mode="markers+text",
                name=f"{leg}: real change", showlegend=True,
                marker={"size": 18, "symbol": "circle-open", "color": LEG_COLOR[leg],
                        "line": {"width": 3}},
                text=[f"{c.delta_deg:+.1f} deg" for _, _, c in real],
                textposition="top center",
            ))
        apart = [(d, v, c) for d, v, c in changes if isinstance(c, NotComparable)]
        if apart:
            fig.add_trace(go.Scatter(
                x=[d for d, _, _ in apart], y=[v for _, v, _ in apart],
                mode="markers",
                name=f"{leg}: not comparable (other FPPA definition)", showlegend=True,
                marker={"size": 18, "symbol": "square-open", "color": LEG_COLOR[leg],
                        "line": {"width": 2}},
                text=[c.describe(sdc) for _, _, c in apart],
                hovertemplate="%{x}: %{text}<extra>" + leg + "</extra>",
            ))
    fig.update_layout(
        title=f"Median FPPA per leg (bars: +/- {sdc:.1f} deg smallest detectable change, "
              "Munro 2012; ringed: a real change; squared: not comparable)",
        xaxis_title="session date", yaxis_title="median FPPA (deg)", height=380,
        showlegend=True,
        margin={"t": 60, "b": 40, "l": 50, "r": 20},
    )
    # One tick per session (a date axis with one session shows hours of that day instead).
    fig.update_xaxes(type="category", categoryorder="array",
                     categoryarray=list(label.values()))
    return fig


def history_panel(rec: Records, code: str) -> None:
    history = rec.history(code)
    with st.container(border=True, key="rv_history"):
        st.markdown(f"#### {plain(code)}: progress across sessions")
        if not any(r.session.median_fppa_deg.get(leg) is not None
                   for r in history.rows for leg in SIDES):
            st.info("No measured FPPA yet.")
            return
        st.plotly_chart(history_figure(history), key=f"rv_history_chart_{code}")
        table = []
        for r in history.rows:
            row: dict[str, str] = {"date": r.session.session_date.isoformat(),
                                   "session": str(r.session.session_id),
                                   "signed": history.signed_decisions.get(
                                       r.session.session_id) or "-"}
            for leg in SIDES:
                row[f"{leg} FPPA (deg)"] = fmt_num(r.session.median_fppa_deg.get(leg))
                change = r.since_previous.get(leg)
                row[f"{leg} change"] = change.describe(history.sdc_deg) if change else "-"
            table.append(row)
        st.dataframe(pd.DataFrame(table), hide_index=True, key=f"rv_history_table_{code}")
        st.caption(f"A change smaller than {history.sdc_deg:.1f} deg (smallest detectable "
                   "change of 2D FPPA, Munro 2012) cannot be told from measurement noise. A "
                   "change is computed only between sessions on the same FPPA definition.")
