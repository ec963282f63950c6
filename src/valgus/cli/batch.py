"""``valgus batch FOLDER --out DIR``: the command line of ``valgus.batch`` (analyse a folder of
clips, resumably, on local worker processes or on Ray)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import get_args

from valgus.batch.jobs import BatchOptions
from valgus.batch.runner import BatchReport, Engine, run_batch
from valgus.cli.argtypes import LEG_CHOICES, SEX_CHOICES, positive_float, positive_int
from valgus.config import InputLimits
from valgus.errors import ValgusError


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``valgus batch``'s arguments."""
    limits = InputLimits()
    p = sub.add_parser("batch", help="analyze every clip of a folder (resumable)")
    p.add_argument("folder", type=Path, help="folder of clips (mp4, mov, webm, avi, mkv, gif)")
    p.add_argument("--out", type=Path, required=True,
                   help="results folder: per clip NAME.valgus.json, NAME.frames.csv, "
                   "NAME.reps.csv and NAME.batch.json; summary.csv for all")
    p.add_argument("--workers", type=positive_int,
                   help="clips analysed at once (default: one per core; with Ray, one per CPU "
                   "of the cluster)")
    p.add_argument("--engine", choices=get_args(Engine), default="local",
                   help="local worker processes, or Ray (a cluster at RAY_ADDRESS, else one "
                   "started on this machine; needs pip install 'valgus[ray]')")
    p.add_argument("--retry-failed", action="store_true",
                   help="analyse clips that failed in an earlier run again")
    p.add_argument("--leg", choices=LEG_CHOICES, default="auto")
    p.add_argument("--sex", choices=SEX_CHOICES, default="unspecified")
    p.add_argument("--model", type=Path, help="pose_landmarker .task file")
    p.add_argument("--threads", type=positive_int, default=1, metavar="N",
                   help="pose models per clip (default 1: the clips keep the cores busy)")
    p.add_argument("--max-duration-s", type=positive_float, default=limits.max_duration_s,
                   metavar="S")
    p.add_argument("--max-size-mb", type=positive_float, default=limits.max_file_size_mb,
                   metavar="MB")
    p.add_argument("--verbose", action="store_true", help="show MediaPipe's own log output")


def outcome_line(report: BatchReport) -> str:
    """What the run did, each clip counted once: analysed now (and scored), done before
    (skipped: saying how many of them had failed, which only ``--retry-failed`` tries again)
    and failed now. ``report.analysed`` holds every clip this run took up, the failed ones too;
    ``report.failed`` every clip whose record is an error, from this run or an earlier one."""
    failed = set(report.failed)
    failed_now = [name for name in report.analysed if name in failed]
    failed_before = [name for name in report.skipped if name in failed]
    before = ""
    if failed_before:
        them = "it" if len(failed_before) == 1 else "them"
        before = (f" ({len(failed_before)} of them failed; --retry-failed analyses {them} "
                  "again)")
    return (f"{len(report.analysed) - len(failed_now)} analysed, "
            f"{len(report.skipped)} done before{before}, {len(failed_now)} failed")


def run_from_args(args: argparse.Namespace) -> int:
    """``valgus batch``: run, print where the summary is, and exit 0 (all clips analysed),
    9 (done, but some clips failed: see their rows) or 130 (interrupted; rerun to resume)."""
    options = BatchOptions(
        sex=args.sex,
        leg=args.leg,
        model=str(args.model.resolve()) if args.model else None,
        max_duration_s=args.max_duration_s,
        max_file_size_mb=args.max_size_mb,
        threads=args.threads,
        verbose=args.verbose,
    )
    try:
        report = run_batch(
            args.folder, args.out, options, workers=args.workers, engine=args.engine,
            retry_failed=args.retry_failed,
        )
    except (NotADirectoryError, FileNotFoundError) as err:
        raise ValgusError(str(err)) from err
    except OSError as err:  # the results folder cannot be written (permissions, a full disk)
        target = err.filename2 or err.filename  # a rename names its destination second
        where = f" {target}" if target else ""
        raise ValgusError(
            f"cannot write{where}: {err.strerror or err}; the clips finished before are kept: "
            "fix this, then run the same command again to resume"
        ) from err
    print(f"{outcome_line(report)}; summary: {report.summary}")
    if report.interrupted:
        print("valgus: interrupted; run the same command again to resume", file=sys.stderr)
    return report.exit_code
