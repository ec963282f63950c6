"""``valgus person CODE [--sex SEX --by NAME]`` and ``valgus rescore ANALYSIS_ID --by NAME``:
a person's recorded sex (which sets the clinic's settings for them) and re-scoring an analysis
under the clinic's settings from its stored poses. Registered and dispatched by
``valgus.cli.records`` (which passes its ``--data-dir`` option in, so this module does not
import it back); output formatting only, through ``valgus.store.service.Records``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from valgus.cli.argtypes import SEX_CHOICES, UsageError
from valgus.core.reasons import plural

if TYPE_CHECKING:
    from valgus.store.service import PersonInfo, Records, SessionInfo

COMMANDS = ("person", "rescore")
RESCORE_HINT = "valgus rescore ANALYSIS_ID --by NAME"


def sex_words(sex: str | None) -> str:
    """A recorded sex in words (``provenance.SEX_WORDS``; None: "none"), imported here so the
    database layer is loaded only when a records command runs."""
    from valgus.store.provenance import SEX_WORDS

    return SEX_WORDS.get(sex, str(sex))


def add_parsers(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    add_data_options: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Add ``person`` and ``rescore`` to the CLI's subparsers."""
    pe = sub.add_parser("person", help="show a person's record, or set their recorded sex "
                        "(which sets the clinic's settings for them)")
    pe.add_argument("person", metavar="PERSON_CODE")
    pe.add_argument("--sex", choices=SEX_CHOICES,
                    help="record (or change) the person's sex: the clinic's threshold and FPPA "
                    "definition follow it; analyses made under another sex are then flagged "
                    "and can be re-scored (a clinician's task)")
    pe.add_argument("--by", metavar="NAME", help="the clinician who changes the record "
                    "(needed with --sex)")
    add_data_options(pe)

    rs = sub.add_parser("rescore", help="score a stored analysis again under the clinic's "
                        "settings, from its stored poses (a clinician's task)")
    rs.add_argument("analysis_id", type=int, metavar="ANALYSIS_ID",
                    help="as listed by `valgus sessions PERSON_CODE`")
    rs.add_argument("--by", required=True, metavar="NAME", help="the clinician who re-scores")
    add_data_options(rs)


def read_only(args: argparse.Namespace) -> bool:
    """``person`` without ``--sex`` only shows."""
    return args.command == "person" and args.sex is None


def check_options(args: argparse.Namespace) -> None:
    """``person``: ``--sex`` and ``--by`` go together (UsageError, before the records are
    read)."""
    if args.command != "person":
        return
    if args.sex is None and args.by is not None:
        raise UsageError("--by names who changes the record: give --sex too, or leave --by out "
                         "to show the record")
    if args.sex is not None and not args.by:
        raise UsageError("give --by NAME: the clinician who changes the person's sex")


def run(records: Records, args: argparse.Namespace) -> str:
    """Run ``person`` or ``rescore``; what to print."""
    if args.command == "rescore":
        return rescore(records, args.analysis_id, args.by)[0]
    check_options(args)
    if args.sex is None:
        return _show(records, records.get_person(args.person))
    change = records.set_person_sex(args.person, args.sex, args.by)
    code = change.person.code
    if not change.changed:
        return (f"{code}: the recorded sex is {sex_words(change.old)} already; nothing "
                "changed\n" + _flagged(records, change.person))
    return (f"{code}: recorded sex set to {sex_words(change.person.sex)} (was "
            f"{sex_words(change.old)}) by {args.by}; the clinic's settings for {code} follow "
            "it from now on\n" + _flagged(records, change.person))


def _show(records: Records, person: PersonInfo) -> str:
    sessions = records.list_sessions(person.code)
    scored = "" if person.sex else " (scored as not given)"
    return (f"{person.code}: recorded sex: {sex_words(person.sex)}{scored}; "
            f"{plural(len(sessions), 'session')}; in the records since "
            f"{person.created_at:%Y-%m-%d}\n" + _flagged(records, person, sessions))


def _flagged(
    records: Records, person: PersonInfo, sessions: list[SessionInfo] | None = None
) -> str:
    """The analyses in force that the person's recorded sex now flags (made under another sex
    or FPPA definition, or other own settings): those of open sessions can be re-scored.
    ``sessions``: the person's, when read already."""
    open_ids: list[int] = []
    signed_ids: list[int] = []
    if sessions is None:
        sessions = records.list_sessions(person.code)
    for visit in sessions:
        for a in records.list_analyses(visit.id):
            if records.settings_check(a, person.sex).flagged:
                (signed_ids if visit.signed else open_ids).append(a.id)
    lines = []
    if open_ids:
        lines.append(f"{plural(len(open_ids), 'analysis', 'analyses')} in open sessions "
                     f"({_ids(open_ids)}) {'was' if len(open_ids) == 1 else 'were'} made with "
                     "other settings than the clinic's for this sex (another sex, FPPA "
                     "definition or threshold) and "
                     f"{'is' if len(open_ids) == 1 else 'are'} flagged: re-score with "
                     f"`{RESCORE_HINT}`")
    if signed_ids:
        lines.append(f"{plural(len(signed_ids), 'analysis', 'analyses')} in signed sessions "
                     f"({_ids(signed_ids)}) {'is' if len(signed_ids) == 1 else 'are'} flagged "
                     "too and keep what was signed")
    if not lines:
        lines.append("no analysis in force is flagged: all were made with the clinic's "
                     "settings for this sex")
    return "\n".join(lines)


def _ids(ids: list[int]) -> str:
    return ("analysis " if len(ids) == 1 else "analyses ") + ", ".join(map(str, ids))


def rescore(records: Records, analysis_id: int, by: str) -> tuple[str, int]:
    """``valgus rescore``: what to print, and the session of the analysis (whose summary the
    caller shows). The settings replaced are those ``Records.rescore`` checked and audited."""
    new = records.rescore(analysis_id, by)
    old, session_id = new.from_analysis, new.clip.session_id
    lines = [f"re-scored analysis {old} ({new.clip.original_name}, session {session_id} of "
             f"{new.person_code}) under the clinic's settings: analysis {new.id} is in force; "
             f"analysis {old} stays on record, and a review's re-banded reps of it no longer "
             "apply",
             "settings replaced: " + ("; ".join(new.replaced) if new.replaced else "none")]
    return "\n".join(lines), session_id
