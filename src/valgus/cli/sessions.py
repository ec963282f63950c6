"""``valgus sessions PERSON`` (issue 15 item 6): a person's sessions, each session's analyses in
force and every rep with its number, leg, band in force, FPPA, whether it counts towards the
test and, when it does not, why (the leg's reasons' words): the ANALYSIS:REP numbers
``valgus review SESSION_ID --band ANALYSIS:REP=BAND:REASON`` takes. Output formatting only;
the records are read through ``valgus.store.service.Records`` (read-only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from valgus.core.reasons import RepIssueCode, cycle_label, describe
from valgus.present.style import BAND_TEXT

if TYPE_CHECKING:
    from valgus.core.clearance import SquatRep
    from valgus.store.service import Records, SessionSummary


def _not_counted(r: SquatRep) -> str:
    """Why a rep does not count towards the test, in the short label the leg's reasons tally
    it under ("not counted: 1 outside the FPPA map's range": ``reasons.cycle_label`` of its
    first issue, as ``scoring.leg_verdict`` counts it); "" for a rep that counts."""
    code = r.not_counted_code
    if code is None:
        return ""
    if code == RepIssueCode.RECORDED:  # words stored by an older valgus
        return describe(r.score.issues[0])
    return cycle_label(code)


def _rep_line(r: SquatRep) -> str:
    band = BAND_TEXT.get(r.band, r.band)
    fppa = "-" if r.fppa_deg is None else f"{r.fppa_deg:.1f}"
    why = ""
    if r.overridden:
        why = (f"reviewer, was {BAND_TEXT.get(r.original_band, r.original_band)}: "
               f"{r.override_reason}")
    elif r.score.not_a_rep:
        why = f"not a rep of this leg: {_not_counted(r)}"
    else:
        why = _not_counted(r)
    if r.correction is not None:
        why = "; ".join(x for x in (why, r.correction.text()) if x)
    return (f"    {r.index:>4}  {r.leg:5}  {band:18}  {fppa:>6}  "
            f"{'yes' if r.counts_towards_test else 'no':6}  {why}").rstrip()


def format_session(records: Records, s: SessionSummary) -> list[str]:
    """One session: its state, and each analysis in force with its reps."""
    state = "signed, final" if s.final else "open"
    lines = [f"session {s.session.id} on {s.session.session_date.isoformat()} ({state}), "
             f"{len(s.analyses)} clip{'' if len(s.analyses) == 1 else 's'}"]
    if not s.analyses:
        lines.append("  no clip analysed yet")
    for a in s.analyses:
        reps = [r for r in s.reps if r.analysis_id == a.id]
        lines.append(f"  analysis {a.id}: {a.clip.original_name} (stored "
                     f"{a.created_at:%Y-%m-%d %H:%M} UTC, valgus {a.valgus_version}), "
                     f"{len(reps)} rep{'' if len(reps) == 1 else 's'}")
        check = records.settings_check(a, s.person.sex)
        if check.differs:
            lines.append(f"    {check.text()}")
        if reps:
            lines.append(f"    {'rep':>4}  {'leg':5}  {'band':18}  {'FPPA':>6}  counts  note")
            lines += [_rep_line(r) for r in sorted(reps, key=lambda r: r.index)]
    return lines


def format_sessions(records: Records, person_code: str) -> str:
    """A person's sessions, oldest first, with their analyses and reps (see the module)."""
    person = records.get_person(person_code)
    sessions = records.list_sessions(person.code)
    lines = [f"{person.code}: {len(sessions)} session{'' if len(sessions) == 1 else 's'}. "
             "Re-band a rep with `valgus review SESSION_ID --reviewer NAME --band "
             "ANALYSIS:REP=BAND:REASON` (FPPA in deg, + = valgus)."]
    for visit in sessions:
        lines.append("")
        lines += format_session(records, records.session_summary(visit.id))
    if not sessions:
        lines.append("no sessions yet")
    return "\n".join(lines)
