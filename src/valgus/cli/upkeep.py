"""``valgus records check|quarantine|upgrade|verify``: looking after the records themselves.

* ``check`` lists files no row refers to, temporary files of interrupted saves and rows whose
  file is missing; read-only; exit 1 if it found anything.
* ``quarantine`` lists the same and, with ``--yes``, moves the unreferenced files to
  ``quarantine/<time>/`` in the data directory. Nothing is deleted.
* ``upgrade`` migrates an older database to this valgus's schema (back it up first).
* ``erase`` erases a person (clips and poses deleted, code, notes and clip names replaced;
  signed snapshots stay sealed), with ``--yes``; a clinician's task, audited.
* ``audit`` shows the append-only audit log (logins, views, saves, reviews, value changes
  with old and new, signatures, exports, account changes), newest first.
* ``verify`` checks every signature, the hash chain and every signed session against its
  snapshot and files; exit 1 on any mismatch. Prints the chain head to keep elsewhere.
"""

from __future__ import annotations

import argparse
import sys

from valgus.cli.records import add_data_options
from valgus.core.reasons import plural

COMMAND = "records"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``valgus records ...`` to the CLI's subparsers."""
    rec = sub.add_parser("records",
                         help="check, quarantine, verify, upgrade, audit or erase records")
    actions = rec.add_subparsers(dest="action", required=True)
    ch = actions.add_parser("check", help="list files and rows that do not match (read-only)")
    add_data_options(ch)
    qu = actions.add_parser("quarantine",
                            help="list files no record refers to; --yes moves them aside")
    qu.add_argument("--yes", action="store_true", help="move the listed files")
    add_data_options(qu)
    up = actions.add_parser("upgrade", help="migrate the database to this valgus's schema")
    add_data_options(up)
    ve = actions.add_parser("verify", help="check every signed record, its hashes and files")
    add_data_options(ve)
    er = actions.add_parser("erase", help="erase a person: clips, poses, identifying fields")
    er.add_argument("person", metavar="PERSON_CODE")
    er.add_argument("--by", required=True, metavar="NAME", help="the clinician who erases")
    er.add_argument("--reason", required=True, metavar="TEXT")
    er.add_argument("--yes", action="store_true", help="erase (without it: say what would go)")
    add_data_options(er)
    au = actions.add_parser("audit", help="show the audit log, newest first (read-only)")
    au.add_argument("--limit", type=int, default=50, metavar="N")
    au.add_argument("--subject", metavar="TEXT", help='e.g. "session 12" or "person RUN-1"')
    add_data_options(au)


def _listing(title: str, paths: tuple[str, ...] | list[str]) -> list[str]:
    return [f"{title} ({len(paths)}):", *(f"  {p}" for p in paths)] if paths else []


def run(args: argparse.Namespace) -> int:
    """Run ``valgus records ACTION``; the exit code (check: 1 if anything was found)."""
    from valgus.store.service import Records

    if args.action == "upgrade":
        from valgus.store.db import Database

        before, after = Database.upgrade(args.data_dir)
        if before == after:
            print(f"the records database is already at schema {after}")
        else:
            print(f"upgraded the records database from schema {before or 'none'} to {after}")
        return 0
    if args.action == "erase":
        with Records.open(args.data_dir) as records:
            sessions = records.list_sessions(args.person)
            if not args.yes:
                print(f"{args.person}: {plural(len(sessions), 'session')}; their clips and "
                      "pose files would be deleted and the code, notes and clip names "
                      "replaced. Run again with --yes to erase.")
                return 0
            done = records.erase_person(args.person, args.by, args.reason)
        print(f"erased: now {done.code}; {plural(done.sessions, 'session')}, "
              f"{plural(done.files_removed, 'file')} deleted")
        return 0
    if args.action == "audit":
        with Records.open(args.data_dir, readonly=True) as records:
            for e in records.audit_log(args.limit, args.subject):
                detail = " ".join(f"{k}={v}" for k, v in e.detail.items())
                print(f"{e.at:%Y-%m-%d %H:%M:%S} UTC  {e.actor:20} {e.action:17} {e.subject}"
                      + (f"  {detail}" if detail else ""))
        return 0
    if args.action == "verify":
        with Records.open(args.data_dir, readonly=True) as records:
            found = records.verify()
        for sid, problem in found.problems:
            print(f"MISMATCH {'chain' if sid is None else f'session {sid}'}: {problem}")
        mismatches = plural(len(found.problems), "mismatch", "mismatches")
        print(f"{plural(found.signatures, 'signature')} of {plural(found.sessions, 'session')} "
              f"checked: {'all intact' if found.ok else mismatches}; chain head {found.head}")
        return 0 if found.ok else 1
    if args.action == "check":
        return _check(args)
    with Records.open(args.data_dir) as records:
        report = records.check()
        lines = [
            *_listing("files no record refers to", report.unreferenced),
            *_listing("temporary files of interrupted saves", report.stale_temp),
            *_listing("files records refer to that are MISSING", report.missing),
        ]
        if not (report.unreferenced or report.stale_temp):
            print("nothing to move: every stored file belongs to a record")
            return 0
        print("\n".join(lines))
        if not args.yes:
            print("run again with --yes to move these files to the quarantine folder")
            return 0
        target, moved = records.quarantine()
        print(f"moved {len(moved)} files to {target}" if moved else "nothing moved",
              file=sys.stderr)
        return 0


def _check(args: argparse.Namespace) -> int:
    """``valgus records check``: 1 if anything was found. A database with no records (none,
    or an empty ``valgus.db`` beside stored files: a restore gone wrong) says so and lists
    every stored file as unreferenced; with no stored file either, it is the usual error."""
    from valgus.store.check import check_without_records
    from valgus.store.errors import NoRecordsError
    from valgus.store.service import Records

    try:
        with Records.open(args.data_dir, readonly=True) as records:
            report = records.check()
        empty = False
    except NoRecordsError:
        report = check_without_records(args.data_dir)
        if report.clean:
            raise
        empty = True
    lines = [
        *_listing("files no record refers to", report.unreferenced),
        *_listing("temporary files of interrupted saves", report.stale_temp),
        *_listing("files records refer to that are MISSING", report.missing),
    ]
    if empty:
        print("the records database is empty: none of the stored files below belongs to a "
              "record (restore the database they came from, or move them aside)")
    print("\n".join(lines) if lines else "every stored file belongs to a record")
    if report.unreferenced or report.stale_temp:
        print("run `valgus records quarantine` to move the unreferenced files aside")
    return 0 if report.clean else 1
