"""The records subcommands of the ``valgus`` CLI (``history``, ``sessions`` (formatted in
``valgus.cli.sessions``), ``report``, ``review``, ``clearance``, ``policy``; ``person`` and
``rescore`` in ``valgus.cli.person``) and ``analyze --save``: argument definitions and their
wiring to ``valgus.store.service.Records`` and ``valgus.report``; output formatting only. The
database layer is imported only when a records command runs."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from valgus.cli import person as person_cli
from valgus.core.clearance import (
    BANDS,
    NOT_COMPARABLE,
    SIDES,
    ClearanceInputs,
    ClearancePolicy,
    InvolvedSide,
    NotComparable,
    Override,
)
from valgus.core.reasons import plural
from valgus.store.errors import RecordError

if TYPE_CHECKING:
    from valgus.core.pose import PoseSeries
    from valgus.core.result import AnalysisResult
    from valgus.store.db import StagedFile
    from valgus.store.service import PersonInfo, PolicySetting, Records, SessionSummary

COMMANDS = ("history", "sessions", "report", "review", "clearance", "policy",
            *person_cli.COMMANDS)
# Commands that only show: they open the records read-only (no write lock, nothing created).
READ_ONLY = ("history", "sessions")


# --------------------------------------------------------------------------- argument types


def iso_date(text: str) -> date:
    """argparse type: YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _pain(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 10:
        raise argparse.ArgumentTypeError(f"pain must be a whole number 0-10, got {text!r}")
    return int(text)


def _yes_no(text: str) -> bool:
    value = text.strip().lower()
    if value in ("yes", "y", "true", "1"):
        return True
    if value in ("no", "n", "false", "0"):
        return False
    raise argparse.ArgumentTypeError(f"answer yes or no, got {text!r}")


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (0 <= value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def _override(text: str) -> Override:
    """argparse type: ``ANALYSIS:REP=BAND:REASON`` -> the reviewer's band for that rep."""
    try:
        target, rest = text.split("=", 1)
        analysis, rep = target.split(":", 1)
        band_text, reason = rest.split(":", 1)
        analysis_id, index = int(analysis), int(rep)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected ANALYSIS:REP=BAND:REASON (e.g. 3:7=excessive:knee caves in), got {text!r}"
        ) from None
    band = next((b for b in BANDS if b == band_text.strip()), None)
    if band is None:
        raise argparse.ArgumentTypeError(f"band must be one of {', '.join(BANDS)}")
    return Override(analysis_id, index, band, reason.strip())


# --------------------------------------------------------------------------- parsers


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """``--data-dir`` and the clearance policy options shared by the records commands."""
    parser.add_argument("--data-dir", type=Path, metavar="DIR",
                        help="records and stored clips (default: $VALGUS_DATA_DIR or "
                        "~/.local/share/valgus); $VALGUS_DATABASE_URL selects another database")


def _add_policy_options(parser: argparse.ArgumentParser, storing: bool = False) -> None:
    policy = ClearancePolicy()
    where = ("the clinic's policy: " if storing else
             "for this command only (default: the clinic's policy, see `valgus policy`; ")
    parser.add_argument("--min-lsi", type=float, metavar="PCT",
                        help=f"strength limb symmetry index needed, 85-90 %% ({where}"
                        f"{'default ' if storing else 'else '}{policy.min_lsi_pct:.0f})")
    parser.add_argument("--max-pain", type=int, metavar="N",
                        help="highest pain (0-10) that still counts as 'no pain', 0-2 "
                        f"({where}{'default ' if storing else 'else '}{policy.max_pain_score})")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the records subcommands to the CLI's subparsers."""
    hi = sub.add_parser("history", help="a person's sessions: FPPA per leg and real changes")
    hi.add_argument("person", metavar="PERSON_CODE")
    add_data_options(hi)

    se = sub.add_parser("sessions", help="a person's sessions, analyses and rep numbers (for "
                        "`valgus review --band`)")
    se.add_argument("person", metavar="PERSON_CODE")
    add_data_options(se)

    rp = sub.add_parser("report", help="session report as PDF and/or HTML")
    rp.add_argument("session_id", type=int, metavar="SESSION_ID")
    rp.add_argument("--pdf", type=Path, metavar="FILE", help="write the PDF report here")
    rp.add_argument("--html", type=Path, metavar="FILE", help="write the HTML report here")
    add_data_options(rp)
    _add_policy_options(rp)

    rv = sub.add_parser("review", help="record a clinician's review: notes and rep bands")
    rv.add_argument("session_id", type=int, metavar="SESSION_ID")
    rv.add_argument("--reviewer", required=True, metavar="NAME")
    rv.add_argument("--notes", default="", help="free-text notes")
    rv.add_argument("--band", type=_override, action="append", default=[],
                    metavar="ANALYSIS:REP=BAND:REASON",
                    help="override one rep's band (fine, borderline, excessive, "
                    "not_measurable) with the reason; repeat for more reps. A review replaces "
                    "the previous one's overrides")
    add_data_options(rv)

    cl = sub.add_parser("clearance", help="enter clearance values, show the decision, sign")
    cl.add_argument("session_id", type=int, metavar="SESSION_ID")
    cl.add_argument("--by", required=True, metavar="NAME", help="who enters or signs")
    cl.add_argument("--squat-pain-left", type=_pain, metavar="0-10")
    cl.add_argument("--squat-pain-right", type=_pain, metavar="0-10")
    cl.add_argument("--stair-pain", type=_yes_no, metavar="yes|no",
                    help="pain on stair descent")
    cl.add_argument("--run-minutes", type=_non_negative, metavar="MIN",
                    help="minutes of easy running")
    cl.add_argument("--run-pain-during", type=_pain, metavar="0-10")
    cl.add_argument("--run-pain-next-morning", type=_pain, metavar="0-10")
    cl.add_argument("--strength-left", type=_non_negative, metavar="VALUE")
    cl.add_argument("--strength-right", type=_non_negative, metavar="VALUE")
    cl.add_argument("--strength-unit", metavar="UNIT", help="e.g. N, Nm, kg")
    cl.add_argument("--involved", choices=get_args(InvolvedSide),
                    help="the injured leg (LSI = involved / uninvolved)")
    cl.add_argument("--sign", action="store_true",
                    help="sign the record: the decision is stored and the session is final")
    cl.add_argument("--amend", metavar="REASON",
                    help="correct a signed record with the values given and this reason: "
                    "sealed as an amendment, the original signature is kept")
    add_data_options(cl)
    _add_policy_options(cl)

    po = sub.add_parser("policy", help="show or set the clinic's clearance policy")
    _add_policy_options(po, storing=True)
    po.add_argument("--by", metavar="NAME", help="who sets the policy (needed to change it)")
    add_data_options(po)

    person_cli.add_parsers(sub, add_data_options)


# --------------------------------------------------------------------------- wiring


def read_only(args: argparse.Namespace) -> bool:
    """Whether the command only shows records (``policy`` without new values included)."""
    return (args.command in READ_ONLY or person_cli.read_only(args)
            or (args.command == "policy" and not _policy_given(args)))


def open_records(args: argparse.Namespace) -> Records:
    # Imported here so that `valgus analyze` without --save does not load SQLAlchemy.
    from valgus.store.service import Records

    records = Records.open(args.data_dir, readonly=read_only(args))
    try:
        # --min-lsi / --max-pain override the clinic's stored policy for this command only.
        if args.command != "policy" and _policy_given(args):
            records.policy = _policy_with(records.policy, args)
    except BaseException:
        records.close()
        raise
    return records


def _policy_given(args: argparse.Namespace) -> bool:
    return getattr(args, "min_lsi", None) is not None or getattr(args, "max_pain", None) is not None


def _policy_with(policy: ClearancePolicy, args: argparse.Namespace) -> ClearancePolicy:
    """``policy`` with the options given on the command line."""
    changes: dict[str, Any] = {}
    if args.min_lsi is not None:
        changes["min_lsi_pct"] = args.min_lsi
    if args.max_pain is not None:
        changes["max_pain_score"] = args.max_pain
    try:
        return dataclasses.replace(policy, **changes)
    except ValueError as err:
        raise RecordError(str(err)) from err


def prepare_save(args: argparse.Namespace) -> tuple[Records, PersonInfo, StagedFile]:
    """For ``analyze --save``: open the records before the (slow) analysis, so a bad data
    directory fails at once, find or add the person, and copy and hash the clip into the data
    directory: the analysis reads that copy (``.temp``), so the record pairs it with exactly
    the bytes analysed, whatever happens to the original meanwhile. (A pose file is refused
    before, by ``cli.main.check_save_options``.)"""
    records = open_records(args)
    try:
        person = records.ensure_person(args.person, args.sex)
        # Flagged only when scored with another sex than the clinic's for the record (no sex
        # recorded is scored as unspecified: ``provenance.clinic_config``).
        if args.sex and (person.sex or "unspecified") != args.sex:
            _sex_not_recorded(person, args.sex)
        staged = records.stage_clip(args.video)
    except BaseException:
        records.close()
        raise
    return records, person, staged


def _sex_not_recorded(person: PersonInfo, sex: str) -> None:
    """``analyze --save --sex`` for a person recorded with another sex (or none): this clip is
    scored with ``sex``, the record keeps its own; said on one line, with how to change it."""
    was = person_cli.sex_words(person.sex)
    print(f"note: {person.code}'s recorded sex ({was}) was not changed to {sex}: this analysis "
          f"is scored as {sex} and flagged against the record; a clinician changes the "
          f"record with `valgus person {person.code} --sex {sex} --by NAME`", file=sys.stderr)


def finish_save(
    records: Records, args: argparse.Namespace, staged: StagedFile, result: AnalysisResult,
    series: PoseSeries,
) -> None:
    """Store the staged clip, poses and analysis in the person's session of that date."""
    visit = records.session_for_date(args.person, args.session_date or date.today())
    saved = records.save_analysis(visit.id, staged, result, series, args.video.name)
    print(f"saved analysis {saved.id} of {args.video.name} in session {visit.id} "
          f"({visit.session_date.isoformat()}) of {visit.person_code}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from valgus.store.errors import NoRecordsError

    person_cli.check_options(args)  # option misuse: said before the records are opened
    if args.command == "policy" and read_only(args):
        try:
            records = open_records(args)
        except NoRecordsError:
            print(format_policy(None))
            return 0
        with records:
            print(format_policy(records.policy_setting()))
        return 0
    with open_records(args) as records:
        if args.command == "history":
            print(format_history(records, args.person))
        elif args.command == "sessions":
            from valgus.cli.sessions import format_sessions

            print(format_sessions(records, args.person))
        elif args.command == "report":
            return _report(records, args)
        elif args.command == "review":
            records.save_review(args.session_id, args.reviewer, args.notes, args.band)
            print(format_summary(records.session_summary(args.session_id)))
        elif args.command == "clearance":
            _clearance(records, args)
        elif args.command == "policy":
            _policy(records, args)
        elif args.command == "rescore":
            text, session_id = person_cli.rescore(records, args.analysis_id, args.by)
            print(text)
            print(format_summary(records.session_summary(session_id)))
        elif args.command in person_cli.COMMANDS:
            print(person_cli.run(records, args))
    return 0


def _policy(records: Records, args: argparse.Namespace) -> None:
    if not args.by:
        raise RecordError("give --by NAME: who sets the clinic's policy")
    records.save_policy(_policy_with(records.policy, args), args.by)
    print(format_policy(records.policy_setting()))


def format_policy(setting: PolicySetting | None) -> str:
    """The clinic's clearance policy (None: no records yet, so the defaults)."""
    p = setting.policy if setting else ClearancePolicy()
    origin = (f"set by {setting.updated_by} on {setting.updated_at:%Y-%m-%d %H:%M} UTC"
              if setting and setting.updated_at else "the defaults; never set")
    return (f"clearance policy ({origin}):\n"
            f"  pain up to {p.max_pain_score}/10 counts as no pain\n"
            f"  strength limb symmetry index of at least {p.min_lsi_pct:.0f} %\n"
            f"  an easy run of at least {p.min_run_minutes:.0f} min\n"
            "sessions signed earlier keep the policy they were signed under")


def _report(records: Records, args: argparse.Namespace) -> int:
    from valgus.report import write_report

    if args.pdf is None and args.html is None:
        raise RecordError("give --pdf FILE and/or --html FILE")
    from valgus.store.audit import local_actor

    for path in write_report(records, args.session_id, args.pdf, args.html):
        records.note_export(local_actor(), args.session_id, path.suffix.lstrip("."))
        print(f"wrote {path}", file=sys.stderr)
    return 0


INPUT_OPTIONS = {
    "squat_pain_left": "squat_pain_left", "squat_pain_right": "squat_pain_right",
    "stair_descent_pain": "stair_pain", "run_minutes": "run_minutes",
    "run_pain_during": "run_pain_during", "run_pain_next_morning": "run_pain_next_morning",
    "strength_left": "strength_left", "strength_right": "strength_right",
    "strength_unit": "strength_unit", "involved_side": "involved",
}


def _clearance(records: Records, args: argparse.Namespace) -> None:
    summary = records.session_summary(args.session_id)
    current = summary.clearance.inputs if summary.clearance else ClearanceInputs()
    given = {field: getattr(args, option) for field, option in INPUT_OPTIONS.items()
             if getattr(args, option) is not None}
    if args.amend is not None:
        if args.sign:
            raise RecordError("give --sign or --amend, not both")
        inputs = dataclasses.replace(current, **given) if given else None
        print(format_summary(records.amend(args.session_id, args.by, args.amend, inputs)))
        return
    if given:
        # Options not given keep their entered values: values can be entered over several runs.
        records.save_clearance(args.session_id, dataclasses.replace(current, **given), args.by)
    if args.sign:
        summary = records.sign_clearance(args.session_id, args.by)
    else:
        summary = records.session_summary(args.session_id)
    print(format_summary(summary))


# --------------------------------------------------------------------------- output


def _deg(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def format_summary(s: SessionSummary) -> str:
    """The session's squat result per leg and the clearance decision, for the terminal."""
    lines = [f"session {s.session.id} of {s.person.code} on {s.session.session_date.isoformat()}"
             f": {plural(len(s.analyses), 'analysed clip')}"]
    for leg in SIDES:
        r = s.squat[leg]
        reps = plural(r.valid_reps, "valid rep")
        lines.append(f"  {leg:5} squat: {r.verdict:13} {reps:>13}, median "
                     f"FPPA {_deg(r.median_fppa_deg)} deg - {'; '.join(r.reasons)}")
    d = s.decision
    if s.final and s.clearance is not None and s.clearance.signed_at is not None:
        state = (f"signed by {s.clearance.signed_by} on "
                 f"{s.clearance.signed_at:%Y-%m-%d %H:%M} UTC (final)")
    else:
        state = "draft, not signed"
    lines.append(f"clearance: {d.status} ({state})")
    lines += [f"  [{c.status}] {c.title}: {'; '.join(c.reasons)}" for c in d.criteria]
    sig = s.signature
    if sig is not None:
        if sig.amendments:
            lines.append(f"amended {sig.amendments} time(s), last by {sig.signed_by} on "
                         f"{sig.signed_at:%Y-%m-%d %H:%M} UTC: {sig.reason}")
        lines.append(f"shown as signed (seal {sig.chain_sha256[:16]})")
        lines += [f"  MISMATCH: {p}" for p in sig.problems]
    return "\n".join(lines)


def format_history(records: Records, person_code: str) -> str:
    """A person's sessions as a table: FPPA per leg and whether changes exceed the SDC; a change
    across FPPA definitions is "not comparable", with why under the table."""
    h = records.history(person_code)
    lines = [f"{h.person.code}: {plural(len(h.rows), 'session')}; FPPA = median of valid reps "
             f"(deg, + = valgus); a change is real when >= {h.sdc_deg:.1f} deg (smallest "
             "detectable change, Munro 2012)", ""]
    header = (f"{'session':>7}  {'date':10}  {'left':>6}  {'change':37}  {'right':>6}  "
              f"{'change':37}  signed")
    lines += [header, "-" * len(header)]
    notes: list[str] = []  # changes across FPPA definitions, in full under the table
    for row in h.rows:
        cells = []
        for leg in SIDES:
            change = row.since_previous[leg]
            text = change.describe(h.sdc_deg) if change else "-"
            if isinstance(change, NotComparable) or (change is not None and change.skipped):
                notes.append(f"session {row.session.session_id} {leg}: {text}")
                text = (f"{NOT_COMPARABLE}, see below" if isinstance(change, NotComparable)
                        else f"{change.delta_deg:+.1f} deg, see below")
            cells.append(f"{_deg(row.session.median_fppa_deg[leg]):>6}  {text:37}")
        signed = h.signed_decisions.get(row.session.session_id) or "no"
        lines.append(f"{row.session.session_id:>7}  {row.session.session_date.isoformat():10}  "
                     f"{'  '.join(cells)}  {signed}")
    lines += notes
    if not h.rows:
        lines.append("   no sessions yet")
    elif len(h.rows) > 1:
        last = h.rows[-1]
        for leg in SIDES:
            change = last.since_first[leg]
            if change is not None:
                lines.append(f"{leg} since {change.since_date.isoformat()}: "
                             f"{change.describe(h.sdc_deg)}")
    return "\n".join(lines)

